// A user signs in through an OAuth provider: the hub's login page, its "Sign in with ..."
// button, the provider (its login form when it shows one: inputs #login, #password, button
// #submit, as the recipe's oidc-provider has), and back through the callback to the hub's
// home page, signed in.
//
//   node oauth-login.mjs '{"url": HUB, "provider": "oidc", "user": "alice",
//                          "password": "alice-pw"}'
//   (no password: a provider without a form, such as the fake GitHub)
import { assert, scenario } from "./lib.mjs";

const { provider = "oauth" } = JSON.parse(process.argv[2] || "{}");

await scenario(`oauth-login-${provider}`, async ({ page, context, args, shot }) => {
  const hub = args.url;
  const found = {};
  // Every hop of the page's navigations, redirects included (hub, provider, callback).
  const navigations = [];
  page.on("request", (r) => {
    if (r.isNavigationRequest() && r.frame() === page.mainFrame()) navigations.push(r.url());
  });

  await page.goto(`${hub}/hub/login`);
  await shot("login-page");
  const button = page.locator('a[href*="oauth_login"]').first();
  found.buttonText = (await button.textContent()).replace(/\s+/g, " ").trim();

  const home = (u) => u.href.startsWith(`${hub}/hub/home`);
  if (args.password) {
    await button.click();
    await page.waitForSelector("#login");
    found.providerUrl = page.url();
    await shot("provider-form");
    await page.fill("#login", args.user);
    await page.fill("#password", args.password);
    await Promise.all([page.waitForURL(home), page.click("#submit")]);
  } else {
    await Promise.all([page.waitForURL(home), button.click()]);
  }
  found.homeUrl = page.url();
  found.navUser = (await page.textContent("#login_widget .user-name")).trim();
  found.jhdataUser = await page.evaluate(() => window.jhdata && window.jhdata.user);
  assert(await page.isVisible("#start"), "no start button on the home page");
  await shot("home");
  found.cookies = (await context.cookies()).map((c) => ({
    name: c.name, path: c.path, httpOnly: c.httpOnly,
  }));
  found.navigations = navigations;
  return found;
});
