/* The OAuth2 authorization-code flow of the hub, as jupyterhub-singleuser and HubOAuth
 * services use it. */
#include "auth/oauth_provider.h"
#include "auth/rbac.h"
#include "auth/token_hash.h"
#include "core/hub.h"
#include "db/rows.h"
#include <ganymede/buf.h>
#include <ganymede/encode.h>
#include "util/str.h"
#include "util/time.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CODE_LENGTH   30 /* oauthlib's generate_token */
#define TOKEN_LENGTH  30
#define CODE_LIFETIME 300 /* seconds */
#define MAX_SCOPES    256

/* The access scope a client grants: its own server's or service's (the one in its allowed
 * scopes, as the hub put it there). */
static const char *client_access_scope(const struct hub_oauth_client *c)
{
    size_t i;
    json_t *x;
    json_array_foreach(c->allowed_scopes, i, x)
    {
        const char *s = json_string_value(x);
        if (s && (str_has_prefix(s, "access:servers!server=") ||
                  str_has_prefix(s, "access:services!service=")))
            return s;
    }
    return NULL;
}

static bool list_has(const json_t *list, const char *s)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        if (json_is_string(x) && strcmp(json_string_value(x), s) == 0)
            return true;
    }
    return false;
}

static void add_unique(json_t *list, const char *s)
{
    if (!list_has(list, s))
        json_array_append_new(list, json_string(s));
}

/* Whether @u may use the client: the access scope must be held (on the server or service). */
static bool may_access(struct hub *hub, struct hub_user *u, const char *access)
{
    const struct scope_set *have = rbac_user_scopes(&hub->store, u);
    struct scope_membership m = rbac_membership(&hub->store);
    if (str_has_prefix(access, "access:servers!server="))
        return scope_has(have, SCOPE_ACCESS_SERVERS, SCOPE_KIND_SERVER,
                         access + strlen("access:servers!server="), false, &m);
    return scope_has(have, SCOPE_ACCESS_SERVICES, SCOPE_KIND_SERVICE,
                     access + strlen("access:services!service="), false, &m);
}

static bool own_client(struct hub *hub, struct hub_user *u, const char *access)
{
    if (str_has_prefix(access, "access:servers!server=")) {
        const char *target = access + strlen("access:servers!server=");
        size_t n = strlen(u->name);
        return strncmp(target, u->name, n) == 0 && target[n] == '/';
    }
    struct hub_service *svc =
        store_service_find(&hub->store, access + strlen("access:services!service="));
    return svc && svc->oauth_no_confirm;
}

