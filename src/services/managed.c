/* Services at run time (JupyterHub's app.init_services and services/service.py): each config
 * service that has a url or a command gets an API token (the configured one, or one made at
 * start), an OAuth client (service-<name>, redirect to /services/<name>/oauth_callback) when it
 * has a url, and managed services (`command`) run as children of the hub with JupyterHub's
 * environment, restarted with backoff when they exit, and stopped when the hub stops. */
#include "auth/token_hash.h"
#include "core/hub.h"
#include "loop/process.h"
#include "services/services.h"
#include <ganymede/buf.h>
#include "util/str.h"
#include <ganymede/strv.h>

#include <errno.h>
#include <ganymede/log.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RESTART_FIRST_MS 1000
#define RESTART_MAX_MS   60000
#define STABLE_RUN_MS    60000
#define GENERATED_NOTE   "generated at startup"

struct service_run {
    struct hub *hub;
    struct hub_service *svc;
    char *token; /* plaintext, for the environment */
    bool token_generated;
    struct loop_process *proc;
    uv_timer_t timer;
    uint64_t backoff_ms;
    uint64_t started_ms;
    bool stopping;
};

static const char *const keep_env[] = {
    "PATH",   "PYTHONPATH",      "CONDA_ROOT", "CONDA_DEFAULT_ENV", "VIRTUAL_ENV", "LANG",
    "LC_ALL", "LD_LIBRARY_PATH", NULL};

static const json_t *config_spec(struct hub *hub, const char *name)
{
    size_t i;
    json_t *spec;
    json_array_foreach(hub->conf.services, i, spec)
    {
        if (str_eq(json_string_value(json_object_get(spec, "name")), name))
            return spec;
    }
    return NULL;
}

static char *prefix_of(struct hub *hub, const struct hub_service *svc)
{
    return services_routespec(hub, svc);
}

/* The configured token, or a new one (old generated ones go). */
static int service_token(struct hub *hub, struct hub_service *svc, const json_t *spec, char **ret)
{
    const char *configured = json_string_value(json_object_get(spec, "api_token"));
    if (configured && configured[0]) {
        *ret = strdup(configured);
        return *ret ? 0 : -ENOMEM;
    }
    for (size_t i = svc->tokens.n; i-- > 0;) {
        struct hub_token *t = svc->tokens.v[i];
        if (strcmp(t->note, GENERATED_NOTE) == 0)
            store_token_delete(&hub->store, t);
    }
    struct hub_role *token_role = store_role_find(&hub->store, "token");
    struct store_token_spec ts = {
        .scopes = token_role ? token_role->scopes : NULL,
        .note = GENERATED_NOTE,
    };
    char plain[33];
    int r = store_token_create(&hub->store, NULL, svc, &ts, plain, sizeof(plain), NULL);
    if (r < 0)
        return r;
    *ret = strdup(plain);
    explicit_bzero(plain, sizeof(plain));
    return *ret ? 0 : -ENOMEM;
}

static char *client_id_of(const struct hub_service *svc)
{
    if (svc->oauth_client_id && svc->oauth_client_id[0])
        return strdup(svc->oauth_client_id);
    struct gm_buf b;
    gm_buf_init(&b, 4096);
    gm_buf_printf(&b, "service-%s", svc->name);
    return gm_buf_steal(&b);
}

static char *redirect_of(struct hub *hub, const struct hub_service *svc)
{
    if (svc->oauth_redirect_uri && svc->oauth_redirect_uri[0])
        return strdup(svc->oauth_redirect_uri);
    char *prefix = prefix_of(hub, svc);
    struct gm_buf b;
    gm_buf_init(&b, 8192);
    gm_buf_printf(&b, "%soauth_callback", prefix ? prefix : "/");
    free(prefix);
    return gm_buf_steal(&b);
}

