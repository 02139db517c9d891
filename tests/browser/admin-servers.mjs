// The admin starts a user's server from the panel and sees it starting (the button disabled,
// the progress), then running; opens it through the proxy; stops it; starts, stops and
// deletes a named server in the user's expanded row; opens the spawn page with the options
// form for another user; and sees in the row why a server failed to start.
import { scenario } from "./lib.mjs";
import { openAdmin, row, waitStatus, waitUsers } from "./admin-common.mjs";

await scenario("admin-servers", async ({ page, args, shot }) => {
  const hub = args.url;
  const found = {};
  await page.setViewportSize({ width: 1360, height: 900 });
  await openAdmin(page, hub, "admin", args.adminPassword);

  // Start alice's server: the row says it is starting, then running.
  await row(page, "alice").locator(".start-button").click();
  await waitStatus(page, "alice", "spawn", 5000);
  found.pendingButton = await row(page, "alice").locator("[data-control=pending]").evaluate(
    (b) => ({ text: b.textContent, disabled: b.disabled }));
  found.pendingStatus = await row(page, "alice").locator("[data-testid=user-row-server]")
    .innerText();
  await shot("starting");
  await waitStatus(page, "alice", "ready");
  found.readyStatus = await row(page, "alice").locator("[data-testid=user-row-server]")
    .innerText();
  found.readyButtons = await row(page, "alice").locator(".actions > *").allInnerTexts();
  await shot("running");

  // Access Server opens it through the proxy (the fake server answers with its user).
  const accessHref = await row(page, "alice").locator(".access-button").getAttribute("href");
  await Promise.all([page.waitForNavigation(), row(page, "alice").locator(".access-button")
    .click()]);
  found.accessUrl = page.url();
  found.accessBody = JSON.parse(await page.innerText("body"));
  found.accessHref = accessHref;
  await page.goBack();
  await waitUsers(page);

  // Stop it.
  await row(page, "alice").locator(".stop-button").click();
  await waitStatus(page, "alice", "stopped");
  found.stoppedButtons = await row(page, "alice").locator(".actions > *").allInnerTexts();

  // Named servers: expand alice, start "gpu" from the form, stop it, delete it.
  const expand = row(page, "alice").locator(".expand-button");
  await expand.click();
  found.expanded = await expand.getAttribute("aria-expanded");
  const details = page.locator('tr.server-details[data-user="alice"]');
  await details.locator("input[name=server_name]").fill("gpu");
  await details.locator("input[name=server_name]").press("Enter");
  await page.waitForSelector('tr.server-details[data-user="alice"] tr[data-server="gpu"] ' +
    "[data-status=ready]", { timeout: 30_000 });
  found.namedSummary = await row(page, "alice").locator(".named-summary").innerText();
  found.detailServers = await details.locator("tbody tr").evaluateAll(
    (rows) => rows.map((r) => [r.dataset.server, r.querySelector(".status").textContent]));
  await shot("named-servers");
  await page.emulateMedia({ colorScheme: "dark" });
  await shot("named-servers-dark");
  await page.emulateMedia({ colorScheme: "light" });
  await details.locator('tr[data-server="gpu"] .stop-button').click();
  await page.waitForSelector('tr.server-details[data-user="alice"] tr[data-server="gpu"] ' +
    "[data-status=stopped]", { timeout: 30_000 });
  await details.locator('tr[data-server="gpu"] .delete-server').click();
  await page.waitForSelector('tr.server-details[data-user="alice"] tr[data-server="gpu"]',
    { state: "detached" });
  found.afterDelete = await details.locator("tbody tr").evaluateAll(
    (rows) => rows.map((r) => r.dataset.server));

  // The spawn page for bob, with the options form, as the admin.
  await Promise.all([page.waitForNavigation(), row(page, "bob").locator(".spawn-page-button")
    .click()]);
  found.spawnPageUrl = page.url();
  found.spawnHeading = (await page.textContent("#spawn-page h1")).trim();
  found.spawnHasOptions = await page.isVisible("#spawn_form select[name=flavor]");
  await shot("spawn-page");
  await page.goBack();
  await waitUsers(page);

  // A server that fails to start: the reason shows in its row.
  await row(page, "broken").locator(".start-button").click();
  await page.waitForSelector('tr.row-error-row[data-user="broken"] .row-error',
    { timeout: 30_000 });
  found.failure = await page.innerText('tr.row-error-row[data-user="broken"] .row-error span');
  // The reason may come from the progress stream while the row still shows the start (the
  // page reloads the users after it): read the status once it no longer says pending.
  await page.waitForFunction(() => {
    const badge = document.querySelector('tr.user-row[data-user="broken"] [data-status]');
    return badge && !["spawn", "stop"].includes(badge.dataset.status);
  }, null, { timeout: 30_000 });
  found.failureStatus = await row(page, "broken").locator("[data-status]").getAttribute(
    "data-status");
  await shot("start-failed");
  return found;
});
