// Services and the hub: the admin sees each service with its URL and whether it runs (a
// managed one by its pid, an external one by asking the proxy), the hub's versions, and shuts
// the hub down after a confirmation (Escape at the first one keeps it running).
import { scenario } from "./lib.mjs";
import { dialogClosed, openAdmin } from "./admin-common.mjs";

await scenario("admin-services-hub", async ({ page, args, shot }) => {
  const hub = args.url;
  const found = {};
  await page.setViewportSize({ width: 1360, height: 900 });
  await openAdmin(page, hub, "admin", args.adminPassword);

  await page.click("#tab-services");
  await page.waitForSelector("tr.service-row");
  await page.waitForFunction(() => ![...document.querySelectorAll(".service-status")]
    .some((td) => td.textContent === "Checking…"), null, { timeout: 30_000 });
  found.services = await page.$$eval("tr.service-row", (rows) => rows.map((r) => ({
    name: r.dataset.service,
    kind: r.children[1].textContent,
    link: r.querySelector(".service-url a") ? r.querySelector(".service-url a")
      .getAttribute("href") : null,
    status: r.querySelector(".service-status").textContent,
    state: r.querySelector(".service-status .status").dataset.status || "",
  })));
  await shot("services");

  await page.click("#tab-hub");
  await page.waitForSelector("#hub-info dt");
  found.hubInfo = await page.$$eval("#hub-info dt", (dts) =>
    Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
  found.hubUrl = new URL(page.url()).search;
  await shot("hub");

  await page.click("#shutdown-button");
  await page.waitForSelector("#confirm-dialog[open]");
  found.shutdownTitle = await page.textContent("#confirm-title");
  await shot("shutdown-confirm");
  await page.keyboard.press("Escape");
  await dialogClosed(page, "confirm-dialog");
  const health = await page.evaluate(async () => (await fetch("/hub/health")).status);
  found.healthAfterEscape = health;

  await page.click("#shutdown-button");
  found.shutdownChoices = await page.$$eval("#confirm-extra select", (selects) =>
    selects.map((s) => [s.name, [...s.options].map((o) => o.textContent)]));
  await page.selectOption("#shutdown-servers", "true");
  await page.click("#confirm-ok");
  await page.waitForFunction(() => /stopped/.test(
    document.getElementById("shutdown-status").textContent), null, { timeout: 30_000 });
  found.shutdownStatus = await page.textContent("#shutdown-status");
  await shot("shutdown-done");
  return found;
});
