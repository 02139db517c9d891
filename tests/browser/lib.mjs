// Shared by the browser scenarios: launch Debian's chromium through playwright-core, run one
// scenario against a hub, keep a screenshot of the last page when it fails.
//
//   node tests/browser/<scenario>.mjs '{"url": "http://127.0.0.1:PORT", ...}'
//
// The scenario prints one JSON line of findings for the Python test to check, and exits 1 with
// the error (and a screenshot in $GANYMEDE_TEST_OUTPUT/browser/) when a step fails. Scenarios
// also keep a screenshot of each page they visit there (shot()), for review.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
// Bounds for a slow machine (sanitizer builds beside other jobs): a step that does not happen
// fails after these, a step that does happen is never slowed by them. The scenario's bound
// stays above its longest single wait (spawn.mjs: 90 s) and below the Python test's (240 s).
const STEP_TIMEOUT_MS = 30_000;
const SCENARIO_TIMEOUT_MS = 200_000;

export async function scenario(name, body) {
  const args = JSON.parse(process.argv[2] || "{}");
  const outDir = join(process.env.GANYMEDE_TEST_OUTPUT || ".test-output", "browser");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  // Console errors, except the browser's own note on each HTTP error status: those are
  // collected with their URLs in failedResponses, for the scenario's test to check.
  const consoleErrors = [];
  const failedResponses = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) consoleErrors.push(m.text());
  });
  page.on("response", (r) => {
    if (r.status() >= 400) failedResponses.push({ url: r.url(), status: r.status() });
  });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  const guard = setTimeout(() => {
    console.error(`${name}: scenario took longer than ${SCENARIO_TIMEOUT_MS} ms`);
    process.exit(1);
  }, SCENARIO_TIMEOUT_MS);
  let code = 0;
  try {
    // shot("step"): keep a picture of the page as the user sees it, for review.
    const shot = async (step) => {
      mkdirSync(outDir, { recursive: true });
      await page.screenshot({ path: join(outDir, `${name}-${step}.png`), fullPage: true });
    };
    const findings = await body({ page, context, args, consoleErrors, shot });
    console.log(JSON.stringify({ ...findings, consoleErrors, failedResponses }));
  } catch (err) {
    code = 1;
    console.error(`${name}: ${err.stack || err}`);
    try {
      mkdirSync(outDir, { recursive: true });
      await page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true });
      console.error(`${name}: screenshot in ${join(outDir, name + ".png")}; page ${page.url()}`);
    } catch {
      // the page may be gone; the error above is what matters
    }
  } finally {
    clearTimeout(guard);
    await browser.close();
  }
  process.exit(code);
}

/** Fill and submit the login form of the page at `url`; resolves after the next navigation. */
export async function logIn(page, url, username, password) {
  await page.goto(url);
  await page.fill("#username_input", username);
  await page.fill("#password_input", password);
  await Promise.all([page.waitForNavigation(), page.click("#login_submit")]);
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}
