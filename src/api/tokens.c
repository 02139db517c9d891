/* /hub/api/users/{name}/tokens[/{id}] (JupyterHub's UserTokenListAPIHandler and
 * UserTokenAPIHandler). */
#include "api/api.h"
#include "auth/login.h"
#include "auth/rbac.h"
#include "core/hub.h"
#include "util/str.h"
#include "util/time.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdlib.h>
#include <string.h>

static int64_t sort_key(const struct hub_token *t)
{
    return t->last_activity ? t->last_activity : t->created;
}

static int cmp_tokens(const void *a, const void *b)
{
    int64_t x = sort_key(*(const struct hub_token *const *)a);
    int64_t y = sort_key(*(const struct hub_token *const *)b);
    return x < y ? -1 : x > y;
}

int api_tokens_get(struct http_request *req)
{
    const char *name = req->params[0];
    if (API_NEED(req, SCOPE_KIND_USER, name, SCOPE_READ_TOKENS) < 0)
        return 0;
    struct hub_store *s = &req->hub->store;
    struct hub_user *u = store_user_find(s, name);
    if (!u)
        return http_error(req, 404, "No such user: %s", name);
    int64_t now = time_now_us();
    for (size_t i = u->tokens.n; i-- > 0;) {
        struct hub_token *t = u->tokens.v[i];
        if (t->expires_at && t->expires_at < now)
            store_token_delete(s, t);
    }
    struct hub_token **sorted = malloc((u->tokens.n ? u->tokens.n : 1) * sizeof(*sorted));
    if (!sorted)
        return -ENOMEM;
    memcpy(sorted, u->tokens.v, u->tokens.n * sizeof(*sorted));
    qsort(sorted, u->tokens.n, sizeof(*sorted), cmp_tokens);
    struct api_view v;
    api_view_init(&v, req);
    struct gm_buf b;
    gm_buf_init(&b, (size_t)64 << 20);
    gm_buf_puts(&b, "{\"api_tokens\":[");
    for (size_t i = 0; i < u->tokens.n; i++) {
        if (i)
            gm_buf_putc(&b, ',');
        api_write_token(&v, &b, sorted[i]);
    }
    free(sorted);
    if (gm_buf_puts(&b, "]}") < 0) {
        gm_buf_free(&b);
        return -ENOMEM;
    }
    return api_respond_buf(req, 200, &b);
}

static bool string_list(const json_t *v)
{
    if (!json_is_array(v))
        return false;
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        if (!json_is_string(x))
            return false;
    }
    return true;
}

/* Create a token for user @name as @caller (a user or a service with @scopes); the body's
 * fields are checked as JupyterHub's UserTokenListAPIHandler.post checks them. */
