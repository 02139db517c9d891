/* /hub/oauth_login and /hub/oauth_callback (oauthenticator's OAuthLoginHandler and
 * OAuthCallbackHandler). The login page sends the browser to the provider with a fresh state,
 * PKCE challenge and OpenID nonce; what the callback must check later travels in the signed
 * `oauthenticator-state` cookie: {"state_id", "next_url", "code_verifier", "nonce",
 * "redirect_uri"} as urlsafe base64 JSON, while the URL's state parameter is only
 * {"state_id"}. Each state works once: the cookie is cleared by the callback and the hub
 * remembers the state ids it has seen. */
#include "auth/oauth2.h"
#include "auth/cookie_secret.h"
#include "auth/session.h"
#include "auth/signed.h"
#include "core/hub.h"
#include "pages/pages.h"
#include "util/str.h"
#include "util/time.h"

#include <errno.h>
#include <ganymede/encode.h>
#include <ganymede/log.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define STATE_COOKIE     "oauthenticator-state"
#define STATE_MAX_AGE_S  3600 /* time to log in at the provider */
#define STATE_COOKIE_MAX 4096

static int state_cookie(struct http_request *req, const char *value, long max_age)
{
    struct http_cookie_options o = {
        .path = req->hub->hub_prefix,
        .max_age = max_age,
        .http_only = true,
        .secure = http_is_https(req),
        .same_site = "Lax",
    };
    return http_set_cookie(req, STATE_COOKIE, value, &o);
}

static char *b64_json(struct http_request *req, const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    if (!text)
        return NULL;
    struct gm_buf b;
    gm_buf_init(&b, STATE_COOKIE_MAX);
    int r = gm_base64url_encode(&b, text, strlen(text), false);
    free(text);
    char *out = r == 0 ? arena_strdup(&req->arena, b.data) : NULL;
    gm_buf_free(&b);
    return out;
}

