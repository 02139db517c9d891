/* The life of one server (JupyterHub's user.spawn, user.stop and the poll loop), as a state
 * machine on the loop:
 *
 *   IDLE ──start──► STARTING: plugin start ─► HTTP check ─► proxy route ─► READY ─poll─┐
 *                      │ failure or timeout, or stop                         │ stop    │ exited
 *                      ▼                                                     ▼         ▼
 *                   STOPPING: delete route ─► plugin stop ─► token, OAuth client, servers row
 *                      │                                      deleted ─► IDLE (or row removed)
 *
 * Each step is one async operation whose completion moves the machine on; a stop that arrives
 * while one is in flight is remembered and taken when it completes (a plugin start in flight
 * is interrupted through the plugin's stop, which completes the start with -ECANCELED).
 * Listeners (progress streams, waiting requests) hear every event. */
#include "spawn/run.h"
#include "auth/authenticator.h"
#include "auth/login.h"
#include "auth/hooks.h"
#include "auth/token_hash.h"
#include "core/hub.h"
#include "db/db.h"
#include "http/metrics.h"
#include "spawn/launch.h"
#include <ganymede/buf.h>
#include <ganymede/encode.h>
#include "util/str.h"
#include "util/time.h"
#include "util/url.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The HTTP check backs off from 50 ms to 250 ms between tries, and to 1 s for servers still
 * not up after 10 s (pods, batch jobs): a server that is quick to start is found within a
 * quarter of a second, without probing slow ones four times a second for minutes. */
#define CHECK_FIRST_MS   50
#define CHECK_MAX_MS     250
#define CHECK_SLOW_MS    1000
#define CHECK_SLOW_AFTER 10000000 /* µs since the start was requested */
#define CHECK_TIMEOUT_MS 5000
#define MAX_EVENTS       256
#define TAIL_LINES       20   /* of a server's output in the message of a failed start */
#define TAIL_BYTES       4096 /* and at most this much of it */
#define FAILURE_MAX      (TAIL_BYTES + 4096)

