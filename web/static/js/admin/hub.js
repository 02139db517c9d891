// The hub view: versions and what the hub runs with, and shutting it down.
import { api, describe } from "./api.js";
import { confirmAction } from "./dialog.js";
import { byId, h } from "./dom.js";

const STOP_POLL_MS = 500;
const STOP_WAIT_MS = 30_000;

export class HubView {
  constructor({ settings, perms, notify }) {
    this.settings = settings;
    this.perms = perms;
    this.notify = notify;
    byId("shutdown-card").hidden = !perms.all("shutdown");
    byId("shutdown-button").addEventListener("click", () => this.shutdown());
  }

  hide() {}

  async show() {
    const s = this.settings;
    const facts = [
      ["Ganymede version", s.ganymede_version || "unknown"],
      ["JupyterHub API version", s.server_version || "unknown"],
      ["Named servers", s.allow_named_servers
        ? (s.named_server_limit_per_user ? `allowed, up to ${s.named_server_limit_per_user} ` +
          "per user" : "allowed, no limit") : "not allowed"],
      ["Users per page", `${s.api_page_limit} by default, at most ${s.api_page_max_limit}`],
    ];
    if (this.perms.all("read:hub")) {
      try {
        const { body: info } = await api("GET", "/info");
        facts.splice(2, 0,
          ["Authenticator", (info.authenticator && info.authenticator.class) || "unknown"],
          ["Spawner", (info.spawner && info.spawner.class) || "unknown"]);
      } catch (err) {
        this.notify.error(describe(err, "read the hub's information"), "hub");
      }
    }
    byId("hub-info").replaceChildren(...facts.flatMap(([k, v]) =>
      [h("dt", { text: k }), h("dd", { text: v })]));
  }

  async shutdown() {
    // Each choice either leaves the hub's own setting in charge or overrides it.
    const choice = (name, label, setting, them) => {
      const select = h("select", { name, id: `shutdown-${name}`, class: "form-control" },
        h("option", { value: "", text: `As configured (${setting})` }),
        h("option", { value: "true", text: `Stop ${them}` }),
        h("option", { value: "false", text: `Keep ${them} running` }));
      return [h("label", { for: `shutdown-${name}`, text: label }), select];
    };
    const extra = h("div", { class: "shutdown-options" },
      choice("servers", "Users' servers", "JupyterHub.cleanup_servers", "them"),
      choice("proxy", "The proxy", "JupyterHub.cleanup_proxy", "it"));
    const done = await confirmAction({
      title: "Shut down the hub?",
      text: "Nobody can log in, start servers or use the API until the hub is started again.",
      ok: "Shutdown Hub",
      extra,
      action: async (form) => {
        const body = {};
        for (const key of ["servers", "proxy"]) {
          const value = form.elements[key].value;
          if (value) body[key] = value === "true";
        }
        try {
          await api("POST", "/shutdown", body);
        } catch (err) {
          throw new Error(describe(err, "shut down the hub"));
        }
        return true;
      },
    });
    if (!done) return;
    const status = byId("shutdown-status");
    byId("shutdown-button").disabled = true;
    status.textContent = "The hub is shutting down…";
    const deadline = Date.now() + STOP_WAIT_MS;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, STOP_POLL_MS));
      try {
        const response = await fetch(`${window.jhdata.base_url}health`, { cache: "no-store" });
        if (!response.ok) break;
      } catch {
        break;
      }
    }
    status.textContent = Date.now() < deadline
      ? "The hub has stopped. Start it again from the server to use this page."
      : "The hub still answers; it may be waiting for servers to stop. Reload later to check.";
  }
}
