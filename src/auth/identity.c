/* Resolving the caller of a request from its token. */
#include "auth/identity.h"
#include "auth/hooks.h"
#include "auth/rbac.h"
#include "auth/session.h"
#include "core/hub.h"
#include "http/server.h"
#include "util/str.h"
#include "util/time.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

const char *auth_header_token(const char *header, char *out, size_t outlen)
{
    if (!header)
        return NULL;
    size_t skip;
    if (strncasecmp(header, "token", 5) == 0)
        skip = 5;
    else if (strncasecmp(header, "bearer", 6) == 0)
        skip = 6;
    else
        return NULL;
    const char *p = header + skip;
    if (!isspace((unsigned char)*p))
        return NULL;
    while (isspace((unsigned char)*p))
        p++;
    size_t n = strcspn(p, " \t\r\n");
    if (n == 0 || p[n] != '\0' || n >= outlen)
        return NULL;
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

static bool is_server_token(const struct hub_token *t)
{
    return t->note && str_has_prefix(t->note, "Server at ");
}

/* A browser session: the user of the login cookie, with the user's own scopes. */
static const struct auth_identity *from_cookie(struct http_request *req)
{
    struct hub *hub = req->hub;
    struct hub_user *u = auth_session_user(req);
    if (!u)
        return NULL;
    if (!auth_hooks_check_freshness(hub, u)) {
        auth_session_clear(req); /* JupyterHub: "Login is required to refresh" */
        return NULL;
    }
    struct auth_identity *id = arena_calloc(&req->arena, sizeof(*id));
    if (!id)
        return NULL;
    id->user = u;
    id->name = u->name;
    id->session_id = auth_session_id(req);
    id->scopes = rbac_user_scopes(&hub->store, u);
    if (!id->scopes)
        return NULL;
    store_user_touch(&hub->store, u, time_now_us(), false);
    req->user = id->name;
    req->auth = id;
    return id;
}

const struct auth_identity *auth_identify(struct http_request *req)
{
    if (req->auth)
        return req->auth;
    struct hub *hub = req->hub;
    const char *header = http_header(req, "Authorization");
    if (!header)
        return from_cookie(req);
    char token[4097];
    if (!auth_header_token(header, token, sizeof(token)))
        return NULL;
    int64_t now = time_now_us();
    struct hub_token *t = store_token_find(&hub->store, token, now);
    if (!t)
        return NULL;
    /* A user's own tokens follow the login's freshness; the tokens of the user's servers do
     * not (a running server keeps working until it is stopped). */
    if (t->user && !is_server_token(t) && !auth_hooks_check_freshness(hub, t->user))
        return NULL;
    struct auth_identity *id = arena_calloc(&req->arena, sizeof(*id));
    if (!id)
        return NULL;
    id->token = t;
    id->user = t->user;
    id->service = t->service;
    id->name = t->user ? t->user->name : t->service->name;
    id->session_id = t->session_id;
    id->scopes = rbac_token_scopes(&hub->store, t);
    if (!id->scopes)
        return NULL;
    store_token_touch(&hub->store, t, now);
    /* Requests from a server's own token are not the user's activity. */
    if (t->user && !is_server_token(t))
        store_user_touch(&hub->store, t->user, now, false);
    req->user = id->name;
    req->auth = id;
    return id;
}
