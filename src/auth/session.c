/* Session cookies and XSRF tokens (JupyterHub's handlers/base.py cookie functions and
 * _xsrf_utils.py). */
#include "auth/session.h"
#include "auth/cookie_secret.h"
#include "auth/identity.h"
#include "auth/signed.h"
#include "core/hub.h"
#include "http/server.h"
#include "util/str.h"
#include "util/time.h"

#include <ganymede/encode.h>
#include <ganymede/log.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SESSION_ID_LEN 32

static struct http_cookie_options cookie_opts(struct http_request *req, const char *path,
                                              long max_age, bool http_only)
{
    struct http_cookie_options o = {
        .path = path,
        .max_age = max_age,
        .http_only = http_only,
        .secure = http_is_https(req) || str_has_prefix(req->hub->conf.bind_url, "https:"),
        .same_site = "Lax",
    };
    return o;
}

static int64_t max_age_seconds(struct hub *hub)
{
    return (int64_t)(hub->conf.cookie_max_age_days * 86400);
}

struct hub_user *auth_session_user(struct http_request *req)
{
    const char *cookie = http_cookie(req, AUTH_LOGIN_COOKIE);
    if (!cookie)
        return NULL;
    struct hub *hub = req->hub;
    char cookie_id[128];
    if (auth_signed_verify(hub->cookie_secret->bytes, hub->cookie_secret->len, AUTH_LOGIN_COOKIE,
                           cookie, time_now_us() / 1000000, max_age_seconds(hub), cookie_id,
                           sizeof(cookie_id)) < 0) {
        gm_log_warn("Invalid or expired cookie token");
        struct http_cookie_options o = cookie_opts(req, hub->hub_prefix, -1, true);
        http_set_cookie(req, AUTH_LOGIN_COOKIE, "", &o);
        return NULL;
    }
    return store_user_by_cookie_id(&hub->store, cookie_id);
}

const char *auth_session_id(struct http_request *req)
{
    const char *id = http_cookie(req, AUTH_SESSION_COOKIE);
    if (!id || strlen(id) != SESSION_ID_LEN)
        return NULL;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return NULL;
    return id;
}

/* "<session_id>:<cookie_id>", or for anonymous visitors "<session_id or None>:<anon>" where
 * anon hashes the address and user agent, as JupyterHub's _xsrf_token_id. */
static const char *xsrf_id(struct http_request *req, struct hub_user *u, const char *session)
{
    if (u)
        return arena_printf(&req->arena, "%s:%s", session ? session : "None", u->cookie_id);
    const char *ua = http_header(req, "User-Agent");
    const char *ip = http_client_ip(req);
    unsigned char md[32];
    unsigned len = sizeof(md);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return NULL;
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, ip, strlen(ip));
    if (ua)
        EVP_DigestUpdate(ctx, ua, strlen(ua));
    EVP_DigestUpdate(ctx, "\xff", 1);
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    struct gm_buf anon;
    gm_buf_init(&anon, 64);
    const char *id = gm_base64url_encode(&anon, md, len, true) == 0
                         ? arena_printf(&req->arena, "%s:%s", session ? session : "None", anon.data)
                         : NULL;
    gm_buf_free(&anon);
    return id;
}

/* urlsafe base64 without padding of the signed id. */
static const char *make_token(struct http_request *req, const char *id)
{
    struct hub *hub = req->hub;
    struct gm_buf signed_value;
    gm_buf_init(&signed_value, 8192);
    if (auth_signed_create(hub->cookie_secret->bytes, hub->cookie_secret->len, AUTH_XSRF_COOKIE, id,
                           time_now_us() / 1000000, &signed_value) < 0) {
        gm_buf_free(&signed_value);
        return NULL;
    }
    struct gm_buf token;
    gm_buf_init(&token, 16384);
    const char *out = gm_base64url_encode(&token, signed_value.data, signed_value.len, false) == 0
                          ? arena_strdup(&req->arena, token.data)
                          : NULL;
    gm_buf_free(&token);
    gm_buf_free(&signed_value);
    return out;
}

/* The id inside a valid _xsrf cookie value, or NULL. */
static const char *token_id(struct http_request *req, const char *token)
{
    size_t n = strlen(token);
    if (n > 4096)
        return NULL;
    char *raw = arena_alloc(&req->arena, n + 1);
    long m = raw ? gm_base64url_decode(token, n, raw, n) : -1;
    if (m <= 0)
        return NULL;
    raw[m] = '\0';
    char *id = arena_alloc(&req->arena, 1024);
    struct hub *hub = req->hub;
    if (!id ||
        auth_signed_verify(hub->cookie_secret->bytes, hub->cookie_secret->len, AUTH_XSRF_COOKIE,
                           raw, time_now_us() / 1000000, 31 * 86400, id, 1024) < 0)
        return NULL;
    return id;
}

