/* What the hub asks of the authenticator beyond logging in, whoever provides it: the plugin's
 * own hooks (<ganymede/authenticator.h>: refresh_user, pre_spawn_start, logout_url) or, for
 * OAuth modules, the hub's OAuth client. Callers never need to know which. */
#pragma once

#include <ganymede/authenticator.h>
#include <stdbool.h>
#include <stddef.h>

struct hub;
struct hub_user;
struct gm_strv;
struct gm_buf;
struct auth_refresh;

/** Whether servers start only after a refresh (Authenticator.refresh_pre_spawn; by default on
 * for OAuth when auth_state is kept, off otherwise, as JupyterHub). False when the
 * authenticator cannot refresh. */
bool auth_hooks_refresh_pre_spawn(const struct hub *hub);

/** Refresh the login of @name from its @auth_state (NULL when none is kept); @cb gets what
 * gm_refresh_cb says (a result to apply with auth_user_apply). libuv contract; -ENOENT when
 * there is nothing to refresh. @ret, if not NULL, can cancel it. */
int auth_hooks_refresh(struct hub *hub, const char *name, const json_t *auth_state,
                       gm_refresh_cb cb, void *data, struct auth_refresh **ret);

/** Forget a refresh in progress: its callback will not run (accepts NULL). */
void auth_hooks_refresh_cancel(struct auth_refresh *r);

/** The login of @u is used by a request: refresh it beside the request once it is older than
 * Authenticator.auth_refresh_age. Returns false when the authenticator refused the last
 * refresh (the user must log in again), true otherwise. */
bool auth_hooks_check_freshness(struct hub *hub, struct hub_user *u);

/** Add what a server of @name gets from its login to @env (OAuth's auth_state_env, the
 * plugin's pre_spawn_start). Returns 0, or a negative errno with a message in @err. */
int auth_hooks_spawn_env(struct hub *hub, const char *name, const json_t *auth_state,
                         struct gm_strv *env, char *err, size_t errlen);

/** Append to @out where logout sends the browser after the hub's own logout (nothing for the
 * hub's page), for @u (or NULL when nobody was logged in). Returns 0 or -ENOMEM. */
int auth_hooks_logout_url(struct hub *hub, struct hub_user *u, struct gm_buf *out);
