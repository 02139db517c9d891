// How times, counts and server states read on the page.

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const number = new Intl.NumberFormat();

const UNITS = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/** "3 minutes ago", "yesterday", "just now"; relative to `now` (the browser's clock). */
export function timeSince(iso, now = Date.now()) {
  if (!iso) return "Never";
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return String(iso);
  const seconds = Math.round((now - then) / 1000);
  // Clocks of the hub and the browser differ a little; a timestamp slightly in the future
  // is "just now", not "in 2 seconds".
  if (Math.abs(seconds) < 45) return "just now";
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relative.format(-Math.round(seconds / size), unit);
  }
  return relative.format(-Math.round(seconds / 60), "minute");
}

/** The full local date and time, for tooltips. */
export function fullTime(iso) {
  if (!iso) return "";
  const then = Date.parse(iso);
  return Number.isNaN(then) ? String(iso) : absolute.format(then);
}

export function count(n) {
  return number.format(n);
}

/** "1 user", "2,000 users". */
export function plural(n, one, many = `${one}s`) {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** The label of a server in sentences: "alice's server" or "alice's server “gpu”". */
export function serverLabel(userName, serverName) {
  return serverName ? `${userName}'s server “${serverName}”` : `${userName}'s server`;
}

/**
 * What a server is doing, from its model: {kind, text}. `kind` is one of ready, spawn, stop,
 * stopped (the CSS class of the badge); `text` what the badge says.
 */
export function serverStatus(server) {
  if (!server) return { kind: "stopped", text: "Stopped" };
  if (server.pending === "spawn") return { kind: "spawn", text: "Starting…" };
  if (server.pending === "stop") return { kind: "stop", text: "Stopping…" };
  if (server.pending) return { kind: "spawn", text: `${server.pending}…` };
  if (server.ready) return { kind: "ready", text: "Running" };
  return { kind: "stopped", text: "Stopped" };
}
