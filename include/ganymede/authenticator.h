/* The authenticator plugin interface. An authenticator turns what a user presents (the login
 * form's fields, or the result of a provider redirect) into a user name and optional details;
 * the hub then applies JupyterHub's pipeline itself (normalisation, validation, blocked and
 * allowed users, admin_users, group management), creates the user and starts the session.
 *
 * A plugin is one const struct gm_authenticator selected by name in the config:
 *     c.JupyterHub.authenticator_class = "dummy"   (or "jupyterhub.auth.DummyAuthenticator")
 * Its settings are an option class whose parent is "Authenticator" (or "LocalAuthenticator"),
 * parsed into a struct of conf_size bytes that the hub allocates and frees. */
#pragma once

#include <ganymede/host.h>
#include <ganymede/oauth2.h>
#include <ganymede/plugin.h>
#include <ganymede/request.h>
#include <stdbool.h>
#include <stddef.h>

/** The outcome of authenticate(): @result is stolen; it is NULL when the credentials were
 * refused, or {"name": str, "admin"?: bool, "groups"?: [str], "auth_state"?: {...}}.
 * @message, when set, is shown to the user instead of the generic refusal. @status is 0, or a
 * negative errno when the authenticator itself failed (the login fails with a server error). */
typedef void (*gm_authenticate_cb)(void *data, int status, json_t *result, const char *message);

/* A result may also carry "allowed": true when the plugin's own allow rules admit the user
 * (PAM's allowed_groups, an OAuth organisation): the hub ORs it with allow_all,
 * allowed_users and allow_existing_users. */

/** The outcome of refresh_user (JupyterHub's Authenticator.refresh_user): @status 0 when the
 * login is still good, with @result NULL (nothing changed) or {"auth_state"?, "admin"?,
 * "groups"?} (borrowed: applied as at login); -EACCES when the user must log in again
 * (@message says why); another negative errno when the refresh cannot be done now (the login
 * stays as it is). */
typedef void (*gm_refresh_cb)(void *data, int status, const json_t *result, const char *message);

enum gm_request_methods {
    GM_REQUEST_GET = 1 << 0,
    GM_REQUEST_POST = 1 << 1,
};

/** A page of the authenticator's own, mounted at /hub/<path> (JupyterHub's get_handlers). */
struct gm_auth_route {
    const char *path; /* "lti/launch": one or more segments, no leading slash */
    unsigned methods; /* enum gm_request_methods */
    /** Answer @req (<ganymede/request.h>) and return what the answering call returned. */
    int (*handle)(void *state, struct gm_request *req);
};

/** The base Authenticator settings a plugin may need (borrowed, valid for its life). */
struct gm_authenticator_base {
    char *const *admin_users;
    char *const *allowed_users;
    bool manage_groups;
    bool enable_auth_state;
};

struct gm_authenticator {
    uint32_t abi;                          /* GM_ABI_VERSION */
    const char *name;                      /* entry-point name: "dummy", "pam" */
    const char *const *aliases;            /* other names, e.g. the Python class path */
    const struct gm_option_class *options; /* its settings (NULL: only the base ones) */
    /** The option classes between Authenticator and .options, from the root down, NULL-ended
     * (ltiauthenticator's LTI13LaunchValidator): their settings fill the same config struct,
     * as a spawner's ancestors do. NULL for none. */
    const struct gm_option_class *const *ancestors;
    size_t conf_size;          /* bytes of its config struct */
    const char *login_service; /* label of a "Sign in with X" button, or NULL for the
                                  username/password form */
    const char *login_message; /* with login_service and no login page of its own:
                                  what the login page says instead (LTI: "open
                                  the link in your course") */
    /** For OAuth 2.0 / OpenID Connect modules: the provider (<ganymede/oauth2.h>); the hub
     * then does the login itself and `authenticate` is not used. */
    const struct gm_oauth2_provider *oauth2;
    /** DummyAuthenticator and others allow everyone unless allowed_users is set. */
    bool allow_all_by_default;

    /** Check the configuration and create the plugin's state. @conf stays valid for the
     * plugin's life. Returns 0 or a negative errno with a message in @err. May be NULL. */
    int (*init)(const struct gm_host *host, const struct gm_authenticator_base *base, void *conf,
                void **state, char *err, size_t errlen);

    /** Free the state. May be NULL. */
    void (*destroy)(void *state);

    /** Authenticate the login form's fields (@data: JSON object of strings, at least
     * "username" and "password"). libuv contract: returns < 0 (callback never runs) or 0 (the
     * callback runs exactly once, later, on the loop thread). May be NULL for authenticators
     * that have no login form (then only API tokens work). */
    int (*authenticate)(void *state, const json_t *data, gm_authenticate_cb cb, void *cb_data);

    /** Its own pages, ended by an entry with a NULL path; each path must be free (not one of
     * the hub's). May be NULL. */
    const struct gm_auth_route *routes;

    /** Check that @name's login is still good, from its @auth_state (NULL when none is kept):
     * called beside a request once the login is older than Authenticator.auth_refresh_age, and
     * before a server starts when Authenticator.refresh_pre_spawn is on. libuv contract; a
     * refresh still under way when the plugin is destroyed is completed with -ECANCELED
     * first. May be NULL (logins stay good until logout). */
    int (*refresh_user)(void *state, const char *name, const json_t *auth_state, gm_refresh_cb cb,
                        void *cb_data);

    /** A server of @name is about to start (pre_spawn_start): add what it needs from the
     * login to its environment @env, a JSON object of strings. @auth_state is NULL when none is
     * kept. Returns 0, or a negative errno with a message for the user in @err (the start
     * fails). May be NULL. */
    int (*pre_spawn_start)(void *state, const char *name, const json_t *auth_state, json_t *env,
                           char *err, size_t errlen);

    /** Where logout sends the browser once the hub's session is cleared (a provider's logout
     * page): writes a URL to @out and returns its length, or 0 for the hub's own logout page.
     * @auth_state is that of the user logging out, or NULL. May be NULL. */
    size_t (*logout_url)(void *state, const json_t *auth_state, char *out, size_t outlen);
};