static void stop_begin(struct spawn_run *run);
static void stop_continue(struct spawn_run *run);
static void fail(struct spawn_run *run, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Run-time objects. */

static void on_timer_closed(uv_handle_t *h)
{
    struct spawn_run *run = h->data;
    free(run);
}

struct spawn_run *spawn_run_get(struct hub *hub, struct hub_spawner *sp, char *err, size_t errlen)
{
    if (sp->run)
        return sp->run;
    struct spawn_run *run = calloc(1, sizeof(*run));
    if (!run) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    const struct gm_spawner *plugin = hub->spawn->plugin;
    int r = plugin->server_new(hub->spawn->plugin_state, sp->user->name, sp->name, &run->server);
    if (r < 0) {
        snprintf(err, errlen, "the spawner could not prepare the server: %s", strerror(-r));
        free(run);
        return NULL;
    }
    run->hub = hub;
    run->sp = sp;
    /* What the plugin saved, as JupyterHub gives a new Spawner its state (a claim's name that
     * outlives stops, a container to reuse). */
    if (sp->state && plugin->load_state && plugin->load_state(run->server, sp->state) < 0)
        gm_log_warn("The saved state of %s's server '%s' could not be loaded", sp->user->name,
                    sp->name);
    uv_timer_init(hub->loop, &run->timer);
    run->timer.data = run;
    sp->run = run;
    hub->spawn->runs++;
    return run;
}

void spawn_run_free(struct spawn_run *run)
{
    struct hub *hub = run->hub;
    /* Whoever still listens hears that the server is gone, then forgets it. */
    while (run->listeners) {
        struct spawn_listener *l = run->listeners;
        l->on_event(l, SPAWN_EVENT_STOPPED, NULL);
        if (run->listeners == l)
            spawn_unlisten(l);
    }
    spawn_probe_cancel(&run->probe);
    if (hub->spawn->router.cancel)
        hub->spawn->router.cancel(hub->spawn->router.impl, run);
    auth_hooks_refresh_cancel(run->refresh);
    if (run->launch) {
        spawn_launch_free(run->launch);
        free(run->launch);
    }
    hub->spawn->plugin->server_free(run->server);
    json_decref(run->events);
    free(run->failure);
    free(run->target);
    free(run->routespec);
    if (run->sp)
        run->sp->run = NULL;
    hub->spawn->runs--;
    uv_timer_stop(&run->timer);
    uv_close((uv_handle_t *)&run->timer, on_timer_closed);
}

/* Counting active and starting servers, for the limits and /hub/metrics. */
static void set_state(struct spawn_run *run, enum spawn_state state)
{
    struct spawn_host *h = run->hub->spawn;
    if (run->state == SPAWN_STARTING)
        h->pending--;
    if (run->state != SPAWN_IDLE)
        h->active--;
    run->state = state;
    if (state == SPAWN_STARTING)
        h->pending++;
    if (state != SPAWN_IDLE)
        h->active++;
}

/* Events. */

static void dispatch(struct spawn_run *run, enum spawn_event_kind kind, const json_t *event)
{
    for (struct spawn_listener *l = run->listeners, *next; l; l = next) {
        next = l->next;
        l->on_event(l, kind, event);
    }
}

static void emit(struct spawn_run *run, enum spawn_event_kind kind, json_t *event)
{
    if (event && run->events && json_array_size(run->events) < MAX_EVENTS)
        json_array_append(run->events, event);
    dispatch(run, kind, event);
    json_decref(event);
}

static void on_progress(void *ctx, int progress, const char *message, const char *html)
{
    struct spawn_run *run = ctx;
    if (run->state != SPAWN_STARTING || !message)
        return;
    if (progress >= 0)
        run->progress_pct = progress > 100 ? 100 : progress;
    json_t *ev = json_pack("{s:i,s:s}", "progress", run->progress_pct, "message", message);
    if (ev && html)
        json_object_set_new(ev, "html_message", json_string(html));
    emit(run, SPAWN_EVENT_PROGRESS, ev);
}

int spawn_listen(struct hub_spawner *sp, struct spawn_listener *l)
{
    struct spawn_run *run = sp->run;
    if (!run)
        return -ENOENT;
    l->sp = sp;
    l->prev = NULL;
    l->next = run->listeners;
    if (run->listeners)
        run->listeners->prev = l;
    run->listeners = l;
    return 0;
}

void spawn_unlisten(struct spawn_listener *l)
{
    if (!l->sp)
        return;
    struct spawn_run *run = l->sp->run;
    if (l->prev)
        l->prev->next = l->next;
    else if (run && run->listeners == l)
        run->listeners = l->next;
    if (l->next)
        l->next->prev = l->prev;
    l->prev = l->next = NULL;
    l->sp = NULL;
}

/* Objects a server owns in the hub: its API token and its OAuth client. */

static char *token_note(const char *routespec)
{
    struct gm_buf b;
    gm_buf_init(&b, 8192);
    gm_buf_printf(&b, "Server at %s", routespec);
    return gm_buf_steal(&b);
}

static void delete_server_objects(struct spawn_run *run)
{
    struct hub_store *s = &run->hub->store;
    struct hub_spawner *sp = run->sp;
    run->token_id = 0;
    char *note = token_note(run->routespec);
    for (size_t i = sp->user->tokens.n; note && i-- > 0;) {
        struct hub_token *t = sp->user->tokens.v[i];
        if (strcmp(t->note, note) == 0 && strcmp(t->client_id, "jupyterhub") == 0)
            store_token_delete(s, t);
    }
    free(note);
    char *client_id = spawn_client_id(sp);
    struct hub_oauth_client *c = client_id ? store_client_find(s, client_id) : NULL;
    if (c)
        store_client_delete(s, c);
    free(client_id);
    if (sp->oauth_client_id) {
        free(sp->oauth_client_id);
        sp->oauth_client_id = NULL;
    }
}

/* The server's token: the `server` role (or Spawner.server_token_scopes) with !server made
 * concrete, as user.py does, since the token is not its server's OAuth token. */
static json_t *server_token_scopes(struct spawn_run *run)
{
    const json_t *conf = run->hub->spawn->conf.server_token_scopes;
    json_t *raw = json_is_array(conf)
                      ? json_deep_copy(conf)
                      : json_pack("[s,s]", "users:activity!user", "access:servers!server");
    if (!raw)
        return NULL;
    char filter[1024];
    snprintf(filter, sizeof(filter), "!server=%s/%s", run->sp->user->name, run->sp->name);
    size_t i;
    json_t *x;
    json_array_foreach(raw, i, x)
    {
        const char *s = json_string_value(x);
        const char *bang = s ? strstr(s, "!server") : NULL;
        if (bang && bang[7] == '\0')
            json_array_set_new(raw, i, json_sprintf("%.*s%s", (int)(bang - s), s, filter));
    }
    return raw;
}

static int create_server_objects(struct spawn_run *run, char token[33], char *err, size_t errlen)
{
    struct hub *hub = run->hub;
    struct hub_store *s = &hub->store;
    struct hub_spawner *sp = run->sp;
    delete_server_objects(run); /* leftovers of a start the hub did not see end */
    json_t *scopes = server_token_scopes(run);
    char *note = token_note(run->routespec);
    struct store_token_spec spec = {.scopes = scopes, .note = note};
    struct hub_token *t = NULL;
    int r = scopes && note ? store_token_create(s, sp->user, NULL, &spec, token, 33, &t) : -ENOMEM;
    json_decref(scopes);
    if (r < 0) {
        free(note);
        snprintf(err, errlen, "cannot create the server's API token: %s", strerror(-r));
        return r;
    }
    run->token_id = t->id;
    /* The OAuth client's secret is the token. JupyterHub stretches it with 16384 rounds; it is a
     * random 128-bit token, for which stretching buys nothing (JupyterHub hashes the same
     * tokens with one round in api_tokens), and it cost 2-5 ms of CPU per start. The rounds
     * are stored with the hash, so a JupyterHub reading the database verifies it all the
     * same. */
    char hashed[AUTH_TOKEN_HASHED_MAX];
    char *client_id = spawn_client_id(sp);
    struct gm_buf uri;
    gm_buf_init(&uri, 8192);
    gm_buf_printf(&uri, "%soauth_callback", run->routespec);
    json_t *allowed = json_array();
    for (char **a = hub->spawn->conf.oauth_client_allowed_scopes; a && *a && allowed; a++)
        json_array_append_new(allowed, json_string(*a));
    json_array_append_new(allowed,
                          json_sprintf("access:servers!server=%s/%s", sp->user->name, sp->name));
    r = client_id && uri.data && allowed
            ? auth_token_hash(token, AUTH_TOKEN_ROUNDS_GENERATED, hashed)
            : -ENOMEM;
    if (r == 0)
        r = store_client_put(s, client_id, note, hashed, uri.data, allowed, NULL);
    if (r == 0) {
        free(sp->oauth_client_id);
        sp->oauth_client_id = client_id;
        client_id = NULL;
    }
    json_decref(allowed);
    gm_buf_free(&uri);
    free(client_id);
    free(note);
    if (r < 0) {
        snprintf(err, errlen, "cannot create the server's OAuth client: %s", strerror(-r));
        delete_server_objects(run);
    }
    return r;
}

/* Saving what the plugin needs to find the server again. */
static void save_state(struct spawn_run *run)
{
    json_t *state = run->hub->spawn->plugin->get_state(run->server);
    json_decref(run->sp->state);
    run->sp->state = state ? state : json_object();
    if (store_spawner_save(&run->hub->store, run->sp) < 0)
        gm_log_error("Cannot save the state of %s's server", run->sp->user->name);
}

/* Metrics: jupyterhub_server_spawn_duration_seconds{status}. */
static void observe_spawn(struct spawn_run *run, const char *status)
{
    char labels[64];
    snprintf(labels, sizeof(labels), "status=\"%s\"", status);
    double s = (double)(time_mono_us() - run->requested_us) / 1e6;
    metrics_observe(run->hub->spawn_metrics, labels, s);
}

/* Ready. */

static void on_route_added(void *data, int status, const char *message)
{
    struct spawn_run *run = data;
    run->busy_route = false;
    if (run->stop_requested) {
        run->route_added = status == 0;
        stop_continue(run);
        return;
    }
    if (status < 0) {
        fail(run, 500, "Failed to add %s to the proxy: %s", run->routespec, message);
        return;
    }
    run->route_added = true;
    set_state(run, SPAWN_READY);
    run->hub->spawn->failures = 0;
    observe_spawn(run, "success");
    gm_log_info("Server of '%s' is ready at %s (%s) after %.1f s", run->sp->user->name,
                run->routespec, run->target, (double)(time_mono_us() - run->requested_us) / 1e6);
    struct gm_buf html;
    gm_buf_init(&html, 16384);
    gm_buf_puts(&html, "Server ready at <a href=\"");
    gm_buf_html_escape(&html, run->routespec);
    gm_buf_puts(&html, "\">");
    gm_buf_html_escape(&html, run->routespec);
    gm_buf_puts(&html, "</a>");
    json_t *ev = json_pack("{s:i,s:b,s:s+,s:s,s:s}", "progress", 100, "ready", 1, "message",
                           "Server ready at ", run->routespec, "html_message",
                           html.data ? html.data : "", "url", run->routespec);
    gm_buf_free(&html);
    emit(run, SPAWN_EVENT_READY, ev);
    spawn_run_schedule_poll(run);
}

static void add_route(struct spawn_run *run)
{
    json_t *data =
        json_pack("{s:s,s:s}", "user", run->sp->user->name, "server_name", run->sp->name);
    run->busy_route = true;
    const struct spawn_router *rt = &run->hub->spawn->router;
    int r = rt->add ? rt->add(rt->impl, run->routespec, run->target, data, on_route_added, run)
                    : (json_decref(data), -ENOTCONN);
    if (r < 0) {
        run->busy_route = false;
        fail(run, 500, "Failed to add %s to the proxy: %s", run->routespec, strerror(-r));
    }
}

/* Waiting for the server to answer HTTP: GET <target><prefix>api until a response below 500,
 * with backoff; meanwhile the plugin is polled so that a server that exits fails at once. */

static void check_http(struct spawn_run *run);

/* A server that exited before it answered usually said why: its last lines end the message, as
 * the Docker spawner's do. */
static void fail_exited(struct spawn_run *run, int exit_status)
{
    const struct gm_spawner *plugin = run->hub->spawn->plugin;
    char tail[TAIL_BYTES + 1];
    int n = plugin->output_tail ? plugin->output_tail(run->server, TAIL_LINES, tail, sizeof(tail))
                                : -ENOENT;
    if (n > 0)
        fail(run, 500,
             "Server at %s exited with status %d before it answered. Last lines of its "
             "output:\n%s",
             run->routespec, exit_status, tail);
    else if (n == 0)
        fail(run, 500, "Server at %s exited with status %d before it answered; it wrote no output",
             run->routespec, exit_status);
    else
        fail(run, 500, "Server at %s exited with status %d before it answered", run->routespec,
             exit_status);
}

static void on_polled_while_waiting(void *data, int exit_status)
{
    struct spawn_run *run = data;
    run->busy_poll = false;
    if (run->stop_requested) {
        stop_continue(run);
        return;
    }
    if (exit_status != GM_SPAWNER_RUNNING && run->state == SPAWN_STARTING && run->check_waiting)
        fail_exited(run, exit_status);
}

static void on_check_timer(uv_timer_t *t);

static void on_checked(void *data, int status)
{
    struct spawn_run *run = data;
    if (run->state != SPAWN_STARTING || run->stop_requested)
        return;
    if (status > 0 && status < 500) {
        run->check_waiting = false;
        uv_timer_stop(&run->timer);
        add_route(run);
        return;
    }
    int64_t now = (int64_t)uv_now(run->hub->loop);
    if (now >= run->deadline_ms) {
        run->check_waiting = false;
        fail(run, 500, "Server at %s didn't respond in %g seconds (Spawner.http_timeout)",
             run->routespec, run->hub->spawn->conf.http_timeout);
        return;
    }
    /* Not up yet: poll the plugin (did it exit?) and try again a little later. */
    if (!run->busy_poll &&
        run->hub->spawn->plugin->poll(run->server, on_polled_while_waiting, run) == 0)
        run->busy_poll = true;
    uint64_t delay = run->check_delay_ms;
    uint64_t cap =
        time_mono_us() - run->requested_us > CHECK_SLOW_AFTER ? CHECK_SLOW_MS : CHECK_MAX_MS;
    run->check_delay_ms = run->check_delay_ms * 2 > cap ? cap : run->check_delay_ms * 2;
    uv_timer_start(&run->timer, on_check_timer, delay, 0);
}

static void check_http(struct spawn_run *run)
{
    struct gm_buf url;
    gm_buf_init(&url, 16384);
    gm_buf_printf(&url, "%s%sapi", run->target, run->routespec);
    int64_t left = run->deadline_ms - (int64_t)uv_now(run->hub->loop);
    long timeout = left < CHECK_TIMEOUT_MS ? (left > 100 ? (long)left : 100) : CHECK_TIMEOUT_MS;
    int r = url.data ? spawn_probe_start(run->hub, &run->probe, run->target, url.data, timeout,
                                         on_checked, run)
                     : -ENOMEM;
    gm_buf_free(&url);
    if (r < 0)
        fail(run, 500, "Cannot check whether %s answers: %s", run->routespec, strerror(-r));
}

static void on_check_timer(uv_timer_t *t)
{
    struct spawn_run *run = t->data;
    if (run->state == SPAWN_STARTING && !run->stop_requested && !spawn_probe_active(&run->probe))
        check_http(run);
}

/* The plugin's start. */

static void on_start_timeout(uv_timer_t *t)
{
    struct spawn_run *run = t->data;
    if (run->state != SPAWN_STARTING || !(run->busy_start || run->busy_refresh) ||
        run->stop_requested)
        return;
    /* Where the start stood says more than the timeout alone (a job still in the queue, a
     * controller that does not answer). */
    size_t n = json_array_size(run->events);
    const char *last =
        n > 1 ? json_string_value(json_object_get(json_array_get(run->events, n - 1), "message"))
              : NULL;
    fail(run, 500,
         "Spawner failed to start the server within %g seconds (Spawner.start_timeout)%s%.600s",
         run->hub->spawn->conf.start_timeout, last ? ". Last: " : "", last ? last : "");
}

static void on_started(void *data, int status, const char *url, const char *message)
{
    struct spawn_run *run = data;
    run->busy_start = false;
    uv_timer_stop(&run->timer);
    if (run->stop_requested) {
        stop_continue(run);
        return;
    }
    if (status < 0) {
        fail(run, 500, "%s", message && message[0] ? message : strerror(-status));
        return;
    }
    struct url u;
    if (!url || url_parse(url, &u) < 0) {
        fail(run, 500, "The spawner returned a bad server URL: %s", url ? url : "(none)");
        return;
    }
    free(run->target);
    run->target = str_dup(url);
    size_t n = run->target ? strlen(run->target) : 0;
    while (n && run->target[n - 1] == '/')
        run->target[--n] = '\0';
    if (store_server_set(&run->hub->store, run->sp, u.scheme, u.host, u.port, run->routespec) < 0)
        gm_log_error("Cannot record the address of %s", run->routespec);
    save_state(run);
    gm_log_debug("Server of '%s' started at %s; waiting for it to answer", run->sp->user->name,
                 run->target);
    run->deadline_ms =
        (int64_t)uv_now(run->hub->loop) + (int64_t)(run->hub->spawn->conf.http_timeout * 1000);
    run->check_delay_ms = CHECK_FIRST_MS;
    run->check_waiting = true;
    check_http(run);
}

/* The user's auth_state for the spawner (Spawner.auth_state_hook's argument), when kept. */
static json_t *user_auth_state(struct hub *hub, struct hub_user *u)
{
    return hub->auth->enable_auth_state ? auth_state_load(hub, u) : NULL;
}

/* Hand the server to the plugin; frees @launch's contents. */
static void plugin_start(struct spawn_run *run, struct spawn_launch *launch)
{
    struct hub *hub = run->hub;
    struct hub_spawner *sp = run->sp;
    json_t *auth_state = user_auth_state(hub, sp->user);
    char why[512];
    if (auth_hooks_spawn_env(hub, sp->user->name, auth_state, &launch->env, why, sizeof(why)) < 0) {
        json_decref(auth_state);
        spawn_launch_free(launch);
        run->plugin_stopped = true; /* never started: nothing for the plugin to stop */
        fail(run, 500, "The server cannot start: %s", why);
        return;
    }
    json_t *empty = json_object();
    const char **groups = store_user_group_names(sp->user);
    static const char *const no_groups[] = {NULL};
    struct gm_server_spec spec = {
        .user = sp->user->name,
        .server_name = sp->name,
        .base_url = run->routespec,
        .argv = (const char *const *)gm_strv_get(&launch->argv),
        .env = (const char *const *)gm_strv_get(&launch->env),
        .ip = launch->ip,
        .port = launch->port,
        .notebook_dir = launch->notebook_dir,
        .user_options = sp->user_options ? sp->user_options : empty,
        .auth_state = auth_state,
        .mem_limit = launch->mem_limit,
        .cpu_limit = launch->cpu_limit,
        .mem_guarantee = launch->mem_guarantee,
        .cpu_guarantee = launch->cpu_guarantee,
        .user_id = sp->user->id,
        .groups = groups ? groups : no_groups,
    };
    gm_log_info("Starting the server of '%s' at %s", sp->user->name, run->routespec);
    run->busy_start = true;
    int r = hub->spawn->plugin->start(run->server, &spec, &run->progress, on_started, run);
    json_decref(empty);
    free(groups);
    json_decref(auth_state);
    spawn_launch_free(launch);
    if (r < 0) {
        run->busy_start = false;
        fail(run, 500, "The spawner could not start the server: %s", strerror(-r));
        return; /* the failure is reported like any other: in the events and the page */
    }
    if (run->busy_start && hub->spawn->conf.start_timeout > 0)
        uv_timer_start(&run->timer, on_start_timeout,
                       (uint64_t)(hub->spawn->conf.start_timeout * 1000), 0);
}

static void on_refreshed(void *data, int status, const json_t *result, const char *message)
{
    struct spawn_run *run = data;
    struct hub *hub = run->hub;
    struct spawn_launch *launch = run->launch;
    run->launch = NULL;
    run->refresh = NULL;
    run->busy_refresh = false;
    if (status == 0 && result && auth_user_apply(hub, run->sp->user, result) < 0)
        gm_log_warn("Cannot store the refreshed login of '%s'", run->sp->user->name);
    if (run->stop_requested || run->state != SPAWN_STARTING) {
        run->plugin_stopped = true; /* never started: nothing for the plugin to stop */
        spawn_launch_free(launch);
        free(launch);
        stop_continue(run);
        return;
    }
    if (status < 0) {
        spawn_launch_free(launch);
        free(launch);
        run->plugin_stopped = true; /* never started: nothing for the plugin to stop */
        if (status == -EACCES)
            fail(run, 403,
                 "Your login has expired (%s): log out, log in again, then start "
                 "your server.",
                 message ? message : "the identity provider refused it");
        else
            fail(run, 502, "Your login could not be refreshed: %s", message ? message : "");
        return;
    }
    gm_log_info("Refreshed the login of '%s' before starting its server", run->sp->user->name);
    plugin_start(run, launch);
    free(launch);
}

/* Authenticator.refresh_pre_spawn: the start waits for a fresh auth_state (tokens the server
 * gets in its environment must be valid). Takes over @launch. */
static int refresh_then_start(struct spawn_run *run, struct spawn_launch *launch)
{
    struct hub *hub = run->hub;
    json_t *auth_state = user_auth_state(hub, run->sp->user);
    struct spawn_launch *kept = malloc(sizeof(*kept));
    int r = -ENOMEM;
    if (kept) {
        *kept = *launch;
        run->launch = kept;
        r = auth_hooks_refresh(hub, run->sp->user->name, auth_state, on_refreshed, run,
                               &run->refresh);
    }
    json_decref(auth_state);
    if (r == -ENOENT || r == -ENOMEM) {
        /* Nothing to refresh (or no memory to try): start with what there is. */
        run->launch = NULL;
        plugin_start(run, kept ? kept : launch);
        free(kept);
        return 0;
    }
    if (r < 0) {
        run->launch = NULL;
        spawn_launch_free(kept);
        free(kept);
        run->plugin_stopped = true;
        fail(run, 502, "Your login could not be refreshed: %s", strerror(-r));
        return 0;
    }
    run->busy_refresh = true;
    emit(run, SPAWN_EVENT_PROGRESS,
         json_pack("{s:i,s:s}", "progress", 5, "message", "Refreshing your login"));
    if (hub->spawn->conf.start_timeout > 0)
        uv_timer_start(&run->timer, on_start_timeout,
                       (uint64_t)(hub->spawn->conf.start_timeout * 1000), 0);
    return 0;
}

int spawn_start(struct hub *hub, struct hub_spawner *sp, json_t *user_options, char *err,
                size_t errlen)
{
    struct spawn_host *h = hub->spawn;
    struct spawn_run *run = sp->run;
    enum spawn_state state = run ? run->state : SPAWN_IDLE;
    if (h->shutting_down) {
        json_decref(user_options);
        snprintf(err, errlen, "The hub is shutting down");
        return -ESHUTDOWN;
    }
    /* A start writes; and a hub whose lease lapsed may have been replaced by another, which
     * owns the servers now (GET /hub/spawn starts one too, past the HTTP gate). */
    if (!db_available(hub->db)) {
        json_decref(user_options);
        snprintf(err, errlen,
                 "The hub cannot save changes right now (its database is "
                 "unreachable, or its lease on it lapsed); try again in a moment");
        return -ENOTCONN;
    }
    if (state == SPAWN_STARTING || state == SPAWN_READY) {
        json_decref(user_options);
        snprintf(err, errlen, "%s's server%s%s is %s", sp->user->name, sp->name[0] ? " " : "",
                 sp->name, state == SPAWN_READY ? "already running" : "already pending");
        return -EALREADY;
    }
    if (state == SPAWN_STOPPING) {
        json_decref(user_options);
        snprintf(err, errlen, "%s's server%s%s is still stopping; try again in a moment",
                 sp->user->name, sp->name[0] ? " " : "", sp->name);
        return -EBUSY;
    }
    int64_t concurrent = hub->conf.concurrent_spawn_limit;
    if (concurrent > 0 && (int64_t)h->pending >= concurrent) {
        json_decref(user_options);
        snprintf(err, errlen,
                 "Too many users trying to log in right now. Try again in a minute or two.");
        metrics_observe(hub->spawn_metrics, "status=\"throttled\"", 0);
        return -EAGAIN;
    }
    int64_t limit = hub->conf.active_server_limit;
    if (limit > 0 && (int64_t)h->active >= limit) {
        json_decref(user_options);
        snprintf(err, errlen, "Active user limit exceeded. Try again in a few minutes.");
        metrics_observe(hub->spawn_metrics, "status=\"too-many-users\"", 0);
        return -EUSERS;
    }
    run = spawn_run_get(hub, sp, err, errlen);
    if (!run) {
        json_decref(user_options);
        return -ENOMEM;
    }
    if (user_options) {
        json_decref(sp->user_options);
        sp->user_options = user_options;
    }
    free(run->routespec);
    run->routespec = spawn_routespec(hub, sp);
    if (!run->routespec) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    free(run->failure);
    run->failure = NULL;
    run->failure_status = 0;
    run->stop_requested = false;
    run->remove_after_stop = false;
    run->route_added = false;
    run->progress_pct = 0;
    run->requested_us = time_mono_us();
    json_decref(run->events);
    run->events = json_array();

    char token[33];
    int r = create_server_objects(run, token, err, errlen);
    if (r < 0)
        return r;
    struct spawn_launch launch;
    r = spawn_launch_build(hub, sp, token, &launch, err, errlen);
    explicit_bzero(token, sizeof(token));
    if (r < 0) {
        delete_server_objects(run);
        return r;
    }
    sp->started = time_now_us();
    r = store_server_set(&hub->store, sp, "http", launch.ip, launch.port, run->routespec);
    if (r < 0) {
        snprintf(err, errlen, "cannot record the server: %s", strerror(-r));
        spawn_launch_free(&launch);
        delete_server_objects(run);
        sp->started = 0;
        return r;
    }
    set_state(run, SPAWN_STARTING);
    emit(run, SPAWN_EVENT_PROGRESS,
         json_pack("{s:i,s:s}", "progress", 0, "message", "Server requested"));
    run->progress.emit = on_progress;
    run->progress.ctx = run;
    if (auth_hooks_refresh_pre_spawn(hub))
        return refresh_then_start(run, &launch);
    plugin_start(run, &launch);
    return 0;
}

/* Failure: remember why, tell the listeners, then clean up as a stop does. */
static void fail(struct spawn_run *run, int status, const char *fmt, ...)
{
    char msg[FAILURE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (run->state != SPAWN_STARTING)
        return;
    gm_log_error("Failed to start the server of '%s': %s", run->sp->user->name, msg);
    free(run->failure);
    run->failure = str_dup(msg);
    run->failure_status = status;
    observe_spawn(run, "failure");
    struct hub *hub = run->hub;
    json_t *ev =
        json_pack("{s:i,s:b,s:s+}", "progress", 100, "failed", 1, "message", "Spawn failed: ", msg);
    emit(run, SPAWN_EVENT_FAILED, ev);
    hub->spawn->failures++;
    int64_t limit = hub->spawn->conf.consecutive_failure_limit;
    if (limit > 0 && hub->spawn->failures >= limit) {
        gm_log_error("%lld consecutive spawns failed (Spawner.consecutive_failure_limit); "
                     "stopping the hub",
                     (long long)hub->spawn->failures);
        hub_stop_soon(hub, 1);
    }
    stop_begin(run);
}

/* Stop. */

static void finish_stop(struct spawn_run *run)
{
    struct hub *hub = run->hub;
    struct hub_spawner *sp = run->sp;
    delete_server_objects(run);
    save_state(run);
    if (store_server_clear(&hub->store, sp) < 0)
        gm_log_error("Cannot clear the server record of %s", run->routespec);
    set_state(run, SPAWN_IDLE);
    gm_log_info("Server of '%s' at %s stopped", sp->user->name, run->routespec);
    bool remove = run->remove_after_stop;
    run->remove_after_stop = false;
    run->stop_requested = false;
    emit(run, SPAWN_EVENT_STOPPED, NULL);
    if (remove && sp->run == run) {
        spawn_forget_forever(hub, sp);
        spawn_run_free(run);
        if (store_spawner_delete(&hub->store, sp) < 0)
            gm_log_error("Cannot delete the server %s", sp->name);
    }
    if (hub->spawn->shutting_down)
        spawn_host_check_shutdown(hub);
}

static void on_plugin_stopped(void *data, int status, const char *message)
{
    struct spawn_run *run = data;
    run->busy_stop = false;
    if (status < 0)
        gm_log_warn("Stopping the server of '%s' reported: %s", run->sp->user->name,
                    message ? message : strerror(-status));
    stop_continue(run);
}

static void on_route_deleted(void *data, int status, const char *message)
{
    struct spawn_run *run = data;
    run->busy_route = false;
    if (status < 0)
        gm_log_warn("Cannot delete the route %s: %s", run->routespec, message);
    run->route_added = false;
    stop_continue(run);
}

/* Take the next step of a stop once nothing is in flight: route, then plugin, then objects. */
static void stop_continue(struct spawn_run *run)
{
    if (run->state != SPAWN_STOPPING || run->busy_route || run->busy_poll)
        return;
    if (run->busy_start || run->busy_stop || run->busy_refresh)
        return; /* the plugin completes the start (cancelled), then the stop */
    if (run->route_added) {
        run->busy_route = true;
        const struct spawn_router *rt = &run->hub->spawn->router;
        if (!rt->remove || rt->remove(rt->impl, run->routespec, on_route_deleted, run) < 0) {
            run->busy_route = false;
            run->route_added = false;
        } else {
            return;
        }
    }
    if (!run->plugin_stopped) {
        run->plugin_stopped = true;
        run->busy_stop = true;
        if (run->hub->spawn->plugin->stop(run->server, false, on_plugin_stopped, run) == 0)
            return;
        run->busy_stop = false;
    }
    finish_stop(run);
}

static void stop_begin(struct spawn_run *run)
{
    uv_timer_stop(&run->timer);
    spawn_probe_cancel(&run->probe);
    run->check_waiting = false;
    run->stop_requested = true;
    run->plugin_stopped = false;
    set_state(run, SPAWN_STOPPING);
    if (run->busy_start) {
        /* Interrupt the start: the plugin reports it cancelled, then the stop. */
        run->plugin_stopped = true;
        run->busy_stop = true;
        if (run->hub->spawn->plugin->stop(run->server, false, on_plugin_stopped, run) < 0) {
            run->busy_stop = false;
            run->plugin_stopped = false;
        }
    }
    stop_continue(run);
}

int spawn_stop(struct hub *hub, struct hub_spawner *sp, bool remove)
{
    struct spawn_run *run = sp->run;
    enum spawn_state state = run ? run->state : SPAWN_IDLE;
    if (state == SPAWN_STOPPING) {
        if (remove)
            run->remove_after_stop = true;
        return -EALREADY;
    }
    if (state == SPAWN_IDLE) {
        if (remove) {
            spawn_forget_forever(hub, sp);
            if (sp->run)
                spawn_run_free(sp->run);
            int r = store_spawner_delete(&hub->store, sp);
            return r < 0 ? r : -EINVAL;
        }
        return -EINVAL;
    }
    if (state == SPAWN_STARTING) {
        gm_log_info("Stopping the pending start of '%s' at %s", sp->user->name, run->routespec);
        free(run->failure);
        run->failure = str_dup("Spawn cancelled");
        run->failure_status = 500;
        emit(
            run, SPAWN_EVENT_FAILED,
            json_pack("{s:i,s:b,s:s}", "progress", 100, "failed", 1, "message", "Spawn cancelled"));
        observe_spawn(run, "cancelled");
    }
    run->remove_after_stop = remove;
    stop_begin(run);
    return 0;
}

/* Polling running servers. */

static void on_polled(void *data, int exit_status)
{
    struct spawn_run *run = data;
    run->busy_poll = false;
    if (run->state == SPAWN_STOPPING) {
        stop_continue(run);
        return;
    }
    if (run->state != SPAWN_READY)
        return;
    if (exit_status == GM_SPAWNER_RUNNING) {
        spawn_run_schedule_poll(run);
        return;
    }
    gm_log_warn("Server of '%s' at %s stopped by itself (exit status %d)", run->sp->user->name,
                run->routespec, exit_status);
    stop_begin(run);
}

static void on_poll_timer(uv_timer_t *t)
{
    struct spawn_run *run = t->data;
    if (run->state != SPAWN_READY || run->busy_poll)
        return;
    run->busy_poll = true;
    if (run->hub->spawn->plugin->poll(run->server, on_polled, run) < 0) {
        run->busy_poll = false;
        spawn_run_schedule_poll(run);
    }
}

void spawn_run_schedule_poll(struct spawn_run *run)
{
    const struct spawn_config *c = &run->hub->spawn->conf;
    if (c->poll_interval <= 0)
        return;
    uint32_t r = 0;
    gm_random_bytes(&r, sizeof(r));
    double jitter = c->poll_jitter * ((double)r / 4294967295.0);
    uv_timer_start(&run->timer, on_poll_timer, (uint64_t)(c->poll_interval * (1 + jitter) * 1000),
                   0);
}

void spawn_run_poll_now(struct spawn_run *run)
{
    uv_timer_start(&run->timer, on_poll_timer, 0, 0);
}

void spawn_run_adopt(struct spawn_run *run)
{
    struct hub_spawner *sp = run->sp;
    free(run->routespec);
    run->routespec = spawn_routespec(run->hub, sp);
    if (sp->state)
        run->hub->spawn->plugin->load_state(run->server, sp->state);
    struct gm_buf t;
    gm_buf_init(&t, 4096);
    const struct hub_server_addr *a = sp->server;
    gm_buf_printf(&t, "%s://%s%s%s:%d", a->proto[0] ? a->proto : "http",
                  strchr(a->ip, ':') ? "[" : "", a->ip[0] ? a->ip : "127.0.0.1",
                  strchr(a->ip, ':') ? "]" : "", a->port);
    free(run->target);
    run->target = gm_buf_steal(&t);
    run->events = json_array();
    run->requested_us = time_mono_us();
    run->route_added = true; /* check_routes puts it back if the proxy lost it */
    set_state(run, SPAWN_READY);
    spawn_run_poll_now(run);
}

/* Queries. */

enum spawn_state spawn_state(const struct hub_spawner *sp)
{
    return sp->run ? ((const struct spawn_run *)sp->run)->state : SPAWN_IDLE;
}

const char *spawn_pending(const struct hub_spawner *sp)
{
    switch (spawn_state(sp)) {
    case SPAWN_STARTING:
        return "spawn";
    case SPAWN_STOPPING:
        return "stop";
    default:
        return NULL;
    }
}

bool spawn_ready(const struct hub_spawner *sp)
{
    return spawn_state(sp) == SPAWN_READY;
}

const char *spawn_failure(const struct hub_spawner *sp, int *status)
{
    const struct spawn_run *run = sp->run;
    if (!run || !run->failure)
        return NULL;
    if (status)
        *status = run->failure_status ? run->failure_status : 500;
    return run->failure;
}

const char *spawn_target(const struct hub_spawner *sp)
{
    const struct spawn_run *run = sp->run;
    return run && run->state != SPAWN_IDLE ? run->target : NULL;
}

const json_t *spawn_events(const struct hub_spawner *sp)
{
    const struct spawn_run *run = sp->run;
    return run ? run->events : NULL;
}
