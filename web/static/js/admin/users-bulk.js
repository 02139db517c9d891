// Actions on many users at once from the users view: the bulk bar's actions on selected rows,
// Start All and Stop All (every user the search matches, on every page), each run through the
// bulk panel a few at a time with per-user errors in the rows.
import { api, describe, getUser, listAll, userPath } from "./api.js";
import { confirmAction } from "./dialog.js";
import { plural, serverLabel } from "./format.js";
import { startAndWait, stopAndWait } from "./servers.js";
import { bulkDelete, pickGroup } from "./user-dialogs.js";

export class UsersBulk {
  constructor(view) {
    this.view = view;
  }

  /**
   * Runs `task(item)` over `names` ("alice", or "alice/gpu" for a named server) through the
   * bulk panel; failures also show in the rows of their users when those are on the page.
   */
  async runBulk({ title, names, task, pending = null }) {
    if (this.view.bulk.running) {
      this.view.notify.error("Another bulk action is still running; wait for it or cancel it.");
      return null;
    }
    const userOf = (item) => item.split("/")[0];
    const keyOf = (item) => (item.includes("/") ? item : `${item}/`);
    for (const item of names) this.view.rowErrors.delete(userOf(item));
    // Rows of the items being worked on say so at once, before the next reload.
    const tracked = async (item) => {
      if (pending) {
        this.view.localPending.set(keyOf(item), pending);
        if (this.view.users.has(userOf(item))) this.view.renderRows();
        this.view.schedulePoll();
      }
      try {
        await task(item);
      } finally {
        if (pending) this.view.localPending.delete(keyOf(item));
      }
    };
    const result = await this.view.bulk.run({
      title, items: names, name: (item) => item, task: tracked,
      onResult: (item, error) => {
        if (error) this.view.setRowError(userOf(item), error.message || String(error));
        this.view.reloadSoon();
      },
    });
    await this.view.reload();
    return result;
  }

  async bulkAction(action) {
    const names = [...this.view.selected].sort();
    if (action === "clear") {
      this.view.selected.clear();
      this.view.renderRows();
      return;
    }
    if (action === "start") {
      await this.runBulk({ title: "Starting servers", names, pending: "spawn",
        task: (name) => startAndWait(name, "").catch((err) => {
          throw new Error(describe(err, `start ${serverLabel(name, "")}`));
        }) });
    } else if (action === "stop") {
      await this.runBulk({ title: "Stopping servers", names, pending: "stop",
        task: (name) => this.stopEverything(name) });
    } else if (action === "add-group" || action === "remove-group") {
      const done = await pickGroup(names, action === "add-group");
      if (done) {
        this.view.notify.info(done);
        this.view.reload();
      }
    } else if (action === "delete") {
      const confirmed = await bulkDelete(names, this.view.whoami.name);
      if (!confirmed) return;
      const result = await this.runBulk({ title: "Deleting users", names: confirmed,
        task: (name) => confirmedDelete(name) });
      if (result) {
        for (const name of confirmed) {
          if (!this.view.rowErrors.has(name)) this.view.selected.delete(name);
        }
        this.view.renderRows();
      }
    }
  }

  /** Stops every active server of a user (from a fresh model, since pages go stale). */
  async stopEverything(name) {
    let user;
    try {
      user = await getUser(name);
    } catch (err) {
      throw new Error(describe(err, `find the servers of ${name}`));
    }
    const active = Object.values(user.servers || {})
      .filter((s) => s.ready || s.pending === "spawn");
    for (const server of active) {
      try {
        await stopAndWait(name, server.name);
      } catch (err) {
        throw new Error(describe(err, `stop ${serverLabel(name, server.name)}`));
      }
    }
  }

  async startAll(button) {
    const q = this.view.query;
    const found = await this.gather(button, { name_filter: q.name_filter, state: "inactive" });
    if (!found) return;
    // Only those whose servers this admin may start (a role can be limited to some users).
    const users = found.filter((u) => this.view.perms.forServer("servers", u, ""));
    const scope = q.name_filter ? ` matching “${q.name_filter}”` : "";
    if (!users.length) {
      this.view.notify.info(`Every user${scope} already has a server running or starting.`);
      return;
    }
    const names = users.map((u) => u.name);
    const go = await confirmAction({
      title: "Start all servers",
      text: `Start the default server of ${plural(names.length, "user")}${scope} who have ` +
        `none running? They start a few at a time; you can cancel.`,
      ok: `Start ${plural(names.length, "server")}`,
    });
    if (!go) return;
    await this.runBulk({ title: "Starting servers", names, pending: "spawn",
      task: (name) => startAndWait(name, "").catch((err) => {
        throw new Error(describe(err, `start ${serverLabel(name, "")}`));
      }) });
  }

  async stopAll(button) {
    const q = this.view.query;
    const users = await this.gather(button, { name_filter: q.name_filter, state: "active" });
    if (!users) return;
    const scope = q.name_filter ? ` of users matching “${q.name_filter}”` : "";
    const servers = users.flatMap((u) => Object.values(u.servers || {})
      .filter((s) => (s.ready || s.pending === "spawn") &&
        this.view.perms.forServer("delete:servers", u, s.name))
      .map((s) => [u.name, s.name]));
    if (!servers.length) {
      this.view.notify.info(`No servers${scope} are running.`);
      return;
    }
    const go = await confirmAction({
      title: "Stop all servers",
      text: `Stop ${plural(servers.length, "running server")}${scope} ` +
        `(${plural(new Set(servers.map(([u]) => u)).size, "user")})? Unsaved work in them ` +
        "is lost.",
      ok: `Stop ${plural(servers.length, "server")}`,
    });
    if (!go) return;
    await this.runBulk({ title: "Stopping servers", pending: "stop",
      names: servers.map(([u, s]) => (s ? `${u}/${s}` : u)),
    task: (item) => {
      const slash = item.indexOf("/");
      const [user, server] = slash < 0 ? [item, ""] : [item.slice(0, slash), item.slice(slash + 1)];
      return stopAndWait(user, server).catch((err) => {
        throw new Error(describe(err, `stop ${serverLabel(user, server)}`));
      });
    } });
  }

  /**
   * Every user matching `params` (Start All, Stop All, select all matching), with the button
   * busy and saying `busy` meanwhile; null after showing the error.
   */
  async gather(button, params, busy = "Counting…") {
    const label = button.textContent;
    button.disabled = true;
    button.textContent = busy;
    try {
      return await listAll("/users", params, this.view.urlState.maxLimit);
    } catch (err) {
      this.view.notify.error(describe(err, "list the users to act on"));
      return null;
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  }
}

async function confirmedDelete(name) {
  try {
    await api("DELETE", userPath(name));
  } catch (err) {
    throw new Error(describe(err, `delete ${name}`));
  }
}
