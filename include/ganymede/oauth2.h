/* OAuth 2.0 and OpenID Connect login, shared by the authenticator modules under
 * authenticators/ (generic-oauth, github, auth0, cilogon), with oauthenticator 17's settings
 * and behaviour. The hub does the protocol: the /hub/oauth_login and /hub/oauth_callback
 * routes, the signed state cookie carrying `next`, PKCE (S256), the code exchange
 * (client_secret_basic or _post), the user info request (or the id_token's claims), OpenID
 * discovery and id_token verification against the provider's JWKS, auth_state, groups from a
 * claim, and OAuthenticator's allow rules. A module says where its provider is and adds what
 * the provider needs: GitHub's organisation checks, Auth0's verified email, CILogon's identity
 * providers.
 *
 * A module is a struct gm_authenticator whose `oauth2` member points to a struct
 * gm_oauth2_provider. Its settings class has "OAuthenticator" as parent and its config struct
 * starts with a struct gm_oauth2_config, so the base settings (client_id, scope,
 * username_claim, allowed_groups, ...) land there. */
#pragma once

#include <ganymede/host.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* OAuthenticator's settings (the first member of every OAuth module's config struct). Strings
 * are "" when unset. */
struct gm_oauth2_config {
    char *client_id;
    char *client_secret;
    char *oauth_callback_url;
    char *authorize_url;
    char *token_url;
    char *userdata_url;
    char *oidc_issuer;
    char *jwks_url;
    char **scope;
    char **allowed_scopes;
    char *username_claim;
    bool userdata_from_id_token;
    json_t *userdata_params;
    json_t *token_params;
    json_t *extra_authorize_params;
    char *userdata_token_method;
    bool basic_auth;
    bool enable_pkce;
    bool validate_server_cert;
    json_t *http_request_kwargs;
    char *login_service;
    char *logout_redirect_url;
    bool oidc_logout;
    char *oidc_post_logout_redirect_uri;
    char *custom_403_message;
    char **allowed_groups;
    char **admin_groups;
    char *auth_state_groups_key;
    json_t *auth_state_env;
};

/* What a module tells the hub about its provider. Every field may be NULL; settings the user
 * gave win over these, and OpenID discovery fills what is still missing. Strings must live as
 * long as the module's state. */
struct gm_oauth2_endpoints {
    const char *authorize_url;
    const char *token_url;
    const char *userdata_url;
    const char *logout_url;     /* where logout sends the browser, when the provider has one */
    const char *issuer;         /* OpenID: expected `iss` (discovery only if oidc_issuer is set) */
    const char *jwks_url;       /* OpenID: the keys that sign id_tokens */
    const char *username_claim; /* when OAuthenticator.username_claim is not set */
    const char *login_service;  /* when OAuthenticator.login_service is not set */
    const char *user_auth_state_key;   /* "github_user": where the user info goes in auth_state */
    const char *const *scope;          /* when OAuthenticator.scope is not set */
    const char *const *required_scope; /* always requested (CILogon: openid, ...) */
};

/* A login in progress, as the module sees it once the provider has answered. */
struct gm_oauth2_user {
    const json_t *user_info;      /* the user info response or the id_token's claims */
    const json_t *token_response; /* the token endpoint's answer */
    const char *access_token;
    const char *authorization;        /* "Authorization: Bearer <token>" header for API calls */
    const char *const *granted_scope; /* NULL-terminated */
    json_t *auth_state;               /* what will be stored: the module may add keys */
    const char *name;                 /* the username claim's value, before normalisation */
};

/* The module's verdict on a login. */
struct gm_oauth2_verdict {
    int status;          /* 0, or a negative errno: the provider failed (502 with @message) */
    const char *name;    /* a different user name (CILogon's derivation), or NULL */
    int allowed;         /* 1: the module's own rule admits the user; -1: refused (403 with
                            @message); 0: no opinion (the base rules decide) */
    const char *message; /* for the user */
};

typedef void (*gm_oauth2_verdict_cb)(void *data, const struct gm_oauth2_verdict *v);

struct gm_oauth2_provider {
    /** Where the provider is, from the module's settings (e.g. github_url). Called once at
     * start, after the module's init; returns 0 or -EINVAL with a message. */
    int (*endpoints)(void *state, struct gm_oauth2_endpoints *e, char *err, size_t errlen);

    /** Extra query parameters for the authorize redirect (CILogon: selected_idp, skin), added
     * to the object @params (strings only). May be NULL. */
    void (*authorize_params)(void *state, json_t *params);

    /** Check and complete a login (GitHub: organisation membership and emails). libuv
     * contract; @host->fetcher makes HTTP calls, with @user->authorization. The verdict's
     * strings need only live during the callback. May be NULL. */
    int (*check_user)(void *state, const struct gm_host *host, const struct gm_oauth2_user *user,
                      gm_oauth2_verdict_cb cb, void *data);
};

/** The timeouts of requests to the provider from OAuthenticator.http_request_kwargs
 * (request_timeout, connect_timeout; 10 s and 5 s by default), in milliseconds. */
long gm_oauth2_timeout_ms(const struct gm_oauth2_config *c);
long gm_oauth2_connect_timeout_ms(const struct gm_oauth2_config *c);

/** Whether @scope (NULL-terminated) has @want. */
bool gm_oauth2_has_scope(const char *const *scope, const char *want);
