// A learner follows the course link on the learning platform: the platform's page posts the
// signed LTI 1.1 launch to the hub, which signs the user in and shows the home page.
import { scenario } from "./lib.mjs";

await scenario("lti-launch", async ({ page, args, shot }) => {
  const found = {};
  const start = `${args.platform}/lti11/launch?user=${encodeURIComponent(args.user)}` +
    `&url=${encodeURIComponent(args.launch)}`;
  await page.goto(start);
  await page.waitForURL((url) => url.pathname.endsWith("/hub/home"), { timeout: 30_000 });
  found.landed = page.url();
  found.navUser = (await page.textContent("#login_widget .user-name")).trim();
  await shot("home");
  return found;
});
