/* A login once the provider sent the browser back with a code (oauthenticator's
 * get_authenticated_user): exchange the code for tokens, verify the id_token, ask for the
 * user info, let the module check the user, then hand the hub's login pipeline the name,
 * groups, admin flag, auth_state and the allow verdict of OAuthenticator's rules. Each step is
 * one request to the provider; any failure ends the login with a message for the user. */
#include "auth/oauth2_impl.h"
#include "auth/authenticator.h"
#include "auth/usernames.h"
#include "core/hub.h"
#include <ganymede/buf.h>
#include <ganymede/encode.h>
#include <ganymede/json.h>
#include "util/str.h"
#include <ganymede/strv.h>

#include <errno.h>
#include <stdarg.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_TOKEN_LEEWAY_S 60

struct oauth2_login {
    struct oauth2_client *c;
    gm_authenticate_cb cb;
    void *cb_data;
    char *code, *redirect_uri, *code_verifier, *nonce;
    json_t *token_response;              /* the token endpoint's answer */
    const char *access_token, *id_token; /* in token_response */
    char *authorization;                 /* "Authorization: Bearer ..." */
    char **granted;                      /* granted scopes */
    json_t *id_claims;                   /* a verified id_token's claims */
    json_t *user_info;

    /* A refresh (oauth2_refresh) instead of a login. */
    bool refreshing;
    bool refresh_granted;       /* the refresh grant was used */
    char *old_refresh_token;    /* kept when the provider does not send a new one */
    char *refresh_name;         /* the user's name (admin_users) */
    struct oauth2_refresh *ref; /* the caller's handle */
};

struct oauth2_refresh {
    gm_refresh_cb cb; /* NULL once cancelled */
    void *data;
};

static void login_free(struct oauth2_login *l)
{
    free(l->old_refresh_token);
    free(l->refresh_name);
    free(l->ref);
    free(l->code);
    free(l->redirect_uri);
    free(l->code_verifier);
    free(l->nonce);
    json_decref(l->token_response);
    free(l->authorization);
    gm_strv_free_array(l->granted);
    json_decref(l->id_claims);
    json_decref(l->user_info);
    free(l);
}

/* Ends: a failure of the provider or the hub (status < 0), a refusal (status 0, no result), or
 * a result. Each frees the login. */
static void end(struct oauth2_login *l, int status, json_t *result, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void end(struct oauth2_login *l, int status, json_t *result, const char *fmt, ...)
{
    char msg[700] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (status != -ECANCELED)
            gm_log_warn("OAuth login failed: %s", msg);
    }
    if (l->refreshing) {
        /* A refresh that did not work means: log in again. */
        if (l->ref->cb)
            l->ref->cb(l->ref->data, status == 0 && !result ? -EACCES : status, result,
                       fmt ? msg : NULL);
        json_decref(result);
    } else {
        l->cb(l->cb_data, status, result, fmt ? msg : NULL);
    }
    login_free(l);
}

/* Step 5: the result, after OAuthenticator's rules and the module's verdict. */

static bool any_in(const json_t *names, char *const *list)
{
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        for (char *const *p = list; p && *p; p++)
            if (strcmp(json_string_value(n), *p) == 0)
                return true;
    }
    return false;
}

