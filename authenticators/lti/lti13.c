/* LTI13Authenticator ("lti13"), as ltiauthenticator 1.6's: a course link on a learning
 * platform (Canvas, Moodle, Open edX, Blackboard) starts an OpenID Connect launch.
 *
 *   1. The platform opens /hub/lti13/oauth_login (GET or POST: iss, login_hint,
 *      target_link_uri, lti_message_hint, client_id). The hub checks them, keeps a random r in
 *      a cookie named after a fresh state (one per launch, so two tabs do not collide;
 *      SameSite=None and Partitioned over https, for the platform's iframe), asks for the
 *      nonce SHA-256(r) (OpenID Connect Core 15.5.2: a stolen id_token's nonce gives no cookie
 *      that matches it), and
 *      redirects to the platform's authorize_url (scope openid, response_type id_token,
 *      response_mode form_post, prompt none).
 *   2. The platform form_posts an id_token and the state to /hub/lti13/oauth_callback. The
 *      state's cookie must be there; the launch then goes through the hub's login pipeline,
 *      whose `authenticate` verifies the id_token: the platform's key set (fetched once,
 *      again only for an unknown kid, rate-limited), an algorithm of jwks_algorithms (never
 *      none or HMAC), iss, aud (one of client_id; azp with several audiences), exp, iat, nbf
 *      with time_leeway, the cookie's nonce, used once only, and the LTI claims
 *      (lti13_claims.c). The claims become the auth_state.
 *   3. /hub/lti13/config is the tool's JSON configuration.
 *
 * The callback hands the launch to `authenticate` under a random one-time handle: a login
 * form posted to /hub/login cannot name a launch whose state the callback did not check.
 *
 *     c.JupyterHub.authenticator_class = "lti13"
 *     c.LTI13Authenticator.issuer = "https://canvas.instructure.com"
 *     c.LTI13Authenticator.authorize_url = "https://sso.canvaslms.com/api/lti/authorize_redirect"
 *     c.LTI13Authenticator.jwks_endpoint = "https://sso.canvaslms.com/api/lti/security/jwks"
 *     c.LTI13Authenticator.client_id = ["125900000000000001"]
 */
#include "lti.h"

#include <errno.h>
#include <ganymede/authenticator.h>
#include <openssl/evp.h>
#include <ganymede/buf.h>
#include <ganymede/encode.h>
#include <ganymede/jwt.h>
#include <ganymede/log.h>
#include <ganymede/seen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STATE_COOKIE    "lti13-state-"
#define RANDOM_HEX      32  /* state, r and handle: 128 random bits */
#define NONCE_HEX       64  /* SHA-256(r), in hex */
#define COOKIE_AGE_S    600 /* a launch's login initiation to its form_post */
#define PENDING_MAX     64  /* launches between the callback and `authenticate` */
#define PENDING_AGE_MS  60000
#define NONCES_KEPT     65536
#define PARAM_MAX       4096 /* each login initiation parameter */
#define NEXT_MAX        2048
#define URL_MAX         2048                   /* the hub's own URLs */
#define REDIRECT_MAX    (4 * PARAM_MAX + 4096) /* the redirect to the platform */
#define CONFIG_JSON_MAX 16384

struct lti13_conf {
    char *issuer, *authorize_url, *jwks_endpoint;
    char **client_id;
    char **jwks_algorithms;
    char *username_key, *uri_scheme, *tool_name, *tool_description;
    char **admin_roles;
    json_t *role_groups;
    /* LTI13LaunchValidator */
    int64_t time_leeway, max_age;
};

#define OPT(field) offsetof(struct lti13_conf, field)

static const char *const schemes[] = {"auto", "https", "http", NULL};

static const struct gm_option validator_options[] = {
    GM_OPTION_X("time_leeway", GM_OPTION_INT, OPT(time_leeway), "0",
                "Seconds of clock skew allowed when the launch's exp, iat and nbf are checked.",
                .check = gm_check_seconds),
    GM_OPTION_X("max_age", GM_OPTION_INT, OPT(max_age), "600",
                "Seconds since its iat after which a launch is refused.",
                .check = gm_check_positive),
    GM_OPTION_END,
};

