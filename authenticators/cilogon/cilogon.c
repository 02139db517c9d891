/* CILogonOAuthenticator ("cilogon"), as oauthenticator 17's cilogon.py: users come through one
 * of the identity providers (IdPs) listed in allowed_idps, each with its rule to derive the
 * user name (a claim, with its @domain stripped or a prefix added) and its own allow rules
 * (allow_all, allowed_domains). The authorize redirect preselects those IdPs (selected_idp)
 * and may pick a skin.
 *
 *     c.JupyterHub.authenticator_class = "cilogon"
 *     c.CILogonOAuthenticator.allowed_idps = {
 *         "https://github.com/login/oauth/authorize": {
 *             "username_derivation": {"username_claim": "preferred_username",
 *                                     "action": "prefix", "prefix": "gh"},
 *             "allow_all": True,
 *         },
 *         "urn:mace:incommon:uiuc.edu": {
 *             "username_derivation": {"username_claim": "email",
 *                                     "action": "strip_idp_domain", "domain": "uiuc.edu"},
 *             "allowed_domains": ["uiuc.edu", "*.uiuc.edu"],
 *         },
 *     }
 */
#include <errno.h>
#include <fnmatch.h>
#include <ganymede/authenticator.h>
#include <ganymede/oauth2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define URL_MAX      1024
#define USERNAME_MAX 512

struct cilogon_conf {
    struct gm_oauth2_config oauth; /* first: OAuthenticator's settings land here */
    char *cilogon_host;
    json_t *idps;
    json_t *allowed_idps;
    char *skin;
    char **shown_idps;
    char *idp;
};

#define OPT(field) offsetof(struct cilogon_conf, field)

static bool is_in(const char *k, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(k, *list) == 0)
            return true;
    return false;
}

static int check_idps(const json_t *v, const char **why)
{
    static const char *const keys[] = {"username_derivation",   "allow_all", "allowed_domains",
                                       "allowed_domains_claim", "default",   NULL};
    static const char *const derivation_keys[] = {"username_claim", "action", "domain", "prefix",
                                                  NULL};
    *why = "a dict of IdP entity ids (urn:, https:// or http://) to {\"username_derivation\": "
           "{\"username_claim\", \"action\": \"strip_idp_domain\" (with \"domain\") or "
           "\"prefix\" (with \"prefix\")}, \"allow_all\", \"allowed_domains\", "
           "\"allowed_domains_claim\", \"default\"}";
    if (!json_is_object(v))
        return -EINVAL;
    const char *id;
    json_t *idp;
    json_object_foreach((json_t *)v, id, idp)
    {
        if (strncmp(id, "urn:", 4) != 0 && strncmp(id, "https://", 8) != 0 &&
            strncmp(id, "http://", 7) != 0)
            return -EINVAL;
        if (!json_is_object(idp))
            return -EINVAL;
        const char *k;
        json_t *x;
        json_object_foreach(idp, k, x)
        {
            if (!is_in(k, keys))
                return -EINVAL;
        }
        const json_t *d = json_object_get(idp, "username_derivation");
        if (!json_is_object(d) || !json_is_string(json_object_get(d, "username_claim")))
            return -EINVAL;
        json_object_foreach((json_t *)d, k, x)
        {
            if (!is_in(k, derivation_keys) || !json_is_string(x))
                return -EINVAL;
        }
        const char *action = json_string_value(json_object_get(d, "action"));
        if (action &&
            !((strcmp(action, "strip_idp_domain") == 0 &&
               json_is_string(json_object_get(d, "domain"))) ||
              (strcmp(action, "prefix") == 0 && json_is_string(json_object_get(d, "prefix")))))
            return -EINVAL;
        const json_t *all = json_object_get(idp, "allow_all");
        const json_t *domains = json_object_get(idp, "allowed_domains");
        const json_t *def = json_object_get(idp, "default");
        if ((all && !json_is_boolean(all)) || (def && !json_is_boolean(def)) ||
            (domains && !json_is_array(domains)))
            return -EINVAL;
        size_t i;
        json_array_foreach(domains, i, x)
        {
            if (!json_is_string(x))
                return -EINVAL;
        }
    }
    return 0;
}

