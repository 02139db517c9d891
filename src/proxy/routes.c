/* Routes: adding and deleting them, reading the table in JupyterHub's shape, and keeping the
 * table in line with the hub (check_routes), plus the activity CHP records per route
 * (update_last_activity) — as JupyterHub's proxy.py and app.py do. */
#include "core/hub.h"
#include "db/db.h"
#include "proxy/proxy_impl.h"
#include "services/services.h"
#include "spawn/spawn.h"
#include <ganymede/buf.h>
#include <ganymede/encode.h>
#include "util/str.h"
#include "util/time.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void proxy_chp_path(const char *routespec, char *out, size_t outlen)
{
    size_t n = strlen(routespec);
    if (n > 1 && routespec[n - 1] == '/')
        n--;
    snprintf(out, outlen, "%.*s", (int)n, routespec);
}

char *proxy_routespec_from_chp(const char *key)
{
    struct gm_buf b;
    gm_buf_init(&b, 16384);
    if (key[0] != '/')
        gm_buf_putc(&b, '/');
    gm_url_encode(&b, key, "@/~");
    if (b.data && b.data[b.len - 1] != '/')
        gm_buf_putc(&b, '/');
    return gm_buf_steal(&b);
}

/* One route change. */

static void on_route_changed(struct proxy *p, const struct proxy_reply *r)
{
    (void)p;
    if (r->cb)
        r->cb(r->cbdata, r->status == -ENOENT ? 0 : r->status, r->message);
}

int proxy_add_route(struct proxy *p, const char *routespec, const char *target, json_t *data,
                    proxy_done_cb cb, void *cbdata)
{
    if (!data)
        data = json_object();
    json_object_set_new(data, "target", json_string(target));
    json_object_set_new(data, "jupyterhub", json_true());
    char *body = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    if (!body)
        return -ENOMEM;
    char path[8192];
    proxy_chp_path(routespec, path, sizeof(path));
    struct proxy_call_target t = {.done = on_route_changed, .cb = cb, .cbdata = cbdata};
    int r = proxy_call(p, "POST", path, body, true, &t);
    free(body);
    return r;
}

int proxy_delete_route(struct proxy *p, const char *routespec, proxy_done_cb cb, void *cbdata)
{
    char path[8192];
    proxy_chp_path(routespec, path, sizeof(path));
    struct proxy_call_target t = {.done = on_route_changed, .cb = cb, .cbdata = cbdata};
    return proxy_call(p, "DELETE", path, NULL, true, &t);
}

/* The table, in JupyterHub's shape: routes without "jupyterhub" are someone else's. */
static json_t *reformat(const char *body)
{
    json_t *chp = json_loads(body, 0, NULL);
    if (!json_is_object(chp)) {
        json_decref(chp);
        return NULL;
    }
    json_t *out = json_object();
    const char *key;
    json_t *data;
    json_object_foreach(chp, key, data)
    {
        if (!json_is_object(data) || !json_object_get(data, "jupyterhub"))
            continue;
        char *spec = proxy_routespec_from_chp(key);
        if (!spec)
            continue;
        json_t *copy = json_deep_copy(data);
        json_t *target = json_incref(json_object_get(copy, "target"));
        json_object_del(copy, "target");
        json_object_del(copy, "jupyterhub");
        json_object_set_new(out, spec,
                            json_pack("{s:s,s:o,s:o}", "routespec", spec, "target",
                                      target ? target : json_null(), "data", copy));
        free(spec);
    }
    json_decref(chp);
    return out;
}

static void on_routes(struct proxy *p, const struct proxy_reply *r)
{
    (void)p;
    json_t *routes = r->status == 0 ? reformat(r->body) : NULL;
    if (r->status == 0 && !routes)
        r->routes_cb(r->cbdata, -EBADMSG, "the proxy's route table is not JSON", NULL);
    else
        r->routes_cb(r->cbdata, r->status, r->message, routes);
    json_decref(routes);
}

int proxy_get_routes(struct proxy *p, proxy_routes_cb cb, void *cbdata)
{
    struct proxy_call_target t = {.done = on_routes, .routes_cb = cb, .cbdata = cbdata};
    return proxy_call(p, "GET", "", NULL, true, &t);
}

/* check_routes. */

struct check {
    struct proxy *p;
    json_t *routes; /* the table as read */
    json_t *good;   /* routespecs that should stay */
    int pending;    /* changes in flight */
    int failed;
    char message[256];
};

static void check_done(struct check *c);
static void check_finished(struct proxy *p, int status, const char *message);
static int start_check(struct proxy *p, bool activity);

