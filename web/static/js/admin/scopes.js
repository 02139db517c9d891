// What the signed-in admin may do, from the expanded scopes of GET /hub/api/user, so that the
// panel only offers actions the API would allow. The API still checks every call; this only
// keeps buttons away from people who cannot use them.

export class Permissions {
  /** @param {string[]} scopes expanded scopes, e.g. "admin:users", "servers!user=alice" */
  constructor(scopes) {
    this.grants = new Map();
    for (const scope of scopes || []) {
      const bang = scope.indexOf("!");
      const base = bang < 0 ? scope : scope.slice(0, bang);
      let grant = this.grants.get(base);
      if (!grant) {
        grant = { all: false, user: new Set(), server: new Set(), group: new Set(),
          service: new Set() };
        this.grants.set(base, grant);
      }
      if (bang < 0) {
        grant.all = true;
        continue;
      }
      const filter = scope.slice(bang + 1);
      const eq = filter.indexOf("=");
      const kind = eq < 0 ? filter : filter.slice(0, eq);
      if (eq >= 0 && grant[kind]) grant[kind].add(filter.slice(eq + 1));
    }
  }

  /** Held at all, for any resource: enough to show a column or a tab. */
  any(scope) {
    return this.grants.has(scope);
  }

  /**
   * Held for someone other than `self`: every user holds scopes on themselves (the `self`
   * role), which must not make the panel offer columns and buttons for everyone.
   */
  beyond(scope, self) {
    const grant = this.grants.get(scope);
    if (!grant) return false;
    return grant.all || grant.group.size > 0 || [...grant.user].some((n) => n !== self) ||
      [...grant.server].some((s) => !s.startsWith(`${self}/`));
  }

  /** Held without a filter: needed for actions on things that do not exist yet. */
  all(scope) {
    const grant = this.grants.get(scope);
    return Boolean(grant && grant.all);
  }

  /** Held for this user (a user model with `name` and, when known, `groups`). */
  forUser(scope, user) {
    const grant = this.grants.get(scope);
    if (!grant) return false;
    if (grant.all || grant.user.has(user.name)) return true;
    return (user.groups || []).some((g) => grant.group.has(g));
  }

  /** Held for one server of a user; `!user=` and `!group=` filters cover the user's servers. */
  forServer(scope, user, serverName) {
    const grant = this.grants.get(scope);
    if (!grant) return false;
    return this.forUser(scope, user) || grant.server.has(`${user.name}/${serverName || ""}`);
  }

  forGroup(scope, groupName) {
    const grant = this.grants.get(scope);
    return Boolean(grant && (grant.all || grant.group.has(groupName)));
  }
}
