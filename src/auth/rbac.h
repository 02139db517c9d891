/* Roles and permissions: the default roles, JupyterHub.load_roles applied at start, default
 * role assignment, and the effective scopes of users, services and tokens (JupyterHub's
 * roles.py and scopes.get_scopes_for). Effective scopes are computed once and cached on the
 * object until something that affects permissions changes (store->rbac_gen). */
#pragma once

#include "auth/scopes.h"
#include "core/store.h"

#include <jansson.h>
#include <stddef.h>

/** The effective (expanded) scopes of a user: the roles of the user and of their groups.
 * Borrowed; valid until the next permission change. NULL only when out of memory. */
const struct scope_set *rbac_user_scopes(struct hub_store *s, struct hub_user *u);

/** The same for a service. */
const struct scope_set *rbac_service_scopes(struct hub_store *s, struct hub_service *svc);

/** The effective scopes of a token: its scopes (expanded for its owner and OAuth client, plus
 * access and identify scopes) intersected with its owner's current scopes; the owner's scopes
 * for `inherit`. Borrowed. */
const struct scope_set *rbac_token_scopes(struct hub_store *s, struct hub_token *t);

/** Grant the `user` role (users), and the `admin` role when admin (stripped otherwise). */
int rbac_assign_default_roles(struct hub_store *s, struct hub_user *u, struct hub_service *svc);

/** Check that raw token scopes exist and are held by the owner (-EINVAL with JupyterHub's
 * message, e.g. "Not assigning requested scopes read:users not held by User alice"). */
int rbac_check_token_scopes(struct hub_store *s, struct hub_user *u, struct hub_service *svc,
                            const json_t *raw, char *err, size_t errlen);

/** Raw scopes of the named roles (a new JSON list), or -EINVAL "No such role: x". */
int rbac_roles_to_scopes(struct hub_store *s, const json_t *role_names, json_t **ret, char *err,
                         size_t errlen);

struct rbac_config {
    const json_t *load_roles; /* JupyterHub.load_roles */
    char *const *admin_users; /* Authenticator.admin_users */
    char *const *allowed_users;
};

/** Apply the roles at start, as JupyterHub's init_role_creation and init_role_assignment:
 * default roles created or updated (overrides merged), config roles created, roles absent from
 * the config deleted, config assignments made exact, admin_users made admin, and every user
 * left without a role given the defaults. @create_user makes a user named in a role (normalised
 * and validated by the caller's rules). Returns 0 or -EINVAL with a message. */
int rbac_init(struct hub_store *s, const struct rbac_config *cfg,
              int (*create_user)(void *ctx, const char *name, struct hub_user **ret), void *ctx,
              char *err, size_t errlen);

/** The names of the default roles. */
bool rbac_is_default_role(const char *name);

/** Membership callbacks for scope checks, backed by the store @s (borrowed; it must outlive
 * the checks). */
struct scope_membership rbac_membership(const struct hub_store *s);