int oauth_authorize_check(struct hub *hub, struct hub_user *u, const char *client_id,
                          const char *redirect_uri, const char *response_type, const char *scope,
                          const char *state, struct oauth_request *req, char *err, size_t errlen)
{
    memset(req, 0, sizeof(*req));
    struct hub_oauth_client *c = client_id ? store_client_find(&hub->store, client_id) : NULL;
    if (!c || !c->secret || !c->secret[0]) {
        snprintf(err, errlen, "No such OAuth client: %s", client_id ? client_id : "(none)");
        return -ENOENT;
    }
    if (!redirect_uri || strcmp(redirect_uri, c->redirect_uri) != 0) {
        snprintf(err, errlen, "The redirect_uri does not match the one registered for %s",
                 c->identifier);
        return -EINVAL;
    }
    req->client = c;
    req->redirect_uri = redirect_uri;
    req->state = state;
    if (!response_type || strcmp(response_type, "code") != 0) {
        snprintf(err, errlen, "unsupported_response_type");
        return -EPROTO;
    }
    const char *access = client_access_scope(c);
    if (!access) {
        snprintf(err, errlen, "The OAuth client %s grants access to nothing", c->identifier);
        return -ENOENT;
    }
    snprintf(req->access, sizeof(req->access), "%s", access);
    if (!may_access(hub, u, access)) {
        snprintf(err, errlen, "You do not have permission to access %s",
                 access + strcspn(access, "=") + 1);
        return -EACCES;
    }
    /* What may be granted: the client's allowed scopes, identifying the user, the access. */
    json_t *allowed = json_deep_copy(c->allowed_scopes);
    json_t *granted = json_array();
    if (!allowed || !granted) {
        json_decref(allowed);
        json_decref(granted);
        return -ENOMEM;
    }
    add_unique(allowed, "read:users:name!user");
    add_unique(allowed, "read:users:groups!user");
    add_unique(allowed, access);
    if (scope && scope[0]) {
        const char *p = scope;
        size_t count = 0;
        while (*p && count < MAX_SCOPES) {
            size_t n = strcspn(p, " +");
            char one[512];
            if (n && n < sizeof(one)) {
                memcpy(one, p, n);
                one[n] = '\0';
                count++;
                /* "identify" was the only scope of JupyterHub 2; it grants nothing more. */
                if (strcmp(one, "identify") != 0) {
                    if (list_has(allowed, one))
                        add_unique(granted, one);
                    else
                        gm_log_warn("Ignoring scope %s not allowed for %s", one, c->identifier);
                }
            }
            p += n;
            while (*p == ' ' || *p == '+')
                p++;
        }
    } else {
        size_t i;
        json_t *x;
        json_array_foreach(c->allowed_scopes, i, x)
        {
            if (json_is_string(x))
                add_unique(granted, json_string_value(x));
        }
    }
    add_unique(granted, "read:users:name!user");
    add_unique(granted, "read:users:groups!user");
    add_unique(granted, access);
    json_decref(allowed);
    req->scopes = granted;
    req->own_client = own_client(hub, u, access);
    return 0;
}

void oauth_request_release(struct oauth_request *req)
{
    json_decref(req->scopes);
    req->scopes = NULL;
}

int oauth_issue_code(struct hub *hub, struct hub_user *u, const struct oauth_request *req,
                     const json_t *scopes, const char *session_id, char **location)
{
    char code[CODE_LENGTH + 1];
    int r = gm_random_alnum(code, CODE_LENGTH);
    if (r < 0)
        return r;
    char *scope_text = json_dumps(scopes ? scopes : req->scopes, JSON_COMPACT);
    if (!scope_text)
        return -ENOMEM;
    int64_t now = time_now_us() / 1000000;
    struct db_oauth_code_row row = {
        .client_id = req->client->identifier,
        .code = code,
        .expires_at = now + CODE_LIFETIME,
        .redirect_uri = req->redirect_uri,
        .session_id = session_id,
        .user_id = u->id,
        .scopes = scope_text,
    };
    r = store_oauth_code_add(&hub->store, &row, now);
    free(scope_text);
    if (r < 0)
        return r;
    struct gm_buf b;
    gm_buf_init(&b, 16384);
    gm_buf_puts(&b, req->redirect_uri);
    gm_buf_putc(&b, strchr(req->redirect_uri, '?') ? '&' : '?');
    gm_buf_printf(&b, "code=%s", code);
    if (req->state) {
        gm_buf_puts(&b, "&state=");
        gm_url_encode(&b, req->state, "");
    }
    explicit_bzero(code, sizeof(code));
    *location = gm_buf_steal(&b);
    return *location ? 0 : -ENOMEM;
}

/* The token endpoint. */

static void oauth_error(struct oauth_token_result *ret, int status, const char *error,
                        const char *description)
{
    ret->status = status;
    ret->body = json_pack("{s:s,s:s}", "error", error, "error_description", description);
}

struct exchange {
    struct hub *hub;
    const char *client_id;
    const char *redirect_uri;
    struct oauth_token_result *ret;
};

