// The services view: each service with its URL and whether it runs. The hub knows that of the
// services it manages (a pid); for the others the panel asks the proxy whether anything
// answers at the service's prefix.
import { api, describe } from "./api.js";
import { byId, h } from "./dom.js";

const PROBE_TIMEOUT_MS = 5000;

export class ServicesView {
  constructor({ perms, notify }) {
    this.perms = perms;
    this.notify = notify;
  }

  hide() {}

  async show() {
    const body = byId("services-body");
    if (!this.perms.any("list:services")) {
      body.replaceChildren();
      byId("services-empty").textContent = "Your roles do not include list:services.";
      byId("services-empty").hidden = false;
      return;
    }
    let services;
    try {
      ({ body: services } = await api("GET", "/services"));
      this.notify.clearError("services");
    } catch (err) {
      this.notify.error(describe(err, "list the services"), "services");
      return;
    }
    const list = Object.values(services || {}).sort((a, b) => a.name.localeCompare(b.name));
    body.replaceChildren(...list.map((s) => this.row(s)));
    byId("services-empty").hidden = list.length > 0;
  }

  row(service) {
    const managed = Array.isArray(service.command) && service.command.length > 0;
    const status = h("span", { class: "status status-stopped", text: "—" });
    const cells = [
      h("th", { scope: "row", class: "service-name" },
        h("span", { text: service.name }),
        service.display === false ? h("span", { class: "muted-inline", text: " (hidden)" }) : null),
      h("td", { text: managed ? "Managed by the hub" : "External" }),
      h("td", { class: "service-url" },
        service.prefix && service.url
          ? h("a", { href: service.prefix, text: service.prefix })
          : h("span", { class: "muted-inline",
            text: service.url === undefined ? "—" : "API only" }),
        service.url ? h("code", { class: "service-target", text: service.url }) : null),
      h("td", { class: "service-status" }, status),
      h("td", { text: service.admin ? "yes" : "" }),
    ];
    if (service.url === undefined) {
      status.textContent = "Unknown (needs read:services)";
    } else if (managed) {
      this.setStatus(status, service.pid > 0 ? "ready" : "stopped",
        service.pid > 0 ? `Running (pid ${service.pid})` : "Not running");
    } else if (service.url && service.prefix) {
      status.textContent = "Checking…";
      this.probe(service.prefix).then(([kind, text]) => this.setStatus(status, kind, text));
    } else {
      status.textContent = "No server (API only)";
    }
    return h("tr", { class: "service-row", "data-service": service.name }, cells);
  }

  setStatus(el, kind, text) {
    el.className = `status status-${kind}`;
    el.dataset.status = kind;
    el.textContent = text;
  }

  /**
   * Whether anything answers at the service's public prefix, through the proxy. A redirect
   * (to log in) or any page counts as running; the proxy's own 502/503/404 mean it is not.
   */
  async probe(prefix) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), PROBE_TIMEOUT_MS);
    try {
      const response = await fetch(prefix, { redirect: "manual", credentials: "same-origin",
        signal: controller.signal });
      if (response.type === "opaqueredirect" || response.status < 500) {
        if (response.status === 404 && response.headers.get("content-type")?.includes("html")) {
          return ["stopped", "No route (HTTP 404)"];
        }
        return ["ready", "Responding"];
      }
      return ["stopped", `Not responding (HTTP ${response.status})`];
    } catch {
      return ["stopped", "Not responding"];
    } finally {
      clearTimeout(timer);
    }
  }
}
