/* The OAuth client's setup: endpoints from the settings, the module and OpenID discovery; the
 * provider's signing keys; JSON requests to the provider; the authorization and logout URLs. */
#include "auth/login.h"
#include "auth/authenticator.h"
#include "auth/oauth2_impl.h"
#include "core/hub.h"
#include <ganymede/buf.h>
#include <ganymede/encode.h>
#include "util/str.h"
#include <ganymede/strv.h>
#include "util/time.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYS_MIN_INTERVAL_MS 5000 /* refetch the JWKS at most this often */
#define MAX_RESPONSE         (1 << 20)
#define USER_AGENT           "User-Agent: Ganymede (JupyterHub-compatible)"
#define SEEN_STATES          4096

struct oauth2_call {
    struct oauth2_client *c;
    struct gm_fetch *fetch;
    char *url; /* for messages */
    oauth2_call_cb cb;
    void *data;
    struct oauth2_call *next;
};

bool gm_oauth2_has_scope(const char *const *scope, const char *want)
{
    for (const char *const *s = scope; s && *s; s++)
        if (strcmp(*s, want) == 0)
            return true;
    return false;
}

static const char *pick(const char *a, const char *b)
{
    return a && a[0] ? a : b;
}

static char *dup_or_null(const char *s)
{
    return s && s[0] ? strdup(s) : NULL;
}

/* JSON requests. */

static void unlink_call(struct oauth2_call *call)
{
    for (struct oauth2_call **p = &call->c->calls; *p; p = &(*p)->next)
        if (*p == call) {
            *p = call->next;
            break;
        }
}

/* "127.0.0.1:19050" from a URL, for messages. */
static void url_host(const char *url, char *out, size_t outlen)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/?#");
    snprintf(out, outlen, "%.*s", (int)(n < 200 ? n : 200), p);
}

static void on_call(void *data, const struct gm_fetch_response *resp)
{
    struct oauth2_call *call = data;
    unlink_call(call);
    char host[256], msg[512];
    url_host(call->url, host, sizeof(host));
    json_t *json = NULL;
    int status = 0;
    if (resp->error) {
        status = resp->error;
        snprintf(msg, sizeof(msg), "%s did not answer: %s", host,
                 resp->error == -ETIMEDOUT ? "timed out" : resp->message);
    } else if (resp->status >= 500) {
        status = -EPROTO;
        snprintf(msg, sizeof(msg), "%s failed (HTTP %d)", host, resp->status);
    } else if (resp->body_len > 0) {
        json = json_loadb(resp->body, resp->body_len, 0, NULL);
        if (!json) {
            status = -EBADMSG;
            snprintf(msg, sizeof(msg), "%s answered HTTP %d with something that is not JSON", host,
                     resp->status);
        }
    }
    if (status == 0 && !json && resp->status >= 400) {
        status = -EPROTO;
        snprintf(msg, sizeof(msg), "%s refused the request (HTTP %d)", host, resp->status);
    }
    call->cb(call->data, status, resp->status, json, status < 0 ? msg : "");
    json_decref(json);
    free(call->url);
    free(call);
}

int oauth2_call(struct oauth2_client *c, const char *method, const char *url,
                const char *const *headers, const char *body, oauth2_call_cb cb, void *data)
{
    struct gm_strv h = {0};
    int r = gm_strv_push(&h, "Accept: application/json");
    if (r == 0)
        r = gm_strv_push(&h, USER_AGENT);
    for (const char *const *p = headers; r == 0 && p && *p; p++)
        r = gm_strv_push(&h, *p);
    struct oauth2_call *call = calloc(1, sizeof(*call));
    if (r < 0 || !call || !(call->url = strdup(url))) {
        gm_strv_free(&h);
        free(call);
        return -ENOMEM;
    }
    call->c = c;
    call->cb = cb;
    call->data = data;
    struct gm_fetch_request req = {
        .method = method,
        .url = url,
        .headers = (const char *const *)gm_strv_get(&h),
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .timeout_ms = c->timeout_ms,
        .connect_timeout_ms = c->connect_timeout_ms,
        .max_response = MAX_RESPONSE,
        .ca_file = c->ca_file,
        .insecure = c->insecure,
    };
    r = c->hub->fetcher ? gm_fetch_start(c->hub->fetcher, &req, on_call, call, &call->fetch)
                        : -ESHUTDOWN;
    gm_strv_free(&h);
    if (r < 0) {
        free(call->url);
        free(call);
        return r;
    }
    call->next = c->calls;
    c->calls = call;
    return 0;
}

