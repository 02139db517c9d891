/* GitHubOAuthenticator ("github"), as oauthenticator 17's github.py: github.com or a GitHub
 * Enterprise Server at github_url, the user's login as name, the primary email from
 * /user/emails when the profile hides it, teams in auth_state on request, and
 * allowed_organizations ("org" or "org:team-slug") checked through the membership API, where
 * only 204 means member.
 *
 *     c.JupyterHub.authenticator_class = "github"
 *     c.GitHubOAuthenticator.client_id = "..."
 *     c.GitHubOAuthenticator.client_secret = "..."
 *     c.GitHubOAuthenticator.allowed_organizations = {"my-org", "other-org:staff"}
 *     c.GitHubOAuthenticator.scope = ["read:org"]
 */
#include <errno.h>
#include <ganymede/authenticator.h>
#include <ganymede/buf.h>
#include <ganymede/encode.h>
#include <ganymede/fetch.h>
#include <ganymede/log.h>
#include <ganymede/oauth2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TEAM_PAGES 10
#define URL_MAX        2048

struct github_conf {
    struct gm_oauth2_config oauth; /* first: OAuthenticator's settings land here */
    char *github_url;
    char **allowed_organizations;
    bool populate_teams_in_auth_state;
    char *github_client_id, *github_client_secret; /* deprecated names */
    char **github_organization_whitelist;
};

#define OPT(field) offsetof(struct github_conf, field)

static const struct gm_option github_options[] = {
    GM_OPTION_X("github_url", GM_OPTION_STRING, OPT(github_url), "\"https://github.com\"",
                "GitHub's address; a GitHub Enterprise Server's API is then at "
                "<github_url>/api/v3.",
                .env = "GITHUB_URL"),
    GM_OPTION("allowed_organizations", GM_OPTION_STRINGS, OPT(allowed_organizations), NULL,
              "Allow members of these organizations (\"org\") or teams (\"org:team-slug\")."),
    GM_OPTION("populate_teams_in_auth_state", GM_OPTION_BOOL, OPT(populate_teams_in_auth_state),
              "false", "Keep the user's teams in auth_state[\"teams\"] (needs scope read:org)."),
    GM_OPTION_X("github_client_id", GM_OPTION_STRING, OPT(github_client_id), "\"\"",
                "Deprecated name of client_id.", .env = "GITHUB_CLIENT_ID"),
    GM_OPTION_X("github_client_secret", GM_OPTION_STRING, OPT(github_client_secret), "\"\"",
                "Deprecated name of client_secret.", .env = "GITHUB_CLIENT_SECRET"),
    GM_OPTION("github_organization_whitelist", GM_OPTION_STRINGS,
              OPT(github_organization_whitelist), NULL,
              "Deprecated name of allowed_organizations."),
    GM_OPTION_END,
};

static const struct gm_option_class github_class = {
    .name = "GitHubOAuthenticator",
    .parent = "OAuthenticator",
    .help = "GitHub or GitHub Enterprise accounts (authenticator_class = \"github\").",
    .options = github_options,
};

struct github_state {
    const struct github_conf *conf;
    char base[URL_MAX - 128];
    char api[URL_MAX - 64];
    char authorize_url[URL_MAX], token_url[URL_MAX], user_url[URL_MAX];
};

