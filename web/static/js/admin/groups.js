// The groups view: the list of groups (paged by the hub), creating and deleting groups, and
// one group's editor (members and JSON properties) at ?view=groups&group=<name>.
import { api, describe, groupPath, listPage } from "./api.js";
import { confirmAction } from "./dialog.js";
import { byId, h, splitNames } from "./dom.js";
import { count, plural } from "./format.js";

const MEMBERS_SHOWN = 500;
const GROUPS_PER_PAGE = 50;

export class GroupsView {
  constructor({ perms, urlState, notify, announce }) {
    this.perms = perms;
    this.urlState = urlState;
    this.notify = notify;
    this.announce = announce;
    this.group = null;
    this.controller = null;
    this.wire();
  }

  wire() {
    const form = byId("create-group-form");
    form.hidden = !this.perms.all("admin:groups");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
    byId("groups-prev").addEventListener("click", () => this.goPage(-1));
    byId("groups-next").addEventListener("click", () => this.goPage(1));
    byId("back-to-groups").addEventListener("click", (event) => {
      event.preventDefault();
      this.urlState.go({ group: "" });
      this.show();
    });
    byId("add-members-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.changeMembers(splitNames(byId("add-members-input").value), true);
    });
    byId("member-filter").addEventListener("input", () => this.renderMembers());
    byId("properties-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.saveProperties();
    });
    byId("properties-input").addEventListener("input", () => {
      byId("properties-saved").textContent = "";
    });
    byId("delete-group").addEventListener("click", () => this.remove(this.group.name));
  }

  show() {
    const { group } = this.urlState.read();
    byId("groups-list-panel").hidden = Boolean(group);
    byId("group-editor").hidden = !group;
    if (group) this.openGroup(group);
    else this.loadList();
  }

  hide() {}

  goPage(direction) {
    const offset = Math.max(0, this.urlState.read().group_offset + direction * GROUPS_PER_PAGE);
    this.urlState.go({ group_offset: offset });
    this.loadList();
  }

  /* The list. */

  async loadList() {
    if (!this.perms.any("list:groups")) {
      byId("groups-body").replaceChildren();
      byId("groups-empty").textContent = "Your roles do not include list:groups.";
      byId("groups-empty").hidden = false;
      return;
    }
    if (this.controller) this.controller.abort();
    const controller = new AbortController();
    this.controller = controller;
    const offset = this.urlState.read().group_offset;
    try {
      const page = await listPage("/groups", { offset, limit: GROUPS_PER_PAGE },
        controller.signal);
      if (controller !== this.controller) return;
      this.notify.clearError("groups");
      this.renderList(page, offset);
    } catch (err) {
      if (err.name !== "AbortError") this.notify.error(describe(err, "list the groups"), "groups");
    } finally {
      if (controller === this.controller) this.controller = null;
    }
  }

  renderList(page, offset) {
    const rows = page.items.map((group) => {
      const users = group.users || [];
      const props = group.properties ? Object.keys(group.properties) : [];
      const actions = [];
      if (this.perms.forGroup("read:groups", group.name)) {
        actions.push(h("a", { class: "btn btn-sm edit-group", href: this.urlState.search({
          ...this.urlState.read(), view: "groups", group: group.name }),
        "aria-label": `Edit group ${group.name}`, text: "Edit",
        onclick: (event) => {
          event.preventDefault();
          this.urlState.go({ group: group.name });
          this.show();
        } }));
      }
      if (this.perms.forGroup("delete:groups", group.name)) {
        actions.push(h("button", { type: "button", class: "btn btn-sm btn-danger-quiet",
          "aria-label": `Delete group ${group.name}`, text: "Delete",
          onclick: () => this.remove(group.name) }));
      }
      return h("tr", { class: "group-row", "data-group": group.name },
        h("th", { scope: "row", class: "group-name", text: group.name }),
        h("td", { text: group.users ? count(users.length) : "—" }),
        h("td", { class: "props-preview" }, props.length
          ? props.slice(0, 4).map((k) => h("span", { class: "chip", text: k }))
          : h("span", { class: "muted-inline", text: group.properties ? "none" : "—" })),
        h("td", { class: "actions" }, actions));
    });
    byId("groups-body").replaceChildren(...rows);
    byId("groups-empty").hidden = rows.length > 0;
    const total = page.total ?? page.items.length;
    const status = page.items.length
      ? `Displaying ${count(offset + 1)}–${count(offset + page.items.length)} of ` +
        `${plural(total, "group")}`
      : "";
    byId("groups-pagination-status").textContent = status;
    byId("groups-prev").disabled = offset === 0;
    byId("groups-next").disabled = !page.next;
    if (status) this.announce(status);
  }

  async create() {
    const input = byId("new-group-name");
    const errorBox = byId("create-group-error");
    const name = input.value.trim();
    errorBox.hidden = true;
    if (!name) return;
    try {
      await api("POST", groupPath(name));
      input.value = "";
      this.notify.info(`Created group ${name}.`);
      this.urlState.go({ group: name });
      this.show();
    } catch (err) {
      errorBox.textContent = describe(err, `create group ${name}`);
      errorBox.hidden = false;
      input.focus();
    }
  }

  async remove(name) {
    const deleted = await confirmAction({
      title: `Delete group ${name}?`,
      text: `The group and its properties are removed; its members stay on the hub but lose ` +
        `what the group gave them. This cannot be undone.`,
      ok: "Delete Group",
      action: async () => {
        try {
          await api("DELETE", groupPath(name));
        } catch (err) {
          throw new Error(describe(err, `delete group ${name}`));
        }
        return true;
      },
    });
    if (!deleted) return;
    this.notify.info(`Deleted group ${name}.`);
    this.urlState.go({ group: "" });
    this.show();
  }

  /* One group. */

  async openGroup(name) {
    byId("group-title").textContent = `Group ${name}`;
    this.setError("");
    try {
      const { body } = await api("GET", groupPath(name));
      this.group = body;
      this.renderGroup();
    } catch (err) {
      this.group = { name, users: [], properties: {} };
      this.renderGroup();
      this.setError(describe(err, `load group ${name}`));
    }
  }

  setError(text) {
    const box = byId("group-error");
    box.textContent = text;
    box.hidden = !text;
  }

  renderGroup() {
    const g = this.group;
    const canMembers = this.perms.forGroup("groups", g.name);
    byId("add-members-form").hidden = !canMembers;
    byId("properties-input").readOnly = !canMembers;
    byId("save-properties").hidden = !canMembers;
    byId("delete-group").hidden = !this.perms.forGroup("delete:groups", g.name);
    byId("properties-input").value = JSON.stringify(g.properties || {}, null, 2);
    byId("properties-saved").textContent = "";
    this.renderMembers();
  }

  renderMembers() {
    const g = this.group;
    const canMembers = this.perms.forGroup("groups", g.name);
    const filter = byId("member-filter").value.trim().toLowerCase();
    const members = (g.users || []).filter((n) => !filter || n.toLowerCase().includes(filter));
    byId("member-count").textContent = count((g.users || []).length);
    byId("member-list").replaceChildren(...members.slice(0, MEMBERS_SHOWN).map((name) =>
      h("li", { class: "member", "data-member": name },
        h("span", { text: name }),
        canMembers ? h("button", { type: "button", class: "btn btn-sm btn-link remove-member",
          "aria-label": `Remove ${name} from ${g.name}`, text: "Remove",
          onclick: () => this.changeMembers([name], false) }) : null)));
    const more = byId("member-more");
    more.hidden = members.length <= MEMBERS_SHOWN;
    more.textContent = `and ${count(members.length - MEMBERS_SHOWN)} more; filter to find them.`;
    if (!members.length) {
      byId("member-list").append(h("li", { class: "muted-inline",
        text: filter ? "No member matches." : "No members yet." }));
    }
  }

  async changeMembers(names, add) {
    if (!names.length) return;
    const g = this.group;
    this.setError("");
    try {
      const { body } = await api(add ? "POST" : "DELETE", `${groupPath(g.name)}/users`,
        { users: names });
      this.group = body;
      if (add) byId("add-members-input").value = "";
      this.renderMembers();
      this.announce(`${add ? "Added" : "Removed"} ${names.join(", ")}.`);
    } catch (err) {
      this.setError(describe(err, `${add ? "add" : "remove"} ${names.join(", ")} ${
        add ? "to" : "from"} group ${g.name}`));
    }
  }

  async saveProperties() {
    const g = this.group;
    const text = byId("properties-input").value;
    let properties;
    try {
      properties = JSON.parse(text || "{}");
    } catch (err) {
      this.setError(`The properties are not valid JSON: ${err.message}. Nothing was saved.`);
      byId("properties-input").focus();
      return;
    }
    if (!properties || typeof properties !== "object" || Array.isArray(properties)) {
      this.setError("The properties must be a JSON object, like {\"key\": \"value\"}. " +
        "Nothing was saved.");
      return;
    }
    this.setError("");
    try {
      const { body } = await api("PUT", `${groupPath(g.name)}/properties`, properties);
      this.group = body;
      byId("properties-input").value = JSON.stringify(body.properties || {}, null, 2);
      byId("properties-saved").textContent = "Saved.";
    } catch (err) {
      this.setError(describe(err, `save the properties of group ${g.name}`));
    }
  }
}