static int create_token(struct http_request *req, const char *name, struct hub_user *caller_user,
                        struct hub_service *caller_svc, const struct scope_set *caller_scopes,
                        json_t *body)
{
    struct hub *hub = req->hub;
    struct hub_store *s = &hub->store;
    const char *kind = caller_user ? "User" : "Service";
    const char *caller_name = caller_user ? caller_user->name : caller_svc->name;
    struct hub_user *u = store_user_find(s, name);
    struct scope_membership m = rbac_membership(s);
    if (!u || !scope_has(caller_scopes, SCOPE_TOKENS, SCOPE_KIND_USER, name, false, &m))
        return http_error(req, 403, "%s %s not found or no permissions to generate tokens", kind,
                          name);
    static const char *const keys[] = {"roles", "scopes"};
    for (int k = 0; k < 2; k++) {
        json_t *v = json_object_get(body, keys[k]);
        if (v && !json_is_null(v) && !string_list(v)) {
            char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            http_error(req, 400, "token %s must be null or a list of strings, not %s", keys[k],
                       text ? text : "?");
            free(text);
            return 0;
        }
    }
    json_t *roles = json_object_get(body, "roles");
    json_t *scopes = json_object_get(body, "scopes");
    if (json_is_null(roles))
        roles = NULL;
    if (json_is_null(scopes))
        scopes = NULL;
    json_t *expires = json_object_get(body, "expires_in");
    if (expires && !json_is_null(expires) && !json_is_integer(expires)) {
        char *text = json_dumps(expires, JSON_ENCODE_ANY | JSON_COMPACT);
        http_error(req, 400, "token expires_in must be null or integer, not %s", text ? text : "?");
        free(text);
        return 0;
    }
    int64_t expires_in = json_is_integer(expires) ? json_integer_value(expires) : 0;
    int64_t max = hub->conf.token_expires_in_max_seconds;
    if (max > 0) {
        if (!json_is_integer(expires))
            expires_in = max;
        else if (expires_in > max)
            return http_error(req, 400, "token expires_in: %lld must not exceed %lld",
                              (long long)expires_in, (long long)max);
    }
    if (json_is_integer(expires) && expires_in < 1)
        return http_error(req, 400, "expires_in must be a positive integer or null, not %lld",
                          (long long)expires_in);
    if (expires_in > 100LL * 365 * 86400)
        return http_error(req, 400, "expires_in must be at most 100 years");
    if (roles && scopes)
        return http_error(req, 400, "Can only assign one of scopes or roles when creating tokens.");
    json_t *raw = NULL;
    char err[1024];
    if (roles) {
        if (rbac_roles_to_scopes(s, roles, &raw, err, sizeof(err)) < 0)
            return http_error(req, 400, "%s", err);
    } else if (scopes) {
        raw = json_incref(scopes);
    } else {
        struct hub_role *token_role = store_role_find(s, "token");
        raw = token_role ? json_deep_copy(token_role->scopes) : json_pack("[s]", "inherit");
    }
    if (rbac_check_token_scopes(s, u, NULL, raw, err, sizeof(err)) < 0) {
        json_decref(raw);
        return http_error(req, 400, "%s", err);
    }
    const char *note = json_string_value(json_object_get(body, "note"));
    char default_note[600];
    if (!note || !note[0]) {
        if (caller_user == u)
            snprintf(default_note, sizeof(default_note), "Requested via api");
        else
            snprintf(default_note, sizeof(default_note), "Requested via api by %s %s",
                     caller_user ? "user" : "service", caller_name);
        note = default_note;
    }
    if (strlen(note) > 1023) {
        json_decref(raw);
        return http_error(req, 400, "token note must be at most 1023 characters");
    }
    struct store_token_spec spec = {
        .scopes = raw,
        .note = note,
        .expires_at = expires_in ? time_now_us() + expires_in * 1000000 : 0,
    };
    char plain[64];
    struct hub_token *t;
    int r = store_token_create(s, u, NULL, &spec, plain, sizeof(plain), &t);
    json_decref(raw);
    if (r < 0)
        return r;
    if (caller_user == u)
        gm_log_info("User %s requested new API token", u->name);
    else
        gm_log_info("%s %s requested API token for %s", kind, caller_name, u->name);
    struct api_view v;
    api_view_init(&v, req);
    struct gm_buf b;
    gm_buf_init(&b, 1 << 20);
    api_write_token(&v, &b, t);
    b.len--;
    gm_buf_puts(&b, ",\"token\":");
    gm_buf_json_string(&b, plain);
    gm_buf_putc(&b, '}');
    memset(plain, 0, sizeof(plain));
    return api_respond_buf(req, 201, &b);
}

/* POST .../tokens with {"auth": {...}}: the authenticator identifies the requester. */
struct token_login {
    struct http_request *req;
    struct auth_login *login;
    json_t *body;
};

static void token_login_detach(struct http_request *req)
{
    struct token_login *tl = req->wait_data;
    if (tl->login)
        auth_login_cancel(tl->login);
    tl->login = NULL;
    json_decref(tl->body);
    tl->body = NULL;
}

static void token_login_done(void *data, int status, struct hub_user *u, const char *message)
{
    struct token_login *tl = data;
    struct http_request *req = tl->req;
    tl->login = NULL;
    req->detach = NULL;
    if (status == 0) {
        req->user = u->name;
        const struct scope_set *scopes = rbac_user_scopes(&req->hub->store, u);
        int r = scopes ? create_token(req, req->params[0], u, NULL, scopes, tl->body) : -ENOMEM;
        if (r < 0 && !req->responded)
            http_error_errno(req, r);
    } else {
        http_error(req, 403, "Forbidden");
    }
    json_decref(tl->body);
    tl->body = NULL;
    http_resume(req);
}

