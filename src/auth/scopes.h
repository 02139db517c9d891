/* JupyterHub's scopes (RBAC): the 47 scope definitions of JupyterHub 5.5 plus custom scopes,
 * expansion of raw scopes (subscopes, `self`, owner-relative filters), their parsed form (per
 * scope: everything, or sets of users, servers, groups and services), intersection with the
 * user ⊂ group and server ⊂ user hierarchies, and the checks every API handler uses. Semantics
 * follow jupyterhub/scopes.py (reference/jupyterhub.md §3). */
#pragma once

#include <ganymede/buf.h>
#include "util/vec.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum scope_id {
    SCOPE_NO_SCOPE, /* "(no_scope)" */
    SCOPE_SELF,
    SCOPE_INHERIT,
    SCOPE_ADMIN_UI,
    SCOPE_ADMIN_USERS,
    SCOPE_ADMIN_AUTH_STATE,
    SCOPE_USERS,
    SCOPE_DELETE_USERS,
    SCOPE_LIST_USERS,
    SCOPE_READ_USERS,
    SCOPE_READ_USERS_NAME,
    SCOPE_READ_USERS_GROUPS,
    SCOPE_READ_USERS_ACTIVITY,
    SCOPE_READ_ROLES,
    SCOPE_READ_ROLES_USERS,
    SCOPE_READ_ROLES_SERVICES,
    SCOPE_READ_ROLES_GROUPS,
    SCOPE_USERS_ACTIVITY,
    SCOPE_ADMIN_SERVERS,
    SCOPE_ADMIN_SERVER_STATE,
    SCOPE_SERVERS,
    SCOPE_READ_SERVERS,
    SCOPE_DELETE_SERVERS,
    SCOPE_TOKENS,
    SCOPE_READ_TOKENS,
    SCOPE_ADMIN_GROUPS,
    SCOPE_GROUPS,
    SCOPE_LIST_GROUPS,
    SCOPE_READ_GROUPS,
    SCOPE_READ_GROUPS_NAME,
    SCOPE_DELETE_GROUPS,
    SCOPE_ADMIN_SERVICES,
    SCOPE_LIST_SERVICES,
    SCOPE_READ_SERVICES,
    SCOPE_READ_SERVICES_NAME,
    SCOPE_READ_HUB,
    SCOPE_ACCESS_SERVERS,
    SCOPE_ACCESS_SERVICES,
    SCOPE_USERS_SHARES,
    SCOPE_READ_USERS_SHARES,
    SCOPE_GROUPS_SHARES,
    SCOPE_READ_GROUPS_SHARES,
    SCOPE_READ_SHARES,
    SCOPE_SHARES,
    SCOPE_PROXY,
    SCOPE_SHUTDOWN,
    SCOPE_READ_METRICS,
    SCOPE_KNOWN_MAX, /* custom scopes follow */
};

enum scope_kind {
    SCOPE_KIND_USER,
    SCOPE_KIND_SERVER, /* values are "user/server" ("user/" for the default server) */
    SCOPE_KIND_GROUP,
    SCOPE_KIND_SERVICE,
    SCOPE_KIND_MAX,
    SCOPE_KIND_NONE = SCOPE_KIND_MAX, /* an unfiltered request */
};

/** The scopes that exist: JupyterHub's and the custom ones of this configuration. */
struct scope_registry {
    size_t n;
    char **names;
    char **descriptions;
    int **subscopes; /* per scope, ids ending with -1 */
};

/** The registry with JupyterHub's scopes and @custom (JupyterHub.custom_scopes: {"custom:x":
 * {"description": ..., "subscopes": [...]}}, may be NULL). Returns 0, or -EINVAL with a message
 * (bad name, missing description, unknown subscope) or -ENOMEM. */
int scope_registry_init(struct scope_registry *reg, const json_t *custom, char *err, size_t errlen);

void scope_registry_release(struct scope_registry *reg);

/** The id of a scope name (without filter), or -1. */
int scope_lookup(const struct scope_registry *reg, const char *name);

