// A learner follows the course link on the learning platform: the platform starts the LTI 1.3
// launch at the hub, the hub sends the browser to the platform's authorization endpoint, the
// platform's page form_posts the signed id_token back, and the hub signs the user in and
// starts their server: the browser ends in the notebook, with no click of its own.
import { scenario } from "./lib.mjs";

await scenario("lti13-launch", async ({ page, args, shot }) => {
  const found = { pages: [] };
  page.on("framenavigated", (f) => {
    if (f === page.mainFrame()) found.pages.push(new URL(f.url()).pathname);
  });
  await page.goto(`${args.platform}/lti13/start?user=${encodeURIComponent(args.user)}`);
  await page.waitForURL(new RegExp(`/user/${args.user}/`), { timeout: 120_000 });
  await page.waitForLoadState("load");
  found.landed = page.url();
  found.title = await page.title();
  await shot("notebook");
  return found;
});
