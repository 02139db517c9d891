// A signed-in user requests an API token on /hub/token, the token works against the API, shows
// in the table after a reload, and is revoked from the page.
import { assert, logIn, scenario } from "./lib.mjs";

await scenario("token", async ({ page, args, shot }) => {
  const hub = args.url;
  const found = {};
  await logIn(page, `${hub}/hub/login?next=${encodeURIComponent("/hub/token")}`, args.user, args.password);
  assert(page.url().endsWith("/hub/token"), `login did not land on the token page: ${page.url()}`);

  await page.fill("#token-note", "from the browser");
  await page.fill("#token-scopes", "read:users:name!user");
  await page.click("#request-token-form button[type=submit]");
  await page.waitForSelector("#token-area", { state: "visible" });
  found.token = (await page.textContent("#token-result")).trim();
  const whoami = async () => {
    const r = await fetch(`${hub}/hub/api/user`, { headers: { Authorization: `token ${found.token}` } });
    return { status: r.status, body: await r.json() };
  };
  found.whoamiBeforeRevoke = await whoami();
  await shot("token-created");

  // A bad scope is refused with the API's message on the page, not a silent failure.
  await page.fill("#token-scopes", "no-such-scope");
  await page.click("#request-token-form button[type=submit]");
  await page.waitForSelector("#token-error:not(.hidden)");
  found.badScopeError = await page.textContent("#token-error");
  await shot("token-bad-scope");

  await page.reload();
  const rows = page.locator("#api-tokens-table .token-row", { hasText: "from the browser" });
  found.rowsBeforeRevoke = await rows.count();
  await shot("token-list");
  await rows.first().locator(".revoke-token-btn").click();
  await rows.first().waitFor({ state: "detached" });
  await page.reload();
  found.whoamiAfterRevoke = await whoami();
  found.rowsAfterRevoke = await page.locator("#api-tokens-table .token-row", { hasText: "from the browser" }).count();
  return found;
});
