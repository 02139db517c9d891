// Modal dialogs on the native <dialog> element: it traps focus, closes on Escape and is
// announced as a dialog. Each dialog's form lives in admin.html; this runs one at a time,
// shows errors inside it, and gives focus back to what opened it.
import { byId } from "./dom.js";

/**
 * Opens `dialog` and resolves when it closes: with what `submit(form, submitter)` returned,
 * or null when cancelled (Cancel, Escape, a click outside). While `submit` runs, the buttons
 * are disabled and Escape does nothing; if it throws, its message shows in the dialog, which
 * stays open for another try. `init(form)` fills the form before it opens.
 */
export function runDialog(dialog, { init, submit }) {
  const form = dialog.querySelector("form");
  const errorBox = dialog.querySelector(".dialog-error");
  const opener = document.activeElement;
  let busy = false;
  let result = null;
  form.reset();
  errorBox.hidden = true;
  errorBox.textContent = "";
  if (init) init(form);

  return new Promise((resolve) => {
    const setBusy = (on) => {
      busy = on;
      dialog.setAttribute("aria-busy", String(on));
      for (const b of form.querySelectorAll("button")) b.disabled = on;
    };
    const onSubmit = async (event) => {
      event.preventDefault();
      if (busy) return;
      errorBox.hidden = true;
      setBusy(true);
      try {
        result = await submit(form, event.submitter);
        setBusy(false);
        dialog.close();
      } catch (err) {
        setBusy(false);
        errorBox.textContent = err.message || String(err);
        errorBox.hidden = false;
      }
    };
    const onCancel = (event) => {
      if (busy) event.preventDefault();
    };
    const onClick = (event) => {
      if (busy) return;
      // A click on the backdrop lands on the <dialog> itself, outside its form.
      if (event.target === dialog || event.target.closest("[data-close]")) dialog.close();
    };
    const onKey = (event) => {
      // Enter submits single-line fields natively; in a textarea it is a new line, so
      // Ctrl/Cmd+Enter submits there.
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    };
    const onClose = () => {
      form.removeEventListener("submit", onSubmit);
      dialog.removeEventListener("cancel", onCancel);
      dialog.removeEventListener("click", onClick);
      dialog.removeEventListener("keydown", onKey);
      if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus();
      resolve(result);
    };
    form.addEventListener("submit", onSubmit);
    dialog.addEventListener("cancel", onCancel);
    dialog.addEventListener("click", onClick);
    dialog.addEventListener("keydown", onKey);
    dialog.addEventListener("close", onClose, { once: true });
    dialog.showModal();
    const first = form.querySelector("[autofocus], input:not([type=hidden]), textarea, select");
    if (first) first.focus();
  });
}

/**
 * Asks before something that cannot be undone. `action()` runs when confirmed, inside the
 * dialog (errors show there); resolves to its result, or null when cancelled. `extra` is an
 * optional node with more fields (choices), read by `action(form)`.
 */
export function confirmAction({ title, text, ok, extra = null, action }) {
  const dialog = byId("confirm-dialog");
  byId("confirm-title").textContent = title;
  byId("confirm-text").textContent = text;
  byId("confirm-ok").textContent = ok;
  byId("confirm-extra").replaceChildren(...(extra ? [extra] : []));
  return runDialog(dialog, {
    init: () => {
      // The safe choice has focus, so that Enter right away does not destroy anything.
      queueMicrotask(() => byId("confirm-cancel").focus());
    },
    submit: async (form) => (action ? (await action(form)) ?? true : true),
  });
}
