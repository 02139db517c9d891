/* GenericOAuthenticator ("generic-oauth"): any OAuth 2.0 or OpenID Connect provider, with
 * oauthenticator's settings and its deprecated aliases. With OAuthenticator.oidc_issuer the
 * endpoints come from the provider's discovery document and id_tokens are verified.
 *
 *     c.JupyterHub.authenticator_class = "generic-oauth"
 *     c.GenericOAuthenticator.oidc_issuer = "https://id.example.org"
 *     c.GenericOAuthenticator.client_id = "hub"
 *     c.GenericOAuthenticator.client_secret = "..."
 *     c.GenericOAuthenticator.scope = ["openid", "profile", "email", "groups"]
 *     c.GenericOAuthenticator.username_claim = "preferred_username"
 */
#include <errno.h>
#include <ganymede/authenticator.h>
#include <ganymede/oauth2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct generic_conf {
    struct gm_oauth2_config oauth; /* first: OAuthenticator's settings land here */
    char *claim_groups_key;
    char *username_key;
    json_t *extra_params;
    json_t *tls_verify;
};

#define OPT(field) offsetof(struct generic_conf, field)

static int check_dict(const json_t *v, const char **why)
{
    *why = "a dict";
    return json_is_object(v) || json_is_null(v) ? 0 : -EINVAL;
}

static const struct gm_option generic_options[] = {
    GM_OPTION_X("claim_groups_key", GM_OPTION_STRING, OPT(claim_groups_key), "\"\"",
                "Deprecated: the user info field with the groups; means auth_state_groups_key "
                "= \"oauth_user.<key>\" (with manage_groups, \"oauth_user.groups\" when "
                "neither is set).",
                .env = "OAUTH2_GROUPS_KEY"),
    GM_OPTION("username_key", GM_OPTION_STRING, OPT(username_key), "\"\"",
              "Deprecated name of username_claim."),
    GM_OPTION_X("extra_params", GM_OPTION_JSON, OPT(extra_params), "null",
                "Deprecated name of token_params.", .check = check_dict),
    GM_OPTION_X("tls_verify", GM_OPTION_JSON, OPT(tls_verify), "null",
                "Deprecated name of validate_server_cert.", .check = gm_check_bool_or_null),
    GM_OPTION_END,
};

static const struct gm_option_class generic_class = {
    .name = "GenericOAuthenticator",
    .parent = "OAuthenticator",
    .help = "Any OAuth 2.0 or OpenID Connect provider (authenticator_class = "
            "\"generic-oauth\").",
    .options = generic_options,
};

static int generic_init(const struct gm_host *host, const struct gm_authenticator_base *base,
                        void *conf, void **state, char *err, size_t errlen)
{
    (void)host;
    struct generic_conf *c = conf;
    int r = 0;
    r = gm_option_fill_string(&c->oauth.username_claim, c->username_key);
    /* GenericOAuthenticator's auth_state_groups_key defaults to "oauth_user.<claim_groups_key>"
     * (claim_groups_key: "groups" or OAUTH2_GROUPS_KEY), used when groups are managed. */
    if (r == 0 && !c->oauth.auth_state_groups_key[0] && base->manage_groups) {
        char path[512];
        snprintf(path, sizeof(path), "oauth_user.%s",
                 c->claim_groups_key[0] ? c->claim_groups_key : "groups");
        r = gm_option_fill_string(&c->oauth.auth_state_groups_key, path);
    }
    if (r == 0 && json_is_object(c->extra_params) && c->oauth.token_params)
        r = json_object_update_missing(c->oauth.token_params, c->extra_params) == 0 ? 0 : -ENOMEM;
    if (json_is_boolean(c->tls_verify))
        c->oauth.validate_server_cert = json_is_true(c->tls_verify);
    if (r < 0) {
        snprintf(err, errlen, "out of memory");
        return r;
    }
    *state = c;
    return 0;
}

static int generic_endpoints(void *state, struct gm_oauth2_endpoints *e, char *err, size_t errlen)
{
    (void)state;
    (void)err;
    (void)errlen;
    e->username_claim = "username";
    e->login_service = "OAuth 2.0";
    e->user_auth_state_key = "oauth_user";
    return 0;
}

static const struct gm_oauth2_provider generic_provider = {
    .endpoints = generic_endpoints,
};

static const char *const generic_aliases[] = {
    "oauthenticator.generic.GenericOAuthenticator",
    "oauthenticator.GenericOAuthenticator",
    "GenericOAuthenticator",
    NULL,
};

const struct gm_authenticator auth_generic_oauth = {
    .abi = GM_ABI_VERSION,
    .name = "generic-oauth",
    .aliases = generic_aliases,
    .options = &generic_class,
    .conf_size = sizeof(struct generic_conf),
    .init = generic_init,
    .oauth2 = &generic_provider,
};
