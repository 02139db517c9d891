// Selecting every user a search matches, beyond the page: with the whole page selected the
// bulk bar offers the rest, and a bulk action then covers all of them (here: delete).
import { scenario } from "./lib.mjs";
import { openAdmin, rowNames, search, waitUsers } from "./admin-common.mjs";

await scenario("admin-select", async ({ page, args, shot }) => {
  const found = {};
  await page.setViewportSize({ width: 1360, height: 900 });
  await openAdmin(page, args.url, "admin", args.adminPassword);
  await search(page, "s-");
  found.status = await page.textContent("#pagination-status");
  found.offerBefore = await page.isVisible("#select-matching");

  await page.check("#select-page");
  await page.waitForSelector("#select-matching:not([hidden])");
  found.pageCount = await page.textContent("#bulk-count");
  found.offer = (await page.textContent("#select-matching")).trim();
  await shot("select-page");
  await page.click("#select-matching");
  await page.waitForFunction(() => document.getElementById("bulk-count").textContent
    .startsWith("130 users"));
  found.allCount = await page.textContent("#bulk-count");
  found.offerAfter = await page.isVisible("#select-matching");
  await shot("select-matching");

  await page.click("[data-bulk=delete]");
  await page.waitForSelector("#confirm-dialog[open]");
  found.confirm = await page.textContent("#confirm-title");
  await page.click("#confirm-ok");
  await page.waitForFunction(() => / — (finished|cancelled)$/.test(
    document.getElementById("bulk-progress-text").textContent), null, { timeout: 60_000 });
  found.progress = (await page.textContent("#bulk-progress-text")).trim();
  await search(page, "");
  await waitUsers(page);
  found.left = await rowNames(page);
  found.barHidden = await page.isHidden("#bulk-bar");
  return found;
});