/* Keys: a <ganymede/jwt.h> cache of the JWKS, with the provider's request settings. A fetch
 * because a token named an unknown key happens at most every few seconds, so that forged
 * tokens cannot make the hub hammer the provider. */

static int make_jwks(struct oauth2_client *c)
{
    if (c->jwks || !c->jwks_url)
        return 0;
    struct gm_jwks_cache_config conf = {
        .url = c->jwks_url,
        .refetch_interval_ms = KEYS_MIN_INTERVAL_MS,
        .timeout_ms = c->timeout_ms,
        .connect_timeout_ms = c->connect_timeout_ms,
        .ca_file = c->ca_file,
        .insecure = c->insecure,
    };
    return gm_jwks_cache_new(c->host, &conf, &c->jwks);
}

/* OpenID discovery. */

static void set_if_unset(char **field, const json_t *doc, const char *key)
{
    const char *v = json_string_value(json_object_get(doc, key));
    if (!*field && v && (str_has_prefix(v, "https://") || str_has_prefix(v, "http://")))
        *field = strdup(v);
}

static bool same_issuer(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    while (na && a[na - 1] == '/')
        na--;
    while (nb && b[nb - 1] == '/')
        nb--;
    return na == nb && strncmp(a, b, na) == 0;
}

static void on_discovery(void *data, int status, int http, const json_t *doc, const char *message)
{
    struct oauth2_client *c = data;
    c->discovering = false;
    const char *iss = json_string_value(json_object_get(doc, "issuer"));
    if (status == 0 && (http != 200 || !json_is_object(doc)))
        snprintf(c->discovery_error, sizeof(c->discovery_error),
                 "the identity provider's OpenID configuration (discovery) at %s could not be "
                 "read (HTTP %d)",
                 c->conf->oidc_issuer, http);
    else if (status < 0)
        snprintf(c->discovery_error, sizeof(c->discovery_error),
                 "the identity provider's OpenID configuration (discovery) could not be "
                 "fetched: %s",
                 message);
    else if (!iss || !same_issuer(iss, c->conf->oidc_issuer))
        snprintf(c->discovery_error, sizeof(c->discovery_error),
                 "the OpenID configuration at %s names another issuer (%s)", c->conf->oidc_issuer,
                 iss ? iss : "none");
    else
        c->discovery_error[0] = '\0';
    if (c->discovery_error[0]) {
        if (status != -ECANCELED)
            gm_log_warn("OAuth: %s", c->discovery_error);
        return;
    }
    free(c->issuer);
    c->issuer = strdup(iss);
    set_if_unset(&c->authorize_url, doc, "authorization_endpoint");
    set_if_unset(&c->token_url, doc, "token_endpoint");
    if (!c->conf->userdata_from_id_token)
        set_if_unset(&c->userdata_url, doc, "userinfo_endpoint");
    set_if_unset(&c->jwks_url, doc, "jwks_uri");
    set_if_unset(&c->end_session_url, doc, "end_session_endpoint");
    if (!c->issuer || !c->authorize_url || !c->token_url) {
        snprintf(c->discovery_error, sizeof(c->discovery_error),
                 "the OpenID configuration of %s lacks an authorization or token endpoint",
                 c->conf->oidc_issuer);
        gm_log_warn("OAuth: %s", c->discovery_error);
        return;
    }
    if (make_jwks(c) < 0) {
        snprintf(c->discovery_error, sizeof(c->discovery_error),
                 "the OpenID configuration of %s has an unusable jwks_uri", c->conf->oidc_issuer);
        gm_log_warn("OAuth: %s", c->discovery_error);
        return;
    }
    c->discovered = true;
    gm_log_info("OAuth: discovered the endpoints of %s", c->issuer);
    if (c->jwks && gm_jwks_cache_prefetch(c->jwks) < 0)
        gm_log_warn("OAuth: cannot fetch the provider's key set from %s", c->jwks_url);
}