static int make_oauth_client(struct hub *hub, struct service_run *run)
{
    struct hub_service *svc = run->svc;
    char *id = client_id_of(svc), *redirect = redirect_of(hub, svc);
    json_t *allowed = json_deep_copy(svc->oauth_client_allowed_scopes);
    if (!allowed)
        allowed = json_array();
    json_array_append_new(allowed, json_sprintf("access:services!service=%s", svc->name));
    char hashed[AUTH_TOKEN_HASHED_MAX];
    char desc[300];
    snprintf(desc, sizeof(desc), "Service %s", svc->name);
    /* Stretched like any token a person chose; one round for a random one the hub made. */
    unsigned rounds =
        run->token_generated ? AUTH_TOKEN_ROUNDS_GENERATED : AUTH_TOKEN_ROUNDS_PROVIDED;
    int r = id && redirect && allowed ? auth_token_hash(run->token, rounds, hashed) : -ENOMEM;
    if (r == 0)
        r = store_client_put(&hub->store, id, desc, hashed, redirect, allowed, NULL);
    if (r == 0 && !str_eq(svc->oauth_client_id, id)) {
        free(svc->oauth_client_id);
        svc->oauth_client_id = id;
        id = NULL;
        store_service_save(&hub->store, svc);
    }
    free(id);
    free(redirect);
    json_decref(allowed);
    return r;
}

/* Running a managed service. */

static void start_process(struct service_run *run);

static void on_restart_timer(uv_timer_t *t)
{
    struct service_run *run = t->data;
    if (!run->stopping)
        start_process(run);
}

static void schedule_restart(struct service_run *run)
{
    uint64_t now = uv_now(run->hub->loop);
    if (now - run->started_ms > STABLE_RUN_MS)
        run->backoff_ms = RESTART_FIRST_MS;
    gm_log_info("Restarting service %s in %.0f s", run->svc->name, (double)run->backoff_ms / 1000);
    uv_timer_start(&run->timer, on_restart_timer, run->backoff_ms, 0);
    run->backoff_ms = run->backoff_ms * 2 > RESTART_MAX_MS ? RESTART_MAX_MS : run->backoff_ms * 2;
}

static void on_service_exit(void *data, int status)
{
    struct service_run *run = data;
    loop_process_release(run->proc);
    run->proc = NULL;
    run->svc->pid = 0;
    if (run->stopping)
        return;
    gm_log_error("Service %s exited with status %d", run->svc->name, status);
    schedule_restart(run);
}

static int build_env(struct service_run *run, struct gm_strv *env)
{
    struct hub *hub = run->hub;
    struct hub_service *svc = run->svc;
    int r = 0;
    for (const char *const *k = keep_env; *k && r == 0; k++) {
        const char *v = getenv(*k);
        if (v)
            r = gm_strv_setenv(env, *k, v);
    }
    char *prefix = prefix_of(hub, svc), *client = client_id_of(svc),
         *callback = redirect_of(hub, svc);
    char api_url[2048];
    snprintf(api_url, sizeof(api_url), "%s%sapi", hub->conf.hub_connect_url, hub->hub_prefix);
    char access[1024], allowed_json[4096] = "[]";
    snprintf(access, sizeof(access), "[\"access:services\", \"access:services!service=%s\"]",
             svc->name);
    char *allowed = json_dumps(svc->oauth_client_allowed_scopes, JSON_COMPACT);
    if (allowed)
        snprintf(allowed_json, sizeof(allowed_json), "%s", allowed);
    free(allowed);
    const char *vars[][2] = {
        {"JUPYTERHUB_SERVICE_NAME", svc->name},
        {"JUPYTERHUB_API_TOKEN", run->token},
        {"JPY_API_TOKEN", run->token},
        {"JUPYTERHUB_CLIENT_ID", client},
        {"JUPYTERHUB_HOST", ""},
        {"JUPYTERHUB_OAUTH_CALLBACK_URL", callback},
        {"JUPYTERHUB_OAUTH_SCOPES", access},
        {"JUPYTERHUB_OAUTH_ACCESS_SCOPES", access},
        {"JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES", allowed_json},
        {"JUPYTERHUB_API_URL", api_url},
        {"JUPYTERHUB_BASE_URL", hub->base_url},
        {"JUPYTERHUB_SERVICE_PREFIX", prefix},
    };
    for (size_t i = 0; i < sizeof(vars) / sizeof(*vars) && r == 0; i++)
        r = vars[i][1] ? gm_strv_setenv(env, vars[i][0], vars[i][1]) : -ENOMEM;
    if (r == 0 && svc->url && svc->url[0])
        r = gm_strv_setenv(env, "JUPYTERHUB_SERVICE_URL", svc->url);
    const char *k;
    json_t *v;
    json_object_foreach(svc->environment, k, v)
    {
        if (r == 0 && json_is_string(v))
            r = gm_strv_setenv(env, k, json_string_value(v));
    }
    free(prefix);
    free(client);
    free(callback);
    return r;
}