static void on_change_done(void *data, int status, const char *message)
{
    struct check *c = data;
    if (status < 0 && !c->failed++)
        snprintf(c->message, sizeof(c->message), "%s", message);
    if (--c->pending == 0)
        check_done(c);
}

static void change(struct check *c, bool add, const char *spec, const char *target, json_t *data)
{
    int r = add ? proxy_add_route(c->p, spec, target, data, on_change_done, c)
                : proxy_delete_route(c->p, spec, on_change_done, c);
    if (r == 0)
        c->pending++;
    else if (!c->failed++)
        snprintf(c->message, sizeof(c->message), "cannot change the route %s", spec);
}

static const char *route_target(const json_t *routes, const char *spec)
{
    return json_string_value(json_object_get(json_object_get(routes, spec), "target"));
}

static void ensure(struct check *c, const char *spec, const char *target, json_t *data,
                   const char *what)
{
    json_object_set_new(c->good, spec, json_true());
    const char *have = route_target(c->routes, spec);
    if (have && strcmp(have, target) == 0) {
        json_decref(data);
        return;
    }
    if (have)
        gm_log_warn("Updating the route of %s: %s → %s", what, have, target);
    else if (strcmp(what, "the hub") != 0)
        gm_log_warn("Adding the missing route of %s (%s)", what, spec);
    change(c, true, spec, target, data);
}

static void ensure_server(void *ctx, struct hub_spawner *sp)
{
    struct check *c = ctx;
    char *spec = spawn_routespec(c->p->hub, sp);
    if (!spec)
        return;
    const char *target = spawn_target(sp);
    if (spawn_ready(sp) && target) {
        char what[600];
        snprintf(what, sizeof(what), "%s's server %s", sp->user->name, spec);
        ensure(c, spec, target,
               json_pack("{s:s,s:s}", "user", sp->user->name, "server_name", sp->name), what);
    } else {
        /* Pending: leave its route alone, it may be on its way in or out. */
        json_object_set_new(c->good, spec, json_true());
    }
    free(spec);
}

static void run_check(struct proxy *p, json_t *routes)
{
    struct check *c = calloc(1, sizeof(*c));
    if (!c) {
        check_finished(p, -ENOMEM, "out of memory");
        return;
    }
    c->p = p;
    p->current_check = c;
    c->routes = json_incref(routes);
    c->good = json_object();
    c->pending = 1; /* released at the end of this function */
    struct hub *hub = p->hub;
    ensure(c, p->hub_routespec, p->hub_target, json_pack("{s:b}", "hub", 1), "the hub");
    spawn_each_active(hub, ensure_server, c);
    for (size_t i = 0; i < hub->store.services.n; i++) {
        struct hub_service *svc = hub->store.services.v[i];
        char target[600];
        if (services_route_target(svc, target, sizeof(target)) < 0)
            continue;
        char *spec = services_routespec(hub, svc);
        char what[300];
        snprintf(what, sizeof(what), "the service %s", svc->name);
        if (spec)
            ensure(c, spec, target, json_pack("{s:s}", "service", svc->name), what);
        free(spec);
    }
    const char *spec;
    json_t *target;
    json_object_foreach(p->conf.extra_routes, spec, target)
    {
        ensure(c, spec, json_string_value(target), json_pack("{s:b}", "extra", 1), spec);
    }
    json_t *route;
    json_object_foreach(routes, spec, route)
    {
        if (!json_object_get(c->good, spec)) {
            gm_log_warn("Deleting the stale route %s", spec);
            change(c, false, spec, NULL, NULL);
        }
    }
    on_change_done(c, 0, "");
}

static void notify(struct proxy_check_waiter *w, int status, const char *message)
{
    while (w) {
        struct proxy_check_waiter *next = w->next;
        if (w->cb)
            w->cb(w->data, status, message);
        free(w);
        w = next;
    }
}

static void check_finished(struct proxy *p, int status, const char *message)
{
    p->checking = false;
    struct proxy_check_waiter *w = p->check_waiters;
    p->check_waiters = NULL;
    /* Those who asked during this check wait for the next one (it sees their change). */
    if (p->check_again && !p->shutting_down) {
        p->check_again = false;
        p->check_waiters = p->next_waiters;
        p->next_waiters = NULL;
        int r = start_check(p, false);
        if (r < 0) {
            struct proxy_check_waiter *failed = p->check_waiters;
            p->check_waiters = NULL;
            notify(failed, r, "cannot reach the proxy");
        }
    }
    notify(w, status, message);
}

void proxy_check_free(struct check *c)
{
    json_decref(c->routes);
    json_decref(c->good);
    free(c);
}

