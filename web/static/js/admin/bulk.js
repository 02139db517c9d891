// Runs one action over many users (bulk actions, Start All, Stop All) at most a few at a time,
// so that the hub and the spawners are not flooded, with a visible count, per-item errors and
// a Cancel button that stops before the next item.
import { byId, h } from "./dom.js";
import { count } from "./format.js";

// A browser opens at most six connections to a host over HTTP/1.1, and a start or stop
// request may be held by the hub for up to slow_spawn_timeout (10 s by default): four at a
// time leaves two for the panel's own requests, and keeps spawners from being flooded.
const CONCURRENCY = 4;
const FAILURES_SHOWN = 50;

/**
 * Calls `task(item)` for each item, `concurrency` at a time. `onResult(item, error)` hears of
 * each one as it ends (error null on success). Resolves to {done, failed, cancelled}.
 */
async function runBounded(items, task, { concurrency = CONCURRENCY, onResult, signal }) {
  let next = 0;
  let done = 0;
  let failed = 0;
  const worker = async () => {
    while (next < items.length && !(signal && signal.aborted)) {
      const item = items[next++];
      let error = null;
      try {
        await task(item);
      } catch (err) {
        error = err;
      }
      if (error) failed++;
      else done++;
      if (onResult) onResult(item, error);
    }
  };
  const workers = [];
  for (let i = 0; i < Math.min(concurrency, items.length); i++) workers.push(worker());
  await Promise.all(workers);
  return { done, failed, cancelled: Boolean(signal && signal.aborted) && next < items.length };
}

/**
 * The bulk status panel of the users view. run() shows "Starting servers: 12 of 40, 1
 * failed", the failures with their users' names, and keeps the result on screen until
 * dismissed. Only one bulk operation runs at a time.
 */
export class BulkPanel {
  constructor() {
    this.panel = byId("bulk-status");
    this.title = byId("bulk-title");
    this.text = byId("bulk-progress-text");
    this.bar = byId("bulk-progress-bar");
    this.failures = byId("bulk-failures");
    this.cancelButton = byId("bulk-cancel");
    this.dismissButton = byId("bulk-dismiss");
    this.controller = null;
    this.cancelButton.addEventListener("click", () => this.controller && this.controller.abort());
    this.dismissButton.addEventListener("click", () => {
      this.panel.hidden = true;
    });
  }

  get running() {
    return this.controller !== null;
  }

  /**
   * `title`: "Starting servers"; `items`: what to act on; `name(item)`: how an item is named
   * in failures; `task(item)`; `onResult(item, error)` as for runBounded.
   */
  async run({ title, items, name, task, onResult }) {
    if (this.running) throw new Error("Another bulk action is still running; wait or cancel it.");
    this.controller = new AbortController();
    const progressbar = this.panel.querySelector("[role=progressbar]");
    const total = items.length;
    let finished = 0;
    let failed = 0;
    const update = (state) => {
      const percent = total ? Math.round((finished / total) * 100) : 100;
      this.bar.style.width = `${percent}%`;
      this.bar.classList.toggle("failed", failed > 0 && failed === finished);
      progressbar.setAttribute("aria-valuenow", String(percent));
      const failures = failed ? `, ${count(failed)} failed` : "";
      this.text.textContent = `${count(finished)} of ${count(total)} done${failures}${state}`;
    };
    this.title.textContent = `${title}:`;
    this.failures.replaceChildren();
    this.cancelButton.hidden = false;
    this.cancelButton.disabled = false;
    this.dismissButton.hidden = true;
    this.panel.hidden = false;
    update("");
    try {
      const result = await runBounded(items, task, {
        signal: this.controller.signal,
        onResult: (item, error) => {
          finished++;
          if (error) {
            failed++;
            if (failed <= FAILURES_SHOWN) {
              this.failures.append(h("li", {}, h("strong", { text: name(item) }), ": ",
                error.message || String(error)));
            }
          }
          update("");
          if (onResult) onResult(item, error);
        },
      });
      if (failed > FAILURES_SHOWN) {
        this.failures.append(h("li", { class: "muted",
          text: `and ${count(failed - FAILURES_SHOWN)} more failures` }));
      }
      update(result.cancelled ? " — cancelled" : " — finished");
      return result;
    } finally {
      this.controller = null;
      this.cancelButton.hidden = true;
      this.dismissButton.hidden = false;
    }
  }
}
