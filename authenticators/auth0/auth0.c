/* Auth0OAuthenticator ("auth0"), as oauthenticator 17's auth0.py: the tenant at auth0_domain
 * (or <auth0_subdomain>.auth0.com), the email as user name, and a verified email required
 * (CVE-2026-33175) unless allow_unverified_email. Ganymede also verifies Auth0's id_tokens
 * against the tenant's keys and asks for "openid email" by default, without which Auth0's
 * /userinfo has no email. Logout goes through https://<domain>/v2/logout.
 *
 *     c.JupyterHub.authenticator_class = "auth0"
 *     c.Auth0OAuthenticator.auth0_subdomain = "prod-8ua-1yy9"
 *     c.Auth0OAuthenticator.client_id = "..."
 *     c.Auth0OAuthenticator.client_secret = "..."
 */
#include <errno.h>
#include <ganymede/authenticator.h>
#include <ganymede/oauth2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define URL_MAX 1024

struct auth0_conf {
    struct gm_oauth2_config oauth; /* first: OAuthenticator's settings land here */
    char *auth0_domain;
    char *auth0_subdomain;
    bool allow_unverified_email;
    char *username_key;
};

#define OPT(field) offsetof(struct auth0_conf, field)

static const struct gm_option auth0_options[] = {
    GM_OPTION_X("auth0_domain", GM_OPTION_STRING, OPT(auth0_domain), "\"\"",
                "The tenant's domain, e.g. \"example.eu.auth0.com\" or a custom domain.",
                .env = "AUTH0_DOMAIN"),
    GM_OPTION_X("auth0_subdomain", GM_OPTION_STRING, OPT(auth0_subdomain), "\"\"",
                "The tenant's name: the domain is then <auth0_subdomain>.auth0.com.",
                .env = "AUTH0_SUBDOMAIN"),
    GM_OPTION("allow_unverified_email", GM_OPTION_BOOL, OPT(allow_unverified_email), "false",
              "Let users whose email Auth0 has not verified log in."),
    GM_OPTION("username_key", GM_OPTION_STRING, OPT(username_key), "\"\"",
              "Deprecated name of username_claim."),
    GM_OPTION_END,
};

static const struct gm_option_class auth0_class = {
    .name = "Auth0OAuthenticator",
    .parent = "OAuthenticator",
    .help = "Auth0 tenants (authenticator_class = \"auth0\").",
    .options = auth0_options,
};

struct auth0_state {
    const struct auth0_conf *conf;
    char authorize_url[URL_MAX], token_url[URL_MAX], userinfo_url[URL_MAX], logout_url[URL_MAX],
        issuer[URL_MAX], jwks_url[URL_MAX];
    bool own_endpoints; /* the tenant's URLs are used (not overridden): verify id_tokens */
};

static bool valid_domain(const char *d)
{
    size_t n = strlen(d);
    return n > 0 && n < 256 &&
           d[strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:")] ==
               '\0';
}

static int auth0_init(const struct gm_host *host, const struct gm_authenticator_base *base,
                      void *conf, void **state, char *err, size_t errlen)
{
    (void)host;
    (void)base;
    struct auth0_conf *c = conf;
    char domain[300] = "";
    if (c->auth0_domain[0])
        snprintf(domain, sizeof(domain), "%s", c->auth0_domain);
    else if (c->auth0_subdomain[0])
        snprintf(domain, sizeof(domain), "%s.auth0.com", c->auth0_subdomain);
    bool overridden =
        c->oauth.authorize_url[0] && c->oauth.token_url[0] && c->oauth.userdata_url[0];
    if (!domain[0] && !overridden) {
        snprintf(err, errlen,
                 "Auth0OAuthenticator needs auth0_domain or auth0_subdomain (or AUTH0_DOMAIN)");
        return -EINVAL;
    }
    if (domain[0] && !valid_domain(domain)) {
        snprintf(err, errlen, "Auth0OAuthenticator: '%s' is not a domain name", domain);
        return -EINVAL;
    }
    if (gm_option_fill_string(&c->oauth.username_claim, c->username_key) < 0)
        return -ENOMEM;
    struct auth0_state *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->conf = c;
    if (domain[0]) {
        snprintf(s->authorize_url, URL_MAX, "https://%s/authorize", domain);
        snprintf(s->token_url, URL_MAX, "https://%s/oauth/token", domain);
        snprintf(s->userinfo_url, URL_MAX, "https://%s/userinfo", domain);
        snprintf(s->logout_url, URL_MAX, "https://%s/v2/logout", domain);
        snprintf(s->issuer, URL_MAX, "https://%s/", domain);
        snprintf(s->jwks_url, URL_MAX, "https://%s/.well-known/jwks.json", domain);
    }
    s->own_endpoints = domain[0] && !c->oauth.token_url[0];
    *state = s;
    return 0;
}

static void auth0_destroy(void *state)
{
    free(state);
}

static const char *const default_scope[] = {"openid", "email", NULL};

static const char *or_null(const char *s)
{
    return s[0] ? s : NULL;
}

static int auth0_endpoints(void *state, struct gm_oauth2_endpoints *e, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct auth0_state *s = state;
    e->authorize_url = or_null(s->authorize_url);
    e->token_url = or_null(s->token_url);
    e->userdata_url = or_null(s->userinfo_url);
    e->logout_url = or_null(s->logout_url);
    if (s->own_endpoints) {
        e->issuer = s->issuer;
        e->jwks_url = s->jwks_url;
    }
    e->username_claim = "email";
    e->login_service = "Auth0";
    e->user_auth_state_key = "auth0_user";
    e->scope = default_scope;
    return 0;
}

struct verdict_call {
    gm_oauth2_verdict_cb cb;
    void *data;
    int allowed;
};

static void give_verdict(void *data)
{
    struct verdict_call *v = data;
    struct gm_oauth2_verdict verdict = {
        .allowed = v->allowed,
        .message = v->allowed < 0 ? "Your email address is not verified at Auth0: verify it "
                                    "(see the email Auth0 sent you), then log in again."
                                  : NULL,
    };
    v->cb(v->data, &verdict);
    free(v);
}

/* Before any allow rule: the email must be verified (oauthenticator 17.4). */
static int auth0_check_user(void *state, const struct gm_host *host, const struct gm_oauth2_user *u,
                            gm_oauth2_verdict_cb cb, void *data)
{
    struct auth0_state *s = state;
    struct verdict_call *v = calloc(1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    v->cb = cb;
    v->data = data;
    const json_t *verified = json_object_get(u->user_info, "email_verified");
    bool ok = json_is_true(verified) || s->conf->allow_unverified_email;
    v->allowed = ok ? 0 : -1;
    int r = host->defer(host, give_verdict, v);
    if (r < 0)
        free(v);
    return r;
}

static const struct gm_oauth2_provider auth0_provider = {
    .endpoints = auth0_endpoints,
    .check_user = auth0_check_user,
};

static const char *const auth0_aliases[] = {
    "oauthenticator.auth0.Auth0OAuthenticator",
    "oauthenticator.Auth0OAuthenticator",
    "Auth0OAuthenticator",
    NULL,
};

const struct gm_authenticator auth_auth0 = {
    .abi = GM_ABI_VERSION,
    .name = "auth0",
    .aliases = auth0_aliases,
    .options = &auth0_class,
    .conf_size = sizeof(struct auth0_conf),
    .init = auth0_init,
    .destroy = auth0_destroy,
    .oauth2 = &auth0_provider,
};
