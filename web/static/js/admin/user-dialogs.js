// The dialogs that change users: add several users, edit one (rename, admin flag, delete),
// confirm deleting several, and pick a group for selected users.
import { api, describe, groupPath, listPage, userPath } from "./api.js";
import { confirmAction, runDialog } from "./dialog.js";
import { byId, h, splitNames } from "./dom.js";
import { plural } from "./format.js";

/**
 * Asks for names and creates the users; resolves to a sentence saying what happened, or null
 * when cancelled. Only admins may create admins (the hub refuses others), so the checkbox is
 * off for them.
 */
export async function addUsers(callerIsAdmin) {
  const dialog = byId("add-users-dialog");
  return runDialog(dialog, {
    init: (form) => {
      form.elements.admin.disabled = !callerIsAdmin;
    },
    submit: async (form) => {
      const names = splitNames(form.elements.usernames.value);
      if (!names.length) throw new Error("Type at least one user name.");
      const admin = form.elements.admin.checked;
      let created;
      try {
        ({ body: created } = await api("POST", "/users", { usernames: names, admin }));
      } catch (err) {
        throw new Error(describe(err, `add ${plural(names.length, "user")}`));
      }
      const madeNames = created.map((u) => u.name);
      const made = new Set(madeNames);
      // The hub skips names that exist already (and may normalize the others, e.g. lowercase).
      const existing = names.filter((n) => !made.has(n) && !made.has(n.toLowerCase()));
      const role = madeNames.length === 1 ? " as an admin" : " as admins";
      let text = `Added ${plural(madeNames.length, "user")}${admin ? role : ""}: ` +
        `${madeNames.join(", ")}.`;
      if (existing.length) text += ` Already there: ${existing.join(", ")}.`;
      return text;
    },
  });
}

/**
 * Edits a user's name and admin flag; Delete User inside asks again before deleting. Resolves
 * to {user, renamed} after a change, {deleted: true}, or null when nothing happened.
 */
export async function editUser(user, whoami) {
  const dialog = byId("edit-user-dialog");
  const deleteButton = byId("edit-user-delete");
  let wantsDelete = false;
  const onDelete = () => {
    wantsDelete = true;
    dialog.close();
  };
  const isSelf = user.name === whoami.name;
  byId("edit-user-title").textContent = `Edit User ${user.name}`;
  deleteButton.hidden = isSelf;
  deleteButton.addEventListener("click", onDelete);
  let result;
  try {
    result = await runDialog(dialog, {
      init: (form) => {
        form.elements.name.value = user.name;
        form.elements.admin.checked = Boolean(user.admin);
        // Only admins may change who is an admin (JupyterHub 5 rules); nobody demotes
        // themselves by accident here.
        form.elements.admin.disabled = !whoami.admin || isSelf;
      },
      submit: async (form) => {
        const name = form.elements.name.value.trim();
        const admin = form.elements.admin.checked;
        const patch = {};
        if (!name) throw new Error("The name cannot be empty.");
        if (name !== user.name) patch.name = name;
        if (admin !== Boolean(user.admin)) patch.admin = admin;
        if (!Object.keys(patch).length) return null;
        try {
          const { body } = await api("PATCH", userPath(user.name), patch);
          return { user: body, renamed: body.name !== user.name };
        } catch (err) {
          throw new Error(describe(err, `change user ${user.name}`));
        }
      },
    });
  } finally {
    deleteButton.removeEventListener("click", onDelete);
  }
  if (!wantsDelete) return result;
  const deleted = await confirmAction({
    title: `Delete user ${user.name}?`,
    text: `${user.name} is removed from the hub with their servers, tokens and group ` +
      `memberships. Running servers are stopped first. This cannot be undone.`,
    ok: "Delete User",
    action: async () => {
      try {
        await api("DELETE", userPath(user.name));
      } catch (err) {
        throw new Error(describe(err, `delete ${user.name}`));
      }
      return { deleted: true };
    },
  });
  return deleted;
}

/**
 * Confirms deleting the selected users; resolves to the names to delete (yourself left out:
 * the hub refuses it) or null.
 */
export async function bulkDelete(names, selfName) {
  const targets = names.filter((n) => n !== selfName);
  if (!targets.length) return null;
  const shown = targets.slice(0, 10).join(", ") + (targets.length > 10 ? ", …" : "");
  const skipped = targets.length < names.length ? " You are not deleted yourself." : "";
  const ok = await confirmAction({
    title: `Delete ${plural(targets.length, "user")}?`,
    text: `${shown} will be removed with their servers, tokens and group memberships. ` +
      `This cannot be undone.${skipped}`,
    ok: `Delete ${plural(targets.length, "user")}`,
  });
  return ok ? targets : null;
}

/**
 * Adds the users to (or removes them from) a group chosen in a dialog; resolves to a sentence
 * saying what happened, or null when cancelled.
 */
export async function pickGroup(names, add) {
  const dialog = byId("group-pick-dialog");
  const verb = add ? "Add" : "Remove";
  byId("group-pick-title").textContent = add ? "Add to group" : "Remove from group";
  byId("group-pick-text").textContent = `${verb} ${plural(names.length, "user")}: ` +
    names.slice(0, 10).join(", ") + (names.length > 10 ? ", …" : "");
  byId("group-pick-submit").textContent = verb;
  // Suggestions only; a name typed by hand works as well.
  const options = byId("group-pick-options");
  listPage("/groups", { limit: 200 }).then((page) => {
    options.replaceChildren(...page.items.map((g) => h("option", { value: g.name })));
  }).catch(() => options.replaceChildren());
  return runDialog(dialog, {
    submit: async (form) => {
      const group = form.elements.group.value.trim();
      if (!group) throw new Error("Choose a group.");
      try {
        await api(add ? "POST" : "DELETE", `${groupPath(group)}/users`, { users: names });
      } catch (err) {
        throw new Error(describe(err, `${verb.toLowerCase()} users ${add ? "to" : "from"} ` +
          `group ${group}`));
      }
      return `${add ? "Added" : "Removed"} ${plural(names.length, "user")} ${
        add ? "to" : "from"} group ${group}.`;
    },
  });
}