static const struct gm_option lti13_options[] = {
    GM_OPTION("issuer", GM_OPTION_STRING, OPT(issuer), NULL,
              "The platform's issuer identifier (the iss of its launches)."),
    GM_OPTION("authorize_url", GM_OPTION_STRING, OPT(authorize_url), NULL,
              "The platform's OpenID Connect authorization endpoint."),
    GM_OPTION("jwks_endpoint", GM_OPTION_STRING, OPT(jwks_endpoint), NULL,
              "The platform's JSON Web Key Set, whose keys sign its launches."),
    GM_OPTION("client_id", GM_OPTION_STRINGS, OPT(client_id), NULL,
              "The client ids the platform gave this tool (a string or a set of them)."),
    GM_OPTION("jwks_algorithms", GM_OPTION_STRINGS, OPT(jwks_algorithms), "[\"RS256\"]",
              "The signature algorithms launches may use (asymmetric ones only)."),
    GM_OPTION("username_key", GM_OPTION_STRING, OPT(username_key), "\"email\"",
              "The claim that is the user name (custom_x: x of the custom claim); sub when it "
              "is missing."),
    GM_OPTION_X("uri_scheme", GM_OPTION_STRING, OPT(uri_scheme), "\"auto\"",
                "The scheme of the tool's URLs: auto (X-Scheme, then X-Forwarded-Proto, else "
                "http), https or http.",
                .choices = schemes),
    GM_OPTION("tool_name", GM_OPTION_STRING, OPT(tool_name), "\"JupyterHub\"",
              "The tool's title in /hub/lti13/config."),
    GM_OPTION("tool_description", GM_OPTION_STRING, OPT(tool_description),
              "\"Launch interactive Jupyter Notebooks with JupyterHub\"",
              "The tool's description in /hub/lti13/config."),
    GM_OPTION("admin_roles", GM_OPTION_STRINGS, OPT(admin_roles), NULL,
              "Ganymede: launch roles (URIs, or their names after '#': Instructor) that make "
              "the user an admin; empty leaves admin to admin_users."),
    GM_OPTION_X("role_groups", GM_OPTION_JSON, OPT(role_groups), "{}",
                "Ganymede: {role: group} for the groups a launch's roles put the user in "
                "(with Authenticator.manage_groups).",
                .check = gm_check_str_dict),
    GM_OPTION_END,
};

static const struct gm_option_class validator_class = {
    .name = "LTI13LaunchValidator",
    .parent = "Authenticator",
    .help = "ltiauthenticator's checks of an LTI 1.3 launch's times (LTI13Authenticator).",
    .options = validator_options,
};

static const struct gm_option_class lti13_class = {
    .name = "LTI13Authenticator",
    .parent = "LTI13LaunchValidator",
    .help = "LTI 1.3 launches from a learning platform (authenticator_class = \"lti13\").",
    .options = lti13_options,
};

static const struct gm_option_class *const lti13_ancestors[] = {&validator_class, NULL};

/* A launch whose state checked out, waiting for `authenticate`. */
struct pending {
    char handle[RANDOM_HEX + 1]; /* "" for a free slot */
    char nonce[NONCE_HEX + 1];
    char *id_token;
    uint64_t created_ms;
};

/* A launch being verified. */
struct verifying {
    struct lti13 *l;
    gm_authenticate_cb cb;
    void *cb_data;
    char nonce[NONCE_HEX + 1];
    int status; /* the key set's answer, once known */
    json_t *header, *claims;
    char why[GM_JWT_WHY_MAX];
};

struct lti13 {
    const struct gm_host *host;
    const struct lti13_conf *conf;
    struct lti13_rules rules;
    struct gm_jwks_cache *jwks;
    struct gm_seen *nonces; /* the launches' nonces, used once each */
    struct pending pending[PENDING_MAX];
};

