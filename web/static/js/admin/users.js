// The users view: one page of users at a time from the hub (search, sort, state filter and
// paging all happen on the server, so it stays fast with tens of thousands of users), each
// user's servers in an expandable row, and the actions on one user or server. Rows are built
// by user-rows.js; actions on many users are in users-bulk.js.
import { describe, listPage } from "./api.js";
import { byId, debounce, h } from "./dom.js";
import { count, plural, serverLabel, timeSince } from "./format.js";
import { ProgressStreams, removeServer, spawnFailure, startServer, stopServer } from "./servers.js";
import { usersQuery } from "./state.js";
import { addUsers, editUser } from "./user-dialogs.js";
import { UserRows } from "./user-rows.js";
import { UsersBulk } from "./users-bulk.js";

// Long enough not to ask the hub at every keystroke of a name typed quickly.
export const SEARCH_DEBOUNCE_MS = 200;
const POLL_MS = 1500;
const PAGE_SIZES = [25, 50, 100, 200];

export class UsersView {
  constructor({ settings, perms, urlState, bulk, notify, announce, whoami, prefetch }) {
    this.settings = settings;
    this.perms = perms;
    this.urlState = urlState;
    this.bulk = bulk;
    this.notify = notify;
    this.announce = announce;
    this.whoami = whoami;
    this.prefetch = prefetch || null;
    this.baseUrl = window.jhdata.base_url;

    this.query = null;
    this.page = null;
    this.users = new Map();
    this.rows = new Map(); // name -> {signature, nodes}
    this.selected = new Set();
    this.expanded = new Set();
    this.rowErrors = new Map();
    this.localPending = new Map(); // "user/server" -> "spawn" | "stop", while our call runs
    this.startedHere = new Set(); // "user/server" started from this page: report failures
    this.progress = new Map(); // "user/server" -> last progress event
    this.controller = null;
    this.pollTimer = null;
    this.reloadTimer = null;
    this.visible = false;
    this.detailIds = 0;
    this.streams = new ProgressStreams((key, event) => this.onProgress(key, event));
    this.rowBuilder = new UserRows(this);
    this.many = new UsersBulk(this);

    this.body = byId("users-body");
    this.table = byId("users-table");
    this.search = byId("user-search");
    this.empty = byId("users-empty");
    this.columns = this.visibleColumns();
    this.wire();
    setInterval(() => this.refreshTimes(), 60_000);
  }

  /** The columns the admin's scopes can fill; the others are left out, not shown empty. */
  visibleColumns() {
    const beyond = (scope) => this.perms.beyond(scope, this.whoami.name);
    const cols = {
      bulk: beyond("servers") || beyond("delete:servers") || beyond("delete:users") ||
        beyond("groups"),
      admin: beyond("read:users:name") || beyond("read:roles:users"),
      groups: beyond("read:users:groups"),
      activity: beyond("read:users:activity"),
      servers: beyond("read:servers"),
    };
    for (const th of this.table.querySelectorAll("th[data-needs]")) {
      th.hidden = !cols[th.dataset.needs];
    }
    return cols;
  }

  get columnCount() {
    return 2 + Object.values(this.columns).filter((v) => v).length;
  }