int api_tokens_post(struct http_request *req)
{
    json_t *body = NULL;
    if (http_body_json(req, &body) < 0)
        return 0;
    if (body && !json_is_object(body)) {
        json_decref(body);
        return http_error(req, 400, "Body must be a JSON dict or empty");
    }
    if (!body)
        body = json_object();
    int r = 0;
    if (!http_header(req, "Authorization") && !auth_identify(req)) {
        json_t *auth = json_object_get(body, "auth");
        if (!json_is_object(auth)) {
            r = http_error(req, 403, "Forbidden");
            goto out;
        }
        struct token_login *tl = arena_calloc(&req->arena, sizeof(*tl));
        if (!tl) {
            r = -ENOMEM;
            goto out;
        }
        tl->req = req;
        tl->body = body;
        if (auth_login_start(req->hub, auth, token_login_done, tl, &tl->login) < 0) {
            r = http_error(req, 403, "Forbidden");
            goto out;
        }
        body = NULL;
        req->wait_data = tl;
        req->detach = token_login_detach;
        if (http_suspend(req, 60000) < 0) {
            token_login_detach(req);
            req->detach = NULL;
            return http_error(req, 503, "The hub is shutting down");
        }
        return HTTP_SUSPENDED;
    }
    /* Token or cookie: the cookie path checks XSRF. */
    const struct auth_identity *caller = api_caller(req);
    if (caller)
        r = create_token(req, req->params[0], caller->user, caller->service, caller->scopes, body);
out:
    json_decref(body);
    return r;
}

static struct hub_token *find_token(struct http_request *req, struct hub_user **user)
{
    const char *name = req->params[0], *id = req->params[1];
    struct hub_user *u = store_user_find(&req->hub->store, name);
    if (!u) {
        http_error(req, 404, "No such user: %s", name);
        return NULL;
    }
    struct hub_token *t = store_token_by_api_id(u, id);
    if (!t)
        http_error(req, 404, "No such token %s for user %s", id, name);
    *user = u;
    return t;
}

int api_token_get(struct http_request *req)
{
    if (API_NEED(req, SCOPE_KIND_USER, req->params[0], SCOPE_READ_TOKENS) < 0)
        return 0;
    struct hub_user *u;
    struct hub_token *t = find_token(req, &u);
    if (!t)
        return 0;
    struct api_view v;
    api_view_init(&v, req);
    struct gm_buf b;
    gm_buf_init(&b, 1 << 20);
    api_write_token(&v, &b, t);
    return api_respond_buf(req, 200, &b);
}

int api_token_delete(struct http_request *req)
{
    if (API_NEED(req, SCOPE_KIND_USER, req->params[0], SCOPE_TOKENS) < 0)
        return 0;
    struct hub_user *u;
    struct hub_token *t = find_token(req, &u);
    if (!t)
        return 0;
    struct hub_store *s = &req->hub->store;
    if (t->client_id && strcmp(t->client_id, "jupyterhub") != 0) {
        /* Deleting an OAuth token revokes everything that client holds for the user. */
        char *client = strdup(t->client_id);
        if (!client)
            return -ENOMEM;
        size_t n = 0;
        for (size_t i = u->tokens.n; i-- > 0;) {
            struct hub_token *x = u->tokens.v[i];
            if (x->client_id && strcmp(x->client_id, client) == 0 && store_token_delete(s, x) == 0)
                n++;
        }
        gm_log_info("Deleted %zu tokens for %s issued by %s", n, u->name, client);
        free(client);
    } else {
        gm_log_info("Deleting token %s for %s", req->params[1], u->name);
        int r = store_token_delete(s, t);
        if (r < 0)
            return r;
    }
    http_set_header(req, "Content-Type", "text/plain");
    return http_respond_empty(req, 204);
}