static void check_done(struct check *c)
{
    struct proxy *p = c->p;
    p->current_check = NULL;
    int status = c->failed ? -EIO : 0;
    char message[256];
    snprintf(message, sizeof(message), "%s", c->message);
    proxy_check_free(c);
    check_finished(p, status, message);
}

/* Activity: the newest last_activity of each route moves its user's and server's forward. */
static void take_activity(struct hub *hub, json_t *routes)
{
    const char *spec;
    json_t *route;
    int64_t now = time_now_us();
    json_object_foreach(routes, spec, route)
    {
        json_t *data = json_object_get(route, "data");
        const char *name = json_string_value(json_object_get(data, "user"));
        const char *server = json_string_value(json_object_get(data, "server_name"));
        const char *when = json_string_value(json_object_get(data, "last_activity"));
        int64_t t;
        if (!name || !server || !when || time_parse(when, &t) < 0)
            continue;
        struct hub_user *u = store_user_find(&hub->store, name);
        struct hub_spawner *sp = u ? store_spawner_find(u, server) : NULL;
        if (!sp)
            continue;
        if (t > now)
            t = now; /* a proxy clock ahead of ours does not make activity in the future */
        store_user_touch(&hub->store, u, t, true);
        store_spawner_touch(&hub->store, sp, t);
    }
}

static void on_check_routes(void *data, int status, const char *message, json_t *routes)
{
    struct proxy *p = data;
    bool activity = p->check_activity;
    if (status < 0) {
        gm_log_error("Cannot read the proxy's routes: %s", message);
        check_finished(p, status, message);
        return;
    }
    /* A hub whose lease lapsed may have been replaced: the routes are the new hub's now. */
    if (!db_available(p->hub->db)) {
        check_finished(p, -EAGAIN, "the routes are not checked while the database is unavailable");
        return;
    }
    if (activity)
        take_activity(p->hub, routes);
    run_check(p, routes);
}

static int start_check(struct proxy *p, bool activity)
{
    p->check_activity = activity;
    int r = proxy_get_routes(p, on_check_routes, p);
    if (r == 0)
        p->checking = true;
    return r;
}

int proxy_check_routes(struct proxy *p, proxy_done_cb cb, void *cbdata)
{
    if (p->shutting_down)
        return -ESHUTDOWN;
    struct proxy_check_waiter **list = p->checking ? &p->next_waiters : &p->check_waiters;
    if (cb) {
        struct proxy_check_waiter *w = calloc(1, sizeof(*w));
        if (!w)
            return -ENOMEM;
        w->cb = cb;
        w->data = cbdata;
        w->next = *list;
        *list = w;
    }
    if (p->checking) {
        p->check_again = true;
        return 0;
    }
    int r = start_check(p, false);
    if (r < 0 && cb) {
        struct proxy_check_waiter *w = p->check_waiters;
        p->check_waiters = w->next;
        free(w);
    }
    return r;
}

static void forget(struct proxy_check_waiter **list, void *cbdata)
{
    for (struct proxy_check_waiter **pp = list; *pp;) {
        if ((*pp)->data == cbdata) {
            struct proxy_check_waiter *w = *pp;
            *pp = w->next;
            free(w);
        } else {
            pp = &(*pp)->next;
        }
    }
}

void proxy_forget_check_waiter(struct proxy *p, void *cbdata)
{
    forget(&p->check_waiters, cbdata);
    forget(&p->next_waiters, cbdata);
}

static void on_activity_timer(uv_timer_t *t)
{
    struct proxy *p = t->data;
    if (!p->checking && !p->shutting_down)
        start_check(p, true);
}

void proxy_routes_started(struct proxy *p)
{
    double interval = p->hub->conf.last_activity_interval;
    if (interval > 0 && !uv_is_active((uv_handle_t *)&p->activity_timer))
        uv_timer_start(&p->activity_timer, on_activity_timer, (uint64_t)(interval * 1000),
                       (uint64_t)(interval * 1000));
}

/* The spawner host's route table (spawn/spawn.h). */

static int router_add(void *impl, const char *routespec, const char *target, json_t *data,
                      spawn_route_cb cb, void *cbdata)
{
    return proxy_add_route(impl, routespec, target, data, cb, cbdata);
}

static int router_remove(void *impl, const char *routespec, spawn_route_cb cb, void *cbdata)
{
    return proxy_delete_route(impl, routespec, cb, cbdata);
}

static void router_cancel(void *impl, void *cbdata)
{
    proxy_cancel_calls(impl, cbdata);
}

void proxy_spawn_router(struct proxy *p, struct spawn_router *ret)
{
    *ret = (struct spawn_router){
        .impl = p, .add = router_add, .remove = router_remove, .cancel = router_cancel};
}