int oauth2_spawn_env(const struct oauth2_client *c, const json_t *auth_state, struct gm_strv *env)
{
    const char *name;
    json_t *path;
    json_object_foreach(c->conf->auth_state_env, name, path)
    {
        const json_t *v = gm_json_at(auth_state, json_string_value(path));
        if (json_is_string(v) && gm_strv_setenv(env, name, json_string_value(v)) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* The user's groups from auth_state, sorted and unique (oauthenticator's get_user_groups). */
static json_t *user_groups(struct oauth2_login *l, const json_t *auth_state)
{
    const json_t *v = gm_json_at(auth_state, l->c->conf->auth_state_groups_key);
    json_t *list[512];
    size_t n = 0;
    if (json_is_string(v)) {
        list[n++] = (json_t *)v;
    } else if (json_is_array(v)) {
        size_t i;
        json_t *g;
        json_array_foreach(v, i, g)
        {
            if (json_is_string(g) && n < sizeof(list) / sizeof(list[0]))
                list[n++] = g;
        }
    }
    qsort(list, n, sizeof(list[0]), compare_names);
    json_t *out = json_array();
    for (size_t i = 0; out && i < n; i++)
        if (i == 0 || compare_names(&list[i - 1], &list[i]) != 0)
            json_array_append(out, list[i]);
    return out;
}

static bool all_granted(struct oauth2_login *l)
{
    char *const *want = l->c->conf->allowed_scopes;
    if (!want || !want[0])
        return false;
    for (char *const *p = want; *p; p++)
        if (!gm_oauth2_has_scope((const char *const *)l->granted, *p))
            return false;
    return true;
}

/* The user's admin flag and groups as OAuthenticator derives them, into @result: admin_users
 * (names as the core normalises them), then, with manage_groups, the groups from auth_state and
 * admin_groups. @in_allowed_group says whether one of them is in allowed_groups. */
static int groups_and_admin(struct oauth2_login *l, const char *name, const json_t *auth_state,
                            json_t *result, bool *admin, bool *in_allowed_group)
{
    struct hub *hub = l->c->hub;
    const struct gm_oauth2_config *k = l->c->conf;
    char norm[4 * AUTH_USERNAME_MAX + 4] = "";
    bool admin_user = false;
    if (name && auth_username_normalize(hub->usernames, name, norm, sizeof(norm)) == 0)
        for (char *const *p = hub->admin_names; p && *p && !admin_user; p++)
            admin_user = strcmp(*p, norm) == 0;
    *admin = admin_user;
    *in_allowed_group = false;
    if (!hub->auth->manage_groups)
        return 0;
    json_t *groups = user_groups(l, auth_state);
    if (!groups)
        return -ENOMEM;
    if (k->admin_groups && k->admin_groups[0] && !admin_user) {
        *admin = any_in(groups, k->admin_groups);
        json_object_set_new(result, "admin", json_boolean(*admin));
    }
    *in_allowed_group = any_in(groups, k->allowed_groups);
    return json_object_set_new(result, "groups", groups) < 0 ? -ENOMEM : 0;
}

static void finish(struct oauth2_login *l, const char *name, json_t *auth_state, int module_allowed)
{
    json_t *result = json_pack("{s:s, s:O}", "name", name, "auth_state", auth_state);
    bool admin, in_allowed_group;
    if (!result || groups_and_admin(l, name, auth_state, result, &admin, &in_allowed_group) < 0) {
        json_decref(result);
        end(l, -ENOMEM, NULL, "out of memory");
        return;
    }
    /* OAuthenticator.check_allowed: allowed_scopes, (allow_all,) admins, (allowed_users,)
     * allowed_groups, then the module's rule; the core adds allow_all and allowed_users. */
    if (module_allowed > 0 || admin || all_granted(l) || in_allowed_group)
        json_object_set_new(result, "allowed", json_true());
    end(l, 0, result, NULL);
}

/* Step 4: the user's name and auth_state; the module's own checks. */

struct verdict_wait {
    struct oauth2_login *l;
    json_t *auth_state;
    char *name;
};

static void on_module_verdict(void *data, const struct gm_oauth2_verdict *v)
{
    struct verdict_wait *w = data;
    struct oauth2_login *l = w->l;
    if (v->status < 0)
        end(l, v->status, NULL, "%s",
            v->message ? v->message : "the identity provider did not answer as expected");
    else if (v->allowed < 0)
        end(l, 0, NULL, "%s", v->message ? v->message : l->c->conf->custom_403_message);
    else if (!v->name && !w->name)
        end(l, -EINVAL, NULL,
            "the identity provider's user info has no \"%s\" field (username_claim)",
            l->c->username_claim);
    else
        finish(l, v->name ? v->name : w->name, w->auth_state, v->allowed);
    json_decref(w->auth_state);
    free(w->name);
    free(w);
}

static json_t *scope_json(char **scope)
{
    json_t *a = json_array();
    for (char **p = scope; a && p && *p; p++)
        json_array_append_new(a, json_string(*p));
    return a;
}

static void have_user(struct oauth2_login *l)
{
    struct oauth2_client *c = l->c;
    const json_t *claim = json_object_get(l->user_info, c->username_claim);
    char num[32];
    const char *name = json_string_value(claim);
    if (json_is_integer(claim)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(claim));
        name = num;
    }
    if (name && !name[0])
        name = NULL;
    if (!name && !c->provider->check_user) {
        end(l, -EINVAL, NULL,
            "the identity provider's user info has no \"%s\" field (username_claim)",
            c->username_claim);
        return;
    }
    const json_t *tr = l->token_response;
    json_t *refresh = json_object_get(tr, "refresh_token");
    json_t *auth_state =
        json_pack("{s:s, s:O, s:O, s:o, s:O, s:O}", "access_token", l->access_token,
                  "refresh_token", refresh ? refresh : json_null(), "id_token",
                  l->id_token ? json_object_get(tr, "id_token") : json_null(), "scope",
                  scope_json(l->granted), "token_response", tr, c->user_key, l->user_info);
    if (l->refreshing) {
        /* As at login, the groups and admin_groups follow the refreshed user info. */
        json_t *result = auth_state ? json_pack("{s:o}", "auth_state", auth_state) : NULL;
        bool admin, in_allowed_group;
        if (!result || groups_and_admin(l, l->refresh_name, auth_state, result, &admin,
                                        &in_allowed_group) < 0) {
            json_decref(result);
            end(l, -ENOMEM, NULL, "out of memory");
        } else {
            end(l, 0, result, NULL);
        }
        return;
    }
    struct verdict_wait *w = calloc(1, sizeof(*w));
    if (!auth_state || !w || (name && !(w->name = strdup(name)))) {
        json_decref(auth_state);
        free(w);
        end(l, -ENOMEM, NULL, "out of memory");
        return;
    }
    w->l = l;
    w->auth_state = auth_state;
    if (!c->provider->check_user) {
        struct gm_oauth2_verdict v = {0};
        on_module_verdict(w, &v);
        return;
    }
    struct gm_oauth2_user u = {
        .user_info = l->user_info,
        .token_response = tr,
        .access_token = l->access_token,
        .authorization = l->authorization,
        .granted_scope = (const char *const *)l->granted,
        .auth_state = auth_state,
        .name = w->name,
    };
    int r = c->provider->check_user(c->module_state, c->host, &u, on_module_verdict, w);
    if (r < 0) {
        json_decref(auth_state);
        free(w->name);
        free(w);
        end(l, r, NULL, "the identity provider could not be asked about the user");
    }
}

static int refresh_grant(struct oauth2_login *l);

/* Step 3: the user info. */

static void on_userinfo(void *data, int status, int http, const json_t *json, const char *message)
{
    struct oauth2_login *l = data;
    if (status < 0) {
        end(l, status, NULL, "the identity provider's user info request failed: %s", message);
        return;
    }
    if (l->refreshing && http >= 400 && http < 500) {
        /* The access token expired: the refresh token gets a new one, once. */
        if (l->old_refresh_token && !l->refresh_granted) {
            int r = refresh_grant(l);
            if (r < 0)
                end(l, r, NULL, "cannot ask the identity provider for a new token");
            return;
        }
        end(l, 0, NULL, "the identity provider no longer accepts this login's token");
        return;
    }
    if (http != 200 || !json_is_object(json)) {
        end(l, -EPROTO, NULL,
            "the identity provider's user info endpoint answered HTTP %d without a user", http);
        return;
    }
    /* OpenID Connect Core 5.3.2: the user info must be about the id_token's subject. */
    const char *sub = json_string_value(json_object_get(l->id_claims, "sub"));
    const char *usub = json_string_value(json_object_get(json, "sub"));
    if (sub && usub && strcmp(sub, usub) != 0) {
        end(l, 0, NULL,
            "The identity provider's user info is about another user than its "
            "id_token.");
        return;
    }
    l->user_info = json_incref((json_t *)json);
    have_user(l);
}

static int userinfo_request(struct oauth2_login *l)
{
    struct oauth2_client *c = l->c;
    struct gm_buf url;
    gm_buf_init(&url, 16384);
    int r = gm_buf_puts(&url, c->userdata_url);
    bool has_query = strchr(c->userdata_url, '?') != NULL;
    json_t *params = json_copy(c->conf->userdata_params);
    if (!params)
        r = -ENOMEM;
    else if (strcmp(c->conf->userdata_token_method, "url") == 0)
        json_object_set_new(params, "access_token", json_string(l->access_token));
    if (r == 0 && json_object_size(params)) {
        r = gm_buf_putc(&url, has_query ? '&' : '?');
        if (r == 0)
            r = oauth2_append_params(&url, params, true);
    }
    json_decref(params);
    const char *headers[] = {l->authorization, NULL};
    if (r == 0)
        r = oauth2_call(c, "GET", url.data, headers, NULL, on_userinfo, l);
    gm_buf_free(&url);
    return r;
}

static void after_id_token(struct oauth2_login *l)
{
    struct oauth2_client *c = l->c;
    if (c->conf->userdata_from_id_token || (!c->userdata_url && l->id_claims)) {
        if (!l->id_claims) {
            end(l, -EPROTO, NULL, "the identity provider returned no id_token");
            return;
        }
        l->user_info = json_incref(l->id_claims);
        have_user(l);
        return;
    }
    if (!c->userdata_url) {
        end(l, -EINVAL, NULL, "no user info endpoint is known (userdata_url)");
        return;
    }
    int r = userinfo_request(l);
    if (r < 0)
        end(l, r, NULL, "cannot ask the identity provider for the user info");
}

/* Step 2: the id_token, verified against the provider's keys when they are known. */

static void id_token_checked(struct oauth2_login *l, int r, json_t *claims, const char *why)
{
    struct oauth2_client *c = l->c;
    char msg[GM_JWT_WHY_MAX] = "";
    if (r == 0) {
        struct gm_jwt_expect e = {
            /* Without keys, oauthenticator's unverified mode checks aud and exp only. */
            .issuer = c->jwks ? c->issuer : NULL,
            .audience = c->conf->client_id,
            .nonce = l->nonce,
            .leeway = ID_TOKEN_LEEWAY_S,
            .require_exp = true,
        };
        r = gm_jwt_check_claims(claims, &e, msg, sizeof(msg));
        why = msg;
    }
    switch (r) {
    case 0:
        l->id_claims = json_incref(claims);
        after_id_token(l);
        return;
    case -ENOKEY:
        end(l, 0, NULL,
            "The identity provider's id_token is signed by a key it does not publish (%s).", why);
        return;
    case -E2BIG:
    case -EBADMSG:
    case -ENOTSUP:
    case -EKEYREJECTED:
    case -EACCES:
    case -EINVAL:
        end(l, 0, NULL, "The identity provider's id_token is not valid: %s.", why);
        return;
    default: /* the key set could not be fetched */
        end(l, r, NULL, "%s", why && why[0] ? why : "no signing keys");
    }
}

static void on_id_token_verified(void *data, int status, json_t *header, json_t *claims,
                                 const char *why)
{
    id_token_checked(data, status, claims, why);
}

static void verify_id_token(struct oauth2_login *l)
{
    struct oauth2_client *c = l->c;
    char why[GM_JWT_WHY_MAX] = "";
    json_t *claims = NULL;
    int r = c->jwks ? gm_jwks_cache_verify(c->jwks, l->id_token, on_id_token_verified, l, NULL,
                                           NULL, &claims, why, sizeof(why))
                    : gm_jwt_peek(l->id_token, NULL, &claims, why, sizeof(why));
    if (r == GM_JWKS_PENDING)
        return;
    id_token_checked(l, r, claims, why);
    json_decref(claims);
}

/* Step 1: the code for tokens. */

static char **granted_scope(struct oauth2_login *l)
{
    struct gm_strv s = {0};
    const json_t *v = json_object_get(l->token_response, "scope");
    int r = 0;
    if (json_is_string(v)) {
        const char *p = json_string_value(v);
        while (r == 0 && *p) {
            size_t n = strcspn(p, " ,");
            if (n) {
                char *one = str_ndup(p, n);
                r = one ? gm_strv_push(&s, one) : -ENOMEM;
                free(one);
            }
            p += n + (p[n] != '\0');
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (r == 0 && json_is_string(x))
                r = gm_strv_push(&s, json_string_value(x));
        }
    } else {
        r = gm_strv_extend(&s, (const char *const *)l->c->scope);
    }
    char **out = r == 0 ? gm_strv_steal(&s) : NULL;
    gm_strv_free(&s);
    return out;
}

/* The Authorization header and granted scopes of l->token_response and l->access_token (a
 * token_type of "bearer" in any case is "Bearer", as oauthenticator sends it). */
static int use_token_response(struct oauth2_login *l)
{
    const char *type = json_string_value(json_object_get(l->token_response, "token_type"));
    if (!type || str_eq_ci(type, "bearer"))
        type = "Bearer";
    struct gm_buf h;
    gm_buf_init(&h, 64 << 10);
    gm_buf_printf(&h, "Authorization: %s %s", type, l->access_token);
    free(l->authorization);
    l->authorization = gm_buf_steal(&h);
    gm_strv_free_array(l->granted);
    l->granted = granted_scope(l);
    return l->authorization && l->granted ? 0 : -ENOMEM;
}

static void on_token(void *data, int status, int http, const json_t *json, const char *message)
{
    struct oauth2_login *l = data;
    if (status < 0) {
        end(l, status, NULL, "the identity provider's token request failed: %s", message);
        return;
    }
    const char *error = json_string_value(json_object_get(json, "error"));
    const char *desc = json_string_value(json_object_get(json, "error_description"));
    if (error || desc) {
        end(l, 0, NULL, "An access token was not returned: %s", desc ? desc : error);
        return;
    }
    const char *token = json_string_value(json_object_get(json, "access_token"));
    if (http != 200 || !token || !token[0]) {
        end(l, -EPROTO, NULL, "the identity provider answered HTTP %d without an access token",
            http);
        return;
    }
    json_decref(l->token_response);
    l->token_response = json_incref((json_t *)json);
    if (l->old_refresh_token && !json_object_get(json, "refresh_token"))
        json_object_set_new(l->token_response, "refresh_token", json_string(l->old_refresh_token));
    l->access_token = token;
    if (use_token_response(l) < 0) {
        end(l, -ENOMEM, NULL, "out of memory");
        return;
    }
    l->id_token = json_string_value(json_object_get(json, "id_token"));
    json_decref(l->id_claims);
    l->id_claims = NULL;
    json_decref(l->user_info);
    l->user_info = NULL;
    if (l->id_token && (l->c->jwks_url || l->c->conf->userdata_from_id_token)) {
        verify_id_token(l);
        return;
    }
    after_id_token(l);
}

/* POST the token endpoint with @form (stolen) plus the client's credentials. */
static int token_request(struct oauth2_login *l, json_t *form)
{
    struct oauth2_client *c = l->c;
    const struct gm_oauth2_config *k = c->conf;
    if (!form)
        return -ENOMEM;
    if (!k->basic_auth) {
        json_object_set_new(form, "client_id", json_string(k->client_id));
        json_object_set_new(form, "client_secret", json_string(k->client_secret));
    }
    json_object_update(form, k->token_params);
    struct gm_buf body, basic, creds;
    gm_buf_init(&body, 64 << 10);
    gm_buf_init(&basic, 8192);
    gm_buf_init(&creds, 8192);
    int r = oauth2_append_params(&body, form, true);
    json_decref(form);
    if (r == 0 && k->basic_auth) {
        r = gm_buf_printf(&creds, "%s:%s", k->client_id, k->client_secret);
        if (r == 0)
            r = gm_buf_puts(&basic, "Authorization: Basic ");
        if (r == 0)
            r = gm_base64url_encode(&basic, creds.data, creds.len, true);
        /* Basic auth takes the standard alphabet. */
        for (size_t i = 0; r == 0 && i < basic.len; i++)
            basic.data[i] = basic.data[i] == '-' ? '+' : basic.data[i] == '_' ? '/' : basic.data[i];
    }
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8",
                             k->basic_auth ? basic.data : NULL, NULL};
    if (r == 0)
        r = oauth2_call(c, "POST", c->token_url, headers, body.data ? body.data : "", on_token, l);
    if (creds.data)
        explicit_bzero(creds.data, creds.len);
    gm_buf_free(&creds);
    gm_buf_free(&basic);
    gm_buf_free(&body);
    return r;
}

