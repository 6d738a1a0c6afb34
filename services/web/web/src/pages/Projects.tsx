import { useState, type FormEvent } from "react";
import { api, type Project, getAll } from "../api";
import { useAuth } from "../auth";
import { message, useLoad } from "../hooks";
import { dateTime } from "../time";

export function Projects() {
  const { user } = useAuth();
  const admin = user?.role === "admin";
  // Admins manage the archived projects too; members see what they may pick.
  const list = useLoad(() => getAll<Project>(admin ? "/projects?include_archived=true" : "/projects"), [admin]);
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

  const setArchived = async (p: Project, archive: boolean) => {
    setError("");
    try {
      await api<Project>("POST", `/projects/${p.id}/${archive ? "archive" : "unarchive"}`);
      setStatus(archive ? `Project ${p.name} archived: no new session can start on it.` : `Project ${p.name} is back in use.`);
      list.reload();
    } catch (err) {
      setError(message(err));
    }
  };

  const cols = admin ? 5 : 3;
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
          <caption>{admin ? "The organization's projects, archived ones last" : "The projects sessions can be tracked on"}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th><th scope="col">Description</th><th scope="col">Created</th>
              {admin && <><th scope="col">Status</th><th scope="col">Action</th></>}
            </tr>
          </thead>
          <tbody>
            {[...(list.data ?? [])].sort((a, b) => Number(!!a.archived_at) - Number(!!b.archived_at)).map((p) => (
              <tr key={p.id} data-project={p.name}>
                <td>{p.name}</td>
                <td>{p.description}</td>
                <td>{dateTime(p.created_at)}</td>
                {admin && (
                  <>
                    <td>{p.archived_at ? `archived ${dateTime(p.archived_at)}` : "in use"}</td>
                    <td>
                      <button type="button" className="secondary" onClick={() => setArchived(p, !p.archived_at)} aria-label={`${p.archived_at ? "Restore" : "Archive"} ${p.name}`}>
                        {p.archived_at ? "Restore" : "Archive"}
                      </button>
                    </td>
                  </>
                )}
              </tr>
            ))}
            {list.data?.length === 0 && <tr><td colSpan={cols}>No projects yet.</td></tr>}
          </tbody>
        </table>
      </div>
      {admin && <p className="hint">An archived project is left out of the project pickers and takes no new sessions; its past sessions and reports keep it.</p>}
    </section>
  );
}
