// The panel's state in the query string (view, offset, limit, name_filter, sort, state, group,
// group_offset), as JupyterHub's admin keeps it, so that reload, links and Back show the same
// page.

const KEYS = ["view", "offset", "limit", "name_filter", "sort", "state", "group", "group_offset"];
const VIEWS = ["users", "groups", "services", "hub"];
const SORTS = ["id", "name", "-name", "last_activity", "-last_activity"];
const STATES = ["", "active", "inactive", "ready"];

/** The hub's settings for the panel, from admin.html (data-settings on #admin-app). */
export function readSettings() {
  const app = document.getElementById("admin-app");
  try {
    return JSON.parse((app && app.dataset.settings) || "{}");
  } catch {
    return {};
  }
}

/** The query of GET /hub/api/users for a state of the users view. */
export function usersQuery(state) {
  const params = { offset: state.offset, limit: state.limit, name_filter: state.name_filter,
    sort: state.sort, state: state.state, include_stopped_servers: 1 };
  if (params.sort === "id") delete params.sort;
  return params;
}

export class UrlState {
  constructor(settings) {
    this.defaultLimit = settings.api_page_limit || 50;
    this.maxLimit = settings.api_page_max_limit || 200;
  }

  /** The state in the current URL, with anything invalid replaced by its default. */
  read() {
    const q = new URLSearchParams(window.location.search);
    const int = (key, fallback) => {
      const n = parseInt(q.get(key) || "", 10);
      return Number.isFinite(n) && n >= 0 ? n : fallback;
    };
    const pick = (key, allowed) => (allowed.includes(q.get(key)) ? q.get(key) : allowed[0]);
    const limit = Math.min(Math.max(int("limit", this.defaultLimit), 1), this.maxLimit);
    return {
      view: pick("view", VIEWS),
      offset: int("offset", 0),
      limit,
      name_filter: q.get("name_filter") || "",
      sort: pick("sort", SORTS),
      state: pick("state", STATES),
      group: q.get("group") || "",
      group_offset: int("group_offset", 0),
    };
  }

  /** The query string for a state: defaults are left out, so plain /hub/admin stays plain. */
  search(state) {
    const q = new URLSearchParams();
    const defaults = { view: "users", offset: 0, limit: this.defaultLimit, name_filter: "",
      sort: "id", state: "", group: "", group_offset: 0 };
    for (const key of KEYS) {
      if (state[key] !== undefined && state[key] !== defaults[key]) q.set(key, state[key]);
    }
    const text = q.toString();
    return text ? `?${text}` : window.location.pathname;
  }

  /**
   * Moves to `changes` applied to the current state: a new history entry (Back returns), or
   * with `replace` the same entry (for steps Back should skip, like each typed letter).
   */
  go(changes, { replace = false } = {}) {
    const next = { ...this.read(), ...changes };
    const url = this.search(next);
    if (url === window.location.search || (url === window.location.pathname &&
      !window.location.search)) return next;
    if (replace) window.history.replaceState(null, "", url);
    else window.history.pushState(null, "", url);
    return next;
  }
}
