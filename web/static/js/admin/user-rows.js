// The rows of the users table: a user's row with its default server's status and buttons, the
// row under it with the reason an action failed, and the expandable row with every server of
// the user (named ones too) and the user's details. Built with DOM calls, never from HTML text.
import { h } from "./dom.js";
import { count, fullTime, plural, serverLabel, serverStatus, timeSince } from "./format.js";

const GROUPS_SHOWN = 3;

/**
 * Builds rows for a UsersView (`view`), reading its state (columns, selection, expanded rows,
 * errors, pending actions, progress) and calling its actions from the buttons.
 */
export class UserRows {
  constructor(view) {
    this.view = view;
  }

  defaultServer(user) {
    if (user.servers) return user.servers[""] || null;
    // Without read:servers the user model still says whether the default server runs.
    if (user.pending || user.server) return { name: "", pending: user.pending, ready: !!user.server,
      url: user.server };
    return null;
  }

  pendingOf(user, serverName, server) {
    const local = this.view.localPending.get(`${user.name}/${serverName}`);
    return local || (server && server.pending) || null;
  }

  buildRows(user) {
    const name = user.name;
    const cols = this.view.columns;
    const server = this.defaultServer(user);
    const detailId = `user-details-${++this.view.detailIds}`;
    const expanded = this.view.expanded.has(name);
    const cells = [];
    if (cols.bulk) {
      cells.push(h("td", { class: "col-select" }, h("input", {
        type: "checkbox", "aria-label": `Select ${name}`, "data-control": "select",
        checked: this.view.selected.has(name),
        onchange: (event) => {
          if (event.target.checked) this.view.selected.add(name);
          else this.view.selected.delete(name);
          this.view.renderRows();
        },
      })));
    }
    const expandable = cols.servers && user.servers !== undefined;
    cells.push(h("td", { "data-testid": "user-row-name", class: "col-name" },
      expandable ? h("button", {
        type: "button", class: "expand-button", "aria-expanded": String(expanded),
        "aria-controls": detailId, "aria-label": `Servers and details of ${name}`,
        "data-control": "expand", "data-testid": `${name}-collapse-button`,
        onclick: () => {
          if (this.view.expanded.has(name)) this.view.expanded.delete(name);
          else this.view.expanded.add(name);
          this.view.renderRows();
        },
      }, h("span", { class: "caret", "aria-hidden": "true" })) : null,
      h("span", { class: "user-name", text: name })));
    if (cols.admin) {
      cells.push(h("td", { "data-testid": "user-row-admin" },
        user.admin ? h("span", { class: "admin-badge admin-flag", text: "admin" }) : ""));
    }
    if (cols.groups) cells.push(h("td", { class: "col-groups" }, this.groupChips(user)));
    if (cols.activity) {
      cells.push(h("td", { "data-testid": "user-row-last-activity", class: "col-activity" },
        this.timeElement(user.last_activity)));
    }
    if (cols.servers) {
      cells.push(h("td", { "data-testid": "user-row-server" }, this.statusBadge(user, "", server),
        this.namedSummary(user)));
    }
    cells.push(h("td", { "data-testid": "user-row-server-activity", class: "actions" },
      this.serverButtons(user, "", server, true)));
    const selected = this.view.selected.has(name) ? " selected" : "";
    const row = h("tr", { class: `user-row${selected}`, "data-user": name,
      "data-testid": `user-row-${name}` },
      cells);
    const nodes = [row];
    const error = this.view.rowErrors.get(name);
    if (error) {
      nodes.push(h("tr", { class: "row-error-row", "data-user": name },
        h("td", { colspan: this.view.columnCount },
          h("div", { class: "row-error", role: "alert" },
            h("span", { text: error }),
            h("button", { type: "button", class: "btn-link", "data-control": "dismiss-error",
              "aria-label": `Dismiss (the message about ${name})`, text: "Dismiss",
              onclick: () => {
                this.view.rowErrors.delete(name);
                this.view.renderRows();
              } })))));
    }
    if (expandable) {
      nodes.push(h("tr", { class: "server-details", id: detailId, "data-user": name,
        hidden: !expanded },
      h("td", { colspan: this.view.columnCount }, expanded ? this.details(user) : null)));
    }
    return nodes;
  }

