/* The hub as an OAuth2 authorization server for user servers and services (JupyterHub's
 * oauth/provider.py, reference/jupyterhub.md §4.3): authorization codes valid for 300 s and
 * used once, exchanged for API tokens that carry the client's access scopes. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hub;
struct hub_user;
struct hub_oauth_client;

/* An authorization request, checked. */
struct oauth_request {
    struct hub_oauth_client *client;
    const char *redirect_uri;
    const char *state; /* may be NULL */
    json_t *scopes;    /* what the token will have (a list of raw scopes) */
    char access[1100]; /* the access scope the user must hold: "access:servers!server=a/" */
    bool own_client;   /* the user's own server, or a service that skips confirmation */
};

/** Check client_id, redirect_uri, response_type and scope of an authorize request for @u.
 * Returns 0; -ENOENT (unknown client) or -EINVAL (bad redirect_uri): show an error page with
 * @err, never redirect; -EPROTO: redirect to redirect_uri with ?error=@err (an OAuth error
 * code) — @req->redirect_uri is set; -EACCES: the user may not use the client. Free with
 * oauth_request_release. */
int oauth_authorize_check(struct hub *hub, struct hub_user *u, const char *client_id,
                          const char *redirect_uri, const char *response_type, const char *scope,
                          const char *state, struct oauth_request *req, char *err, size_t errlen);

void oauth_request_release(struct oauth_request *req);

/** Make a code for @req with @scopes (NULL: req->scopes) and @session_id, and write the
 * redirect URL (redirect_uri?code=...&state=...) to @location (caller frees). */
int oauth_issue_code(struct hub *hub, struct hub_user *u, const struct oauth_request *req,
                     const json_t *scopes, const char *session_id, char **location);

/* The token endpoint. */
struct oauth_token_result {
    int status;   /* HTTP status of the answer */
    json_t *body; /* the JSON answer (new reference) */
};

/** Exchange a code: @client_id/@client_secret (from the form or HTTP Basic), @grant_type,
 * @code, @redirect_uri. Always fills @ret with the answer (token or OAuth error). */
void oauth_token_exchange(struct hub *hub, const char *client_id, const char *client_secret,
                          const char *grant_type, const char *code, const char *redirect_uri,
                          struct oauth_token_result *ret);
