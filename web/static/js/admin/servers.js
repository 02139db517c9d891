// Starting, stopping and removing users' servers, and following a start to its end: the REST
// calls return as soon as the hub has accepted them (202 while a server is still starting or
// stopping), so these helpers also wait, by polling, or follow the progress stream.
import { apiUrl } from "../jhapi.js";
import { api, getUser, serverPath } from "./api.js";
import { serverLabel } from "./format.js";

const POLL_MS = 1000;
const SETTLE_TIMEOUT_MS = 5 * 60 * 1000;
// Each progress stream holds one of the six connections a browser opens to a host over
// HTTP/1.1; the rest stay free for the panel's own requests.
const MAX_STREAMS = 2;

const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  if (signal) signal.addEventListener("abort", () => {
    clearTimeout(timer);
    resolve();
  }, { once: true });
});

/** POST a start; resolves to the HTTP status (201 ready, 202 still starting). */
export async function startServer(userName, serverName) {
  const { status } = await api("POST", serverPath(userName, serverName));
  return status;
}

/** DELETE a server (stop); resolves to the HTTP status (204 stopped, 202 still stopping). */
export async function stopServer(userName, serverName) {
  const { status } = await api("DELETE", serverPath(userName, serverName));
  return status;
}

/** Stop (if needed) and forget a named server. */
export async function removeServer(userName, serverName) {
  const { status } = await api("DELETE", serverPath(userName, serverName), { remove: true });
  return status;
}

/**
 * Why the last start of a server failed, from its progress stream, which answers at once with
 * the failure for a server that is not starting any more. Empty when it cannot tell.
 */
export async function spawnFailure(userName, serverName) {
  try {
    const response = await fetch(apiUrl(`${serverPath(userName, serverName)}/progress`), {
      credentials: "same-origin",
      headers: { "X-XSRFToken": window.jhdata.xsrf_token },
    });
    if (!response.ok) return "";
    const text = await response.text();
    const events = text.split("\n").filter((l) => l.startsWith("data:"));
    const last = events.length ? JSON.parse(events[events.length - 1].slice(5)) : null;
    return last && last.failed ? last.message || "" : "";
  } catch {
    return "";
  }
}

/**
 * Polls the user until the server is no longer pending; resolves to the user model. With
 * `want` "ready" it rejects with the spawn failure when the server ended up not running.
 */
async function waitSettled(userName, serverName, want, signal) {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const user = await getUser(userName);
    const server = (user.servers || {})[serverName];
    if (!server || !server.pending) {
      if (want === "ready" && !(server && server.ready)) {
        const why = await spawnFailure(userName, serverName);
        throw new Error(why || `${serverLabel(userName, serverName)} did not start.`);
      }
      return user;
    }
    if (Date.now() > deadline || (signal && signal.aborted)) {
      throw new Error(`${serverLabel(userName, serverName)} is still ${
        server.pending === "stop" ? "stopping" : "starting"}; check again later.`);
    }
    await sleep(POLL_MS, signal);
  }
}

/** Start and wait until ready (or failed): one step of a bulk start. */
export async function startAndWait(userName, serverName, signal) {
  const status = await startServer(userName, serverName);
  if (status === 202) await waitSettled(userName, serverName, "ready", signal);
}

/** Stop and wait until stopped: one step of a bulk stop. */
export async function stopAndWait(userName, serverName, signal) {
  const status = await stopServer(userName, serverName);
  if (status === 202) await waitSettled(userName, serverName, "stopped", signal);
}

/**
 * Progress streams of servers started from this page: each event (JupyterHub's
 * {progress, message, ready, failed}) goes to `onEvent(key, event)`, key "user/server".
 * Only a few are open at once; the others are followed by the page's polling alone.
 */
export class ProgressStreams {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.open = new Map();
  }

  has(key) {
    return this.open.has(key);
  }

  follow(userName, serverName) {
    const key = `${userName}/${serverName}`;
    if (this.open.has(key) || this.open.size >= MAX_STREAMS) return;
    const url = `${apiUrl(`${serverPath(userName, serverName)}/progress`)}?_xsrf=${
      encodeURIComponent(window.jhdata.xsrf_token)}`;
    const source = new EventSource(url);
    this.open.set(key, source);
    const end = () => {
      source.close();
      this.open.delete(key);
    };
    source.onmessage = (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      this.onEvent(key, event);
      if (event.ready || event.failed) end();
    };
    // The stream ends (or was refused: the server is no longer starting); polling carries on.
    source.onerror = () => {
      end();
      this.onEvent(key, { ended: true });
    };
  }

  closeAll() {
    for (const source of this.open.values()) source.close();
    this.open.clear();
  }
}
