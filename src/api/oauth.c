/* /hub/api/oauth2/token: a server or service exchanges the code it was given at
 * /hub/api/oauth2/authorize (pages/oauth_authorize.c) for a token, as JupyterHub's
 * apihandlers/auth.py. */
#include "api/api.h"
#include "auth/oauth_provider.h"
#include "auth/session.h"
#include "core/hub.h"
#include <ganymede/buf.h>
#include <ganymede/encode.h>
#include "util/str.h"

#include <errno.h>
#include <ganymede/log.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* HTTP Basic client authentication: "Basic base64(client_id:secret)". */
static bool basic_auth(struct http_request *req, char **id, char **secret)
{
    const char *h = http_header(req, "Authorization");
    if (!h || strncasecmp(h, "Basic ", 6) != 0)
        return false;
    const char *b64 = h + 6;
    size_t n = strlen(b64);
    if (n == 0 || n > 4096 || n % 4)
        return false;
    unsigned char *out = arena_alloc(&req->arena, n);
    if (!out)
        return false;
    long len = gm_base64_decode(b64, n, out, n - 1);
    if (len < 0)
        return false;
    out[len] = '\0';
    char *colon = strchr((char *)out, ':');
    if (!colon)
        return false;
    *colon = '\0';
    /* Both parts are form-encoded, as RFC 6749 §2.3.1 asks. */
    size_t il = strlen((char *)out), sl = strlen(colon + 1);
    char *i = arena_alloc(&req->arena, il + 1), *s = arena_alloc(&req->arena, sl + 1);
    if (!i || !s || gm_url_decode((char *)out, il, i, il + 1, true) < 0 ||
        gm_url_decode(colon + 1, sl, s, sl + 1, true) < 0)
        return false;
    *id = i;
    *secret = s;
    return true;
}

int api_oauth_token_post(struct http_request *req)
{
    const char *ct = http_header(req, "Content-Type");
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0)
        return http_respond_json(req, 400,
                                 json_pack("{s:s,s:s}", "error", "invalid_request",
                                           "error_description",
                                           "The body must be application/x-www-form-urlencoded"));
    char *basic_id = NULL, *basic_secret = NULL;
    bool basic = basic_auth(req, &basic_id, &basic_secret);
    const char *client_id = basic ? basic_id : http_form(req, "client_id");
    const char *secret = basic ? basic_secret : http_form(req, "client_secret");
    struct oauth_token_result res;
    oauth_token_exchange(req->hub, client_id, secret, http_form(req, "grant_type"),
                         http_form(req, "code"), http_form(req, "redirect_uri"), &res);
    http_set_header(req, "Cache-Control", "no-store");
    http_set_header(req, "Pragma", "no-cache");
    if (res.status == 401)
        http_set_header(req, "WWW-Authenticate", "Basic");
    return http_respond_json(req, res.status, res.body);
}