static int code_grant(struct oauth2_login *l)
{
    json_t *form = json_pack("{s:s, s:s, s:s}", "code", l->code, "grant_type", "authorization_code",
                             "redirect_uri", l->redirect_uri);
    if (form && l->code_verifier)
        json_object_set_new(form, "code_verifier", json_string(l->code_verifier));
    return token_request(l, form);
}

static int refresh_grant(struct oauth2_login *l)
{
    l->refresh_granted = true;
    return token_request(l, json_pack("{s:s, s:s}", "grant_type", "refresh_token", "refresh_token",
                                      l->old_refresh_token));
}

static char *field(const json_t *data, const char *name)
{
    const char *v = json_string_value(json_object_get(data, name));
    return v && v[0] ? strdup(v) : NULL;
}

int oauth2_authenticate(struct oauth2_client *c, const json_t *data, gm_authenticate_cb cb,
                        void *cb_data)
{
    if (!json_string_value(json_object_get(data, "code")) ||
        !json_string_value(json_object_get(data, "redirect_uri")))
        return -EINVAL; /* not an OAuth callback (e.g. a password sent to the token API) */
    struct oauth2_login *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->c = c;
    l->cb = cb;
    l->cb_data = cb_data;
    l->code = field(data, "code");
    l->redirect_uri = field(data, "redirect_uri");
    l->code_verifier = field(data, "code_verifier");
    l->nonce = field(data, "nonce");
    int r = l->code && l->redirect_uri ? code_grant(l) : -EINVAL;
    if (r < 0) {
        login_free(l);
        return r;
    }
    return 0;
}

