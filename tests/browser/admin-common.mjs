// Steps shared by the admin panel scenarios (admin-*.mjs).
import { logIn } from "./lib.mjs";

/** Signs in and opens /hub/admin (with `query`), resolved once the first page of users shows. */
export async function openAdmin(page, hub, user, password, query = "") {
  await logIn(page, `${hub}/hub/login`, user, password);
  const response = await page.goto(`${hub}/hub/admin${query}`);
  await waitUsers(page);
  return response;
}

/** Waits until the users table has finished loading. */
export async function waitUsers(page) {
  await page.waitForSelector("#users-view:not([hidden])");
  await page.waitForFunction(() => {
    const table = document.getElementById("users-table");
    return table && !table.hasAttribute("aria-busy") &&
      (document.querySelector("tr.user-row") || !document.getElementById("users-empty").hidden);
  });
}

export function row(page, name) {
  return page.locator(`tr.user-row[data-user="${name}"]`);
}

/** The names in the users table, top to bottom. */
export function rowNames(page) {
  return page.$$eval("tr.user-row", (rows) => rows.map((r) => r.dataset.user));
}

/** Waits until a user's default server shows `status` (ready, spawn, stop, stopped). */
export async function waitStatus(page, name, status, timeout = 30_000) {
  await page.waitForSelector(
    `tr.user-row[data-user="${name}"] [data-testid=user-row-server] [data-status=${status}]`,
    { timeout });
}

/** Text of the visible notice (success) above the views. */
export async function noticeText(page) {
  await page.waitForSelector("#admin-notice:not([hidden])");
  return (await page.textContent("#admin-notice .admin-alert-text")).trim();
}

/** Types into the search box and waits for the table to show the result. */
export async function search(page, text) {
  await page.fill("#user-search", text);
  await page.waitForFunction(
    (t) => (new URLSearchParams(location.search).get("name_filter") || "") === t, text);
  await waitUsers(page);
}

/** Waits until the dialog with this id is closed. */
export async function dialogClosed(page, id) {
  await page.waitForSelector(`#${id}[open]`, { state: "detached" });
}