static json_t *json_b64(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (!n || n > STATE_COOKIE_MAX)
        return NULL;
    char raw[STATE_COOKIE_MAX];
    long m = gm_base64url_decode(s, n, raw, sizeof(raw));
    json_t *v = m > 0 ? json_loadb(raw, (size_t)m, 0, NULL) : NULL;
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

/* The callback URL: configured, or this request's scheme and host. */
static const char *redirect_uri(struct http_request *req)
{
    const char *url = oauth2_callback_url(req->hub->oauth2);
    if (url)
        return url;
    const char *origin = http_origin(req);
    return origin ? arena_printf(&req->arena, "%s%soauth_callback", origin, req->hub->hub_prefix)
                  : NULL;
}

static int not_ready(struct http_request *req, const char *why)
{
    http_set_header(req, "Retry-After", "5");
    return http_error(req, 503, "The login service is not available yet: %s. Try again shortly.",
                      why);
}

const char *page_oauth_login_url(struct http_request *req, const char *next)
{
    struct gm_buf b;
    gm_buf_init(&b, 16384);
    gm_buf_printf(&b, "%soauth_login", req->hub->hub_prefix);
    if (next) {
        gm_buf_puts(&b, "?next=");
        gm_url_encode(&b, next, ""); /* as tornado's url_concat */
    }
    const char *url = b.data ? arena_strdup(&req->arena, b.data) : NULL;
    gm_buf_free(&b);
    return url;
}

int page_oauth_login(struct http_request *req)
{
    struct hub *hub = req->hub;
    if (!hub->oauth2)
        return page_not_found(req);
    const char *why;
    if (oauth2_ready(hub->oauth2, &why) < 0)
        return not_ready(req, why);
    const char *callback = redirect_uri(req);
    if (!callback)
        return http_error(req, 400, "The request's Host header is not a host name");
    char state_id[33], nonce[33];
    unsigned char challenge_raw[32];
    struct gm_buf verifier, challenge;
    gm_buf_init(&verifier, 256);
    gm_buf_init(&challenge, 256);
    int r = gm_random_uuid_hex(state_id);
    if (r == 0)
        r = gm_random_hex(nonce, 16);
    /* PKCE: the verifier is 43 characters of urlsafe base64 (secrets.token_urlsafe(32)); the
     * challenge the unpadded urlsafe base64 of its SHA-256. */
    if (r == 0)
        r = gm_random_token(&verifier, 32);
    if (r == 0 && !EVP_Digest(verifier.data, verifier.len, challenge_raw, NULL, EVP_sha256(), NULL))
        r = -EIO;
    if (r == 0)
        r = gm_base64url_encode(&challenge, challenge_raw, sizeof(challenge_raw), false);
    bool pkce = oauth2_uses_pkce(hub->oauth2), with_nonce = oauth2_uses_nonce(hub->oauth2);
    const char *next = page_valid_next(req, http_query(req, "next"));
    json_t *cookie = json_pack("{s:s, s:s?, s:s}", "state_id", state_id, "next_url", next,
                               "redirect_uri", callback);
    if (cookie && pkce)
        json_object_set_new(cookie, "code_verifier", json_string(verifier.data));
    if (cookie && with_nonce)
        json_object_set_new(cookie, "nonce", json_string(nonce));
    json_t *url_state = json_pack("{s:s}", "state_id", state_id);
    char *cookie_b64 = r == 0 && cookie ? b64_json(req, cookie) : NULL;
    char *state_b64 = r == 0 && url_state ? b64_json(req, url_state) : NULL;
    json_decref(cookie);
    json_decref(url_state);
    struct gm_buf signed_value, location;
    gm_buf_init(&signed_value, STATE_COOKIE_MAX);
    gm_buf_init(&location, 64 << 10);
    if (r == 0 && (!cookie_b64 || !state_b64))
        r = -ENOMEM;
    if (r == 0)
        r = auth_signed_create(hub->cookie_secret->bytes, hub->cookie_secret->len, STATE_COOKIE,
                               cookie_b64, time_now_us() / 1000000, &signed_value);
    struct oauth2_authorize a = {
        .redirect_uri = callback,
        .state = state_b64,
        .code_challenge = pkce ? challenge.data : NULL,
        .nonce = with_nonce ? nonce : NULL,
    };
    if (r == 0)
        r = oauth2_authorize_url(hub->oauth2, &a, &location);
    if (r == 0)
        r = state_cookie(req, signed_value.data, STATE_MAX_AGE_S);
    if (r == 0)
        r = http_redirect(req, 302, location.data);
    if (verifier.data)
        explicit_bzero(verifier.data, verifier.len);
    gm_buf_free(&verifier);
    gm_buf_free(&challenge);
    gm_buf_free(&signed_value);
    gm_buf_free(&location);
    return r;
}

/* The callback. */

static int callback_error(struct http_request *req, int err, const char *message)
{
    int status = err == -EACCES      ? 403
                 : err == -ETIMEDOUT ? 504
                 : err == -EPROTO || err == -EBADMSG || err == -ECONNREFUSED || err == -EIO ||
                         err == -ECONNRESET || err == -EHOSTUNREACH || err == -ENETUNREACH
                     ? 502
                     : 500;
    if (status == 502 || status == 504)
        return http_error(req, status, "The login service failed: %s. Try again later.", message);
    return http_error(req, status, "%s", message);
}

int page_oauth_callback(struct http_request *req)
{
    struct hub *hub = req->hub;
    if (!hub->oauth2)
        return page_not_found(req);
    const char *cookie = http_cookie(req, STATE_COOKIE);
    if (cookie)
        state_cookie(req, "", -1); /* each state works once */
    const char *error = http_query(req, "error");
    if (error) {
        const char *desc = http_query(req, "error_description");
        return http_error(req, 400, "OAuth error: %s", desc && desc[0] ? desc : error);
    }
    const char *code = http_query(req, "code");
    const char *url_state = http_query(req, "state");
    if (!code || !code[0] || strlen(code) > 4096)
        return http_error(req, 400, "OAuth callback made without a code");
    if (!url_state || !url_state[0])
        return http_error(req, 400, "OAuth state missing from the callback");
    if (!cookie)
        return http_error(req, 400,
                          "OAuth state cookie missing: the login took too long, cookies are "
                          "blocked, or this link was already used. Log in again.");
    char value[STATE_COOKIE_MAX];
    if (strlen(cookie) > STATE_COOKIE_MAX ||
        auth_signed_verify(hub->cookie_secret->bytes, hub->cookie_secret->len, STATE_COOKIE, cookie,
                           time_now_us() / 1000000, STATE_MAX_AGE_S, value, sizeof(value)) < 0)
        return http_error(req, 400, "OAuth state cookie invalid or expired. Log in again.");
    json_t *saved = json_b64(value), *sent = json_b64(url_state);
    const char *saved_id = json_string_value(json_object_get(saved, "state_id"));
    const char *sent_id = json_string_value(json_object_get(sent, "state_id"));
    int r;
    if (!saved_id || !sent_id || strlen(saved_id) != 32 || strcmp(saved_id, sent_id) != 0) {
        r = http_error(req, 400, "OAuth state mismatch. Log in again.");
    } else if (oauth2_state_seen(hub->oauth2, saved_id)) {
        r = http_error(req, 400, "This login state was already used. Log in again.");
    } else {
        const char *uri = json_string_value(json_object_get(saved, "redirect_uri"));
        json_t *data =
            json_pack("{s:s, s:s, s:s?, s:s?}", "code", code, "redirect_uri", uri ? uri : "",
                      "code_verifier", json_string_value(json_object_get(saved, "code_verifier")),
                      "nonce", json_string_value(json_object_get(saved, "nonce")));
        r = data ? page_login_run(req, data, json_string_value(json_object_get(saved, "next_url")),
                                  callback_error)
                 : -ENOMEM;
        json_decref(data);
    }
    json_decref(saved);
    json_decref(sent);
    return r;
}
