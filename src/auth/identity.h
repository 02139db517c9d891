/* Who is making a request: the owner of the token in the Authorization header ("token X" or
 * "bearer X", as JupyterHub accepts), with its effective scopes. Browser sessions (cookies)
 * resolve here too once they exist. */
#pragma once

#include "auth/scopes.h"
#include "core/store.h"

struct http_request;

struct auth_identity {
    struct hub_user *user; /* exactly one of user and service */
    struct hub_service *service;
    struct hub_token *token; /* the token used, NULL for a browser session */
    const struct scope_set *scopes;
    const char *name;
    const char *session_id;
};

/** The caller of @req, or NULL without valid credentials. Resolved once per request; records
 * token and user activity (throttled). */
const struct auth_identity *auth_identify(struct http_request *req);

/** The token in an Authorization header value, or NULL. @out receives a copy. */
const char *auth_header_token(const char *header, char *out, size_t outlen);
