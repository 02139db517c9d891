/* Logging a user in, whatever the authenticator: JupyterHub's get_authenticated_user and
 * auth_to_user in one place. The authenticator checks the credentials; then the name is
 * normalised and validated, blocked and allowed users are applied, admin status and groups are
 * set, the user is created if new, and auth_state is stored encrypted. */
#pragma once

#include <jansson.h>

struct hub;
struct hub_user;
struct auth_login;

/** The outcome: @status 0 with @user, -EACCES when refused (@message says why, for the user),
 * or another negative errno when something failed (@message too). */
typedef void (*auth_login_cb)(void *data, int status, struct hub_user *user, const char *message);

/** Start a login with the fields @data (copied: username, password, ...). libuv contract:
 * returns < 0 (callback never runs) or 0 (callback runs once, later). @ret, if not NULL, can
 * cancel it. */
int auth_login_start(struct hub *hub, const json_t *data, auth_login_cb cb, void *cb_data,
                     struct auth_login **ret);

/** Start the same pipeline for a user the authenticator has already checked itself (one of
 * its own pages): @result (copied) is what `authenticate` would have returned. Same contract
 * as auth_login_start. */
int auth_login_accept(struct hub *hub, const json_t *result, auth_login_cb cb, void *cb_data,
                      struct auth_login **ret);

/** Forget a login in progress: its callback will not run. */
void auth_login_cancel(struct auth_login *login);

/** The decrypted auth_state of @u (a new reference), or NULL when there is none or it cannot
 * be decrypted. */
json_t *auth_state_load(struct hub *hub, struct hub_user *u);

/** The decrypted auth_state of @u as JSON text (caller frees), or NULL when there is none or it
 * cannot be decrypted. */
char *auth_state_text(struct hub *hub, struct hub_user *u);

/** Encrypt and store @state for @u (NULL clears it). -ENOKEY without JUPYTERHUB_CRYPT_KEY. */
int auth_state_save(struct hub *hub, struct hub_user *u, const json_t *state);

/** Apply what an authenticator said of @u at login or refresh (@result): "admin" when a bool,
 * "groups" with manage_groups, "auth_state" (stored encrypted) when enable_auth_state. Returns
 * 0 or a negative errno. */
int auth_user_apply(struct hub *hub, struct hub_user *u, const json_t *result);

/** Whether a user of that (normalised) name may log in (allow_all, allowed_users,
 * allow_existing_users, or the authenticator's own "allowed" verdict @plugin_allowed). */
int auth_login_allowed(struct hub *hub, const char *name, int plugin_allowed);
