/* OAuthenticator's settings (oauthenticator 17's oauth2.py names, defaults and environment
 * variables), shared by every OAuth module, plus Ganymede's OpenID additions: oidc_issuer
 * (discovery), jwks_url (id_token verification) and oidc_logout. */
#include "auth/oauth2.h"

#include <errno.h>
#include <ganymede/oauth2.h>
#include <stddef.h>
#include <string.h>

#define OPT(field) offsetof(struct gm_oauth2_config, field)

/* {str: str|number|bool}: parameters added to a URL or a form. */
static int check_params(const json_t *v, const char **why)
{
    *why = "a dict of strings";
    if (!json_is_object(v))
        return -EINVAL;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        if (!json_is_string(x) && !json_is_number(x) && !json_is_boolean(x))
            return -EINVAL;
    }
    return 0;
}

/* The few http_request_kwargs Ganymede understands. */
static int check_request_kwargs(const json_t *v, const char **why)
{
    *why = "a dict with request_timeout, connect_timeout (seconds), validate_cert (bool) or "
           "ca_certs (a file)";
    if (!json_is_object(v))
        return -EINVAL;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        bool ok = ((strcmp(k, "request_timeout") == 0 || strcmp(k, "connect_timeout") == 0) &&
                   json_is_number(x) && json_number_value(x) > 0 && json_number_value(x) <= 600) ||
                  (strcmp(k, "validate_cert") == 0 && json_is_boolean(x)) ||
                  (strcmp(k, "ca_certs") == 0 && json_is_string(x));
        if (!ok)
            return -EINVAL;
    }
    return 0;
}

/* {"ENV_NAME": "dotted.path"}. */
static int check_env_map(const json_t *v, const char **why)
{
    *why = "a dict of environment variable names to dotted paths in auth_state";
    if (!json_is_object(v))
        return -EINVAL;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        if (!k[0] ||
            k[strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")] ||
            (k[0] >= '0' && k[0] <= '9') || !json_is_string(x) || !json_string_value(x)[0])
            return -EINVAL;
    }
    return 0;
}

static const char *const token_methods[] = {"header", "url", NULL};