/* Refresh: oauthenticator 17.2's refresh_user. The stored access token is tried on the user
 * info endpoint; if the provider refuses it and there is a refresh token, a new access token
 * is obtained and the user info asked again. Without a user info endpoint, the refresh token
 * is used directly (a new id_token). */
int oauth2_refresh(struct oauth2_client *c, const char *name, const json_t *auth_state,
                   gm_refresh_cb cb, void *data, struct oauth2_refresh **ret)
{
    const json_t *tr = json_object_get(auth_state, "token_response");
    const char *access = json_string_value(json_object_get(auth_state, "access_token"));
    const char *refresh = json_string_value(json_object_get(auth_state, "refresh_token"));
    bool with_userinfo = c->userdata_url && !c->conf->userdata_from_id_token;
    if (!json_is_object(tr) || !access || (!with_userinfo && !refresh))
        return -ENOENT; /* nothing to refresh: the login stands */
    struct oauth2_login *l = calloc(1, sizeof(*l));
    struct oauth2_refresh *ref = calloc(1, sizeof(*ref));
    if (!l || !ref) {
        free(l);
        free(ref);
        return -ENOMEM;
    }
    l->c = c;
    l->refreshing = true;
    l->ref = ref;
    ref->cb = cb;
    ref->data = data;
    l->old_refresh_token = refresh ? strdup(refresh) : NULL;
    l->refresh_name = strdup(name);
    l->token_response = json_deep_copy(tr);
    int r =
        l->token_response && l->refresh_name && (!refresh || l->old_refresh_token) ? 0 : -ENOMEM;
    if (r == 0) {
        json_object_set_new(l->token_response, "access_token", json_string(access));
        l->access_token = json_string_value(json_object_get(l->token_response, "access_token"));
        l->id_token = json_string_value(json_object_get(l->token_response, "id_token"));
        r = use_token_response(l);
    }
    if (r < 0) {
        login_free(l);
        return r;
    }
    /* The user info with the stored token, or straight to the refresh grant. */
    r = with_userinfo ? userinfo_request(l) : refresh_grant(l);
    if (r < 0) {
        login_free(l);
        return r;
    }
    *ret = ref;
    return 0;
}

void oauth2_refresh_cancel(struct oauth2_refresh *ref)
{
    if (ref)
        ref->cb = NULL;
}