/** Whether @scope (possibly filtered) names a scope that exists with a valid filter, as
 * JupyterHub's _check_scopes_exist. On failure @err says why ("Scope 'x' does not exist"). */
bool scope_exists(const struct scope_registry *reg, const char *scope, const char *who_for,
                  char *err, size_t errlen);

/** Name of a filter kind ("user"). */
const char *scope_kind_name(enum scope_kind kind);

/* Parsed (expanded) scopes. */

struct scope_grant {
    bool all;
    struct strset v[SCOPE_KIND_MAX];
};

struct scope_set {
    size_t n;
    struct scope_grant **g; /* NULL: not held */
    char *json;             /* cached scope_set_write_json text, dropped on any change */
};

/** An empty set for @reg. NULL when out of memory. */
struct scope_set *scope_set_new(const struct scope_registry *reg);

/** Free; accepts NULL. */
void scope_set_free(struct scope_set *s);

/** Grant scope @id on everything. */
int scope_set_add_all(struct scope_set *s, int id);

/** Grant scope @id on one resource. */
int scope_set_add(struct scope_set *s, int id, enum scope_kind kind, const char *value);

/** Add every grant of @other. */
int scope_set_merge(struct scope_set *s, const struct scope_set *other);

/** Whether scope @id is held at all (with or without filters). */
bool scope_set_holds(const struct scope_set *s, int id);

/** Whether the set is empty. */
bool scope_set_empty(const struct scope_set *s);

/* Expansion. */

enum scope_owner_kind {
    SCOPE_OWNER_NONE,
    SCOPE_OWNER_USER,
    SCOPE_OWNER_SERVICE,
};

struct scope_owner {
    enum scope_owner_kind kind;
    const char *name;
    const char *oauth_server;  /* "user/server" when the token's OAuth client is a server */
    const char *oauth_service; /* the service when the token's OAuth client is a service */
};

/** Expand raw scopes (role or token scopes) for @owner into @out, as expand_scopes: subscopes,
 * filters copied onto them (but !server not onto read:users*), !user/!service/!server replaced
 * for the owner, `self` for users. Unknown names are skipped (they were checked when stored).
 * `inherit` is left to the caller. */
int scope_expand(const struct scope_registry *reg, const char *const *raw, size_t n,
                 const struct scope_owner *owner, struct scope_set *out);

/** Expand a JSON list of raw scope strings (non-strings are skipped). */
int scope_expand_json(const struct scope_registry *reg, const json_t *raw,
                      const struct scope_owner *owner, struct scope_set *out);

/* Group membership, which checks and intersections need (user ⊂ group). */
struct scope_membership {
    /** Whether user @name is in any of @groups. */
    bool (*user_in_any)(void *ctx, const char *name, const struct strset *groups);
    void *ctx;
};

/** The intersection of two sets, resolving server ⊂ user ⊂ group both ways, as
 * _intersect_expanded_scopes with a database. NULL when out of memory. */
struct scope_set *scope_intersect(const struct scope_set *a, const struct scope_set *b,
                                  const struct scope_membership *m);

/** Does grant @g cover the resource (kind, value)? For servers @value is "user/server"; a user
 * filter covers the user's servers and a group filter its members (check_scope_filter). */
bool scope_grant_covers(const struct scope_grant *g, enum scope_kind kind, const char *value,
                        const struct scope_membership *m);

/** has_scope: is @id held for the resource (kind, value)? With SCOPE_KIND_NONE only an
 * unfiltered grant counts, unless @post_filter (then any grant does). */
bool scope_has(const struct scope_set *s, int id, enum scope_kind kind, const char *value,
               bool post_filter, const struct scope_membership *m);

/** The expanded scopes as sorted strings ("read:users!user=alice"), appended to @out (owned
 * strings; free with strset_free). */
int scope_set_strings(const struct scope_set *s, const struct scope_registry *reg,
                      struct strset *out);

/** Write the sorted expanded scopes as a JSON list (the text is cached in the set). */
int scope_set_write_json(const struct scope_set *s, const struct scope_registry *reg,
                         struct gm_buf *b);
