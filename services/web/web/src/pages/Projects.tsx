import { useState, type FormEvent } from "react";
import { api, type Project, getAll } from "../api";
import { message, useLoad } from "../hooks";
import { dateTime } from "../time";

export function Projects() {
  const list = useLoad(() => getAll<Project>("/projects"), []);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [error, setError] = useState("");
  const [status, setStatus] = useState("");

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError("");
    try {
      const p = await api<Project>("POST", "/projects", { name, description });
      setName("");
      setDescription("");
      setStatus(`Project ${p.name} created.`);
      list.reload();
    } catch (err) {
      setError(message(err));
    }
  };

  return (
    <section>
      <h1>Projects</h1>
      <form className="card inline" onSubmit={create} aria-labelledby="new-project">
        <h2 id="new-project">New project</h2>
        <label>
          Name
          <input name="name" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Description
          <input name="description" maxLength={2000} value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <button type="submit">Create project</button>
        {error && <p role="alert" className="error">{error}</p>}
        <p role="status" className="status">{status}</p>
      </form>
      {list.error && <p role="alert" className="error">{list.error}</p>}
      <div className="scroll">
        <table>
          <caption>The organization's projects</caption>
          <thead>
            <tr><th scope="col">Name</th><th scope="col">Description</th><th scope="col">Created</th></tr>
          </thead>
          <tbody>
            {(list.data ?? []).map((p) => (
              <tr key={p.id}><td>{p.name}</td><td>{p.description}</td><td>{dateTime(p.created_at)}</td></tr>
            ))}
            {list.data?.length === 0 && <tr><td colSpan={3}>No projects yet.</td></tr>}
          </tbody>
        </table>
      </div>
      <p className="hint">Projects cannot be archived yet: the API has no endpoint for it.</p>
    </section>
  );
}
