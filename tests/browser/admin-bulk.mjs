// Bulk actions: the admin starts the servers of selected users (one fails, and says why in its
// row and in the bulk summary), stops all running servers, then starts all servers of the
// users a search matches, a few at a time with a visible count, and stops them all again.
import { scenario } from "./lib.mjs";
import { openAdmin, row, search, waitStatus, waitUsers } from "./admin-common.mjs";

async function confirm(page) {
  await page.waitForSelector("#confirm-dialog[open]");
  const text = { title: await page.textContent("#confirm-title"),
    text: await page.textContent("#confirm-text"), ok: await page.textContent("#confirm-ok") };
  await page.click("#confirm-ok");
  return text;
}

// The panel keeps the last result until dismissed, and a new action may gather its list
// before it resets the panel: dismiss first, so that a finished panel is the new one.
async function dismiss(page) {
  if (await page.isVisible("#bulk-dismiss")) await page.click("#bulk-dismiss");
  await page.waitForSelector("#bulk-status", { state: "hidden" });
}

async function bulkFinished(page) {
  await page.waitForSelector("#bulk-status:not([hidden]) #bulk-dismiss:not([hidden])",
    { timeout: 60_000 });
  return (await page.textContent("#bulk-progress-text")).trim();
}

await scenario("admin-bulk", async ({ page, args, shot }) => {
  const hub = args.url;
  const found = {};
  await page.setViewportSize({ width: 1360, height: 1000 });
  await openAdmin(page, hub, "admin", args.adminPassword);

  // Selected users: alice, bob and broken; broken's server cannot start.
  for (const name of ["alice", "bob", "broken"]) {
    await row(page, name).locator(".col-select input").check();
  }
  await page.click("[data-bulk=start]");
  found.selectedStart = await bulkFinished(page);
  found.selectedFailures = await page.locator("#bulk-failures li").allInnerTexts();
  await waitStatus(page, "alice", "ready");
  await waitStatus(page, "bob", "ready");
  found.brokenRowError = await page.innerText('tr.row-error-row[data-user="broken"] span');
  await shot("bulk-start");
  await page.click("[data-bulk=clear]");

  // Stop All: every running server, after a confirmation that says how many.
  await dismiss(page);
  await page.click("#stop-all");
  found.stopAllConfirm = await confirm(page);
  found.stopAll = await bulkFinished(page);
  await waitStatus(page, "alice", "stopped");
  await waitStatus(page, "bob", "stopped");

  // Start All for the users matching "user-", cancelled at once: the servers already asked
  // for start, the others do not. They are stopped, then all started again below.
  await search(page, "user-");
  await dismiss(page);
  await page.click("#start-all");
  await confirm(page);
  await page.click("#bulk-cancel");
  found.cancelled = await bulkFinished(page);
  found.cancelledStarted = await page.evaluate(async () => {
    const r = await fetch("/hub/api/users?state=active&name_filter=user-", {
      credentials: "same-origin", headers: { "X-XSRFToken": window.jhdata.xsrf_token } });
    return (await r.json()).length;
  });
  await dismiss(page);
  await page.click("#stop-all");
  await confirm(page);
  await bulkFinished(page);

  // Start All for the users matching "user-", to the end: twelve servers, four at a time. The
  // page's own script watches how many start at once.
  await search(page, "user-");
  await page.evaluate(() => {
    window.maxStarting = 0;
    window.watch = setInterval(async () => {
      const r = await fetch("/hub/api/users?state=active", {
        credentials: "same-origin", headers: { "X-XSRFToken": window.jhdata.xsrf_token } });
      const users = await r.json();
      const starting = users.filter((u) => Object.values(u.servers || {}).some(
        (s) => s.pending === "spawn")).length;
      window.maxStarting = Math.max(window.maxStarting, starting);
    }, 150);
  });
  await dismiss(page);
  await page.click("#start-all");
  found.startAllConfirm = await confirm(page);
  await page.waitForSelector("#bulk-status:not([hidden])");
  found.startAllFirstCount = (await page.textContent("#bulk-progress-text")).trim();
  await page.waitForFunction(() => /^[1-9]\d* of 12 done$/.test(
    document.getElementById("bulk-progress-text").textContent), null, { timeout: 30_000 });
  await shot("start-all-running");
  found.startAll = await bulkFinished(page);
  found.maxStarting = await page.evaluate(() => {
    clearInterval(window.watch);
    return window.maxStarting;
  });
  await waitUsers(page);
  found.readyAfterStartAll = await page.locator(
    "tr.user-row [data-testid=user-row-server] [data-status=ready]").count();
  await shot("start-all-done");

  await dismiss(page);
  await page.click("#stop-all");
  found.stopAllMatching = await confirm(page);
  found.stopAll2 = await bulkFinished(page);
  return found;
});
