// Groups: the admin creates a group (Enter in the name field), adds and removes members, sets
// its properties (invalid JSON is refused in place), finds the editor again after a reload,
// deletes another group after a confirmation, adds selected users to a group from the users
// view and removes them again, and finally deletes the group.
import { scenario } from "./lib.mjs";
import { dialogClosed, noticeText, openAdmin, row, waitUsers } from "./admin-common.mjs";

function memberNames(page) {
  return page.$$eval("#member-list li.member", (items) => items.map((i) => i.dataset.member));
}

await scenario("admin-groups", async ({ page, args, shot }) => {
  const hub = args.url;
  const found = {};
  await page.setViewportSize({ width: 1360, height: 900 });
  await openAdmin(page, hub, "admin", args.adminPassword);

  await page.click("#tab-groups");
  await page.waitForSelector("tr.group-row");
  found.groupsUrl = new URL(page.url()).search;
  found.initialGroups = await page.$$eval("tr.group-row", (rows) =>
    rows.map((r) => [r.dataset.group, r.children[1].textContent, r.children[2].textContent]));
  await shot("groups");

  // Create "physics" from the keyboard: the editor opens on it.
  await page.fill("#new-group-name", "physics");
  await page.press("#new-group-name", "Enter");
  await page.waitForSelector("#group-editor:not([hidden])");
  found.editorUrl = new URL(page.url()).search;
  found.editorTitle = await page.textContent("#group-title");

  // Members: add two (comma separated), remove one; an unknown name is refused in place.
  await page.fill("#add-members-input", "alice, bob");
  await page.press("#add-members-input", "Enter");
  await page.waitForSelector('#member-list li[data-member="bob"]');
  found.membersAdded = await memberNames(page);
  await page.click('#member-list li[data-member="bob"] .remove-member');
  await page.waitForSelector('#member-list li[data-member="bob"]', { state: "detached" });
  found.membersAfterRemove = await memberNames(page);
  await page.fill("#add-members-input", "nobody-here");
  await page.press("#add-members-input", "Enter");
  await page.waitForSelector("#group-error:not([hidden])");
  found.unknownMemberError = await page.textContent("#group-error");

  // Properties: not JSON, then a JSON object.
  await page.fill("#properties-input", "{nope");
  await page.click("#save-properties");
  await page.waitForSelector("#group-error:not([hidden])");
  found.badJsonError = await page.textContent("#group-error");
  await page.fill("#properties-input", '{"cpu_limit": 2, "image": "scipy"}');
  await page.click("#save-properties");
  await page.waitForFunction(() =>
    document.getElementById("properties-saved").textContent === "Saved.");
  found.errorHiddenAfterSave = await page.isHidden("#group-error");
  await shot("group-editor");
  await page.emulateMedia({ colorScheme: "dark" });
  await shot("group-editor-dark");
  await page.emulateMedia({ colorScheme: "light" });

  // Reload: the URL brings the same editor back, with what was saved.
  await page.reload();
  await page.waitForSelector("#group-editor:not([hidden])");
  await page.waitForSelector('#member-list li[data-member="alice"]');
  found.reloadProperties = JSON.parse(await page.inputValue("#properties-input"));
  found.reloadMembers = await memberNames(page);

  // Back to the list; delete "staff" (Escape first keeps it).
  await page.click("#back-to-groups");
  await page.waitForSelector('tr.group-row[data-group="physics"]');
  found.listAfterEdit = await page.$$eval("tr.group-row", (rows) =>
    rows.map((r) => [r.dataset.group, r.children[1].textContent]));
  await page.click('tr.group-row[data-group="staff"] .btn-danger-quiet');
  await page.waitForSelector("#confirm-dialog[open]");
  await page.keyboard.press("Escape");
  await dialogClosed(page, "confirm-dialog");
  found.staffAfterEscape = await page.isVisible('tr.group-row[data-group="staff"]');
  await page.click('tr.group-row[data-group="staff"] .btn-danger-quiet');
  found.deleteConfirmTitle = await page.textContent("#confirm-title");
  await page.click("#confirm-ok");
  await page.waitForSelector('tr.group-row[data-group="staff"]', { state: "detached" });
  found.deleteGroupNotice = await noticeText(page);

  // From the users view: add carol and bob to physics in one step, then remove bob.
  await page.click("#tab-users");
  await waitUsers(page);
  await row(page, "carol").locator(".col-select input").check();
  await row(page, "bob").locator(".col-select input").check();
  await page.click("[data-bulk=add-group]");
  await page.waitForSelector("#group-pick-dialog[open]");
  found.pickText = await page.textContent("#group-pick-text");
  await page.fill("#group-pick-name", "physics");
  await shot("bulk-add-to-group");
  await page.press("#group-pick-name", "Enter");
  await dialogClosed(page, "group-pick-dialog");
  found.addToGroupNotice = await noticeText(page);
  await page.waitForSelector('tr.user-row[data-user="carol"] .chip');
  found.carolGroups = await row(page, "carol").locator(".chip").allInnerTexts();
  await page.click("[data-bulk=clear]");
  await row(page, "bob").locator(".col-select input").check();
  await page.click("[data-bulk=remove-group]");
  await page.fill("#group-pick-name", "no-such-group");
  await page.click("#group-pick-submit");
  await page.waitForSelector("#group-pick-dialog .dialog-error:not([hidden])");
  found.pickError = await page.textContent("#group-pick-dialog .dialog-error");
  await page.fill("#group-pick-name", "physics");
  await page.click("#group-pick-submit");
  await dialogClosed(page, "group-pick-dialog");
  await page.waitForFunction(() => !document.querySelector(
    'tr.user-row[data-user="bob"] .chip'));
  found.bobGroupsAfter = await row(page, "bob").locator(".chip").count();

  // Delete physics from its editor.
  await page.goto(`${hub}/hub/admin?view=groups&group=physics`);
  await page.waitForSelector('#member-list li[data-member="carol"]');
  await page.click("#delete-group");
  await page.click("#confirm-ok");
  await page.waitForSelector("#groups-list-panel:not([hidden])");
  await page.waitForSelector("#groups-empty:not([hidden])");
  found.finalEmpty = await page.textContent("#groups-empty");
  await shot("groups-empty");
  return found;
});
