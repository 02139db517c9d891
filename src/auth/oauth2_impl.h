/* What oauth2.c (setup, discovery, keys, URLs) and oauth2_login.c (the code exchange and the
 * user) share. */
#pragma once

#include "auth/oauth2.h"

#include <ganymede/fetch.h>
#include <ganymede/jwt.h>
#include <stdint.h>

struct oauth2_call;
struct oauth2_login;

/* A JSON request to the provider: @status 0 with @json (borrowed, may be NULL for a non-JSON
 * body), or a negative errno with @message. @http is the HTTP status (0 if none). */
typedef void (*oauth2_call_cb)(void *data, int status, int http, const json_t *json,
                               const char *message);

struct oauth2_client {
    struct hub *hub;
    const struct gm_host *host;
    const struct gm_oauth2_provider *provider;
    void *module_state;
    struct gm_oauth2_config *conf;

    /* Resolved settings (owned). */
    char *authorize_url, *token_url, *userdata_url, *jwks_url, *issuer;
    char *logout_url;      /* logout_redirect_url or the module's */
    char *end_session_url; /* from discovery */
    char *username_claim, *login_service, *user_key;
    char **scope; /* NULL-terminated */

    /* Requests to the provider. */
    long timeout_ms, connect_timeout_ms;
    const char *ca_file;
    bool insecure;

    /* OpenID discovery and keys. */
    bool discovering, discovered;
    char discovery_error[256];
    struct gm_jwks_cache *jwks; /* the keys at jwks_url, once it is known */

    struct oauth2_call *calls; /* requests in flight */

    /* State ids of completed logins (a ring), against replays. */
    char (*seen_states)[33];
    size_t seen_next;
};

/** Send a request to the provider; the answer must be JSON (an empty 204 gives NULL). Adds
 * Accept and User-Agent. Returns 0 or a negative errno (callback never runs). */
int oauth2_call(struct oauth2_client *c, const char *method, const char *url,
                const char *const *headers, const char *body, oauth2_call_cb cb, void *data);

/** Append k=v (form-encoded) for every member of the object @params. */
int oauth2_append_params(struct gm_buf *b, const json_t *params, bool first);