static int discover(struct oauth2_client *c)
{
    struct gm_buf url;
    gm_buf_init(&url, 4096);
    size_t n = strlen(c->conf->oidc_issuer);
    while (n && c->conf->oidc_issuer[n - 1] == '/')
        n--;
    gm_buf_printf(&url, "%.*s/.well-known/openid-configuration", (int)n, c->conf->oidc_issuer);
    int r = url.data ? oauth2_call(c, "GET", url.data, NULL, NULL, on_discovery, c) : -ENOMEM;
    gm_buf_free(&url);
    if (r == 0)
        c->discovering = true;
    return r;
}

int oauth2_ready(struct oauth2_client *c, const char **why)
{
    if (!c->conf->oidc_issuer[0] || c->discovered)
        return 0;
    if (!c->discovering && discover(c) < 0)
        snprintf(c->discovery_error, sizeof(c->discovery_error), "out of memory");
    *why = c->discovery_error[0] ? c->discovery_error
                                 : "the identity provider's configuration is being loaded";
    return -EAGAIN;
}

/* Setup. */

static int scope_list(struct oauth2_client *c, const struct gm_oauth2_endpoints *e)
{
    struct gm_strv s = {0};
    int r = 0;
    if (c->conf->scope && c->conf->scope[0])
        for (char **p = c->conf->scope; r == 0 && *p; p++)
            r = gm_strv_push(&s, *p);
    else
        for (const char *const *p = e->scope; r == 0 && p && *p; p++)
            r = gm_strv_push(&s, *p);
    for (const char *const *p = e->required_scope; r == 0 && p && *p; p++)
        if (!gm_oauth2_has_scope((const char *const *)gm_strv_get(&s), *p))
            r = gm_strv_push(&s, *p);
    char **list = r == 0 ? gm_strv_steal(&s) : NULL;
    gm_strv_free(&s);
    if (!list)
        return -ENOMEM;
    c->scope = list;
    return 0;
}

static int check_settings(struct oauth2_client *c, const char *cls, char *err, size_t errlen)
{
    const struct gm_oauth2_config *k = c->conf;
    struct hub *hub = c->hub;
    if (!k->client_id[0]) {
        snprintf(err, errlen, "%s.client_id is not set (nor OAUTH_CLIENT_ID)", cls);
        return -EINVAL;
    }
    if (!k->oidc_issuer[0] && (!c->authorize_url || !c->token_url)) {
        snprintf(err, errlen,
                 "%s needs authorize_url and token_url, or oidc_issuer to discover them", cls);
        return -EINVAL;
    }
    if (!k->oidc_issuer[0] && !c->userdata_url && !k->userdata_from_id_token) {
        snprintf(err, errlen, "%s needs userdata_url, or userdata_from_id_token = True", cls);
        return -EINVAL;
    }
    if (k->userdata_from_id_token && k->userdata_url[0]) {
        snprintf(err, errlen, "%s: userdata_url and userdata_from_id_token exclude each other",
                 cls);
        return -EINVAL;
    }
    bool groups = (k->allowed_groups && k->allowed_groups[0]) ||
                  (k->admin_groups && k->admin_groups[0]) || k->auth_state_groups_key[0];
    if (groups && !hub->auth->manage_groups) {
        snprintf(err, errlen,
                 "%s.allowed_groups, admin_groups and auth_state_groups_key need "
                 "Authenticator.manage_groups = True",
                 cls);
        return -EINVAL;
    }
    if (hub->auth->manage_groups && !k->auth_state_groups_key[0]) {
        snprintf(err, errlen,
                 "Authenticator.manage_groups needs %s.auth_state_groups_key (where the groups "
                 "are, e.g. \"oauth_user.groups\")",
                 cls);
        return -EINVAL;
    }
    return 0;
}

long gm_oauth2_timeout_ms(const struct gm_oauth2_config *c)
{
    json_t *t = json_object_get(c->http_request_kwargs, "request_timeout");
    return t ? (long)(json_number_value(t) * 1000) : 10000;
}

long gm_oauth2_connect_timeout_ms(const struct gm_oauth2_config *c)
{
    json_t *t = json_object_get(c->http_request_kwargs, "connect_timeout");
    long ms = t ? (long)(json_number_value(t) * 1000) : 5000;
    long all = gm_oauth2_timeout_ms(c);
    return ms < all ? ms : all;
}