static void start_process(struct service_run *run)
{
    struct hub_service *svc = run->svc;
    struct gm_strv argv = {0}, env = {0};
    size_t i;
    json_t *x;
    int r = 0;
    json_array_foreach(svc->command, i, x)
    {
        if (r == 0 && json_is_string(x))
            r = gm_strv_push(&argv, json_string_value(x));
    }
    if (r == 0)
        r = build_env(run, &env);
    struct loop_process_options o = {
        .argv = (const char *const *)gm_strv_get(&argv),
        .env = (const char *const *)gm_strv_get(&env),
        .cwd = svc->cwd && svc->cwd[0] ? svc->cwd : NULL,
        .stdout_fd = -1,
    };
    char err[512] = "out of memory";
    /* As root (or with CAP_SETUID and CAP_SETGID), a service with `user` runs as that account
     * (JupyterHub's default is the hub's). */
    if (r == 0 && svc->user && svc->user[0] && loop_process_can_switch_user()) {
        struct passwd pw, *res = NULL;
        char scratch[16384];
        getpwnam_r(svc->user, &pw, scratch, sizeof(scratch), &res);
        if (!res) {
            snprintf(err, sizeof(err), "no such user: %s", svc->user);
            r = -ENOENT;
        } else {
            o.user = svc->user;
            o.uid = pw.pw_uid;
            o.gid = pw.pw_gid;
        }
    }
    if (r == 0 && o.argv && o.env)
        r = loop_process_start(run->hub->loop, &o, on_service_exit, run, &run->proc, err,
                               sizeof(err));
    else if (r == 0)
        r = -ENOMEM;
    gm_strv_free(&argv);
    gm_strv_free(&env);
    if (r < 0) {
        gm_log_error("Cannot start service %s: %s", svc->name, err);
        schedule_restart(run);
        return;
    }
    svc->pid = (int)loop_process_pid(run->proc);
    run->started_ms = uv_now(run->hub->loop);
    gm_log_info("Started service %s (pid %d)", svc->name, svc->pid);
}

int services_start(struct hub *hub)
{
    for (size_t i = 0; i < hub->store.services.n; i++) {
        struct hub_service *svc = hub->store.services.v[i];
        const json_t *spec = config_spec(hub, svc->name);
        bool managed = json_array_size(svc->command) > 0;
        bool oauth =
            (svc->url && svc->url[0]) || (svc->oauth_redirect_uri && svc->oauth_redirect_uri[0]);
        if (!spec || (!managed && !oauth) || svc->run)
            continue;
        struct service_run *run = calloc(1, sizeof(*run));
        if (!run)
            return -ENOMEM;
        run->hub = hub;
        run->svc = svc;
        run->backoff_ms = RESTART_FIRST_MS;
        const char *configured = json_string_value(json_object_get(spec, "api_token"));
        run->token_generated = !(configured && configured[0]);
        int r = service_token(hub, svc, spec, &run->token);
        if (r < 0) {
            free(run);
            gm_log_error("Cannot make a token for service %s: %s", svc->name, strerror(-r));
            continue;
        }
        uv_timer_init(hub->loop, &run->timer);
        run->timer.data = run;
        svc->run = run;
        if (oauth && (r = make_oauth_client(hub, run)) < 0)
            gm_log_error("Cannot make the OAuth client of service %s: %s", svc->name, strerror(-r));
        if (managed)
            start_process(run);
    }
    return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct service_run *run = h->data;
    if (run->token)
        explicit_bzero(run->token, strlen(run->token));
    free(run->token);
    free(run);
}

void services_stop(struct hub *hub)
{
    for (size_t i = 0; i < hub->store.services.n; i++) {
        struct hub_service *svc = hub->store.services.v[i];
        struct service_run *run = svc->run;
        if (!run)
            continue;
        run->stopping = true;
        if (run->proc) {
            gm_log_info("Stopping service %s (pid %d)", svc->name, svc->pid);
            loop_process_kill(run->proc, SIGTERM);
            loop_process_release(run->proc);
            run->proc = NULL;
        }
        svc->run = NULL;
        svc->pid = 0;
        uv_timer_stop(&run->timer);
        uv_close((uv_handle_t *)&run->timer, on_timer_closed);
    }
}