static int on_code(void *ctx, const struct hub_oauth_code *row)
{
    struct exchange *x = ctx;
    struct hub *hub = x->hub;
    int64_t now = time_now_us() / 1000000;
    if (strcmp(row->client_id, x->client_id) != 0 || row->expires_at < now) {
        oauth_error(x->ret, 400, "invalid_grant", "The code is invalid or expired");
        return 0;
    }
    if (x->redirect_uri && strcmp(x->redirect_uri, row->redirect_uri) != 0) {
        oauth_error(x->ret, 400, "invalid_grant", "The redirect_uri does not match");
        return 0;
    }
    struct hub_user *u = NULL;
    for (size_t i = 0; i < hub->store.users.n && !u; i++) {
        struct hub_user *cand = hub->store.users.v[i];
        if (cand->id == row->user_id)
            u = cand;
    }
    json_t *scopes = json_loads(row->scopes, 0, NULL);
    if (!u || !json_is_array(scopes)) {
        json_decref(scopes);
        oauth_error(x->ret, 400, "invalid_grant", "The code's user no longer exists");
        return 0;
    }
    int64_t expires_in = hub->conf.oauth_token_expires_in
                             ? hub->conf.oauth_token_expires_in
                             : (int64_t)(hub->conf.cookie_max_age_days * 86400);
    char token[TOKEN_LENGTH + 1];
    int r = gm_random_alnum(token, TOKEN_LENGTH);
    struct store_token_spec spec = {
        .token = token,
        .rounds = AUTH_TOKEN_ROUNDS_GENERATED,
        .scopes = scopes,
        .note = "",
        .client_id = row->client_id,
        .session_id = row->session_id,
        .expires_at = expires_in > 0 ? time_now_us() + expires_in * 1000000 : 0,
    };
    if (r == 0)
        r = store_token_create(&hub->store, u, NULL, &spec, NULL, 0, NULL);
    if (r < 0) {
        json_decref(scopes);
        explicit_bzero(token, sizeof(token));
        oauth_error(x->ret, 500, "server_error", "The hub could not issue a token");
        return 0;
    }
    struct gm_buf scope_text;
    gm_buf_init(&scope_text, 65536);
    size_t i;
    json_t *s;
    json_array_foreach(scopes, i, s)
    {
        if (i)
            gm_buf_putc(&scope_text, ' ');
        gm_buf_puts(&scope_text, json_string_value(s));
    }
    json_decref(scopes);
    x->ret->status = 200;
    x->ret->body =
        json_pack("{s:s,s:s,s:I,s:s}", "access_token", token, "token_type", "Bearer", "expires_in",
                  (json_int_t)expires_in, "scope", scope_text.data ? scope_text.data : "");
    gm_buf_free(&scope_text);
    explicit_bzero(token, sizeof(token));
    gm_log_info("Issued an OAuth token to %s for %s", u->name, row->client_id);
    return 0;
}

void oauth_token_exchange(struct hub *hub, const char *client_id, const char *client_secret,
                          const char *grant_type, const char *code, const char *redirect_uri,
                          struct oauth_token_result *ret)
{
    memset(ret, 0, sizeof(*ret));
    struct hub_oauth_client *c = client_id ? store_client_find(&hub->store, client_id) : NULL;
    if (!c || !client_secret || !c->secret || !c->secret[0] ||
        !auth_token_verify(c->secret, client_secret)) {
        oauth_error(ret, 401, "invalid_client", "Client authentication failed");
        return;
    }
    if (!grant_type || strcmp(grant_type, "authorization_code") != 0) {
        oauth_error(ret, 400, "unsupported_grant_type",
                    "Only the authorization_code grant is supported");
        return;
    }
    if (!code || !code[0]) {
        oauth_error(ret, 400, "invalid_request", "Missing code");
        return;
    }
    struct exchange x = {hub, client_id, redirect_uri, ret};
    /* A code is good for one exchange, successful or not. */
    struct hub_oauth_code *taken = store_oauth_code_take(&hub->store, code);
    if (!taken) {
        oauth_error(ret, 400, "invalid_grant", "The code is invalid or expired");
        return;
    }
    on_code(&x, taken);
    store_oauth_code_free(taken);
}