static const struct gm_option oauth2_options[] = {
    GM_OPTION_X("client_id", GM_OPTION_STRING, OPT(client_id), "\"\"",
                "The client id the provider gave this hub.", .env = "OAUTH_CLIENT_ID"),
    GM_OPTION_X("client_secret", GM_OPTION_STRING, OPT(client_secret), "\"\"",
                "The client secret the provider gave this hub.", .env = "OAUTH_CLIENT_SECRET"),
    GM_OPTION_X("oauth_callback_url", GM_OPTION_STRING, OPT(oauth_callback_url), "\"\"",
                "The hub's callback URL as registered with the provider (empty: "
                "<the request's scheme and host><hub prefix>oauth_callback).",
                .env = "OAUTH_CALLBACK_URL"),
    GM_OPTION_X("authorize_url", GM_OPTION_STRING, OPT(authorize_url), "\"\"",
                "The provider's authorization endpoint (empty: the module's or discovery's).",
                .env = "OAUTH2_AUTHORIZE_URL"),
    GM_OPTION_X("token_url", GM_OPTION_STRING, OPT(token_url), "\"\"",
                "The provider's token endpoint (empty: the module's or discovery's).",
                .env = "OAUTH2_TOKEN_URL"),
    GM_OPTION_X("userdata_url", GM_OPTION_STRING, OPT(userdata_url), "\"\"",
                "The provider's user info endpoint (empty: the module's or discovery's).",
                .env = "OAUTH2_USERDATA_URL"),
    GM_OPTION("oidc_issuer", GM_OPTION_STRING, OPT(oidc_issuer), "\"\"",
              "An OpenID Connect issuer: its /.well-known/openid-configuration fills the "
              "endpoints not set, and id_tokens are verified against its keys (Ganymede)."),
    GM_OPTION("jwks_url", GM_OPTION_STRING, OPT(jwks_url), "\"\"",
              "The provider's JSON Web Key Set: id_tokens must be signed by one of its keys, "
              "for this client, unexpired (Ganymede)."),
    GM_OPTION("scope", GM_OPTION_STRINGS, OPT(scope), NULL,
              "The scopes to request (empty: the module's default)."),
    GM_OPTION("allowed_scopes", GM_OPTION_STRINGS, OPT(allowed_scopes), NULL,
              "Allow users whose granted scopes include all of these."),
    GM_OPTION_X("username_claim", GM_OPTION_STRING, OPT(username_claim), "\"\"",
                "The user info field that is the user name (empty: the module's default, "
                "\"username\" for generic-oauth).",
                .env = "OAUTH2_USERNAME_KEY"),
    GM_OPTION("userdata_from_id_token", GM_OPTION_BOOL, OPT(userdata_from_id_token), "false",
              "Take the user info from the id_token's claims instead of userdata_url."),
    GM_OPTION_X("userdata_params", GM_OPTION_JSON, OPT(userdata_params), "{}",
                "Query parameters added to the user info request.", .check = check_params),
    GM_OPTION_X("token_params", GM_OPTION_JSON, OPT(token_params), "{}",
                "Fields added to the token request.", .check = check_params),
    GM_OPTION_X("extra_authorize_params", GM_OPTION_JSON, OPT(extra_authorize_params), "{}",
                "Query parameters added to the authorization redirect.", .check = check_params),
    GM_OPTION_X("userdata_token_method", GM_OPTION_STRING, OPT(userdata_token_method), "\"header\"",
                "How the access token goes to userdata_url: an Authorization header, or the "
                "access_token query parameter (\"url\").",
                .env = "OAUTH2_USERDATA_REQUEST_TYPE", .choices = token_methods),
    GM_OPTION("basic_auth", GM_OPTION_BOOL, OPT(basic_auth), "false",
              "Send the client credentials as HTTP Basic auth (client_secret_basic) instead of "
              "in the form."),
    GM_OPTION("enable_pkce", GM_OPTION_BOOL, OPT(enable_pkce), "true",
              "Use PKCE (S256) in the authorization code flow."),
    GM_OPTION("validate_server_cert", GM_OPTION_BOOL, OPT(validate_server_cert), "true",
              "Check the provider's TLS certificate."),
    GM_OPTION_X("http_request_kwargs", GM_OPTION_JSON, OPT(http_request_kwargs), "{}",
                "Settings of requests to the provider: request_timeout and connect_timeout "
                "(seconds), validate_cert, ca_certs.",
                .check = check_request_kwargs),
    GM_OPTION("login_service", GM_OPTION_STRING, OPT(login_service), "\"\"",
              "The provider's name on the login button (empty: the module's, \"OAuth 2.0\")."),
    GM_OPTION_X("logout_redirect_url", GM_OPTION_STRING, OPT(logout_redirect_url), "\"\"",
                "Where logout sends the browser after the hub's session ends.",
                .env = "OAUTH_LOGOUT_REDIRECT_URL"),
    GM_OPTION("oidc_logout", GM_OPTION_BOOL, OPT(oidc_logout), "true",
              "When logout_redirect_url is not set, log out of the OpenID provider too if it "
              "offers an end_session_endpoint (Ganymede)."),
    GM_OPTION("oidc_post_logout_redirect_uri", GM_OPTION_STRING, OPT(oidc_post_logout_redirect_uri),
              "\"\"",
              "Where the OpenID provider sends the browser after its logout; it must be "
              "registered with the provider (empty: the provider's own page) (Ganymede)."),
    GM_OPTION("custom_403_message", GM_OPTION_STRING, OPT(custom_403_message),
              "\"Sorry, you are not currently authorized to use this hub. Please contact the "
              "hub administrator.\"",
              "What a user who logs in but is not allowed sees."),
    GM_OPTION("allowed_groups", GM_OPTION_STRINGS, OPT(allowed_groups), NULL,
              "Allow members of these groups (needs manage_groups)."),
    GM_OPTION("admin_groups", GM_OPTION_STRINGS, OPT(admin_groups), NULL,
              "Make members of these groups admins (needs manage_groups)."),
    GM_OPTION("auth_state_groups_key", GM_OPTION_STRING, OPT(auth_state_groups_key), "\"\"",
              "Dotted path to the user's groups in auth_state, e.g. \"oauth_user.groups\"."),
    GM_OPTION_X("auth_state_env", GM_OPTION_JSON, OPT(auth_state_env),
                "{\"OAUTH_ACCESS_TOKEN\": \"access_token\"}",
                "With enable_auth_state, environment variables given to the user's servers "
                "from auth_state: {\"NAME\": \"dotted.path\"} (Ganymede).",
                .check = check_env_map),
    GM_OPTION_END,
};

const struct gm_option_class auth_oauth2_class = {
    .name = "OAuthenticator",
    .parent = "Authenticator",
    .help = "Settings shared by the OAuth 2.0 and OpenID Connect authenticators.",
    .options = oauth2_options,
};
