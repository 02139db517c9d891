/* LTI11Authenticator ("lti11"), as ltiauthenticator 1.6's: users come from a learning platform
 * (Canvas, Moodle, Open edX, ...) whose course link POSTs a launch form to /hub/lti/launch,
 * signed with OAuth 1.0a HMAC-SHA1 and the consumer secret shared with the hub. The launch is
 * checked here (required fields, consumer key, timestamp within 30 s, nonce not seen before,
 * signature over the URL the platform signed) and the user logged in with every launch field
 * but the oauth_* ones as auth_state. /hub/lti11/config is the XML a platform installs the
 * tool from.
 *
 *     c.JupyterHub.authenticator_class = "lti11"
 *     c.LTI11Authenticator.consumers = {"my-key": "my-secret"}
 *     c.LTI11Authenticator.username_key = "user_id"
 */
#include "lti.h"
#include "oauth1.h"

#include <ctype.h>
#include <errno.h>
#include <ganymede/authenticator.h>
#include <ganymede/buf.h>
#include <ganymede/log.h>
#include <ganymede/seen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TIMESTAMP_SKEW_S 30   /* ltiauthenticator's limit on |now - oauth_timestamp| */
#define NONCES_KEPT      4096 /* launches remembered for replay checks (about 2 minutes' worth */
#define NONCE_MAX        128  /*   at 30 launches a second) */
#define PARAMS_MAX       512
#define BASE_MAX         (256 << 10)
#define URL_MAX          2048
#define CONFIG_XML_MAX   8191 /* the tool configuration page */

struct lti11_conf {
    json_t *consumers;
    char *username_key;
    char *uri_scheme;
    char *config_title;
    char *config_description;
    char *config_icon;
};

#define OPT(field) offsetof(struct lti11_conf, field)

static const char *const schemes[] = {"auto", "https", "http", NULL};

static const struct gm_option lti11_options[] = {
    GM_OPTION_X("consumers", GM_OPTION_JSON, OPT(consumers), "{}",
                "Consumer keys and their shared secrets: {\"key\": \"secret\"}, one per "
                "platform.",
                .check = gm_check_str_dict),
    GM_OPTION("username_key", GM_OPTION_STRING, OPT(username_key), "\"custom_canvas_user_id\"",
              "The launch field that is the user name (e.g. user_id, "
              "lis_person_contact_email_primary); user_id when it is missing or empty."),
    GM_OPTION_X("uri_scheme", GM_OPTION_STRING, OPT(uri_scheme), "\"auto\"",
                "The scheme of the launch URL the platform signed: auto (X-Scheme, then "
                "X-Forwarded-Proto, else http), https or http.",
                .choices = schemes),
    GM_OPTION("config_title", GM_OPTION_STRING, OPT(config_title), "\"JupyterHub\"",
              "The tool's title in /hub/lti11/config."),
    GM_OPTION("config_description", GM_OPTION_STRING, OPT(config_description),
              "\"JupyterHub LTI 1.1 external tool\"",
              "The tool's description in /hub/lti11/config."),
    GM_OPTION("config_icon", GM_OPTION_STRING, OPT(config_icon), "\"\"",
              "The URL of the tool's icon in /hub/lti11/config."),
    GM_OPTION_END,
};

static const struct gm_option_class lti11_class = {
    .name = "LTI11Authenticator",
    .parent = "Authenticator",
    .help = "LTI 1.1 launches from a learning platform (authenticator_class = \"lti11\").",
    .options = lti11_options,
};

struct lti11 {
    const struct gm_host *host;
    const struct lti11_conf *conf;
    struct gm_seen *seen; /* the launches of the last minute (timestamp:nonce) */
};

static int lti11_init(const struct gm_host *host, const struct gm_authenticator_base *base,
                      void *conf, void **state, char *err, size_t errlen)
{
    (void)base;
    const struct lti11_conf *c = conf;
    if (json_object_size(c->consumers) == 0) {
        snprintf(err, errlen,
                 "LTI11Authenticator.consumers is empty: no launch could be verified. Set it to "
                 "{\"<consumer key>\": \"<shared secret>\"} as configured on the platform");
        return -EINVAL;
    }
    struct lti11 *l = calloc(1, sizeof(*l));
    if (!l || gm_seen_new(NONCES_KEPT, 2 * TIMESTAMP_SKEW_S + 1, &l->seen) < 0) {
        free(l);
        return -ENOMEM;
    }
    l->host = host;
    l->conf = c;
    if (strcmp(c->username_key, "custom_canvas_user_id") == 0)
        gm_log_warn("LTI11Authenticator.username_key is the default 'custom_canvas_user_id', "
                    "which ltiauthenticator will replace by 'user_id': set it explicitly");
    *state = l;
    return 0;
}

