// Ten thousand users: the first page shows at once, a search finds one user among them, the
// page number and size work, and paging through every page with Next shows each user exactly
// once, in order. Timings are reported, not checked (bench/admin_page.py measures them).
import { assert, scenario } from "./lib.mjs";
import { openAdmin, rowNames, search, waitUsers } from "./admin-common.mjs";

async function nextPage(page) {
  const before = new URL(page.url()).searchParams.get("offset");
  await page.click("#paginate-next");
  await page.waitForFunction((b) => new URL(location.href).searchParams.get("offset") !== b,
    before);
  await waitUsers(page);
}

await scenario("admin-many", async ({ page, args, shot }) => {
  const hub = args.url;
  const found = { ms: {} };
  await page.setViewportSize({ width: 1360, height: 900 });
  let t = Date.now();
  await openAdmin(page, hub, "admin", args.adminPassword);
  found.ms.firstPageAfterLogin = Date.now() - t;
  found.firstRows = (await rowNames(page)).length;
  found.firstStatus = await page.textContent("#pagination-status");
  found.pageCount = await page.textContent("#page-count");
  await shot("first-page");

  t = Date.now();
  await search(page, "user-09999");
  found.ms.searchOne = Date.now() - t;
  found.searchOne = await rowNames(page);
  await search(page, "user-099");
  found.searchManyStatus = await page.textContent("#pagination-status");
  await shot("search");
  await search(page, "");

  // A page by number.
  await page.fill("#page-number", "26");
  await page.press("#page-number", "Enter");
  await page.waitForFunction(() => new URL(location.href).searchParams.get("offset") === "1250");
  await waitUsers(page);
  found.page26First = (await rowNames(page))[0];

  // Sorted by name, descending, on the server; Back undoes it.
  await page.click("#user-header .sort-button");
  await page.waitForFunction(() => new URL(location.href).searchParams.get("sort") === "name");
  await waitUsers(page);
  await page.click("#user-header .sort-button");
  await page.waitForFunction(() => new URL(location.href).searchParams.get("sort") === "-name");
  await waitUsers(page);
  found.sortDescFirst = (await rowNames(page))[0];
  found.sortDescOffset = new URL(page.url()).searchParams.get("offset");
  await page.goBack();
  await page.goBack();
  await waitUsers(page);
  found.afterBackUrl = new URL(page.url()).search;

  // Every page, 200 at a time.
  await page.goto(`${hub}/hub/admin`);
  await waitUsers(page);
  await page.selectOption("#page-size", "200");
  await page.waitForFunction(() => new URL(location.href).searchParams.get("limit") === "200");
  await waitUsers(page);
  const seen = [...await rowNames(page)];
  let pages = 1;
  t = Date.now();
  while (!(await page.isDisabled("#paginate-next"))) {
    await nextPage(page);
    seen.push(...await rowNames(page));
    pages++;
    assert(pages < 100, "paging does not end");
  }
  found.ms.perPage200 = Math.round((Date.now() - t) / Math.max(1, pages - 1));
  found.pages = pages;
  found.seenCount = seen.length;
  found.seenUnique = new Set(seen).size;
  found.seenFirst = seen.slice(0, 3);
  found.seenLast = seen.slice(-2);
  found.inOrder = seen.slice(1).every((n, i) => i === 0 || n > seen[i]);
  found.lastStatus = await page.textContent("#pagination-status");
  found.prevEnabledAtEnd = !(await page.isDisabled("#paginate-prev"));
  await shot("last-page");
  return found;
});
