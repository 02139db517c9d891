// A user signs in with the form, sees the home page, is refused with a wrong password, follows a
// `next` link after login, and signs out.
import { assert, logIn, scenario } from "./lib.mjs";

await scenario("login", async ({ page, context, args, shot }) => {
  const hub = args.url;
  const found = {};

  // A wrong password: the form comes back with an error and no login cookie is set.
  await logIn(page, `${hub}/hub/login`, args.user, "not-the-password");
  await shot("wrong-password");
  found.wrongPasswordError = await page.textContent(".login_error");
  found.wrongPasswordCookies = (await context.cookies()).map((c) => c.name);
  found.wrongPasswordUsername = await page.inputValue("#username_input");

  await page.goto(`${hub}/hub/login`);
  await shot("login-form");

  // The right password with ?next= to the token page: lands there, logged in.
  await logIn(page, `${hub}/hub/login?next=${encodeURIComponent("/hub/token")}`, args.user, args.password);
  found.afterLoginUrl = page.url();
  found.loginCookies = (await context.cookies()).map((c) => ({
    name: c.name, path: c.path, httpOnly: c.httpOnly, sameSite: c.sameSite,
  }));
  found.jhdataUser = await page.evaluate(() => window.jhdata && window.jhdata.user);

  // Home shows the user's name in the navigation bar and the start button.
  await page.goto(`${hub}/hub/home`);
  found.homeUrl = page.url();
  found.navUser = (await page.textContent("#login_widget .user-name")).trim();
  assert(await page.isVisible("#start"), "no start button on the home page");
  await shot("home");

  // A page that does not exist: the hub's error page, signed in.
  const missing = await page.goto(`${hub}/hub/no-such-page`);
  found.missingStatus = missing.status();
  found.missingHeading = (await page.textContent("h1")).trim();
  found.missingNavUser = (await page.textContent("#login_widget .user-name")).trim();
  await shot("error-404");

  // Visiting the login page while signed in goes on to next=, but never off the hub.
  await page.goto(`${hub}/hub/login?next=${encodeURIComponent("//evil.example/x")}`);
  found.signedInEvilNextUrl = page.url();

  // Logout clears the session; /hub/home asks for a login again.
  await page.goto(`${hub}/hub/logout`);
  found.logoutUrl = page.url();
  await shot("logout");
  await page.goto(`${hub}/hub/home`);
  found.afterLogoutUrl = page.url();

  // Signing in with an off-site next= lands on the hub instead.
  await logIn(page, `${hub}/hub/login?next=${encodeURIComponent("https://evil.example/x")}`, args.user, args.password);
  found.evilNextUrl = page.url();
  return found;
});