static void lti11_destroy(void *state)
{
    struct lti11 *l = state;
    if (l)
        gm_seen_free(l->seen);
    free(l);
}

struct collected {
    struct oauth1_param params[PARAMS_MAX];
    size_t n;
    bool too_many;
};

static void collect(void *data, const char *name, const char *value)
{
    struct collected *c = data;
    if (strcmp(name, "oauth_signature") == 0)
        return;
    if (c->n == PARAMS_MAX) {
        c->too_many = true;
        return;
    }
    c->params[c->n++] = (struct oauth1_param){name, value};
}

/* The launch's checks, in ltiauthenticator's order. Returns 0, or the HTTP status with the
 * reason in @why. */
static int check_launch(struct lti11 *l, struct gm_request *req, const json_t *args,
                        const json_t *header_params, const char **why, char *msg, size_t msglen)
{
    static const char *const required[] = {"oauth_consumer_key",
                                           "oauth_signature_method",
                                           "oauth_timestamp",
                                           "oauth_nonce",
                                           "oauth_version",
                                           "oauth_signature",
                                           "lti_message_type",
                                           "lti_version",
                                           "resource_link_id",
                                           "user_id",
                                           NULL};
    for (const char *const *r = required; *r; r++) {
        const char *v = json_string_value(json_object_get(args, *r));
        if (!v || !v[0]) {
            snprintf(msg, msglen, "The LTI launch has no %s.", *r);
            *why = msg;
            return 400;
        }
    }
    const char *key = json_string_value(json_object_get(args, "oauth_consumer_key"));
    const char *secret = json_string_value(json_object_get(l->conf->consumers, key));
    if (!secret) {
        *why = "Unknown oauth_consumer_key: the platform's key is not one of "
               "LTI11Authenticator.consumers.";
        return 401;
    }
    const char *ts_text = json_string_value(json_object_get(args, "oauth_timestamp"));
    long long now = (long long)time(NULL);
    char *end;
    long long ts = strtoll(ts_text, &end, 10);
    if (strlen(ts_text) != 10 || *end || llabs(now - ts) > TIMESTAMP_SKEW_S) {
        *why = "The launch's oauth_timestamp is not within 30 seconds of the hub's clock: "
               "launch again (or check the clocks).";
        return 401;
    }
    const char *nonce = json_string_value(json_object_get(args, "oauth_nonce"));
    if (strlen(nonce) > NONCE_MAX) {
        *why = "The launch's oauth_nonce is too long.";
        return 400;
    }
    struct collected *c = calloc(1, sizeof(*c));
    char *base = malloc(BASE_MAX);
    char url[URL_MAX];
    int status = 0;
    if (!c || !base) {
        *why = "Out of memory.";
        status = 500;
        goto out;
    }
    gm_request_each_param(req, collect, c);
    const char *hk;
    json_t *hv;
    json_object_foreach((json_t *)header_params, hk, hv)
    {
        collect(c, hk, json_string_value(hv));
    }
    if (c->too_many) {
        *why = "The launch has too many fields.";
        status = 400;
        goto out;
    }
    if (!lti_url(l->conf->uri_scheme, req, NULL, url, sizeof(url))) {
        *why = "The request's Host header is not a host name.";
        status = 400;
        goto out;
    }
    long n = oauth1_base_string("POST", url, c->params, c->n, base, BASE_MAX);
    const char *signature = json_string_value(json_object_get(args, "oauth_signature"));
    if (n < 0 || !oauth1_verify(base, secret, signature)) {
        gm_log_warn("LTI 1.1 launch with an invalid signature for %s (consumer key '%s')", url,
                    key);
        *why = "Invalid oauth_signature: the launch was not signed with this consumer's secret "
               "for this URL (behind a TLS proxy, check X-Forwarded-Proto or uri_scheme).";
        status = 401;
        goto out;
    }
    /* Only a launch that checks out uses up its nonce: within the timestamp's window (a
     * launch older than that is refused above anyway). */
    char seen_key[32 + NONCE_MAX];
    snprintf(seen_key, sizeof(seen_key), "%lld:%s", ts, nonce);
    if (gm_seen_check_add(l->seen, seen_key, now) != 0) {
        *why = "This launch was already used (oauth_nonce): launch again from the platform.";
        status = 401;
    }
out:
    free(c);
    free(base);
    return status;
}