static bool is_http_url(const char *s)
{
    return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

static int lti13_init(const struct gm_host *host, const struct gm_authenticator_base *base,
                      void *confp, void **state, char *err, size_t errlen)
{
    (void)base;
    const struct lti13_conf *c = confp;
    const struct {
        const char *name, *value;
    } urls[] = {{"authorize_url", c->authorize_url}, {"jwks_endpoint", c->jwks_endpoint}};
    if (!c->issuer[0]) {
        snprintf(err, errlen,
                 "LTI13Authenticator.issuer is not set: set it to the platform's "
                 "issuer identifier (the iss of its launches)");
        return -EINVAL;
    }
    for (size_t i = 0; i < 2; i++)
        if (!is_http_url(urls[i].value)) {
            snprintf(err, errlen, "LTI13Authenticator.%s '%.200s' is not an http(s) URL",
                     urls[i].name, urls[i].value);
            return -EINVAL;
        }
    if (!c->client_id || !c->client_id[0]) {
        snprintf(err, errlen,
                 "LTI13Authenticator.client_id is empty: set it to the client id "
                 "the platform gave this tool");
        return -EINVAL;
    }
    static const char *const asymmetric[] = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                                             "ES256", "ES384", "ES512", "EdDSA", NULL};
    for (char **a = c->jwks_algorithms; a && *a; a++) {
        bool ok = false;
        for (const char *const *k = asymmetric; *k && !ok; k++)
            ok = strcmp(*a, *k) == 0;
        if (!ok) {
            snprintf(err, errlen,
                     "LTI13Authenticator.jwks_algorithms: '%.40s' is not an asymmetric "
                     "signature algorithm (RS256, PS256, ES256, EdDSA...): none and HMAC are "
                     "never accepted",
                     *a);
            return -EINVAL;
        }
    }
    struct lti13 *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->host = host;
    l->conf = c;
    l->rules = (struct lti13_rules){
        .username_key = c->username_key,
        .max_age = c->max_age,
        .leeway = c->time_leeway,
        .admin_roles = (const char *const *)c->admin_roles,
        .role_groups = c->role_groups,
    };
    struct gm_jwks_cache_config jc = {.url = c->jwks_endpoint};
    int r = gm_jwks_cache_new(host, &jc, &l->jwks);
    if (r == 0)
        r = gm_seen_new(NONCES_KEPT, c->max_age + 2 * c->time_leeway + 1, &l->nonces);
    if (r < 0) {
        gm_jwks_cache_free(l->jwks);
        free(l);
        snprintf(err, errlen, "cannot set up the LTI 1.3 key set: %s", strerror(-r));
        return r;
    }
    gm_jwks_cache_prefetch(l->jwks); /* the first launch need not wait for the keys */
    *state = l;
    return 0;
}

static void lti13_destroy(void *state)
{
    struct lti13 *l = state;
    if (!l)
        return;
    gm_jwks_cache_free(l->jwks); /* waiting launches complete with -ECANCELED first */
    gm_seen_free(l->nonces);
    for (size_t i = 0; i < PENDING_MAX; i++)
        free(l->pending[i].id_token);
    free(l);
}

