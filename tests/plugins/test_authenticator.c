/* An authenticator for tests only (built with -Dtest_plugins=enabled, never shipped) that uses
 * every hook of <ganymede/authenticator.h>, so that the hub's side of each is tested without
 * an external system:
 *
 * test-hooks:
 *   /hub/test-login?user=NAME[&groups=a,b][&next=URL]  logs NAME in through the hub's pipeline
 *       (GET or POST); "nobody" is refused with a message of the plugin's.
 *   /hub/test-echo  answers what the request API read: method, params, header X-Test, cookie
 *       test-cookie and the URL, and sets test-cookie=set.
 *   auth_state {"token": "tok-NAME", "generation": 0}; refresh_user adds 1 to the generation
 *       and sets the groups to ["refreshed"], or refuses the users of TestHooks.refuse_refresh;
 *   pre_spawn_start gives the server JUPYTERHUB_TEST_TOKEN and JUPYTERHUB_TEST_GENERATION,
 *       and refuses to start the servers of TestHooks.refuse_spawn;
 *   logout_url is TestHooks.logout_url with ?token=... of the user logging out. */
#include <errno.h>
#include <ganymede/authenticator.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hooks_conf {
    char **refuse_refresh;
    char **refuse_spawn;
    char *logout_url;
};

static const struct gm_option hooks_options[] = {
    GM_OPTION("refuse_refresh", GM_OPTION_STRINGS, offsetof(struct hooks_conf, refuse_refresh),
              NULL, "Users whose login refresh is refused."),
    GM_OPTION("refuse_spawn", GM_OPTION_STRINGS, offsetof(struct hooks_conf, refuse_spawn), NULL,
              "Users whose servers pre_spawn_start refuses."),
    GM_OPTION("logout_url", GM_OPTION_STRING, offsetof(struct hooks_conf, logout_url), "\"\"",
              "Where logout sends the browser."),
    GM_OPTION_END,
};

static const struct gm_option_class hooks_class = {
    .name = "TestHooks",
    .parent = "Authenticator",
    .help = "Test authenticator using every plugin hook.",
    .options = hooks_options,
    .hidden = true,
};

struct hooks {
    const struct gm_host *host;
    const struct hooks_conf *conf;
};