static int launch_page(void *state, struct gm_request *req)
{
    struct lti11 *l = state;
    if (strcmp(gm_request_method(req), "POST") != 0)
        return gm_request_error(req, 405,
                                "This is the LTI launch address: your learning platform opens it "
                                "from the course link; it cannot be visited directly.");
    json_t *args = gm_request_params(req);
    if (!args)
        return -ENOMEM;
    const char *why = NULL;
    char msg[256];
    /* The OAuth parameters may come in an Authorization header instead of the form (RFC 5849
     * 3.5.1); they are signed the same. */
    json_t *header_params = NULL;
    const char *authz = gm_request_header(req, "Authorization");
    if (authz && strncasecmp(authz, "OAuth ", 6) == 0) {
        char err[128];
        if (!(header_params = oauth1_header_params(authz, err, sizeof(err)))) {
            json_decref(args);
            snprintf(msg, sizeof(msg), "The launch's %s.", err);
            return gm_request_error(req, 400, msg);
        }
        const char *k;
        json_t *v;
        json_object_foreach(header_params, k, v)
        {
            if (json_object_get(args, k)) {
                snprintf(msg, sizeof(msg),
                         "The launch gives %.64s both in its Authorization header and its form.",
                         k);
                json_decref(args);
                json_decref(header_params);
                return gm_request_error(req, 400, msg);
            }
            json_object_set(args, k, v);
        }
    }
    int status = check_launch(l, req, args, header_params, &why, msg, sizeof(msg));
    json_decref(header_params);
    if (status) {
        json_decref(args);
        return gm_request_error(req, status, why);
    }
    const char *name = json_string_value(json_object_get(args, l->conf->username_key));
    if (!name || !name[0])
        name = json_string_value(json_object_get(args, "user_id"));
    json_t *auth_state = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(args, k, v)
    {
        if (auth_state && strncmp(k, "oauth_", 6) != 0)
            json_object_set(auth_state, k, v);
    }
    json_t *result =
        auth_state ? json_pack("{s:s, s:o}", "name", name, "auth_state", auth_state) : NULL;
    const char *next = json_string_value(json_object_get(args, "custom_next"));
    int r = result ? gm_request_login_as(req, result, next ? next : gm_request_param(req, "next"))
                   : -ENOMEM;
    json_decref(result);
    json_decref(args);
    return r;
}

static int config_page(void *state, struct gm_request *req)
{
    struct lti11 *l = state;
    char path[URL_MAX], url[URL_MAX];
    snprintf(path, sizeof(path), "%slti/launch", l->host->hub_prefix);
    if (!lti_url(l->conf->uri_scheme, req, path, url, sizeof(url)))
        return gm_request_error(req, 400, "The request's Host header is not a host name.");
    const struct lti11_conf *c = l->conf;
    const char *fields[][2] = {{"title", c->config_title},
                               {"description", c->config_description},
                               {"icon", c->config_icon},
                               {"launch_url", url}};
    /* Element text escaped as HTML is escaped (&<>"' as entities) is well-formed XML. */
    struct gm_buf xml;
    gm_buf_init(&xml, CONFIG_XML_MAX);
    gm_buf_puts(&xml,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<cartridge_basiclti_link xmlns=\"http://www.imsglobal.org/xsd/imslticc_v1p0\"\n"
                "    xmlns:blti=\"http://www.imsglobal.org/xsd/imsbasiclti_v1p0\"\n"
                "    xmlns:lticm=\"http://www.imsglobal.org/xsd/imslticm_v1p0\"\n"
                "    xmlns:lticp=\"http://www.imsglobal.org/xsd/imslticp_v1p0\">\n");
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        gm_buf_printf(&xml, "    <blti:%s>", fields[i][0]);
        gm_buf_html_escape(&xml, fields[i][1]);
        gm_buf_printf(&xml, "</blti:%s>\n", fields[i][0]);
    }
    gm_buf_puts(&xml, "</cartridge_basiclti_link>\n");
    int r = xml.error ? gm_request_error(req, 500, "The tool's configuration is too long.")
                      : gm_request_respond(req, 200, "application/xml; charset=utf-8", xml.data);
    gm_buf_free(&xml);
    return r;
}

static const struct gm_auth_route lti11_routes[] = {
    {"lti/launch", GM_REQUEST_GET | GM_REQUEST_POST, launch_page},
    {"lti11/config", GM_REQUEST_GET, config_page},
    {NULL, 0, NULL},
};

static const char *const lti11_aliases[] = {"ltiauthenticator.lti11.auth.LTI11Authenticator",
                                            "ltiauthenticator.LTI11Authenticator",
                                            "ltiauthenticator.LTIAuthenticator",
                                            "LTI11Authenticator",
                                            "LTIAuthenticator",
                                            NULL};

const struct gm_authenticator auth_lti11 = {
    .abi = GM_ABI_VERSION,
    .name = "lti11",
    .aliases = lti11_aliases,
    .options = &lti11_class,
    .conf_size = sizeof(struct lti11_conf),
    .login_service = "LTI 1.1",
    .login_message = "This hub is opened from your course on your learning platform: follow the "
                     "link there to sign in.",
    .allow_all_by_default = true,
    .init = lti11_init,
    .destroy = lti11_destroy,
    .routes = lti11_routes,
};
