// The admin manages users in the panel: adds several at once (and sees the hub's refusal of
// names that exist), searches, sorts and filters with the state kept in the URL (reload and
// Back), renames a user and makes them admin, deletes one after a confirmation (Escape first
// cancels), and deletes two selected users in bulk. Mostly from the keyboard.
import { scenario } from "./lib.mjs";
import { dialogClosed, noticeText, openAdmin, row, rowNames, search, waitUsers }
  from "./admin-common.mjs";

await scenario("admin-users", async ({ page, args, shot }) => {
  const hub = args.url;
  const found = {};
  await page.setViewportSize({ width: 1360, height: 900 });
  await openAdmin(page, hub, "admin", args.adminPassword);
  found.initialRows = await rowNames(page);
  found.title = await page.title();
  // Whose product this is: Ganymede's version beside the JupyterHub API it serves, and the
  // logo in the navigation bar (loaded, so /hub/logo served an image the browser can draw).
  found.versionBadge = await page.textContent("#hub-version-badge");
  found.logo = await page.$eval("#jupyterhub-logo img.jpy-logo", (img) => ({
    alt: img.alt, loaded: img.complete && img.naturalWidth > 0,
    src: new URL(img.src).pathname }));
  await shot("users");

  // Tab order from the search box: the filter (one stop for the radio group), the actions,
  // the table's header controls, then the first row.
  await page.focus("#user-search");
  found.tabOrder = [];
  for (let i = 0; i < 9; i++) {
    await page.keyboard.press("Tab");
    found.tabOrder.push(await page.evaluate(() => {
      const el = document.activeElement;
      const row = el.closest("[data-user]");
      return el.id || (row ? `${row.dataset.user}:${el.dataset.control}` : el.className);
    }));
  }

  // Add four users from the keyboard: the dialog opens on the names field, Ctrl+Enter adds.
  await page.focus("#add-users");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#add-users-dialog[open]");
  found.addFocus = await page.evaluate(() => document.activeElement.id);
  await page.keyboard.type("ann bob\ncarol, dave");
  await shot("add-users-dialog");
  await page.keyboard.press("Control+Enter");
  await dialogClosed(page, "add-users-dialog");
  found.addNotice = await noticeText(page);
  await page.waitForSelector('tr.user-row[data-user="dave"]');
  found.afterAdd = await rowNames(page);
  found.focusAfterAdd = await page.evaluate(() => document.activeElement.id);

  // One more, as admin, with a name that exists: the new one is added, the other reported.
  await page.click("#add-users");
  await page.fill("#add-users-names", "ann\neve");
  await page.check("#add-users-admin");
  await page.click("#add-users-submit");
  await dialogClosed(page, "add-users-dialog");
  await page.waitForSelector('tr.user-row[data-user="eve"] .admin-flag');
  found.addAdminNotice = await noticeText(page);

  // Only existing names: the hub's 409 shows inside the dialog, which stays open; Escape
  // closes it.
  await page.click("#add-users");
  await page.fill("#add-users-names", "ann");
  await page.keyboard.press("Control+Enter");
  await page.waitForSelector("#add-users-dialog .dialog-error:not([hidden])");
  found.addExistingError = await page.textContent("#add-users-dialog .dialog-error");
  await shot("add-users-error");
  await page.keyboard.press("Escape");
  await dialogClosed(page, "add-users-dialog");

  // Search: "/" jumps to the box; the result and the URL follow the typing.
  await page.click("h1");
  await page.keyboard.press("/");
  found.slashFocus = await page.evaluate(() => document.activeElement.id);
  await search(page, "car");
  found.searchRows = await rowNames(page);
  found.searchUrl = new URL(page.url()).search;
  found.searchStatus = await page.textContent("#pagination-status");
  await shot("search");
  await page.reload();
  await waitUsers(page);
  found.reloadSearchValue = await page.inputValue("#user-search");
  found.reloadRows = await rowNames(page);
  await page.goBack();
  await waitUsers(page);
  found.backUrl = new URL(page.url()).search;
  found.backRows = await rowNames(page);

  // Sort by name, both ways, from the column header.
  await page.click("#user-header .sort-button");
  await page.waitForFunction(() =>
    document.getElementById("user-header").getAttribute("aria-sort") === "ascending");
  await waitUsers(page);
  found.sortAsc = await rowNames(page);
  await page.click("#user-header .sort-button");
  await page.waitForFunction(() =>
    document.getElementById("user-header").getAttribute("aria-sort") === "descending");
  await waitUsers(page);
  found.sortDesc = await rowNames(page);
  found.sortUrl = new URL(page.url()).search;
  await page.click("#last-activity-header .sort-button");
  await page.waitForFunction(() => new URL(location.href).searchParams.get("sort") ===
    "-last_activity");
  await waitUsers(page);
  found.sortActivity = await rowNames(page);
  found.sortActivityAria = await page.getAttribute("#last-activity-header", "aria-sort");

  // State filter: nobody has a server running.
  await page.click("label[for=state-active]");
  await page.waitForFunction(() => new URL(location.href).searchParams.get("state") === "active");
  await waitUsers(page);
  found.activeRows = await rowNames(page);
  found.activeEmpty = await page.textContent("#users-empty");
  await shot("filter-active-empty");
  await page.click("label[for=state-all]");
  await page.waitForFunction(() => !new URL(location.href).searchParams.has("state"));
  await waitUsers(page);

  // Edit bob: rename and make admin; Enter in the name field applies.
  await row(page, "bob").locator(".edit-user").click();
  await page.waitForSelector("#edit-user-dialog[open]");
  await shot("edit-user");
  await page.emulateMedia({ colorScheme: "dark" });
  await shot("edit-user-dark");
  await page.emulateMedia({ colorScheme: "light" });
  await page.fill("#edit-user-name", "bobby");
  await page.check("#edit-user-admin");
  await page.focus("#edit-user-name");
  await page.keyboard.press("Enter");
  await dialogClosed(page, "edit-user-dialog");
  found.renameNotice = await noticeText(page);
  await page.waitForSelector('tr.user-row[data-user="bobby"] .admin-flag');
  found.afterRename = await rowNames(page);

  // Renaming carol to a name that exists: the hub's error, in the dialog.
  await row(page, "carol").locator(".edit-user").click();
  await page.fill("#edit-user-name", "ann");
  await page.click("#edit-user-apply");
  await page.waitForSelector("#edit-user-dialog .dialog-error:not([hidden])");
  found.renameError = await page.textContent("#edit-user-dialog .dialog-error");
  await page.click("#edit-user-dialog [data-close]");
  await dialogClosed(page, "edit-user-dialog");

  // Delete dave: Escape at the confirmation keeps him; the second time he goes.
  await row(page, "dave").locator(".edit-user").click();
  await page.click("#edit-user-delete");
  await page.waitForSelector("#confirm-dialog[open]");
  found.confirmText = await page.textContent("#confirm-text");
  found.confirmFocus = await page.evaluate(() => document.activeElement.id);
  await shot("confirm-delete");
  // Cancelling sends nothing: no DELETE leaves the page, and the hub's own list (reloaded,
  // not the page's memory of it) still has dave.
  const deletes = [];
  const onRequest = (req) => { if (req.method() === "DELETE") deletes.push(req.url()); };
  page.on("request", onRequest);
  await page.keyboard.press("Escape");
  await dialogClosed(page, "confirm-dialog");
  await page.reload();
  await waitUsers(page);
  page.off("request", onRequest);
  found.deletesOnCancel = deletes;
  found.afterCancel = await rowNames(page);
  await row(page, "dave").locator(".edit-user").click();
  await page.click("#edit-user-delete");
  await page.click("#confirm-ok");
  await page.waitForSelector('tr.user-row[data-user="dave"]', { state: "detached" });
  found.deleteNotice = await noticeText(page);

  // Bulk: select ann and eve, delete them.
  await row(page, "ann").locator(".col-select input").check();
  await row(page, "eve").locator(".col-select input").check();
  found.bulkCount = await page.textContent("#bulk-count");
  await shot("bulk-selected");
  await page.click("[data-bulk=delete]");
  await page.waitForSelector("#confirm-dialog[open]");
  found.bulkConfirm = await page.textContent("#confirm-title");
  await page.click("#confirm-ok");
  await page.waitForSelector("#bulk-dismiss:not([hidden])");
  found.bulkProgress = await page.textContent("#bulk-progress-text");
  await waitUsers(page);
  found.afterBulk = await rowNames(page);
  found.bulkBarHidden = await page.isHidden("#bulk-bar");
  await shot("bulk-deleted");

  await page.emulateMedia({ colorScheme: "dark" });
  await shot("users-dark");
  return found;
});
