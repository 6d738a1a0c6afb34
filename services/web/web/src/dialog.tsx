import { useEffect, useId, useRef, type ReactNode } from "react";
import { Refusal, useAction } from "./form";

interface ConfirmProps {
  title: string;
  // what says what confirming does; the dialog's description.
  what: ReactNode;
  // children are the choices the action takes, if any, between the
  // description and the buttons.
  children?: ReactNode;
  confirm: string;
  busy: string;
  // explain says more than the API about the refusals it names.
  explain?: Record<string, string>;
  act: () => Promise<void>;
  onClose: () => void;
  onDone: () => void;
}

// Confirm asks before an action that cannot be undone. It is a modal
// <dialog>: the browser keeps the focus inside it, closes it on Escape and
// gives the focus back to what opened it, and announces it as a dialog; a
// refusal is shown in it, where its reader is looking, and it stays open.
export function Confirm({ title, what, children, confirm, busy: busyLabel, explain, act, onClose, onDone }: ConfirmProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  const { busy, error, submit } = useAction(explain);
  // Cancel takes the focus, the safe choice for Enter: showModal would give
  // it to the first control (React's autoFocus sets no attribute it reads).
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const d = ref.current!;
    d.showModal();
    cancel.current!.focus();
    return () => d.close();
  }, []);

  // The close event arrives a task after close(): one of a dialog open again
  // by then (StrictMode's second mount in development) is not its reader's.
  const closed = () => {
    if (!ref.current?.open) onClose();
  };

  const run = async () => {
    await act();
    // Closed before the page moves the focus: while it is open, the rest of
    // the page cannot take it.
    ref.current!.close();
    onDone();
  };

  return (
    <dialog ref={ref} className="card dialog" aria-labelledby={`${id}-title`} aria-describedby={`${id}-what`} onClose={closed}>
      <form onSubmit={submit(run)}>
        <h2 id={`${id}-title`}>{title}</h2>
        <p id={`${id}-what`}>{what}</p>
        {children}
        <Refusal error={error} />
        <div className="actions">
          <button type="button" className="secondary" ref={cancel} onClick={() => ref.current!.close()}>Cancel</button>
          <button type="submit" className="danger" disabled={busy}>{busy ? busyLabel : confirm}</button>
        </div>
      </form>
    </dialog>
  );
}
