/* The spawner host: choosing the spawner, its settings, adopting running servers at start and
 * letting go of them at stop. */
#include "core/hub.h"
#include "core/options.h"
#include "spawn/probe.h"
#include "spawn/run.h"
#include "spawn/spawners.h"
#include <ganymede/buf.h>

#include <errno.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHAIN          6
#define CLEANUP_TIMEOUT_MS 60000

/* Spawner, then the plugin's classes from the top down (LocalProcessSpawner before
 * SimpleLocalProcessSpawner). */
static size_t class_chain(const struct gm_option_class *leaf, const struct gm_option_class **out)
{
    const struct gm_option_class *path[MAX_CHAIN];
    size_t n = 0;
    for (const struct gm_option_class *c = leaf; c && n < MAX_CHAIN - 1;) {
        path[n++] = c;
        if (!c->parent || strcmp(c->parent, "Spawner") == 0)
            break;
        c = spawn_class_find(c->parent);
    }
    out[0] = &spawn_spawner_class;
    for (size_t i = 0; i < n; i++)
        out[1 + i] = path[n - 1 - i];
    return n + 1;
}

int spawn_host_init(struct hub *hub, char *err, size_t errlen)
{
    struct spawn_host *h = hub->spawn;
    const struct config *cfg = hub->config;
    if (options_init(&spawn_spawner_class, &h->conf) < 0) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    const char *name = hub->conf.spawner_class;
    const struct gm_spawner *s = spawn_module_find(name);
    if (!s) {
        struct gm_buf b;
        gm_buf_init(&b, 4096);
        for (const struct gm_spawner *const *m = spawn_modules(); *m; m++)
            gm_buf_printf(&b, "%s%s", m == spawn_modules() ? "" : ", ", (*m)->name);
        snprintf(err, errlen,
                 "JupyterHub.spawner_class (%s): unknown spawner '%s'; this build has: %s",
                 config_origin(cfg, "JupyterHub", "spawner_class"), name, b.data ? b.data : "");
        gm_buf_free(&b);
        return -EINVAL;
    }
    if (s->abi != GM_ABI_VERSION) {
        snprintf(err, errlen, "the spawner '%s' was built for another version of Ganymede",
                 s->name);
        return -EINVAL;
    }
    h->plugin = s;
    if (s->default_start_timeout > 0)
        h->conf.start_timeout = s->default_start_timeout;
    h->class_name = s->aliases && s->aliases[0] ? s->aliases[0] : s->name;
    if (s->conf_size && !(h->plugin_conf = calloc(1, s->conf_size))) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    const struct gm_option_class *chain[MAX_CHAIN];
    void *confs[MAX_CHAIN];
    size_t n = s->options ? class_chain(s->options, chain) : 1;
    if (!s->options)
        chain[0] = &spawn_spawner_class;
    confs[0] = &h->conf;
    for (size_t i = 1; i < n; i++) {
        confs[i] = h->plugin_conf;
        if (options_init(chain[i], h->plugin_conf) < 0) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
    }
    int r = config_apply(cfg, chain, confs, n, err, errlen);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        if (config_get(cfg, chain[i]->name, "port"))
            h->conf.port_set = true;
    if (s->init) {
        r = s->init(&hub->host, h->plugin_conf, &h->plugin_state, err, errlen);
        if (r < 0)
            return r;
    }
    gm_log_info("Using spawner: %s", h->class_name);
    return 0;
}

void spawn_host_adopt(struct hub *hub)
{
    size_t adopted = 0;
    for (size_t i = 0; i < hub->store.users.n; i++) {
        struct hub_user *u = hub->store.users.v[i];
        for (size_t j = 0; j < u->spawners.n; j++) {
            struct hub_spawner *sp = u->spawners.v[j];
            if (!sp->server || sp->run)
                continue;
            char err[256];
            struct spawn_run *run = spawn_run_get(hub, sp, err, sizeof(err));
            if (!run) {
                gm_log_error("Cannot take over the server of '%s': %s", u->name, err);
                continue;
            }
            spawn_run_adopt(run);
            adopted++;
        }
    }
    if (adopted)
        gm_log_info("Found %zu server(s) running before this start; checking them", adopted);
}

void spawn_each_active(struct hub *hub, void (*fn)(void *ctx, struct hub_spawner *sp), void *ctx)
{
    for (size_t i = 0; i < hub->store.users.n; i++) {
        struct hub_user *u = hub->store.users.v[i];
        for (size_t j = 0; j < u->spawners.n; j++) {
            struct hub_spawner *sp = u->spawners.v[j];
            if (spawn_state(sp) != SPAWN_IDLE)
                fn(ctx, sp);
        }
    }
}

