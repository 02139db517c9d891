/* The hub side of OAuth 2.0 / OpenID Connect login (<ganymede/oauth2.h> is the modules' side):
 * the provider's endpoints (module defaults, settings, OpenID discovery), its signing keys,
 * the authorization redirect, and the login itself once the provider sent the browser back
 * with a code (oauth2_login.c). The /hub/oauth_login and /hub/oauth_callback pages are in
 * pages/oauth_login.c. */
#pragma once

#include <ganymede/authenticator.h>
#include <ganymede/oauth2.h>
#include <stdbool.h>

struct hub;
struct hub_user;
struct oauth2_client;
struct gm_buf;

extern const struct gm_option_class auth_oauth2_class;

/** Set up the client of the hub's OAuth authenticator (after the module's init) and start
 * OpenID discovery when an issuer is configured. Returns 0 or -EINVAL with a message. */
int oauth2_client_create(struct hub *hub, struct oauth2_client **ret, char *err, size_t errlen);

void oauth2_client_free(struct oauth2_client *c);

/** The provider's name for the login button. */
const char *oauth2_login_service(const struct oauth2_client *c);

/** Whether the endpoints are known. When discovery has not succeeded yet it is started again
 * (if not under way) and -EAGAIN returned with the reason in @why. */
int oauth2_ready(struct oauth2_client *c, const char **why);

/* One authorization request. */
struct oauth2_authorize {
    const char *redirect_uri;
    const char *state;          /* the URL's state parameter */
    const char *code_challenge; /* PKCE S256, or NULL */
    const char *nonce;          /* OpenID, or NULL */
};

/** Whether a login uses PKCE, and whether it sends (and checks) an OpenID nonce. */
bool oauth2_uses_pkce(const struct oauth2_client *c);
bool oauth2_uses_nonce(const struct oauth2_client *c);

/** The configured callback URL, or NULL (then guessed from the request). */
const char *oauth2_callback_url(const struct oauth2_client *c);

/** Append the provider's authorization URL for @a to @out. */
int oauth2_authorize_url(struct oauth2_client *c, const struct oauth2_authorize *a,
                         struct gm_buf *out);

/** Append where logout should send the browser to @out (nothing when the hub's own login
 * page); @id_token from auth_state or NULL. */
int oauth2_logout_url(struct oauth2_client *c, const char *id_token, struct gm_buf *out);

/** Whether the state id @id (32 hex characters) completed a login before; remembers it.
 * The last few thousand are kept: enough for the state cookie's lifetime. */
bool oauth2_state_seen(struct oauth2_client *c, const char *id);

/** The custom_403_message. */
const char *oauth2_refused_message(const struct oauth2_client *c);

struct gm_strv;
struct oauth2_refresh;

/** Refresh the login of @name from its @auth_state (oauthenticator's refresh_user). @cb gets
 * what gm_refresh_cb says: {"auth_state", "groups"?, "admin"?} derived as at login, or -EACCES
 * when the user must log in again. libuv contract; -ENOENT when there is nothing to refresh.
 * @ret can cancel it. */
int oauth2_refresh(struct oauth2_client *c, const char *name, const json_t *auth_state,
                   gm_refresh_cb cb, void *data, struct oauth2_refresh **ret);

/** Forget a refresh in progress: its callback will not run (accepts NULL). */
void oauth2_refresh_cancel(struct oauth2_refresh *ref);

/** Add the auth_state_env variables taken from the user's @auth_state to @env. Returns 0 or
 * -ENOMEM. */
int oauth2_spawn_env(const struct oauth2_client *c, const json_t *auth_state, struct gm_strv *env);

/** Complete a login: @data is {"code", "redirect_uri", "code_verifier"?, "nonce"?}. The
 * authenticator contract of <ganymede/authenticator.h>: the result is {"name", "admin"?,
 * "groups"?, "auth_state", "allowed"?}; a refusal has a NULL result and a message; a provider
 * failure a negative status (-ETIMEDOUT, -EPROTO, ...) and a message. */
int oauth2_authenticate(struct oauth2_client *c, const json_t *data, gm_authenticate_cb cb,
                        void *cb_data);