static int github_init(const struct gm_host *host, const struct gm_authenticator_base *base,
                       void *conf, void **state, char *err, size_t errlen)
{
    (void)host;
    (void)base;
    struct github_conf *c = conf;
    if (gm_option_fill_string(&c->oauth.client_id, c->github_client_id) < 0 ||
        gm_option_fill_string(&c->oauth.client_secret, c->github_client_secret) < 0)
        return -ENOMEM;
    if ((!c->allowed_organizations || !c->allowed_organizations[0]) &&
        c->github_organization_whitelist && c->github_organization_whitelist[0]) {
        char **tmp = c->allowed_organizations;
        c->allowed_organizations = c->github_organization_whitelist;
        c->github_organization_whitelist = tmp;
    }
    size_t n = strlen(c->github_url);
    while (n && c->github_url[n - 1] == '/')
        n--;
    if (!n || n >= URL_MAX - 128 ||
        (strncmp(c->github_url, "https://", 8) != 0 && strncmp(c->github_url, "http://", 7) != 0)) {
        snprintf(err, errlen, "GitHubOAuthenticator.github_url (%s) must be an http(s) URL",
                 c->github_url);
        return -EINVAL;
    }
    for (char **o = c->allowed_organizations; o && *o; o++) {
        const char *colon = strchr(*o, ':');
        if (!(*o)[0] || *o[0] == ':' || (colon && (!colon[1] || strchr(colon + 1, ':')))) {
            snprintf(err, errlen,
                     "GitHubOAuthenticator.allowed_organizations: '%s' is not \"org\" or "
                     "\"org:team\"",
                     *o);
            return -EINVAL;
        }
    }
    struct github_state *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->conf = c;
    snprintf(s->base, sizeof(s->base), "%.*s", (int)n, c->github_url);
    snprintf(s->authorize_url, URL_MAX, "%s/login/oauth/authorize", s->base);
    snprintf(s->token_url, URL_MAX, "%s/login/oauth/access_token", s->base);
    if (strcmp(s->base, "https://github.com") == 0)
        snprintf(s->api, sizeof(s->api), "https://api.github.com");
    else
        snprintf(s->api, sizeof(s->api), "%s/api/v3", s->base);
    snprintf(s->user_url, URL_MAX, "%s/user", s->api);
    *state = s;
    return 0;
}

static void github_destroy(void *state)
{
    free(state);
}

static int github_endpoints(void *state, struct gm_oauth2_endpoints *e, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct github_state *s = state;
    e->authorize_url = s->authorize_url;
    e->token_url = s->token_url;
    e->userdata_url = s->user_url;
    e->username_claim = "login";
    e->login_service = "GitHub";
    e->user_auth_state_key = "github_user";
    return 0;
}

/* The checks after GitHub returned the user: emails, teams, organizations; one API request at
 * a time. */

enum step { STEP_EMAILS, STEP_TEAMS, STEP_ORGS, STEP_DONE };

struct check {
    struct github_state *s;
    const struct gm_host *host;
    gm_oauth2_verdict_cb cb;
    void *data;
    char *login;
    char *authorization;
    json_t *auth_state; /* borrowed from the hub until the verdict */
    json_t *teams;
    enum step step;
    size_t org;      /* next allowed_organizations entry */
    int team_pages;  /* pages of /user/teams read */
    bool redirected; /* the membership request of this entry was redirected */
    char next_url[URL_MAX];
};

static void check_free(struct check *k)
{
    free(k->login);
    free(k->authorization);
    json_decref(k->teams);
    free(k);
}

static void verdict(struct check *k, int status, int allowed, const char *message)
{
    struct gm_oauth2_verdict v = {.status = status, .allowed = allowed, .message = message};
    k->cb(k->data, &v);
    check_free(k);
}

static void next_step(struct check *k);

static void on_response(void *data, const struct gm_fetch_response *resp);

static int api_get(struct check *k, const char *url)
{
    const char *headers[] = {"Accept: application/vnd.github+json",
                             "User-Agent: Ganymede (JupyterHub-compatible)", k->authorization,
                             NULL};
    struct gm_fetch_request req = {
        .url = url,
        .headers = headers,
        .timeout_ms = gm_oauth2_timeout_ms(&k->s->conf->oauth),
        .connect_timeout_ms = gm_oauth2_connect_timeout_ms(&k->s->conf->oauth),
        .max_response = 1 << 20,
        .insecure = !k->s->conf->oauth.validate_server_cert,
    };
    return gm_fetch_start(k->host->fetcher, &req, on_response, k, NULL);
}