void spawn_forget_forever(struct hub *hub, struct hub_spawner *sp)
{
    if (!hub->spawn->plugin->delete_forever)
        return;
    char err[256];
    struct spawn_run *run = spawn_run_get(hub, sp, err, sizeof(err));
    if (!run) {
        gm_log_warn("Cannot delete what %s's server '%s' kept: %s", sp->user->name, sp->name, err);
        return;
    }
    hub->spawn->plugin->delete_forever(run->server);
}

void spawn_release_user(struct hub *hub, struct hub_user *u)
{
    for (size_t j = 0; j < u->spawners.n; j++) {
        struct hub_spawner *sp = u->spawners.v[j];
        spawn_forget_forever(hub, sp);
        if (sp->run)
            spawn_run_free(sp->run);
    }
}

/* Shutdown. */

static void free_all_runs(struct hub *hub)
{
    for (size_t i = 0; i < hub->store.users.n; i++) {
        struct hub_user *u = hub->store.users.v[i];
        for (size_t j = 0; j < u->spawners.n; j++) {
            struct hub_spawner *sp = u->spawners.v[j];
            struct spawn_run *run = sp->run;
            if (!run)
                continue;
            if (run->state != SPAWN_IDLE) {
                /* Left running: keep what finds it again after the restart. */
                json_t *state = hub->spawn->plugin->get_state(run->server);
                if (state) {
                    json_decref(sp->state);
                    sp->state = state;
                    store_spawner_save(&hub->store, sp);
                }
            }
            spawn_run_free(run);
        }
    }
}

static void finish_shutdown(struct hub *hub)
{
    void (*cb)(struct hub *) = hub->spawn->shutdown_cb;
    hub->spawn->shutdown_cb = NULL;
    free_all_runs(hub);
    if (cb)
        cb(hub);
}

static void on_cleanup_timer_closed(uv_handle_t *h)
{
    finish_shutdown(h->data);
}

static void end_cleanup(struct hub *hub)
{
    hub->spawn->cleanup_pending = false;
    uv_timer_stop(&hub->spawn->cleanup_timer);
    uv_close((uv_handle_t *)&hub->spawn->cleanup_timer, on_cleanup_timer_closed);
}

static void on_cleanup_timeout(uv_timer_t *t)
{
    struct hub *hub = t->data;
    gm_log_warn("%zu server(s) did not stop in time; leaving them", hub->spawn->active);
    end_cleanup(hub);
}

void spawn_host_check_shutdown(struct hub *hub)
{
    if (hub->spawn->cleanup_pending && hub->spawn->active == 0)
        end_cleanup(hub);
}

static void stop_for_cleanup(void *ctx, struct hub_spawner *sp)
{
    struct hub *hub = ctx;
    spawn_stop(hub, sp, false);
}

void spawn_host_shutdown(struct hub *hub, void (*done)(struct hub *hub))
{
    struct spawn_host *h = hub->spawn;
    h->shutting_down = true;
    h->shutdown_cb = done;
    if (!h->plugin || !hub->conf.cleanup_servers || h->active == 0) {
        if (h->active)
            gm_log_info("Leaving %zu server(s) running (JupyterHub.cleanup_servers is False)",
                        h->active);
        finish_shutdown(hub);
        return;
    }
    gm_log_info("Stopping %zu server(s) (JupyterHub.cleanup_servers)", h->active);
    uv_timer_init(hub->loop, &h->cleanup_timer);
    h->cleanup_timer.data = hub;
    h->cleanup_pending = true;
    uv_timer_start(&h->cleanup_timer, on_cleanup_timeout, CLEANUP_TIMEOUT_MS, 0);
    spawn_each_active(hub, stop_for_cleanup, hub);
    spawn_host_check_shutdown(hub);
}

void spawn_host_release(struct hub *hub)
{
    struct spawn_host *h = hub->spawn;
    if (h->plugin && h->plugin->destroy && h->plugin_state)
        h->plugin->destroy(h->plugin_state);
    h->plugin_state = NULL;
    if (h->plugin && h->plugin->options && h->plugin_conf) {
        const struct gm_option_class *chain[MAX_CHAIN];
        size_t n = class_chain(h->plugin->options, chain);
        for (size_t i = 1; i < n; i++)
            options_release(chain[i], h->plugin_conf);
    }
    free(h->plugin_conf);
    h->plugin_conf = NULL;
    spawn_probe_release(hub);
    options_release(&spawn_spawner_class, &h->conf);
}
