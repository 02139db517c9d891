// The REST calls of the panel: jhapi.js for single calls, plus paginated listing (which needs
// JupyterHub's pagination Accept header and cancelling of superseded requests), and how API
// errors read in plain words.
import { api, apiUrl, encodeName } from "../jhapi.js";

export { api, encodeName };

const PAGINATION = "application/jupyterhub-pagination+json";

/**
 * GET a paginated list (/users, /groups) with `params` as the query; resolves to
 * {items, offset, limit, total, next}. `signal` aborts a request that a newer one replaces.
 */
export async function listPage(path, params, signal) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(key, value);
  }
  const response = await fetch(`${apiUrl(path)}?${query}`, {
    headers: { Accept: PAGINATION, "X-XSRFToken": window.jhdata.xsrf_token },
    credentials: "same-origin",
    signal,
  });
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { message: text };
  }
  if (!response.ok) {
    const error = new Error((body && body.message) || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  if (Array.isArray(body)) {
    // A hub that ignores the pagination header answers with a plain (capped) list.
    return { items: body, offset: params.offset || 0, limit: body.length, total: null,
      next: null };
  }
  const page = body._pagination || {};
  return { items: body.items || [], offset: page.offset || 0, limit: page.limit || 0,
    total: page.total ?? null, next: page.next || null };
}

/** Every item of a paginated list (for Start All / Stop All), page by page at the max size. */
export async function listAll(path, params, maxLimit, signal) {
  const items = [];
  let offset = 0;
  for (;;) {
    const page = await listPage(path, { ...params, offset, limit: maxLimit }, signal);
    items.push(...page.items);
    if (!page.next || page.items.length === 0) return items;
    offset = page.next.offset;
  }
}

export function userPath(name) {
  return `/users/${encodeName(name)}`;
}

export function serverPath(userName, serverName) {
  return serverName
    ? `/users/${encodeName(userName)}/servers/${encodeName(serverName)}`
    : `/users/${encodeName(userName)}/server`;
}

export function groupPath(name) {
  return `/groups/${encodeName(name)}`;
}

/** The user model with stopped servers too, so that named servers can be listed and started. */
export async function getUser(name) {
  const { body } = await api("GET", `${userPath(name)}?include_stopped_servers=1`);
  return body;
}

/**
 * An error of an attempt to `action` ("start alice's server") as a sentence for the page:
 * what failed, why in plain words, and the hub's own message, which says what was wrong.
 */
export function describe(err, action) {
  if (err && err.name === "AbortError") return "";
  let message = err && err.message ? err.message : String(err);
  // A proxy's or server's error page is HTML, not words for a sentence.
  if (/^\s*</.test(message)) message = `HTTP ${err.status}`;
  const detail = message.endsWith(".") ? message : `${message}.`;
  if (err instanceof TypeError && /fetch|network/i.test(message)) {
    return `Could not ${action}: the hub did not answer (it may be restarting, or the ` +
      `network is down). Try again in a moment.`;
  }
  if (!err || err.status === undefined) return `Could not ${action}: ${detail}`;
  switch (err.status) {
    case 403:
      return `You are not allowed to ${action}. The hub said: ${detail} (If your session ` +
        `has ended, reload the page to log in again.)`;
    case 404:
      return `Could not ${action}: not found (it may have just been deleted). The hub said: ` +
        detail;
    case 502:
    case 503:
    case 504:
      return `Could not ${action}: the proxy cannot reach the hub (HTTP ${err.status}); the ` +
        `hub may be restarting or stopped. Try again in a moment.`;
    case 429:
      return `Could not ${action}: too many servers are starting right now; try again in a ` +
        `minute. The hub said: ${detail}`;
    default:
      if (err.status >= 500) {
        return `Could not ${action}: the hub had an internal error (${err.status}). ` +
          `The hub said: ${detail}`;
      }
      return `Could not ${action}: ${detail}`;
  }
}