static const char *expected_token(struct http_request *req, struct hub_user *u, bool *cookie_ok)
{
    const char *session = req->auth && ((struct auth_identity *)req->auth)->session_id
                              ? ((struct auth_identity *)req->auth)->session_id
                              : auth_session_id(req);
    const char *id = xsrf_id(req, u, session);
    const char *cookie = http_cookie(req, AUTH_XSRF_COOKIE);
    const char *cookie_id = cookie ? token_id(req, cookie) : NULL;
    *cookie_ok = cookie_id && id && strcmp(cookie_id, id) == 0;
    if (*cookie_ok)
        return cookie;
    return id ? make_token(req, id) : NULL;
}

const char *auth_xsrf_token(struct http_request *req, struct hub_user *u)
{
    bool cookie_ok;
    const char *token = expected_token(req, u, &cookie_ok);
    const char *mode = http_header(req, "Sec-Fetch-Mode");
    if (token && !cookie_ok && (!mode || strcmp(mode, "navigate") == 0)) {
        struct http_cookie_options o = cookie_opts(req, req->hub->hub_prefix, u ? 0 : 3600, false);
        http_set_cookie(req, AUTH_XSRF_COOKIE, token, &o);
    }
    return token ? token : "";
}

bool auth_xsrf_needed(struct http_request *req)
{
    const char *mode = http_header(req, "Sec-Fetch-Mode");
    const char *site = http_header(req, "Sec-Fetch-Site");
    bool read_only = req->method & (HTTP_GET | HTTP_HEAD | HTTP_OPTIONS);
    if (mode && strcmp(mode, "websocket") == 0)
        return false;
    if ((!mode || strcmp(mode, "navigate") == 0) && read_only)
        return false;
    if (mode && strcmp(mode, "no-cors") == 0 && site && strcmp(site, "same-origin") == 0 &&
        read_only)
        return false;
    return true;
}

const char *auth_form_field(struct http_request *req, const char *name)
{
    const char *v = http_form(req, name);
    return v ? v : http_query(req, name);
}

bool auth_xsrf_check(struct http_request *req, struct hub_user *u, const char **why)
{
    const char *token = auth_form_field(req, "_xsrf");
    if (!token)
        token = http_header(req, "X-XSRFToken");
    if (!token)
        token = http_header(req, "X-CSRFToken");
    if (!token || !token[0]) {
        *why = (req->method & HTTP_GET) ? "'_xsrf' argument missing from GET"
                                        : "'_xsrf' argument missing from POST";
        return false;
    }
    bool cookie_ok;
    const char *expected = expected_token(req, u, &cookie_ok);
    if (!cookie_ok || !expected || !str_ct_eq(token, strlen(token), expected, strlen(expected))) {
        *why = "XSRF cookie does not match POST argument";
        return false;
    }
    return true;
}

int auth_session_start(struct http_request *req, struct hub_user *u)
{
    struct hub *hub = req->hub;
    struct gm_buf b;
    gm_buf_init(&b, 8192);
    int r = auth_signed_create(hub->cookie_secret->bytes, hub->cookie_secret->len,
                               AUTH_LOGIN_COOKIE, u->cookie_id, time_now_us() / 1000000, &b);
    if (r == 0) {
        struct http_cookie_options o =
            cookie_opts(req, hub->hub_prefix, (long)max_age_seconds(hub), true);
        r = http_set_cookie(req, AUTH_LOGIN_COOKIE, b.data, &o);
    }
    gm_buf_free(&b);
    const char *session = auth_session_id(req);
    if (r == 0 && !session) {
        char id[33];
        if ((r = gm_random_uuid_hex(id)) == 0) {
            struct http_cookie_options o = cookie_opts(req, hub->base_url, 0, true);
            r = http_set_cookie(req, AUTH_SESSION_COOKIE, id, &o);
            session = arena_strdup(&req->arena, id);
        }
    }
    /* The identity changed: the _xsrf token follows it. */
    if (r == 0) {
        const char *token = make_token(req, xsrf_id(req, u, session));
        struct http_cookie_options o = cookie_opts(req, hub->hub_prefix, 0, false);
        r = token ? http_set_cookie(req, AUTH_XSRF_COOKIE, token, &o) : -ENOMEM;
    }
    return r;
}

void auth_session_clear(struct http_request *req)
{
    struct hub *hub = req->hub;
    struct http_cookie_options o = cookie_opts(req, hub->hub_prefix, -1, true);
    http_set_cookie(req, AUTH_LOGIN_COOKIE, "", &o);
    http_set_cookie(req, AUTH_XSRF_COOKIE, "", &o);
    o.path = hub->base_url;
    http_set_cookie(req, AUTH_SESSION_COOKIE, "", &o);
    o.path = arena_printf(&req->arena, "%sservices", hub->base_url);
    http_set_cookie(req, "jupyterhub-services", "", &o);
}

bool auth_request_cross_site(struct http_request *req)
{
    const char *site = http_header(req, "Sec-Fetch-Site");
    if (site && strcmp(site, "cross-site") == 0)
        return true;
    const char *origin = http_header(req, "Origin");
    if (!origin || strcmp(origin, "null") == 0)
        return origin != NULL; /* "null" comes from sandboxed or cross-site contexts */
    const char *host = http_header(req, "Host");
    const char *p = strstr(origin, "://");
    return !host || !p || strcasecmp(p + 3, host) != 0;
}
