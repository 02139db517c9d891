// A server that exits at start: the spawn-pending page, live, turns into the failure, says why
// once (the server's own last line included) and stops promising a redirect; loaded again
// afterwards, the page says the same. The server waits for a file before it fails, which this
// scenario writes once the page follows the progress, so that the failure comes live.
import { writeFileSync } from "node:fs";
import { assert, scenario } from "./lib.mjs";

function count(text, part) {
  return text.split(part).length - 1;
}

async function visible(page) {
  return page.evaluate(() => document.body.innerText);
}

await scenario("spawn-failed", async ({ page, args, shot }) => {
  const pub = args.url;
  const found = {};
  await page.goto(`${pub}/hub/login`);
  await page.fill("#username_input", args.user);
  await page.fill("#password_input", args.password);
  await page.click("#login_submit");
  await page.waitForURL(/\/hub\/spawn-pending\//);
  // The stream is open once it replayed the first events.
  await page.waitForFunction(() => document.querySelector("#progress-message")?.textContent);
  writeFileSync(args.trigger, "go\n");
  await page.waitForSelector("#progress-error:not(.hidden)");
  await shot("failed-live");
  let text = await visible(page);
  found.live = {
    heading: (await page.textContent("#spawn-pending h1")).trim(),
    error: await page.textContent("#progress-error"),
    lineCount: count(text, args.line),
    redirectPromised: text.includes("redirected automatically"),
    retryVisible: await page.isVisible("#retry"),
  };
  assert(found.live.lineCount >= 1, `the failure does not show the server's line:\n${text}`);

  // Loaded again once the hub cleaned up (the stop page reloads itself until then).
  await page.reload();
  await page.waitForSelector("#failed-message", { timeout: 60_000 });
  await shot("failed-page");
  text = await visible(page);
  found.reloaded = {
    heading: (await page.textContent("#not-running h1")).trim(),
    lineCount: count(text, args.line),
    redirectPromised: text.includes("redirected automatically"),
  };
  return found;
});