  wire() {
    const p = this.perms;
    const addButton = byId("add-users");
    addButton.hidden = !p.all("admin:users");
    addButton.addEventListener("click", async () => {
      const created = await addUsers(this.whoami.admin);
      if (created) {
        this.notify.info(created);
        this.reload();
      }
    });
    const startAll = byId("start-all");
    const stopAll = byId("stop-all");
    startAll.hidden = !p.beyond("servers", this.whoami.name);
    stopAll.hidden = !p.beyond("delete:servers", this.whoami.name);
    startAll.addEventListener("click", () => this.many.startAll(startAll));
    stopAll.addEventListener("click", () => this.many.stopAll(stopAll));

    const search = debounce((value) => {
      const previous = this.urlState.read().name_filter;
      // Refining the same search replaces the history entry, so Back skips each keystroke.
      const refining = previous && (value.startsWith(previous) || previous.startsWith(value));
      this.urlState.go({ name_filter: value, offset: 0 }, { replace: Boolean(refining) });
      this.sync();
    }, SEARCH_DEBOUNCE_MS);
    this.search.addEventListener("input", () => search(this.search.value.trim()));
    this.search.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        search.cancel();
        this.urlState.go({ name_filter: this.search.value.trim(), offset: 0 });
        this.sync();
      }
    });

    for (const radio of document.querySelectorAll("#state-filter input[name=state]")) {
      radio.addEventListener("change", () => {
        this.urlState.go({ state: radio.value, offset: 0 });
        this.sync();
      });
    }
    for (const button of this.table.querySelectorAll(".sort-button")) {
      button.addEventListener("click", () => this.toggleSort(button.dataset.sort));
    }

    const pageSize = byId("page-size");
    const sizes = new Set(PAGE_SIZES.filter((n) => n <= this.urlState.maxLimit));
    sizes.add(this.urlState.defaultLimit);
    for (const n of [...sizes].sort((a, b) => a - b)) {
      pageSize.append(h("option", { value: n, text: String(n) }));
    }
    pageSize.addEventListener("change", () => {
      const limit = parseInt(pageSize.value, 10);
      // Keep the first user of the page in view.
      const offset = Math.floor(this.query.offset / limit) * limit;
      this.urlState.go({ limit, offset });
      this.sync();
    });
    byId("paginate-prev").addEventListener("click", () => this.goPage(-1));
    byId("paginate-next").addEventListener("click", () => this.goPage(1));
    const pageNumber = byId("page-number");
    pageNumber.addEventListener("change", () => {
      const n = parseInt(pageNumber.value, 10);
      if (!Number.isFinite(n) || n < 1) return;
      this.urlState.go({ offset: (n - 1) * this.query.limit });
      this.sync();
    });

    byId("select-page").addEventListener("change", (event) => {
      for (const name of this.users.keys()) {
        if (event.target.checked) this.selected.add(name);
        else this.selected.delete(name);
      }
      this.renderRows();
    });
    byId("select-matching").addEventListener("click", () => this.selectMatching());
    this.wireBulkBar();
  }

  wireBulkBar() {
    const p = this.perms;
    const beyond = (scope) => p.beyond(scope, this.whoami.name);
    const allowed = {
      start: beyond("servers"),
      stop: beyond("delete:servers"),
      "add-group": beyond("groups"),
      "remove-group": beyond("groups"),
      delete: beyond("delete:users"),
      clear: true,
    };
    for (const button of byId("bulk-bar").querySelectorAll("[data-bulk]")) {
      const action = button.dataset.bulk;
      button.hidden = !allowed[action];
      button.addEventListener("click", () => this.many.bulkAction(action));
    }
  }

  /** Shows the view with the state in the URL (first visit, Back, a tab). */
  show() {
    this.visible = true;
    this.sync(true);
  }

  hide() {
    this.visible = false;
    clearTimeout(this.pollTimer);
    this.streams.closeAll();
  }

  /** Loads the page the URL names, if it is not the one shown. */
  sync(force = false) {
    const q = this.urlState.read();
    const query = { offset: q.offset, limit: q.limit, name_filter: q.name_filter, sort: q.sort,
      state: q.state };
    if (document.activeElement !== this.search) this.search.value = query.name_filter;
    for (const radio of document.querySelectorAll("#state-filter input[name=state]")) {
      radio.checked = radio.value === query.state;
    }
    byId("page-size").value = String(query.limit);
    const same = this.query && JSON.stringify(query) === JSON.stringify(this.query);
    if (same && this.page && !force) return;
    this.query = query;
    this.reload();
  }

  toggleSort(column) {
    const current = this.query.sort;
    let sort;
    if (column === "name") sort = current === "name" ? "-name" : "name";
    // Most recent first is what one looks for first.
    else sort = current === "-last_activity" ? "last_activity" : "-last_activity";
    this.urlState.go({ sort, offset: 0 });
    this.sync();
  }

  goPage(direction) {
    const { limit } = this.query;
    const offset = Math.max(0, this.query.offset + direction * limit);
    this.urlState.go({ offset });
    this.sync();
  }

  /** Fetches the current page again (after an action, or to follow pending servers). */
  async reload() {
    if (!this.perms.any("list:users")) {
      this.showEmpty("Your roles do not include list:users, so the users cannot be listed.");
      return;
    }
    clearTimeout(this.pollTimer);
    if (this.controller) this.controller.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.table.setAttribute("aria-busy", "true");
    this.table.parentElement.classList.add("loading");
    try {
      const params = usersQuery(this.query);
      const prefetch = this.prefetch;
      this.prefetch = null;
      const page = prefetch && prefetch.key === JSON.stringify(params)
        ? await prefetch.promise : await listPage("/users", params, controller.signal);
      if (controller !== this.controller) return;
      if (page.items.length === 0 && page.total > 0 && this.query.offset > 0) {
        // Past the end (users were deleted, or an old link): go to the last page.
        const last = Math.floor((page.total - 1) / this.query.limit) * this.query.limit;
        this.urlState.go({ offset: last }, { replace: true });
        this.sync();
        return;
      }
      this.page = page;
      this.users = new Map(page.items.map((u) => [u.name, u]));
      this.notify.clearError("users");
      this.render();
    } catch (err) {
      if (err.name === "AbortError") return;
      this.notify.error(describe(err, "list the users"), "users");
    } finally {
      if (controller === this.controller) {
        this.controller = null;
        this.table.removeAttribute("aria-busy");
        this.table.parentElement.classList.remove("loading");
        this.schedulePoll();
      }
    }
  }

  /** Reloads at most once a second, so that rows follow a bulk action as it goes. */
  reloadSoon() {
    if (this.reloadTimer) return;
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null;
      this.reload();
    }, 1000);
  }

  showEmpty(text) {
    this.body.replaceChildren();
    this.rows.clear();
    this.empty.textContent = text;
    this.empty.hidden = false;
    this.table.querySelector("thead").hidden = true;
    byId("pagination-status").textContent = "";
  }

  /** Keeps polling while a visible server is starting or stopping. */
  schedulePoll() {
    clearTimeout(this.pollTimer);
    if (!this.visible) return;
    const pending = this.localPending.size > 0 ||
      [...this.users.values()].some((u) => Object.values(u.servers || {}).some((s) => s.pending));
    if (pending) this.pollTimer = setTimeout(() => this.reload(), POLL_MS);
  }

  render() {
    const { page, query } = this;
    const total = page.total;
    this.table.querySelector("thead").hidden = false;
    this.renderRows();
    const first = page.items.length ? query.offset + 1 : 0;
    const last = query.offset + page.items.length;
    let status;
    if (page.items.length === 0) status = "No users";
    else if (total === null) status = `Displaying ${count(first)}–${count(last)}`;
    else status = `Displaying ${count(first)}–${count(last)} of ${plural(total, "user")}`;
    byId("pagination-status").textContent = status;
    const nothing = query.name_filter ? `No users match “${query.name_filter}”` : "No users";
    this.empty.textContent = query.state
      ? `${nothing} with ${query.state} servers.` : `${nothing}.`;
    this.empty.hidden = page.items.length > 0;
    byId("paginate-prev").disabled = query.offset === 0;
    byId("paginate-next").disabled = !page.next;
    const pages = total ? Math.max(1, Math.ceil(total / query.limit)) : 1;
    const pageNumber = byId("page-number");
    pageNumber.max = String(pages);
    pageNumber.value = String(Math.floor(query.offset / query.limit) + 1);
    byId("page-count").textContent = `of ${count(pages)}`;
    for (const th of this.table.querySelectorAll("th[aria-sort]")) {
      const column = th.querySelector(".sort-button").dataset.sort;
      let sort = "none";
      if (query.sort === column) sort = "ascending";
      else if (query.sort === `-${column}`) sort = "descending";
      th.setAttribute("aria-sort", sort);
    }
    this.announce(status);
  }

  /** Replaces only the rows whose content changed, and keeps keyboard focus where it was. */
  renderRows() {
    const focus = this.focusedControl();
    const fragment = document.createDocumentFragment();
    const rows = new Map();
    for (const user of this.users.values()) {
      const signature = this.signature(user);
      const cached = this.rows.get(user.name);
      const entry = cached && cached.signature === signature
        ? cached : { signature, nodes: this.rowBuilder.buildRows(user) };
      rows.set(user.name, entry);
      fragment.append(...entry.nodes);
    }
    this.rows = rows;
    this.body.replaceChildren(fragment);
    this.updateSelection();
    if (focus) this.restoreFocus(focus);
    this.followProgress();
  }

  signature(user) {
    const keys = Object.keys(user.servers || { "": null }).map((s) => `${user.name}/${s}`);
    return JSON.stringify([user, this.selected.has(user.name), this.expanded.has(user.name),
      this.rowErrors.get(user.name) || "", keys.map((k) => this.localPending.get(k) || ""),
      keys.map((k) => this.progress.get(k) || null)]);
  }

  focusedControl() {
    const el = document.activeElement;
    if (!el || !this.body.contains(el)) return null;
    const row = el.closest("[data-user]");
    return row ? { user: row.dataset.user, control: el.dataset.control } : null;
  }

  restoreFocus({ user, control }) {
    const entry = this.rows.get(user);
    if (!entry || !control) return;
    for (const node of entry.nodes) {
      const target = node.querySelector(`[data-control="${CSS.escape(control)}"]`);
      if (target && !target.disabled) {
        target.focus();
        return;
      }
    }
    // The control is gone (Start became Stop): stay in the same row.
    const fallback = entry.nodes[0].querySelector("button:not(:disabled), a[href]");
    if (fallback) fallback.focus();
  }

  updateSelection() {
    const onPage = [...this.users.keys()];
    const chosen = onPage.filter((n) => this.selected.has(n)).length;
    const all = byId("select-page");
    all.checked = onPage.length > 0 && chosen === onPage.length;
    all.indeterminate = chosen > 0 && chosen < onPage.length;
    const bar = byId("bulk-bar");
    bar.hidden = this.selected.size === 0;
    const elsewhere = this.selected.size - chosen;
    byId("bulk-count").textContent = `${plural(this.selected.size, "user")} selected` +
      (elsewhere > 0 ? ` (${count(elsewhere)} on other pages)` : "");
    // The whole page is selected and more users match: offer them all, as mail clients do.
    const more = byId("select-matching");
    const total = this.page ? this.page.total : null;
    more.hidden = !all.checked || total === null || total <= this.selected.size ||
      total <= onPage.length;
    if (!more.hidden && !more.disabled) {
      more.textContent = `Select all ${plural(total, "user")}${this.matchingLabel()}`;
    }
  }

  /** " matching “x”", " with active servers", ... for what the view shows. */
  matchingLabel() {
    const q = this.query;
    const states = { active: " with a server running or starting", inactive: " with no server",
      ready: " with a ready server" };
    return (q.name_filter ? ` matching “${q.name_filter}”` : "") + (states[q.state] || "");
  }

  /** Adds every user the search and filter match (on every page) to the selection. */
  async selectMatching() {
    const q = this.query;
    const users = await this.many.gather(byId("select-matching"),
      { name_filter: q.name_filter, state: q.state }, "Selecting…");
    if (users) {
      for (const u of users) this.selected.add(u.name);
      this.announce(`${plural(this.selected.size, "user")} selected.`);
    }
    this.renderRows();
  }


  refreshTimes() {
    for (const el of this.body.querySelectorAll("time[datetime]")) {
      el.textContent = timeSince(el.getAttribute("datetime"));
    }
  }

  /* Actions on one user. */

  setRowError(name, message) {
    if (message) this.rowErrors.set(name, message);
    else this.rowErrors.delete(name);
    if (this.users.has(name)) this.renderRows();
  }

  async startOne(user, serverName) {
    const key = `${user.name}/${serverName}`;
    this.localPending.set(key, "spawn");
    this.startedHere.add(key);
    this.progress.delete(key);
    this.setRowError(user.name, "");
    this.schedulePoll();
    try {
      await startServer(user.name, serverName);
    } catch (err) {
      this.startedHere.delete(key);
      this.setRowError(user.name, describe(err, `start ${serverLabel(user.name, serverName)}`));
    } finally {
      this.localPending.delete(key);
      await this.reload();
    }
  }

  async stopOne(user, serverName) {
    const key = `${user.name}/${serverName}`;
    this.localPending.set(key, "stop");
    this.startedHere.delete(key);
    this.progress.delete(key);
    this.setRowError(user.name, "");
    this.schedulePoll();
    try {
      await stopServer(user.name, serverName);
    } catch (err) {
      this.setRowError(user.name, describe(err, `stop ${serverLabel(user.name, serverName)}`));
    } finally {
      this.localPending.delete(key);
      await this.reload();
    }
  }

  async removeOne(user, serverName) {
    this.setRowError(user.name, "");
    try {
      await removeServer(user.name, serverName);
      this.announce(`Deleted ${serverLabel(user.name, serverName)}.`);
    } catch (err) {
      this.setRowError(user.name, describe(err, `delete ${serverLabel(user.name, serverName)}`));
    }
    await this.reload();
  }

  async edit(user) {
    const result = await editUser(user, this.whoami);
    if (!result) return;
    if (result.deleted) {
      this.selected.delete(user.name);
      this.notify.info(`Deleted user ${user.name}.`);
    } else if (result.renamed) {
      if (this.selected.delete(user.name)) this.selected.add(result.user.name);
      if (this.expanded.delete(user.name)) this.expanded.add(result.user.name);
      this.notify.info(`Renamed ${user.name} to ${result.user.name}.`);
    }
    this.reload();
  }

  /* Progress of servers started here. */

  followProgress() {
    for (const key of this.startedHere) {
      const [name, ...rest] = key.split("/");
      const serverName = rest.join("/");
      const user = this.users.get(name);
      if (!user) continue;
      const server = (user.servers || {})[serverName];
      if (server && server.pending === "spawn") {
        this.streams.follow(name, serverName);
      } else if (!this.localPending.has(key)) {
        // The start is over: a server that is not running now failed to start.
        this.startedHere.delete(key);
        this.progress.delete(key);
        if (!server || !server.ready) this.reportFailure(name, serverName);
      }
    }
  }

  async reportFailure(name, serverName) {
    const why = await spawnFailure(name, serverName);
    this.setRowError(name, `${serverLabel(name, serverName)} did not start${
      why ? `: ${why}` : "."}`);
  }

  onProgress(key, event) {
    if (event.ended) return;
    this.progress.set(key, event);
    if (event.failed) {
      const [name, ...rest] = key.split("/");
      this.startedHere.delete(key);
      this.progress.delete(key);
      this.setRowError(name, `${serverLabel(name, rest.join("/"))} did not start: ${
        event.message || "the spawner gave no reason"}`);
    }
    if (event.ready || event.failed) this.reload();
    else this.renderRows();
  }
}