static const struct gm_option cilogon_options[] = {
    GM_OPTION_X("cilogon_host", GM_OPTION_STRING, OPT(cilogon_host), "\"cilogon.org\"",
                "CILogon's host name (test.cilogon.org for its test service).",
                .env = "CILOGON_HOST"),
    GM_OPTION_X("idps", GM_OPTION_JSON, OPT(idps), "{}",
                "The identity providers users may come through, each with its "
                "username_derivation and allow rules.",
                .check = check_idps),
    GM_OPTION_X("allowed_idps", GM_OPTION_JSON, OPT(allowed_idps), "{}", "Deprecated name of idps.",
                .check = check_idps),
    GM_OPTION("skin", GM_OPTION_STRING, OPT(skin), "\"\"",
              "A CILogon skin for its IdP selection page."),
    GM_OPTION("shown_idps", GM_OPTION_STRINGS, OPT(shown_idps), NULL,
              "The IdPs shown on CILogon's selection page (default: those of allowed_idps)."),
    GM_OPTION("idp", GM_OPTION_STRING, OPT(idp), "\"\"",
              "An IdP to go to directly, skipping CILogon's selection page."),
    GM_OPTION_END,
};

static const struct gm_option_class cilogon_class = {
    .name = "CILogonOAuthenticator",
    .parent = "OAuthenticator",
    .help = "Research and education identities through CILogon (authenticator_class = "
            "\"cilogon\").",
    .options = cilogon_options,
};

struct cilogon_state {
    const struct cilogon_conf *conf;
    const json_t *idps; /* idps, or allowed_idps */
    const struct gm_host *host;
    char authorize_url[URL_MAX], token_url[URL_MAX], userinfo_url[URL_MAX], issuer[URL_MAX],
        jwks_url[URL_MAX];
    bool own_endpoints;
};

