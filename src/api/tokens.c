/* /hub/api/users/{name}/tokens[/{id}] (JupyterHub's UserTokenListAPIHandler and
 * UserTokenAPIHandler). */
#include "api/api.h"
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
    struct buf b;
    buf_init(&b, (size_t)64 << 20);
    buf_puts(&b, "{\"api_tokens\":[");
    for (size_t i = 0; i < u->tokens.n; i++) {
        if (i)
            buf_putc(&b, ',');
        api_write_token(&v, &b, sorted[i]);
    }
    free(sorted);
    if (buf_puts(&b, "]}") < 0) {
        buf_free(&b);
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

int api_tokens_post(struct http_request *req)
{
    const char *name = req->params[0];
    struct hub *hub = req->hub;
    struct hub_store *s = &hub->store;
    json_t *body = NULL;
    if (http_body_json(req, &body) < 0)
        return 0;
    if (body && !json_is_object(body)) {
        json_decref(body);
        return http_error(req, 400, "Body must be a JSON dict or empty");
    }
    int r = 0;
    const struct auth_identity *caller = auth_identify(req);
    if (!caller) {
        /* Authenticating with {"auth": {...}} in the body needs an authenticator. */
        r = http_error(req, 403, "Forbidden");
        goto out;
    }
    const char *kind = caller->user ? "User" : "Service";
    struct hub_user *u = store_user_find(s, name);
    struct scope_membership m = store_membership(s);
    if (!u || !scope_has(caller->scopes, SCOPE_TOKENS, SCOPE_KIND_USER, name, false, &m)) {
        r = http_error(req, 403, "%s %s not found or no permissions to generate tokens", kind,
                       name);
        goto out;
    }
    static const char *const keys[] = {"roles", "scopes"};
    for (int k = 0; k < 2; k++) {
        json_t *v = json_object_get(body, keys[k]);
        if (v && !json_is_null(v) && !string_list(v)) {
            char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            r = http_error(req, 400, "token %s must be null or a list of strings, not %s", keys[k],
                           text ? text : "?");
            free(text);
            goto out;
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
        r = http_error(req, 400, "token expires_in must be null or integer, not %s",
                       text ? text : "?");
        free(text);
        goto out;
    }
    int64_t expires_in = json_is_integer(expires) ? json_integer_value(expires) : 0;
    int64_t max = hub->conf.token_expires_in_max_seconds;
    if (max > 0) {
        if (!json_is_integer(expires))
            expires_in = max;
        else if (expires_in > max) {
            r = http_error(req, 400, "token expires_in: %lld must not exceed %lld",
                           (long long)expires_in, (long long)max);
            goto out;
        }
    }
    if (json_is_integer(expires) && expires_in < 1) {
        r = http_error(req, 400, "expires_in must be a positive integer or null, not %lld",
                       (long long)expires_in);
        goto out;
    }
    if (expires_in > 100LL * 365 * 86400) {
        r = http_error(req, 400, "expires_in must be at most 100 years");
        goto out;
    }
    if (roles && scopes) {
        r = http_error(req, 400, "Can only assign one of scopes or roles when creating tokens.");
        goto out;
    }
    json_t *raw = NULL;
    char err[1024];
    if (roles) {
        if (rbac_roles_to_scopes(s, roles, &raw, err, sizeof(err)) < 0) {
            r = http_error(req, 400, "%s", err);
            goto out;
        }
    } else if (scopes) {
        raw = json_incref(scopes);
    } else {
        struct hub_role *token_role = store_role_find(s, "token");
        raw = token_role ? json_deep_copy(token_role->scopes) : json_pack("[s]", "inherit");
    }
    if (rbac_check_token_scopes(s, u, NULL, raw, err, sizeof(err)) < 0) {
        json_decref(raw);
        r = http_error(req, 400, "%s", err);
        goto out;
    }
    const char *note = json_string_value(json_object_get(body, "note"));
    char default_note[600];
    if (!note || !note[0]) {
        if (caller->user == u)
            snprintf(default_note, sizeof(default_note), "Requested via api");
        else
            snprintf(default_note, sizeof(default_note), "Requested via api by %s %s",
                     caller->user ? "user" : "service", caller->name);
        note = default_note;
    }
    if (strlen(note) > 1023) {
        json_decref(raw);
        r = http_error(req, 400, "token note must be at most 1023 characters");
        goto out;
    }
    struct store_token_spec spec = {
        .scopes = raw,
        .note = note,
        .expires_at = expires_in ? time_now_us() + expires_in * 1000000 : 0,
    };
    char plain[64];
    struct hub_token *t;
    r = store_token_create(s, u, NULL, &spec, plain, sizeof(plain), &t);
    json_decref(raw);
    if (r < 0)
        goto out;
    if (caller->user == u)
        gm_log_info("User %s requested new API token", u->name);
    else
        gm_log_info("%s %s requested API token for %s", kind, caller->name, u->name);
    struct api_view v;
    api_view_init(&v, req);
    struct buf b;
    buf_init(&b, 1 << 20);
    api_write_token(&v, &b, t);
    b.len--;
    buf_puts(&b, ",\"token\":");
    buf_json_string(&b, plain);
    buf_putc(&b, '}');
    memset(plain, 0, sizeof(plain));
    r = api_respond_buf(req, 201, &b);
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
    struct buf b;
    buf_init(&b, 1 << 20);
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