  groupChips(user) {
    const groups = user.groups || [];
    const chips = groups.slice(0, GROUPS_SHOWN).map((g) => h("span", { class: "chip", text: g }));
    if (groups.length > GROUPS_SHOWN) {
      chips.push(h("span", { class: "chip chip-more", title: groups.join(", "),
        text: `+${groups.length - GROUPS_SHOWN}` }));
    }
    return chips;
  }

  timeElement(iso) {
    if (!iso) return h("span", { class: "muted-inline", text: "Never" });
    return h("time", { datetime: iso, title: fullTime(iso), text: timeSince(iso) });
  }

  statusBadge(user, serverName, server) {
    const pending = this.pendingOf(user, serverName, server);
    const status = serverStatus(pending ? { ...(server || {}), pending } : server);
    const progress = this.view.progress.get(`${user.name}/${serverName}`);
    const badge = h("span", { class: `status status-${status.kind}`,
      "data-status": status.kind, text: status.text });
    if (pending === "spawn" && progress && progress.message) {
      const percent = Number.isFinite(progress.progress) ? ` ${progress.progress}%` : "";
      badge.textContent = `Starting…${percent}`;
      badge.title = progress.message;
      return [badge, h("span", { class: "progress-note", text: progress.message })];
    }
    return badge;
  }

  namedSummary(user) {
    const named = Object.values(user.servers || {}).filter((s) => s.name);
    if (!named.length) return null;
    const running = named.filter((s) => s.ready || s.pending).length;
    const text = `${plural(named.length, "named server")}` +
      (running ? `, ${count(running)} active` : "");
    return h("span", { class: "named-summary", text });
  }

  /** The buttons for one server; `main` for the user's row (adds Edit User). */
  serverButtons(user, serverName, server, main) {
    const p = this.view.perms;
    const label = serverLabel(user.name, serverName);
    const pending = this.pendingOf(user, serverName, server);
    const ready = server && server.ready && !pending;
    const suffix = serverName ? `-${serverName}` : "";
    const buttons = [];
    // Without the Server column there is no status to go with the buttons.
    if (this.view.columns.servers) {
      if (pending) {
        buttons.push(h("button", { type: "button", class: "btn btn-sm start-button",
          disabled: true, "data-control": `pending${suffix}`,
          text: pending === "stop" ? "Stopping…" : "Starting…" }));
        if (pending === "spawn" && p.forServer("delete:servers", user, serverName)) {
          buttons.push(h("button", { type: "button",
            class: "btn btn-sm btn-danger-quiet stop-button",
            "data-control": `cancel${suffix}`, "aria-label": `Cancel (the start of ${label})`,
            text: "Cancel", onclick: () => this.view.stopOne(user, serverName) }));
        }
      } else if (ready) {
        if (p.forServer("delete:servers", user, serverName)) {
          buttons.push(h("button", { type: "button",
            class: "btn btn-sm btn-danger-quiet stop-button",
            "data-control": `stop${suffix}`, "aria-label": `Stop Server (${label})`,
            text: "Stop Server",
            onclick: () => this.view.stopOne(user, serverName) }));
        }
        if (p.forServer("access:servers", user, serverName) && server.url) {
          buttons.push(h("a", { class: "btn btn-sm btn-primary access-button", href: server.url,
            "data-control": `access${suffix}`, "aria-label": `Access Server (${label})`,
            text: "Access Server" }));
        }
      } else if (p.forServer("servers", user, serverName)) {
        buttons.push(h("button", { type: "button", class: "btn btn-sm btn-success start-button",
          "data-control": `start${suffix}`, "aria-label": `Start Server (${label})`,
          text: "Start Server",
          onclick: () => this.view.startOne(user, serverName) }));
        const spawnUrl = `${this.view.baseUrl}spawn/${encodeURIComponent(user.name)}` +
          (serverName ? `/${encodeURIComponent(serverName)}` : "");
        buttons.push(h("a", { class: "btn btn-sm spawn-page-button", href: spawnUrl,
          "data-control": `spawn-page${suffix}`,
          "aria-label": `Spawn Page (${label}, with its options)`, text: "Spawn Page" }));
      }
      if (!main && serverName && !ready && !pending &&
        p.forServer("delete:servers", user, serverName)) {
        buttons.push(h("button", { type: "button",
          class: "btn btn-sm btn-danger-quiet delete-server",
          "data-control": `delete${suffix}`, "aria-label": `Delete Server (${label})`,
          text: "Delete Server", onclick: () => this.view.removeOne(user, serverName) }));
      }
    }
    if (main && p.forUser("admin:users", user)) {
      buttons.push(h("button", { type: "button", class: "btn btn-sm edit-user",
        "data-control": "edit", "aria-label": `Edit User (${user.name})`, text: "Edit User",
        onclick: () => this.view.edit(user) }));
    }
    return buttons;
  }