/* The rel="next" URL of a Link header, or "". */
static void link_next(const char *link, char *out, size_t outlen)
{
    out[0] = '\0';
    for (const char *p = link; p && *p;) {
        const char *lt = strchr(p, '<'), *gt = lt ? strchr(lt, '>') : NULL;
        if (!gt)
            return;
        const char *end = strchr(gt, ',');
        size_t n = end ? (size_t)(end - gt) : strlen(gt);
        char rel[256];
        snprintf(rel, sizeof(rel), "%.*s", (int)(n < 255 ? n : 255), gt);
        if (strstr(rel, "rel=\"next\"") && (size_t)(gt - lt - 1) < outlen) {
            snprintf(out, outlen, "%.*s", (int)(gt - lt - 1), lt + 1);
            return;
        }
        p = end ? end + 1 : NULL;
    }
}

static bool transport_failed(struct check *k, const struct gm_fetch_response *resp)
{
    if (resp->error == 0 && resp->status < 500)
        return false;
    char msg[300];
    snprintf(msg, sizeof(msg), "GitHub did not answer as expected: %s",
             resp->error ? resp->message : "a server error");
    verdict(k, resp->error ? resp->error : -EPROTO, 0, msg);
    return true;
}

static void on_emails(struct check *k, const struct gm_fetch_response *resp)
{
    json_t *list = resp->status == 200 ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        const char *email = json_string_value(json_object_get(e, "email"));
        if (email && json_is_true(json_object_get(e, "primary"))) {
            json_t *user = json_object_get(k->auth_state, "github_user");
            if (json_is_object(user))
                json_object_set_new(user, "email", json_string(email));
            break;
        }
    }
    if (resp->status == 200 && !json_is_array(list))
        gm_log_warn("GitHub: /user/emails did not answer with a list");
    json_decref(list);
    k->step = STEP_TEAMS;
    next_step(k);
}

static void on_teams(struct check *k, const struct gm_fetch_response *resp)
{
    json_t *list = resp->status == 200 ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
    if (!json_is_array(list)) {
        json_decref(list);
        verdict(k, -EPROTO, 0, "GitHub's list of teams could not be read");
        return;
    }
    json_array_extend(k->teams, list);
    json_decref(list);
    k->team_pages++;
    link_next(gm_fetch_response_header(resp, "Link"), k->next_url, sizeof(k->next_url));
    if (k->next_url[0] && k->team_pages < MAX_TEAM_PAGES) {
        if (api_get(k, k->next_url) < 0)
            verdict(k, -ENOMEM, 0, "out of memory");
        return;
    }
    json_object_set(k->auth_state, "teams", k->teams);
    k->step = STEP_ORGS;
    next_step(k);
}

static void on_member(struct check *k, const struct gm_fetch_response *resp)
{
    if (resp->status == 204) {
        verdict(k, 0, 1, NULL);
        return;
    }
    /* 302: the requester cannot see private members (no read:org); GitHub points to the
     * public membership instead, which counts too. Followed once, on the same API. */
    const char *location = gm_fetch_response_header(resp, "Location");
    if (resp->status == 302 && !k->redirected && location &&
        strncmp(location, k->s->api, strlen(k->s->api)) == 0 &&
        strlen(location) < sizeof(k->next_url)) {
        k->redirected = true;
        snprintf(k->next_url, sizeof(k->next_url), "%s", location);
        if (api_get(k, k->next_url) < 0)
            verdict(k, -ENOMEM, 0, "out of memory");
        return;
    }
    k->redirected = false;
    k->org++;
    next_step(k);
}

static void on_response(void *data, const struct gm_fetch_response *resp)
{
    struct check *k = data;
    if (transport_failed(k, resp))
        return;
    switch (k->step) {
    case STEP_EMAILS:
        on_emails(k, resp);
        break;
    case STEP_TEAMS:
        on_teams(k, resp);
        break;
    case STEP_ORGS:
        on_member(k, resp);
        break;
    case STEP_DONE:
        break;
    }
}