static bool listed(char *const *list, const char *name)
{
    for (; list && *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

static int hooks_init(const struct gm_host *host, const struct gm_authenticator_base *base,
                      void *conf, void **state, char *err, size_t errlen)
{
    (void)base;
    (void)err;
    (void)errlen;
    struct hooks *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->host = host;
    h->conf = conf;
    *state = h;
    return 0;
}

static void hooks_destroy(void *state)
{
    free(state);
}

/* Answers come on a later loop iteration, as a real plugin's would. */
struct call {
    gm_authenticate_cb login_cb;
    gm_refresh_cb refresh_cb;
    void *data;
    int status;
    json_t *result;
    const char *message;
};

static void finish(void *p)
{
    struct call *c = p;
    if (c->login_cb) {
        c->login_cb(c->data, c->status, c->result, c->message);
    } else {
        c->refresh_cb(c->data, c->status, c->result, c->message);
        json_decref(c->result);
    }
    free(c);
}

static int later(struct hooks *h, struct call *c)
{
    int r = h->host->defer(h->host, finish, c);
    if (r < 0) {
        json_decref(c->result);
        free(c);
    }
    return r;
}

static int hooks_authenticate(void *state, const json_t *data, gm_authenticate_cb cb, void *cb_data)
{
    const char *user = json_string_value(json_object_get(data, "username"));
    const char *groups = json_string_value(json_object_get(data, "groups"));
    if (!user)
        return -EINVAL;
    struct call *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->login_cb = cb;
    c->data = cb_data;
    if (strcmp(user, "nobody") == 0) {
        c->message = "The test plugin does not let nobody in.";
        return later(state, c);
    }
    char token[300];
    snprintf(token, sizeof(token), "tok-%s", user);
    json_t *list = json_array();
    for (const char *p = groups; list && p && *p;) {
        size_t n = strcspn(p, ",");
        if (n)
            json_array_append_new(list, json_stringn(p, n));
        p += n + (p[n] == ',');
    }
    c->result =
        json_pack("{s:s, s:o, s:{s:s, s:i}}", "name", user, "groups", list ? list : json_array(),
                  "auth_state", "token", token, "generation", 0);
    return later(state, c);
}

static int hooks_refresh(void *state, const char *name, const json_t *auth_state, gm_refresh_cb cb,
                         void *cb_data)
{
    struct hooks *h = state;
    struct call *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->refresh_cb = cb;
    c->data = cb_data;
    if (listed(h->conf->refuse_refresh, name)) {
        c->status = -EACCES;
        c->message = "the test plugin refuses this refresh";
        return later(h, c);
    }
    json_int_t generation = json_integer_value(json_object_get(auth_state, "generation"));
    const char *token = json_string_value(json_object_get(auth_state, "token"));
    c->result = json_pack("{s:{s:s, s:I}, s:[s]}", "auth_state", "token", token ? token : "",
                          "generation", generation + 1, "groups", "refreshed");
    return later(h, c);
}

static int hooks_pre_spawn_start(void *state, const char *name, const json_t *auth_state,
                                 json_t *env, char *err, size_t errlen)
{
    struct hooks *h = state;
    if (listed(h->conf->refuse_spawn, name)) {
        snprintf(err, errlen, "the test plugin does not start servers for %s", name);
        return -EPERM;
    }
    char generation[32];
    snprintf(generation, sizeof(generation), "%lld",
             (long long)json_integer_value(json_object_get(auth_state, "generation")));
    const char *token = json_string_value(json_object_get(auth_state, "token"));
    json_object_set_new(env, "JUPYTERHUB_TEST_TOKEN", json_string(token ? token : ""));
    json_object_set_new(env, "JUPYTERHUB_TEST_GENERATION", json_string(generation));
    return 0;
}

static size_t hooks_logout_url(void *state, const json_t *auth_state, char *out, size_t outlen)
{
    struct hooks *h = state;
    if (!h->conf->logout_url[0])
        return 0;
    const char *token = json_string_value(json_object_get(auth_state, "token"));
    int n = snprintf(out, outlen, "%s?token=%s", h->conf->logout_url, token ? token : "");
    return n > 0 && (size_t)n < outlen ? (size_t)n : 0;
}

static int login_page(void *state, struct gm_request *req)
{
    (void)state;
    const char *user = gm_request_param(req, "user");
    if (!user || !user[0])
        return gm_request_error(req, 400, "Which user? Add ?user=NAME.");
    const char *groups = gm_request_param(req, "groups");
    json_t *data = json_pack("{s:s, s:s?}", "username", user, "groups", groups);
    if (!data)
        return -ENOMEM;
    int r = gm_request_login(req, data, gm_request_param(req, "next"));
    json_decref(data);
    return r;
}

static int echo_page(void *state, struct gm_request *req)
{
    (void)state;
    const char *url = gm_request_url(req);
    json_t *out =
        json_pack("{s:s, s:o, s:s?, s:s?, s:s?}", "method", gm_request_method(req), "params",
                  gm_request_params(req), "header", gm_request_header(req, "X-Test"), "cookie",
                  gm_request_cookie(req, "test-cookie"), "url", url);
    char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    json_decref(out);
    if (!text)
        return -ENOMEM;
    gm_request_set_cookie(req, "test-cookie", "set", 60);
    int r = gm_request_respond(req, 200, "application/json", text);
    free(text);
    return r;
}

static const struct gm_auth_route hooks_routes[] = {
    {"test-login", GM_REQUEST_GET | GM_REQUEST_POST, login_page},
    {"test-echo", GM_REQUEST_GET | GM_REQUEST_POST, echo_page},
    {NULL, 0, NULL},
};

const struct gm_authenticator test_authenticator_hooks = {
    .abi = GM_ABI_VERSION,
    .name = "test-hooks",
    .options = &hooks_class,
    .conf_size = sizeof(struct hooks_conf),
    .allow_all_by_default = true,
    .init = hooks_init,
    .destroy = hooks_destroy,
    .authenticate = hooks_authenticate,
    .routes = hooks_routes,
    .refresh_user = hooks_refresh,
    .pre_spawn_start = hooks_pre_spawn_start,
    .logout_url = hooks_logout_url,
};