static void request_settings(struct oauth2_client *c)
{
    const json_t *kw = c->conf->http_request_kwargs;
    c->timeout_ms = gm_oauth2_timeout_ms(c->conf);
    c->connect_timeout_ms = gm_oauth2_connect_timeout_ms(c->conf);
    c->ca_file = json_string_value(json_object_get(kw, "ca_certs"));
    const char *env = getenv("OAUTH_TLS_VERIFY");
    c->insecure = !c->conf->validate_server_cert ||
                  json_is_false(json_object_get(kw, "validate_cert")) || str_eq(env, "0");
}

int oauth2_client_create(struct hub *hub, struct oauth2_client **ret, char *err, size_t errlen)
{
    const struct gm_authenticator *a = hub->authenticator;
    const char *cls = a->options ? a->options->name : "OAuthenticator";
    struct oauth2_client *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->hub = hub;
    c->host = &hub->host;
    c->provider = a->oauth2;
    c->module_state = hub->authenticator_state;
    c->conf = hub->authenticator_conf;
    struct gm_oauth2_endpoints e = {0};
    int r = c->provider->endpoints ? c->provider->endpoints(c->module_state, &e, err, errlen) : 0;
    if (r < 0) {
        oauth2_client_free(c);
        return r;
    }
    const struct gm_oauth2_config *k = c->conf;
    c->authorize_url = dup_or_null(pick(k->authorize_url, e.authorize_url));
    c->token_url = dup_or_null(pick(k->token_url, e.token_url));
    c->userdata_url = dup_or_null(pick(k->userdata_url, e.userdata_url));
    c->jwks_url = dup_or_null(pick(k->jwks_url, e.jwks_url));
    c->issuer = dup_or_null(pick(k->oidc_issuer, e.issuer));
    c->logout_url = dup_or_null(pick(k->logout_redirect_url, e.logout_url));
    c->username_claim = strdup(pick(k->username_claim, pick(e.username_claim, "username")));
    c->login_service = strdup(pick(k->login_service, pick(e.login_service, "OAuth 2.0")));
    c->user_key = strdup(pick(e.user_auth_state_key, "oauth_user"));
    if (!c->username_claim || !c->login_service || !c->user_key || scope_list(c, &e) < 0) {
        oauth2_client_free(c);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    r = check_settings(c, cls, err, errlen);
    if (r < 0) {
        oauth2_client_free(c);
        return r;
    }
    request_settings(c);
    r = make_jwks(c);
    if (r < 0) {
        oauth2_client_free(c);
        snprintf(err, errlen, "%s.jwks_url must be an http:// or https:// URL", cls);
        return r;
    }
    c->seen_states = calloc(SEEN_STATES, sizeof(*c->seen_states));
    if (!c->seen_states) {
        oauth2_client_free(c);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (k->oidc_issuer[0] && discover(c) < 0) {
        oauth2_client_free(c);
        snprintf(err, errlen, "cannot start OpenID discovery");
        return -ENOMEM;
    }
    *ret = c;
    return 0;
}

void oauth2_client_free(struct oauth2_client *c)
{
    if (!c)
        return;
    while (c->calls) {
        struct oauth2_call *call = c->calls;
        c->calls = call->next;
        gm_fetch_cancel(call->fetch);
        free(call->url);
        free(call);
    }
    free(c->authorize_url);
    free(c->token_url);
    free(c->userdata_url);
    free(c->jwks_url);
    free(c->issuer);
    free(c->logout_url);
    free(c->end_session_url);
    free(c->username_claim);
    free(c->login_service);
    free(c->user_key);
    gm_strv_free_array(c->scope);
    gm_jwks_cache_free(c->jwks);
    free(c->seen_states);
    free(c);
}

bool oauth2_state_seen(struct oauth2_client *c, const char *id)
{
    for (size_t i = 0; i < SEEN_STATES; i++)
        if (strcmp(c->seen_states[i], id) == 0)
            return true;
    str_copy(c->seen_states[c->seen_next], sizeof(c->seen_states[0]), id);
    c->seen_next = (c->seen_next + 1) % SEEN_STATES;
    return false;
}

const char *oauth2_login_service(const struct oauth2_client *c)
{
    return c->login_service;
}

bool oauth2_uses_pkce(const struct oauth2_client *c)
{
    return c->conf->enable_pkce;
}

bool oauth2_uses_nonce(const struct oauth2_client *c)
{
    return gm_oauth2_has_scope((const char *const *)c->scope, "openid");
}

const char *oauth2_callback_url(const struct oauth2_client *c)
{
    return c->conf->oauth_callback_url[0] ? c->conf->oauth_callback_url : NULL;
}

const char *oauth2_refused_message(const struct oauth2_client *c)
{
    return c->conf->custom_403_message;
}

/* URLs. */

static int param(struct gm_buf *b, bool *first, const char *k, const char *v)
{
    int r = gm_buf_puts(b, *first ? "" : "&");
    *first = false;
    if (r == 0)
        r = gm_url_encode(b, k, "");
    if (r == 0)
        r = gm_buf_putc(b, '=');
    if (r == 0)
        r = gm_url_encode(b, v, "");
    return r;
}

int oauth2_append_params(struct gm_buf *b, const json_t *params, bool first)
{
    const char *k;
    json_t *v;
    int r = 0;
    json_object_foreach((json_t *)params, k, v)
    {
        char num[64];
        const char *s = json_string_value(v);
        if (json_is_integer(v))
            snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else if (json_is_real(v))
            snprintf(num, sizeof(num), "%g", json_real_value(v));
        else if (json_is_boolean(v))
            snprintf(num, sizeof(num), "%s", json_is_true(v) ? "True" : "False");
        if (!s)
            s = num;
        if (r == 0)
            r = param(b, &first, k, s);
    }
    return r;
}

int oauth2_authorize_url(struct oauth2_client *c, const struct oauth2_authorize *a,
                         struct gm_buf *out)
{
    bool first = false;
    int r = gm_buf_puts(out, c->authorize_url);
    if (r == 0)
        r = gm_buf_putc(out, strchr(c->authorize_url, '?') ? '&' : '?');
    struct gm_buf scope;
    gm_buf_init(&scope, 8192);
    for (char **s = c->scope; r == 0 && s && *s; s++)
        r = gm_buf_printf(&scope, "%s%s", s == c->scope ? "" : " ", *s);
    first = true;
    if (r == 0)
        r = param(out, &first, "response_type", "code");
    if (r == 0)
        r = param(out, &first, "redirect_uri", a->redirect_uri);
    if (r == 0)
        r = param(out, &first, "client_id", c->conf->client_id);
    if (r == 0 && scope.len)
        r = param(out, &first, "scope", scope.data);
    gm_buf_free(&scope);
    if (r == 0)
        r = param(out, &first, "state", a->state);
    if (r == 0 && a->code_challenge) {
        r = param(out, &first, "code_challenge", a->code_challenge);
        if (r == 0)
            r = param(out, &first, "code_challenge_method", "S256");
    }
    if (r == 0 && a->nonce)
        r = param(out, &first, "nonce", a->nonce);
    json_t *extra = json_copy(c->conf->extra_authorize_params);
    if (!extra)
        return -ENOMEM;
    if (c->provider->authorize_params)
        c->provider->authorize_params(c->module_state, extra);
    if (r == 0)
        r = oauth2_append_params(out, extra, false);
    json_decref(extra);
    return r;
}

int oauth2_logout_url(struct oauth2_client *c, const char *id_token, struct gm_buf *out)
{
    const char *return_to = c->conf->oidc_post_logout_redirect_uri;
    if (c->logout_url)
        return gm_buf_puts(out, c->logout_url);
    if (!c->conf->oidc_logout || !c->end_session_url)
        return 0;
    bool first = true;
    int r = gm_buf_puts(out, c->end_session_url);
    if (r == 0)
        r = gm_buf_putc(out, strchr(c->end_session_url, '?') ? '&' : '?');
    if (r == 0)
        r = param(out, &first, "client_id", c->conf->client_id);
    if (r == 0 && id_token)
        r = param(out, &first, "id_token_hint", id_token);
    if (r == 0 && return_to[0])
        r = param(out, &first, "post_logout_redirect_uri", return_to);
    return r;
}