static void next_step(struct check *k)
{
    const struct github_conf *c = k->s->conf;
    char url[URL_MAX * 2];
    url[0] = '\0';
    if (k->step == STEP_TEAMS) {
        if (!c->populate_teams_in_auth_state || !k->teams) {
            k->step = STEP_ORGS;
        } else {
            snprintf(url, sizeof(url), "%s/user/teams?per_page=100", k->s->api);
        }
    }
    if (k->step == STEP_ORGS) {
        char *const *orgs = c->allowed_organizations;
        if (!orgs || !orgs[k->org]) {
            verdict(k, 0, 0, NULL); /* no organization rule admits the user */
            return;
        }
        char entry[512];
        snprintf(entry, sizeof(entry), "%s", orgs[k->org]);
        char *colon = strchr(entry, ':');
        if (colon)
            *colon = '\0';
        /* /orgs/{org}[/teams/{team}]/members/{login}, each part a percent-encoded segment. */
        struct gm_buf u;
        gm_buf_init(&u, sizeof(url) - 1);
        gm_buf_printf(&u, "%s/orgs/", k->s->api);
        gm_url_encode(&u, entry, NULL);
        if (colon) {
            gm_buf_puts(&u, "/teams/");
            gm_url_encode(&u, colon + 1, NULL);
        }
        gm_buf_puts(&u, "/members/");
        gm_url_encode(&u, k->login, NULL);
        int r = u.error;
        if (r == 0)
            memcpy(url, u.data, u.len + 1);
        gm_buf_free(&u);
        if (r < 0) {
            verdict(k, r, 0, "GitHub could not be asked about the user");
            return;
        }
    }
    if (api_get(k, url) < 0)
        verdict(k, -ENOMEM, 0, "GitHub could not be asked about the user");
}

static void deferred_step(void *data)
{
    next_step(data);
}

static bool has_any_scope(const struct gm_oauth2_user *u, const char *a, const char *b)
{
    return gm_oauth2_has_scope(u->granted_scope, a) || gm_oauth2_has_scope(u->granted_scope, b);
}

static int github_check_user(void *state, const struct gm_host *host,
                             const struct gm_oauth2_user *u, gm_oauth2_verdict_cb cb, void *data)
{
    struct github_state *s = state;
    if (!u->name)
        return -EINVAL;
    struct check *k = calloc(1, sizeof(*k));
    if (!k)
        return -ENOMEM;
    k->s = s;
    k->host = host;
    k->cb = cb;
    k->data = data;
    k->auth_state = u->auth_state;
    k->login = strdup(u->name);
    k->authorization = strdup(u->authorization);
    bool teams = s->conf->populate_teams_in_auth_state && has_any_scope(u, "read:org", "admin:org");
    k->teams = teams ? json_array() : NULL;
    if (!k->login || !k->authorization || (teams && !k->teams)) {
        check_free(k);
        return -ENOMEM;
    }
    const char *email = json_string_value(json_object_get(u->user_info, "email"));
    if ((!email || !email[0]) && has_any_scope(u, "user", "user:email")) {
        char url[URL_MAX + 16];
        snprintf(url, sizeof(url), "%s/user/emails", s->api);
        k->step = STEP_EMAILS;
        if (api_get(k, url) < 0) {
            check_free(k);
            return -ENOMEM;
        }
        return 0;
    }
    k->step = STEP_TEAMS;
    /* With nothing to ask, next_step gives the verdict at once; the contract wants it later. */
    int r = host->defer(host, deferred_step, k);
    if (r < 0)
        check_free(k);
    return r;
}

static const struct gm_oauth2_provider github_provider = {
    .endpoints = github_endpoints,
    .check_user = github_check_user,
};

static const char *const github_aliases[] = {
    "oauthenticator.github.GitHubOAuthenticator",
    "oauthenticator.GitHubOAuthenticator",
    "GitHubOAuthenticator",
    NULL,
};

const struct gm_authenticator auth_github = {
    .abi = GM_ABI_VERSION,
    .name = "github",
    .aliases = github_aliases,
    .options = &github_class,
    .conf_size = sizeof(struct github_conf),
    .init = github_init,
    .destroy = github_destroy,
    .oauth2 = &github_provider,
};
