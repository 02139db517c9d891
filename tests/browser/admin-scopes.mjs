// Who may use the panel: a plain user gets 403 at /hub/admin; a helpdesk role with only
// admin-ui and list:users sees the list and no button it cannot use; a role limited to one
// user's servers can start and stop that user's server and nobody else's.
import { logIn, scenario } from "./lib.mjs";
import { openAdmin, row, rowNames, waitStatus } from "./admin-common.mjs";

async function visibleIds(page, selectors) {
  const out = {};
  for (const s of selectors) out[s] = await page.isVisible(s);
  return out;
}

async function signOut(page, hub, context) {
  await page.goto(`${hub}/hub/logout`);
  await context.clearCookies();
}

await scenario("admin-scopes", async ({ page, context, args, shot }) => {
  const hub = args.url;
  const found = {};
  await page.setViewportSize({ width: 1360, height: 900 });

  // A user without admin-ui.
  await logIn(page, `${hub}/hub/login`, "ann", args.password);
  const refused = await page.goto(`${hub}/hub/admin`);
  found.plainStatus = refused.status();
  found.plainNavAdmin = await page.locator('.nav-links a[href$="/hub/admin"]').count();
  await shot("plain-user-403");
  await signOut(page, hub, context);

  // admin-ui + list:users only.
  const response = await openAdmin(page, hub, "helper", args.password);
  found.helperStatus = response.status();
  found.helperRows = await rowNames(page);
  found.helperHeaders = await page.$$eval("#users-table thead th:not([hidden])",
    (ths) => ths.map((th) => th.id || th.className));
  found.helperControls = await visibleIds(page, ["#add-users", "#start-all", "#stop-all",
    "#select-page", "#tab-groups", "#tab-services", "#tab-hub"]);
  found.helperRowButtons = await page.locator("tr.user-row .actions > *").count();
  found.helperCheckboxes = await page.locator("tr.user-row input[type=checkbox]").count();
  found.helperExpand = await page.locator("tr.user-row .expand-button").count();
  await shot("helpdesk");
  await page.click("#tab-hub");
  await page.waitForSelector("#hub-info dt");
  found.helperShutdown = await page.isVisible("#shutdown-button");
  await signOut(page, hub, context);

  // Servers of ann only.
  await openAdmin(page, hub, "keeper", args.password);
  found.keeperButtons = {};
  for (const name of await rowNames(page)) {
    found.keeperButtons[name] = await row(page, name).locator(".actions > *").allInnerTexts();
  }
  await shot("keeper");
  await row(page, "ann").locator(".start-button").click();
  await waitStatus(page, "ann", "ready");
  found.keeperAnnRunning = await row(page, "ann").locator(".actions > *").allInnerTexts();
  await row(page, "ann").locator(".stop-button").click();
  await waitStatus(page, "ann", "stopped");
  return found;
});
