// The admin panel (/hub/admin): starts the views once it knows who is signed in and what their
// scopes allow, and shows the view the URL names. Everything goes through the REST API.
import { describe } from "./admin/api.js";
import { BulkPanel } from "./admin/bulk.js";
import { byId } from "./admin/dom.js";
import { GroupsView } from "./admin/groups.js";
import { HubView } from "./admin/hub.js";
import { firstUsers, settings, whoami as whoamiReply } from "./admin/prefetch.js";
import { Permissions } from "./admin/scopes.js";
import { ServicesView } from "./admin/services.js";
import { UrlState } from "./admin/state.js";
import { UsersView } from "./admin/users.js";

const app = byId("admin-app");

/** Messages above the views: errors stay until dismissed or the failing view loads again. */
class Notices {
  constructor() {
    this.errorBox = byId("admin-error");
    this.noticeBox = byId("admin-notice");
    this.errorSource = null;
    for (const box of [this.errorBox, this.noticeBox]) {
      box.querySelector(".admin-alert-close").addEventListener("click", () => {
        box.hidden = true;
      });
    }
  }

  /** `source` names the view that failed, so that its next success clears the message. */
  error(text, source = null) {
    if (!text) return;
    this.errorBox.querySelector(".admin-alert-text").textContent = text;
    this.errorBox.hidden = false;
    this.errorSource = source;
  }

  clearError(source) {
    if (this.errorSource === source) this.errorBox.hidden = true;
  }

  info(text) {
    this.noticeBox.querySelector(".admin-alert-text").textContent = text;
    this.noticeBox.hidden = false;
  }
}

/** Says `text` to screen readers, once: polling repeats the same status every few seconds. */
function announce(text) {
  const live = byId("admin-live");
  if (live.textContent !== text) live.textContent = text;
}

async function main() {
  const notify = new Notices();
  const urlState = new UrlState(settings);
  let whoami;
  try {
    ({ body: whoami } = await whoamiReply);
  } catch (err) {
    byId("admin-loading").hidden = true;
    notify.error(describe(err, "find out who you are signed in as") +
      " Reload the page, or log in again.");
    app.removeAttribute("aria-busy");
    return;
  }
  const perms = new Permissions(whoami.scopes);
  // Whose hub this is, and the JupyterHub API version its clients see (GET /hub/api/).
  byId("hub-version-badge").textContent =
    `Ganymede ${settings.ganymede_version || ""} · JupyterHub API ${settings.server_version || ""}`;
  const context = { settings, perms, urlState, notify, announce, whoami };
  const views = {
    users: new UsersView({ ...context, bulk: new BulkPanel(), prefetch: firstUsers }),
    groups: new GroupsView(context),
    services: new ServicesView(context),
    hub: new HubView(context),
  };
  const tabs = [...app.querySelectorAll(".admin-tab")];
  byId("tab-groups").hidden = !perms.any("list:groups");
  byId("tab-services").hidden = !perms.any("list:services");
  let current = null;

  const route = () => {
    let { view } = urlState.read();
    if (byId(`tab-${view}`).hidden) view = "users";
    if (current && current !== view) {
      views[current].hide();
      byId("admin-notice").hidden = true;
    }
    for (const tab of tabs) {
      const selected = tab.dataset.view === view;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      byId(`${tab.dataset.view}-view`).hidden = !selected;
    }
    current = view;
    views[view].show();
  };

  for (const tab of tabs) {
    tab.addEventListener("click", (event) => {
      event.preventDefault();
      urlState.go({ view: tab.dataset.view, group: "" });
      route();
    });
    // Arrow keys move between tabs, as in any tab list; Tab goes on into the view.
    tab.addEventListener("keydown", (event) => {
      const shown = tabs.filter((t) => !t.hidden);
      const i = shown.indexOf(tab);
      let next = null;
      if (event.key === "ArrowRight") next = shown[(i + 1) % shown.length];
      else if (event.key === "ArrowLeft") next = shown[(i - 1 + shown.length) % shown.length];
      else if (event.key === "Home") next = shown[0];
      else if (event.key === "End") next = shown[shown.length - 1];
      if (!next) return;
      event.preventDefault();
      next.focus();
      next.click();
    });
  }
  window.addEventListener("popstate", route);
  // "/" jumps to the search box, as on many sites, unless one is typing somewhere.
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest("input, textarea, select, [contenteditable]");
    const dialogOpen = document.querySelector("dialog[open]");
    if (event.key === "/" && !typing && current === "users" && !dialogOpen) {
      event.preventDefault();
      byId("user-search").focus();
    }
  });

  byId("admin-loading").hidden = true;
  app.removeAttribute("aria-busy");
  route();
}

main().catch((err) => {
  // A bug in the panel itself: say so on the page rather than leave it half drawn.
  const box = document.getElementById("admin-error");
  if (box) {
    box.querySelector(".admin-alert-text").textContent =
      `The admin panel failed to start: ${err.message}. Reload the page to try again.`;
    box.hidden = false;
  }
  throw err;
});
