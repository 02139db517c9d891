// A user signs in through the proxy, the hub starts their server, the spawn-pending page shows
// the progress, and the browser lands in the notebook server, signed in by OAuth. Then the
// home page stops the server.
import { assert, logIn, scenario } from "./lib.mjs";

await scenario("spawn", async ({ page, args, shot }) => {
  const pub = args.url;
  const found = { pages: [] };
  page.on("framenavigated", (f) => {
    if (f === page.mainFrame()) found.pages.push(new URL(f.url()).pathname);
  });
  await page.goto(`${pub}/hub/login`);
  await page.fill("#username_input", args.user);
  await page.fill("#password_input", args.password);
  await page.click("#login_submit");
  // The progress page first (the server takes a moment), then the notebook.
  await page.waitForSelector("#progress-bar");
  await shot("spawn-pending");
  await page.waitForURL(/\/user\/[^/]+\/tree/, { timeout: 90_000 });
  await page.waitForSelector("#notebook_list", { timeout: 30_000 });
  found.notebookUrl = page.url();
  found.notebookTitle = await page.title();
  await shot("notebook");

  // Back to the hub: the home page shows the running server and stops it.
  await page.goto(`${pub}/hub/home`);
  assert(await page.isVisible("#stop"), "no stop button for a running server");
  await shot("home-running");
  await page.click("#stop");
  await page.waitForFunction(() => !document.querySelector("#stop") ||
    document.querySelector("#stop").classList.contains("hidden"), null, { timeout: 60_000 });
  found.startText = (await page.textContent("#start")).trim();
  await shot("home-stopped");
  return found;
});