  details(user) {
    const servers = { "": null, ...(user.servers || {}) };
    if (servers[""] === null) servers[""] = { name: "", ready: false, pending: null };
    const rows = Object.values(servers).sort((a, b) => a.name.localeCompare(b.name)).map((s) =>
      h("tr", { "data-server": s.name },
        h("th", { scope: "row" }, s.name ? h("span", { class: "server-name", text: s.name })
          : h("span", { class: "muted-inline", text: "default" })),
        h("td", {}, this.statusBadge(user, s.name, s)),
        h("td", {}, this.timeElement(s.last_activity)),
        h("td", {}, s.started ? this.timeElement(s.started) : "—"),
        h("td", { class: "server-url" }, s.ready && s.url ? h("code", { text: s.url }) : "—"),
        h("td", { class: "actions" }, this.serverButtons(user, s.name, s, false))));
    const facts = h("dl", { class: "facts" },
      user.created !== undefined ? [h("dt", { text: "Created" }),
        h("dd", {}, this.timeElement(user.created))] : null,
      user.roles ? [h("dt", { text: "Roles" }),
        h("dd", { text: user.roles.join(", ") || "none" })] : null,
      user.groups ? [h("dt", { text: "Groups" }),
        h("dd", { text: user.groups.join(", ") || "none" })] : null);
    const parts = [
      h("table", { class: "table servers-table" },
        h("caption", { class: "visually-hidden", text: `Servers of ${user.name}` }),
        h("thead", {}, h("tr", {}, ["Server", "Status", "Last activity", "Started", "URL",
          "Actions"].map((t) => h("th", { scope: "col", text: t })))),
        h("tbody", {}, rows)),
    ];
    const canNamed = this.view.settings.allow_named_servers &&
      this.view.perms.forUser("servers", user);
    if (canNamed) parts.push(this.newServerForm(user));
    parts.push(facts);
    return h("div", { class: "details" }, parts);
  }

  newServerForm(user) {
    const input = h("input", { class: "form-control form-control-sm", name: "server_name",
      required: true, maxlength: 255, autocomplete: "off", "data-control": "new-server-name",
      "aria-label": `Name of a new server for ${user.name}`, placeholder: "name-your-server" });
    const limit = this.view.settings.named_server_limit_per_user;
    return h("form", { class: "inline-form new-server", onsubmit: (event) => {
      event.preventDefault();
      const serverName = input.value.trim();
      if (serverName) this.view.startOne(user, serverName);
    } },
    input,
    h("button", { type: "submit", class: "btn btn-sm btn-primary", "data-control": "new-server",
      text: "Start New Server" }),
    limit ? h("span", { class: "muted-inline", text: `up to ${limit} named servers` }) : null);
  }
}