static int cilogon_init(const struct gm_host *host, const struct gm_authenticator_base *base,
                        void *conf, void **state, char *err, size_t errlen)
{
    (void)base;
    struct cilogon_conf *c = conf;
    const json_t *idps = json_object_size(c->idps) ? c->idps : c->allowed_idps;
    if (!json_object_size(idps)) {
        snprintf(err, errlen,
                 "CILogonOAuthenticator.idps (or allowed_idps) must list at least one identity "
                 "provider");
        return -EINVAL;
    }
    const char *h = c->cilogon_host;
    if (!h[0] || strlen(h) > 255 ||
        h[strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:")]) {
        snprintf(err, errlen, "CILogonOAuthenticator.cilogon_host (%s) is not a host name", h);
        return -EINVAL;
    }
    struct cilogon_state *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->conf = c;
    s->idps = idps;
    s->host = host;
    snprintf(s->authorize_url, URL_MAX, "https://%s/authorize", h);
    snprintf(s->token_url, URL_MAX, "https://%s/oauth2/token", h);
    snprintf(s->userinfo_url, URL_MAX, "https://%s/oauth2/userinfo", h);
    snprintf(s->issuer, URL_MAX, "https://%s", h);
    snprintf(s->jwks_url, URL_MAX, "https://%s/oauth2/certs", h);
    s->own_endpoints = !c->oauth.token_url[0];
    *state = s;
    return 0;
}

static void cilogon_destroy(void *state)
{
    free(state);
}

static const char *const default_scope[] = {"openid", "email", "org.cilogon.userinfo", "profile",
                                            NULL};
static const char *const required_scope[] = {"openid", "org.cilogon.userinfo", NULL};

static int cilogon_endpoints(void *state, struct gm_oauth2_endpoints *e, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct cilogon_state *s = state;
    e->authorize_url = s->authorize_url;
    e->token_url = s->token_url;
    e->userdata_url = s->userinfo_url;
    if (s->own_endpoints) {
        e->issuer = s->issuer;
        e->jwks_url = s->jwks_url;
    }
    e->username_claim = "email"; /* unused: each IdP says which claim */
    e->login_service = "CILogon";
    e->user_auth_state_key = "cilogon_user";
    e->scope = default_scope;
    e->required_scope = required_scope;
    return 0;
}

/* selected_idp: the chosen IdP, or the default one first and then the others. */
static void cilogon_authorize_params(void *state, json_t *params)
{
    struct cilogon_state *s = state;
    const struct cilogon_conf *c = s->conf;
    char list[8192] = "";
    size_t n = 0;
    if (c->idp[0]) {
        snprintf(list, sizeof(list), "%s", c->idp);
    } else if (c->shown_idps && c->shown_idps[0]) {
        for (char **p = c->shown_idps; *p && n < sizeof(list); p++)
            n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", n ? "," : "", *p);
    } else {
        const char *id;
        json_t *idp;
        for (int pass = 0; pass < 2; pass++)
            json_object_foreach((json_t *)s->idps, id, idp)
            {
                bool def = json_is_true(json_object_get(idp, "default"));
                if ((pass == 0) == def && n < sizeof(list))
                    n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", n ? "," : "", id);
            }
    }
    if (list[0] && strlen(list) < sizeof(list) - 1)
        json_object_set_new(params, "selected_idp", json_string(list));
    if (c->skin[0])
        json_object_set_new(params, "skin", json_string(c->skin));
}

struct verdict_call {
    gm_oauth2_verdict_cb cb;
    void *data;
    struct gm_oauth2_verdict v;
    char name[USERNAME_MAX];
    char message[700];
};

static void give_verdict(void *data)
{
    struct verdict_call *call = data;
    call->v.message = call->message[0] ? call->message : NULL;
    call->v.name = call->name[0] ? call->name : NULL;
    call->cb(call->data, &call->v);
    free(call);
}

/* The user's domain for allowed_domains: after the last '@', lowercased. */
static void domain_of(const char *s, char *out, size_t outlen)
{
    const char *at = strrchr(s, '@');
    snprintf(out, outlen, "%s", at ? at + 1 : "");
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
}

static void judge(const struct cilogon_state *s, const json_t *info, struct verdict_call *call)
{
    const char *idp_id = json_string_value(json_object_get(info, "idp"));
    if (!idp_id) {
        call->v.status = -EPROTO;
        snprintf(call->message, sizeof(call->message),
                 "CILogon's user info has no \"idp\" claim (is the org.cilogon.userinfo scope "
                 "granted?)");
        return;
    }
    const json_t *idp = json_object_get(s->idps, idp_id);
    if (!idp) {
        call->v.allowed = -1;
        snprintf(call->message, sizeof(call->message),
                 "Login with identity provider %s is not pre-configured", idp_id);
        return;
    }
    const json_t *d = json_object_get(idp, "username_derivation");
    const char *claim = json_string_value(json_object_get(d, "username_claim"));
    const char *raw = json_string_value(json_object_get(info, claim));
    if (!raw || !raw[0]) {
        call->v.status = -EPROTO;
        snprintf(call->message, sizeof(call->message),
                 "the identity provider %s did not send the \"%s\" claim this hub takes the "
                 "user name from",
                 idp_id, claim);
        return;
    }
    const char *action = json_string_value(json_object_get(d, "action"));
    snprintf(call->name, sizeof(call->name), "%s", raw);
    if (action && strcmp(action, "strip_idp_domain") == 0) {
        const char *domain = json_string_value(json_object_get(d, "domain"));
        size_t n = strlen(call->name), dn = strlen(domain);
        if (n > dn + 1 && call->name[n - dn - 1] == '@' &&
            strcasecmp(call->name + n - dn, domain) == 0)
            call->name[n - dn - 1] = '\0';
    } else if (action && strcmp(action, "prefix") == 0) {
        snprintf(call->name, sizeof(call->name), "%s:%s",
                 json_string_value(json_object_get(d, "prefix")), raw);
    }
    if (json_is_true(json_object_get(idp, "allow_all"))) {
        call->v.allowed = 1;
        return;
    }
    const json_t *domains = json_object_get(idp, "allowed_domains");
    const char *domain_claim = json_string_value(json_object_get(idp, "allowed_domains_claim"));
    const char *source =
        domain_claim ? json_string_value(json_object_get(info, domain_claim)) : raw;
    char domain[256];
    domain_of(source ? source : "", domain, sizeof(domain));
    size_t i;
    json_t *g;
    json_array_foreach(domains, i, g)
    {
        char pattern[256];
        snprintf(pattern, sizeof(pattern), "%s", json_string_value(g));
        for (char *p = pattern; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        if (domain[0] && fnmatch(pattern, domain, 0) == 0) {
            call->v.allowed = 1;
            return;
        }
    }
}

static int cilogon_check_user(void *state, const struct gm_host *host,
                              const struct gm_oauth2_user *u, gm_oauth2_verdict_cb cb, void *data)
{
    struct cilogon_state *s = state;
    struct verdict_call *call = calloc(1, sizeof(*call));
    if (!call)
        return -ENOMEM;
    call->cb = cb;
    call->data = data;
    judge(s, u->user_info, call);
    int r = host->defer(host, give_verdict, call);
    if (r < 0)
        free(call);
    return r;
}

static const struct gm_oauth2_provider cilogon_provider = {
    .endpoints = cilogon_endpoints,
    .authorize_params = cilogon_authorize_params,
    .check_user = cilogon_check_user,
};

static const char *const cilogon_aliases[] = {
    "oauthenticator.cilogon.CILogonOAuthenticator",
    "oauthenticator.CILogonOAuthenticator",
    "CILogonOAuthenticator",
    NULL,
};

const struct gm_authenticator auth_cilogon = {
    .abi = GM_ABI_VERSION,
    .name = "cilogon",
    .aliases = cilogon_aliases,
    .options = &cilogon_class,
    .conf_size = sizeof(struct cilogon_conf),
    .init = cilogon_init,
    .destroy = cilogon_destroy,
    .oauth2 = &cilogon_provider,
};
