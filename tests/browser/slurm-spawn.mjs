// A user of a SLURM hub signs in, chooses batch options on the spawn form, and follows the
// spawn-pending page while the job waits in the queue (the node is full): the page says where
// the job stands and why. Once the page shows that, the scenario writes args.trigger and the
// test frees the node; the same page, never reloaded, then takes the user into the notebook.
import { writeFileSync } from "node:fs";
import { assert, logIn, scenario } from "./lib.mjs";

await scenario("slurm-spawn", async ({ page, args, shot }) => {
  const pub = args.url;
  const found = { pages: [] };
  page.on("framenavigated", (f) => {
    if (f === page.mainFrame()) found.pages.push(new URL(f.url()).pathname);
  });
  await logIn(page, `${pub}/hub/login`, args.user, args.password);
  if (!page.url().includes("/hub/spawn/")) await page.goto(`${pub}/hub/spawn/${args.user}`);
  await page.waitForSelector("#spawn_form #batch-nprocs");
  found.formLabels = await page.$$eval("#spawn_form label", (ls) => ls.map((l) => l.textContent.trim()));
  await page.fill("#batch-nprocs", String(args.nprocs));
  await shot("form");
  await Promise.all([page.waitForURL(/\/hub\/spawn-pending\//), page.click("#spawn_form input[type=submit]")]);

  // Queued: the message says the partition, the place and SLURM's reason in words (args.queued,
  // a regular expression: the first messages may come before the scheduler gave a reason).
  await page.waitForFunction(
    (re) => new RegExp(re).test(document.querySelector("#progress-message")?.textContent || ""),
    args.queued, { timeout: 60_000 });
  found.queued = (await page.textContent("#progress-message")).trim();
  found.redirectPromised = await page.isVisible("#progress-redirect");
  found.log = await page.textContent("#progress-log"); // what "Event log" shows
  await shot("queued");
  writeFileSync(args.trigger, "go\n");

  // The node frees up: the job runs, its server reports, the page goes on by itself.
  await page.waitForURL(new RegExp(`/user/${args.user}/`), { timeout: 100_000 });
  await page.waitForLoadState("load");
  found.serverUrl = page.url();
  await shot("server");
  assert(found.pages.filter((p) => p.includes("/hub/spawn-pending/")).length === 1,
    `the spawn-pending page was loaded more than once: ${found.pages}`);
  return found;
});