static bool is_hex(const char *s, size_t n)
{
    return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

/* The nonce asked for a launch whose cookie holds @r: hex(SHA-256(r)). */
static int nonce_of(const char *r, char out[NONCE_HEX + 1])
{
    unsigned char md[32];
    unsigned int n = 0;
    if (!EVP_Digest(r, strlen(r), md, &n, EVP_sha256(), NULL) || n != sizeof(md))
        return -EIO;
    return gm_hex_encode(md, sizeof(md), out, NONCE_HEX + 1) < 0 ? -EIO : 0;
}

/* 1. Login initiation. */

/* A login initiation parameter, checked: present (when @required) and not too long. */
static const char *init_param(struct gm_request *req, const char *name, bool required, char *msg,
                              size_t msglen, bool *bad)
{
    const char *v = gm_request_param(req, name);
    if (v && !v[0])
        v = NULL;
    if ((!v && required) || (v && strlen(v) > PARAM_MAX)) {
        snprintf(msg, msglen,
                 v ? "The login request's %s is longer than %d bytes."
                   : "The login request has no %s: a platform's login initiation sends iss, "
                     "login_hint and target_link_uri.",
                 name, PARAM_MAX);
        *bad = true;
    }
    return v;
}

static bool is_client_id(const struct lti13_conf *c, const char *id)
{
    for (char **p = c->client_id; p && *p; p++)
        if (strcmp(*p, id) == 0)
            return true;
    return false;
}

/* A login initiation from a platform or for a tool this hub does not know: logged, and a 400
 * page saying so (@page has one %s, for @value). */
static int refuse_unknown(struct gm_request *req, const char *what, const char *value,
                          const char *page)
{
    char safe[200], msg[512];
    gm_log_warn("LTI 1.3 login initiation with an unknown %s '%s'", what,
                gm_log_safe(value, safe, sizeof(safe)));
    snprintf(msg, sizeof(msg), page, value);
    return gm_request_error(req, 400, msg);
}

static void put_arg(struct gm_buf *b, const char *name, const char *value)
{
    gm_buf_printf(b, "%s%s=", b->len && !strchr("?&", b->data[b->len - 1]) ? "&" : "", name);
    gm_url_encode(b, value, NULL);
}

static int login_page(void *state, struct gm_request *req)
{
    struct lti13 *l = state;
    const struct lti13_conf *c = l->conf;
    char msg[512];
    bool bad = false;
    const char *iss = init_param(req, "iss", true, msg, sizeof(msg), &bad);
    const char *hint = bad ? NULL : init_param(req, "login_hint", true, msg, sizeof(msg), &bad);
    const char *target =
        bad ? NULL : init_param(req, "target_link_uri", true, msg, sizeof(msg), &bad);
    const char *message_hint =
        bad ? NULL : init_param(req, "lti_message_hint", false, msg, sizeof(msg), &bad);
    const char *client_id =
        bad ? NULL : init_param(req, "client_id", false, msg, sizeof(msg), &bad);
    const char *next = bad ? NULL : init_param(req, "next", false, msg, sizeof(msg), &bad);
    if (bad)
        return gm_request_error(req, 400, msg);
    if (strcmp(iss, c->issuer) != 0)
        return refuse_unknown(req, "issuer", iss,
                              "This launch comes from the issuer '%.200s', which is not the "
                              "platform this hub trusts (LTI13Authenticator.issuer).");
    if (client_id && !is_client_id(c, client_id))
        return refuse_unknown(req, "client_id", client_id,
                              "This launch is for the client id '%.200s', which is not one of "
                              "this hub's (LTI13Authenticator.client_id).");
    if (!client_id) {
        if (c->client_id[1])
            return gm_request_error(req, 400,
                                    "The login request names no client_id and this hub has "
                                    "several: the platform must send client_id.");
        client_id = c->client_id[0];
    }
    char state_hex[RANDOM_HEX + 1], r_hex[RANDOM_HEX + 1], nonce[NONCE_HEX + 1];
    if (gm_random_hex(state_hex, RANDOM_HEX / 2) < 0 || gm_random_hex(r_hex, RANDOM_HEX / 2) < 0 ||
        nonce_of(r_hex, nonce) < 0)
        return gm_request_error(req, 500, "No randomness for the launch's state.");
    char origin[URL_MAX], callback[URL_MAX], prefix[URL_MAX], path[URL_MAX], to[NEXT_MAX];
    if (snprintf(prefix, sizeof(prefix), "%slti13/", l->host->hub_prefix) >= (int)sizeof(prefix) ||
        snprintf(path, sizeof(path), "%soauth_callback", prefix) >= (int)sizeof(path) ||
        !lti_url(c->uri_scheme, req, "", origin, sizeof(origin)) ||
        !lti_url(c->uri_scheme, req, path, callback, sizeof(callback)))
        return gm_request_error(req, 400, "The request's Host header is not a host name.");
    lti13_next(next, target, origin, prefix, to, sizeof(to));

    /* The state's cookie: r, then where to go, base64url. */
    struct gm_buf cookie, url;
    gm_buf_init(&cookie, 4096);
    gm_buf_printf(&cookie, "%s.", r_hex);
    gm_base64url_encode(&cookie, to, strlen(to), false);
    char name[sizeof(STATE_COOKIE) + RANDOM_HEX];
    snprintf(name, sizeof(name), STATE_COOKIE "%s", state_hex);
    gm_buf_init(&url, REDIRECT_MAX);
    gm_buf_puts(&url, c->authorize_url);
    gm_buf_putc(&url, strchr(c->authorize_url, '?') ? '&' : '?');
    put_arg(&url, "scope", "openid");
    put_arg(&url, "response_type", "id_token");
    put_arg(&url, "response_mode", "form_post");
    put_arg(&url, "prompt", "none");
    put_arg(&url, "client_id", client_id);
    put_arg(&url, "redirect_uri", callback);
    put_arg(&url, "login_hint", hint);
    if (message_hint)
        put_arg(&url, "lti_message_hint", message_hint);
    put_arg(&url, "state", state_hex);
    put_arg(&url, "nonce", nonce);
    int r;
    if (cookie.error || url.error)
        r = gm_request_error(req, 500, "The launch's redirect is too long.");
    else if ((r = gm_request_set_cross_site_cookie(req, name, cookie.data, COOKIE_AGE_S)) == 0)
        r = gm_request_redirect(req, url.data);
    gm_buf_free(&cookie);
    gm_buf_free(&url);
    return r;
}

/* 2. The platform's form_post. */

static struct pending *free_slot(struct lti13 *l)
{
    uint64_t now = uv_now(l->host->loop);
    for (size_t i = 0; i < PENDING_MAX; i++) {
        struct pending *p = &l->pending[i];
        if (p->handle[0] && now - p->created_ms > PENDING_AGE_MS) {
            free(p->id_token); /* never taken: its login did not run */
            memset(p, 0, sizeof(*p));
        }
        if (!p->handle[0])
            return p;
    }
    return NULL;
}

static int callback_page(void *state, struct gm_request *req)
{
    struct lti13 *l = state;
    char msg[600];
    if (strcmp(gm_request_method(req), "POST") != 0)
        return gm_request_error(req, 405,
                                "This is where the learning platform posts a launch; it cannot "
                                "be opened directly. Follow the link in your course.");
    const char *error = gm_request_param(req, "error");
    if (error) {
        const char *desc = gm_request_param(req, "error_description");
        char safe[100], safe_desc[200];
        gm_log_warn("LTI 1.3 launch: the platform answered %s (%s)",
                    gm_log_safe(error, safe, sizeof(safe)),
                    gm_log_safe(desc, safe_desc, sizeof(safe_desc)));
        snprintf(msg, sizeof(msg), "The platform refused the launch: %.100s%s%.300s", error,
                 desc ? ": " : "", desc ? desc : "");
        return gm_request_error(req, 400, msg);
    }
    const char *id_token = gm_request_param(req, "id_token");
    const char *st = gm_request_param(req, "state");
    if (!id_token || !id_token[0] || !st || !st[0])
        return gm_request_error(req, 400, "The launch has no id_token or no state.");
    if (!is_hex(st, RANDOM_HEX))
        return gm_request_error(req, 400, "The launch's state is not one this hub made.");
    if (strlen(id_token) > GM_JWT_MAX_TOKEN)
        return gm_request_error(req, 400, "The launch's id_token is too long.");
    char name[sizeof(STATE_COOKIE) + RANDOM_HEX];
    snprintf(name, sizeof(name), STATE_COOKIE "%s", st);
    const char *cookie = gm_request_cookie(req, name);
    if (!cookie) {
        gm_log_warn("LTI 1.3 launch without its state cookie (state %s)", st);
        return gm_request_error(
            req, 400,
            "This launch's state cookie is missing: the browser did not keep the cookie this "
            "hub set when the launch began (cookies blocked for this site, a launch older than "
            "10 minutes, or one that did not begin at this hub). Launch again from the course.");
    }
    char r_hex[RANDOM_HEX + 1], nonce[NONCE_HEX + 1], next[NEXT_MAX];
    const char *dot = strchr(cookie, '.');
    long n = dot ? gm_base64url_decode(dot + 1, strlen(dot + 1), next, sizeof(next) - 1) : -1;
    if (dot && dot - cookie == RANDOM_HEX)
        snprintf(r_hex, sizeof(r_hex), "%.*s", RANDOM_HEX, cookie);
    if (!dot || dot - cookie != RANDOM_HEX || n < 0 || !is_hex(r_hex, RANDOM_HEX) ||
        nonce_of(r_hex, nonce) < 0)
        return gm_request_error(req, 400, "This launch's state cookie is not one this hub set.");
    next[n] = '\0';
    gm_request_set_cross_site_cookie(req, name, "", -1); /* one launch, one use */
    struct pending *p = free_slot(l);
    if (!p)
        return gm_request_error(req, 503, "Too many launches at once; launch again in a moment.");
    if (gm_random_hex(p->handle, RANDOM_HEX / 2) < 0 || !(p->id_token = strdup(id_token))) {
        memset(p, 0, sizeof(*p));
        return gm_request_error(req, 500, "Out of memory.");
    }
    memcpy(p->nonce, nonce, sizeof(p->nonce));
    p->created_ms = uv_now(l->host->loop);
    json_t *data = json_pack("{s:s}", "lti13_launch", p->handle);
    int r = data ? gm_request_login(req, data, next[0] ? next : NULL) : -ENOMEM;
    json_decref(data);
    return r;
}

/* The launch's verification, in `authenticate`. */

/* The audience the launch is for: azp, else aud (a string or a list of one); NULL when it is
 * not one of client_id. */
static const char *launch_audience(const struct lti13_conf *c, const json_t *claims)
{
    const json_t *aud = json_object_get(claims, "aud");
    const char *a = json_string_value(json_object_get(claims, "azp"));
    if (!a)
        a = json_is_array(aud) && json_array_size(aud) == 1
                ? json_string_value(json_array_get(aud, 0))
                : json_string_value(aud);
    return a && is_client_id(c, a) ? a : NULL;
}

static bool allowed_alg(const struct lti13_conf *c, const json_t *header)
{
    const char *alg = json_string_value(json_object_get(header, "alg"));
    for (char **a = c->jwks_algorithms; alg && a && *a; a++)
        if (strcmp(*a, alg) == 0)
            return true;
    return false;
}

/* The claims of a verified launch into the login's result, or NULL with @why. */
static json_t *check_launch(struct lti13 *l, const char *nonce, const json_t *header,
                            json_t *claims, char *why, size_t whylen)
{
    const struct lti13_conf *c = l->conf;
    if (!allowed_alg(c, header)) {
        snprintf(why, whylen, "its algorithm %.20s is not one of jwks_algorithms",
                 json_string_value(json_object_get(header, "alg")));
        return NULL;
    }
    const char *audience = launch_audience(c, claims);
    if (!audience) {
        snprintf(why, whylen, "aud: it is not for this tool (LTI13Authenticator.client_id)");
        return NULL;
    }
    struct gm_jwt_expect e = {
        .issuer = c->issuer,
        .audience = audience,
        .nonce = nonce,
        .leeway = c->time_leeway,
        .require_exp = true,
        .require_iat = true,
    };
    int64_t now = (int64_t)time(NULL);
    if (gm_jwt_check_claims(claims, &e, why, whylen) < 0 ||
        lti13_check_claims(&l->rules, claims, now, why, whylen) < 0)
        return NULL;
    if (gm_seen_check_add(l->nonces, nonce, now) != 0) {
        snprintf(why, whylen, "nonce: this launch was used already (a replay)");
        return NULL;
    }
    char name[256];
    if (lti13_username(&l->rules, claims, name, sizeof(name), why, whylen) < 0)
        return NULL;
    json_t *result = json_pack("{s:s,s:O}", "name", name, "auth_state", claims);
    if (result && c->admin_roles && c->admin_roles[0])
        json_object_set_new(result, "admin", json_boolean(lti13_is_admin(&l->rules, claims)));
    if (result && json_object_size(c->role_groups)) {
        json_t *groups = lti13_groups(&l->rules, claims);
        if (!groups || json_object_set_new(result, "groups", groups) < 0) {
            json_decref(result);
            result = NULL;
        }
    }
    if (!result)
        snprintf(why, whylen, "out of memory");
    return result;
}

static void finish(void *data)
{
    struct verifying *v = data;
    char why[GM_JWT_WHY_MAX + 128];
    json_t *result = NULL;
    if (v->status == 0)
        result = check_launch(v->l, v->nonce, v->header, v->claims, why, sizeof(why));
    else if (v->status == -ETIMEDOUT || v->status == -ECONNREFUSED || v->status == -EIO ||
             v->status == -EPROTO || v->status == -ESHUTDOWN || v->status == -ECANCELED ||
             v->status == -EBUSY)
        snprintf(why, sizeof(why),
                 "the platform's keys (LTI13Authenticator.jwks_endpoint) could not be fetched: %s",
                 v->why);
    else /* the token itself: its form, algorithm, key or signature */
        snprintf(why, sizeof(why), "%s", v->why);
    if (result) {
        gm_log_info("LTI 1.3 launch verified for %s",
                    json_string_value(json_object_get(result, "name")));
        v->cb(v->cb_data, 0, result, NULL); /* stolen */
    } else {
        char msg[sizeof(why) + 64];
        gm_log_warn("LTI 1.3 launch refused: %s", why);
        snprintf(msg, sizeof(msg), "The launch could not be verified: %s.", why);
        v->cb(v->cb_data, 0, NULL, msg); /* a refusal, not the plugin's failure */
    }
    json_decref(v->header);
    json_decref(v->claims);
    free(v);
}

static void on_keys(void *data, int status, json_t *header, json_t *claims, const char *why)
{
    struct verifying *v = data;
    v->status = status;
    v->header = json_incref(header);
    v->claims = json_incref(claims);
    snprintf(v->why, sizeof(v->why), "%s", why ? why : "");
    finish(v);
}

static int lti13_authenticate(void *state, const json_t *data, gm_authenticate_cb cb, void *cb_data)
{
    struct lti13 *l = state;
    const char *handle = json_string_value(json_object_get(data, "lti13_launch"));
    struct pending *p = NULL;
    for (size_t i = 0; handle && is_hex(handle, RANDOM_HEX) && i < PENDING_MAX && !p; i++)
        if (strcmp(l->pending[i].handle, handle) == 0)
            p = &l->pending[i];
    if (!p)
        return -EACCES; /* not a launch the callback checked: a login form, a replay */
    struct verifying *v = calloc(1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    *v = (struct verifying){.l = l, .cb = cb, .cb_data = cb_data};
    memcpy(v->nonce, p->nonce, sizeof(v->nonce));
    char *token = p->id_token;
    memset(p, 0, sizeof(*p)); /* taken: one use */
    int r = gm_jwks_cache_verify(l->jwks, token, on_keys, v, NULL, &v->header, &v->claims, v->why,
                                 sizeof(v->why));
    free(token);
    if (r == GM_JWKS_PENDING)
        return 0;
    v->status = r;
    /* Decided now: the callback still runs on a later turn of the loop. */
    if (l->host->defer(l->host, finish, v) < 0) {
        json_decref(v->header);
        json_decref(v->claims);
        free(v);
        return -ENOMEM;
    }
    return 0;
}

/* 3. The tool's configuration (ltiauthenticator's LTI13ConfigHandler). */

static int config_page(void *state, struct gm_request *req)
{
    struct lti13 *l = state;
    const struct lti13_conf *c = l->conf;
    char origin[URL_MAX], login[URL_MAX];
    if (!lti_url(c->uri_scheme, req, "", origin, sizeof(origin)) ||
        snprintf(login, sizeof(login), "%s%slti13/oauth_login", origin, l->host->hub_prefix) >=
            (int)sizeof(login))
        return gm_request_error(req, 400, "The request's Host header is not a host name.");
    static const char *const scopes[] = {
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
        "https://canvas.instructure.com/lti/public_jwk/scope/update",
        "https://canvas.instructure.com/lti/data_services/scope/create",
        "https://canvas.instructure.com/lti/data_services/scope/show",
        "https://canvas.instructure.com/lti/data_services/scope/update",
        "https://canvas.instructure.com/lti/data_services/scope/list",
        "https://canvas.instructure.com/lti/data_services/scope/destroy",
        "https://canvas.instructure.com/lti/data_services/scope/list_event_types",
        "https://canvas.instructure.com/lti/feature_flags/scope/show",
        "https://canvas.instructure.com/lti/account_lookup/scope/show",
        NULL};
    json_t *list = json_array();
    for (const char *const *s = scopes; list && *s; s++)
        json_array_append_new(list, json_string(*s));
    json_t *custom =
        json_pack("{s:s,s:s}", "email", "$Person.email.primary", "lms_user_id", "$User.id");
    json_t *doc = json_pack(
        "{s:s, s:o, s:[{s:s, s:{s:s, s:[{s:s,s:s,s:s,s:s,s:O}, {s:s,s:s,s:s}]}, s:s}], s:s, "
        "s:O, s:s, s:s}",
        "title", c->tool_name, "scopes", list, "extensions", "platform", "canvas.instructure.com",
        "settings", "platform", "canvas.instructure.com", "placements", "placement",
        "course_navigation", "message_type", "LtiResourceLinkRequest", "windowTarget", "_blank",
        "target_link_uri", origin, "custom_fields", custom, "placement", "assignment_selection",
        "message_type", "LtiResourceLinkRequest", "target_link_uri", origin, "privacy_level",
        "public", "description", c->tool_description, "custom_fields", custom, "target_link_uri",
        origin, "oidc_initiation_url", login);
    json_decref(custom);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    json_decref(doc);
    int r = text && strlen(text) < CONFIG_JSON_MAX
                ? gm_request_respond(req, 200, "application/json", text)
                : gm_request_error(req, 500, "The tool's configuration could not be written.");
    free(text);
    return r;
}

static const struct gm_auth_route lti13_routes[] = {
    {"lti13/oauth_login", GM_REQUEST_GET | GM_REQUEST_POST, login_page},
    {"lti13/oauth_callback", GM_REQUEST_GET | GM_REQUEST_POST, callback_page},
    {"lti13/config", GM_REQUEST_GET, config_page},
    {NULL, 0, NULL},
};

/* ltiauthenticator registers no entry points: configurations name the class path. */
static const char *const lti13_aliases[] = {"ltiauthenticator.lti13.auth.LTI13Authenticator",
                                            "LTI13Authenticator", NULL};

const struct gm_authenticator auth_lti13 = {
    .abi = GM_ABI_VERSION,
    .name = "lti13",
    .aliases = lti13_aliases,
    .options = &lti13_class,
    .ancestors = lti13_ancestors,
    .conf_size = sizeof(struct lti13_conf),
    .login_service = "LTI 1.3",
    .login_message = "This hub is opened from your course on your learning platform: follow the "
                     "link there to sign in.",
    .allow_all_by_default = true,
    .init = lti13_init,
    .destroy = lti13_destroy,
    .authenticate = lti13_authenticate,
    .routes = lti13_routes,
};
