// The browser half of bench/admin_page.py: logs in, then times inside the page (performance
// clock) the first page of users, a search and the Next button, each up to the start of the
// frame that draws the new rows (requestAnimationFrame after the rows are in the document).
// Prints one JSON line of milliseconds.
//
//   node bench/admin_page.mjs '{"url": "...", "user": "admin", "password": "...", "runs": 7,
//                              "search": "bench-09999"}'
import { createRequire } from "node:module";

// playwright-core is installed for the browser tests, in tests/browser/node_modules.
const require = createRequire(new URL("../tests/browser/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const args = JSON.parse(process.argv[2]);
const runs = args.runs || 7;

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v) => Math.round(v * 10) / 10;
  return { median: round(sorted[Math.floor(sorted.length / 2)]), min: round(sorted[0]),
    max: round(sorted[sorted.length - 1]), runs: values.length };
}

// Installed before the page's own scripts: the time the first page of users is drawn.
function watchFirstPage() {
  const done = () => {
    const table = document.getElementById("users-table");
    return table && !table.hasAttribute("aria-busy") && document.querySelector("tr.user-row");
  };
  const observer = new MutationObserver(() => {
    if (!done()) return;
    observer.disconnect();
    window.__firstPageDomMs = performance.now();
    requestAnimationFrame(() => {
      window.__firstPageMs = performance.now();
    });
  });
  observer.observe(document, { subtree: true, childList: true, attributes: true });
}

// In the page: runs `act`, resolves with the time until `ready()` holds and a frame is drawn.
async function timeUntil(page, act, ready, arg) {
  return page.evaluate(([actSrc, readySrc, a]) => {
    const actFn = new Function("a", actSrc);
    const readyFn = new Function("a", readySrc);
    const table = document.getElementById("users-table");
    return new Promise((resolve) => {
      const start = performance.now();
      const observer = new MutationObserver(() => {
        if (table.hasAttribute("aria-busy") || !readyFn(a)) return;
        observer.disconnect();
        requestAnimationFrame(() => resolve(performance.now() - start));
      });
      observer.observe(table, { subtree: true, childList: true, attributes: true });
      actFn(a);
    });
  }, [act, ready, arg]);
}

const SEARCH = `const input = document.getElementById("user-search");
  input.value = a; input.dispatchEvent(new Event("input", { bubbles: true }));`;
const SEARCH_DONE = `const rows = document.querySelectorAll("tr.user-row");
  return rows.length === 1 && rows[0].dataset.user === a;`;
const CLEAR_DONE = `return document.querySelectorAll("tr.user-row").length > 1;`;
const NEXT = `window.__firstRow = document.querySelector("tr.user-row").dataset.user;
  document.getElementById("paginate-next").click();`;
const NEXT_DONE = `const row = document.querySelector("tr.user-row");
  return row && row.dataset.user !== window.__firstRow;`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(`${args.url}/hub/login`);
  await page.fill("#username_input", args.user);
  await page.fill("#password_input", args.password);
  await Promise.all([page.waitForNavigation(), page.click("#login_submit")]);
  await page.addInitScript(watchFirstPage);
  const adminUrl = `${args.url}/hub/admin${args.limit ? `?limit=${args.limit}` : ""}`;

  const first = [];
  const phases = [];
  for (let i = 0; i < runs; i++) {
    await page.goto(adminUrl);
    await page.waitForFunction(() => window.__firstPageMs !== undefined);
    first.push(await page.evaluate(() => window.__firstPageMs));
    // Where the time goes: the HTML, the scripts run, the two API answers, the rows.
    phases.push(await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      const api = performance.getEntriesByType("resource").filter((r) =>
        r.name.includes("/hub/api/"));
      return { html: nav.responseEnd, scripts_done: nav.domContentLoadedEventEnd,
        api_done: Math.max(...api.map((r) => r.responseEnd)),
        rows_in_document: window.__firstPageDomMs };
    }));
  }
  const total = await page.textContent("#pagination-status");
  const rowsPerPage = await page.locator("tr.user-row").count();
  const debounce = await page.evaluate(async () => {
    const mod = await import(new URL("admin/users.js", document.querySelector(
      'script[type=module][src*="admin.js"]').src).href);
    return mod.SEARCH_DEBOUNCE_MS ?? null;
  });

  const search = [];
  for (let i = 0; i < runs; i++) {
    search.push(await timeUntil(page, SEARCH, SEARCH_DONE, args.search));
    await timeUntil(page, SEARCH, CLEAR_DONE, "");
  }
  const next = [];
  for (let i = 0; i < runs; i++) next.push(await timeUntil(page, NEXT, NEXT_DONE, null));

  const firstStats = stats(first.slice(1));
  const warmPhases = {};
  for (const key of Object.keys(phases[0])) {
    warmPhases[key] = stats(phases.slice(1).map((p) => p[key])).median;
  }
  const searchStats = stats(search);
  const out = {
    users_listed: total,
    rows_per_page: rowsPerPage,
    first_page_cold_ms: Math.round(first[0] * 10) / 10,
    first_page_warm_ms: firstStats,
    first_page_warm_phases_ms: warmPhases,
    search_ms: searchStats,
    search_debounce_ms: debounce,
    search_after_debounce_ms: debounce === null ? null
      : Math.round((searchStats.median - debounce) * 10) / 10,
    next_page_ms: stats(next),
    chromium: browser.version(),
  };
  console.log(JSON.stringify(out));
} finally {
  await browser.close();
}
