// The first two requests of the panel (who is signed in, and the page of users the URL names),
// started as soon as this module runs. admin.html loads it on its own, async, so that it runs
// while the other modules are still loading and the hub's answers are on their way by the
// time admin.js starts; admin.js then imports the same (already evaluated) module.
import { api, listPage } from "./api.js";
import { UrlState, readSettings, usersQuery } from "./state.js";

export const settings = readSettings();

/** Resolves to the GET /hub/api/user reply ({status, body}). */
export const whoami = api("GET", "/user");

/** {key, promise} of the first page of users, or null when the URL names another view. */
export const firstUsers = (() => {
  const state = new UrlState(settings).read();
  if (state.view !== "users") return null;
  const params = usersQuery(state);
  return { key: JSON.stringify(params), promise: listPage("/users", params) };
})();

// Whoever uses these reports their errors; until then they must not count as unhandled.
whoami.catch(() => {});
if (firstUsers) firstUsers.promise.catch(() => {});
