/* What the REST API, the spawn pages and the admin panel share when a request starts or stops
 * a server: JupyterHub's rules for server names and named-server limits, and waiting (bounded)
 * for a start or stop to finish before answering. */
#include "spawn/requests.h"
#include "core/hub.h"
#include "http/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SERVER_NAME 255

int spawn_check_server_name(const char *name, char *err, size_t errlen)
{
    if (strchr(name, '/')) {
        snprintf(err, errlen, "Invalid server_name (may not contain '/'): %s", name);
        return -EINVAL;
    }
    size_t n = strlen(name);
    if (n > MAX_SERVER_NAME) {
        snprintf(err, errlen, "Invalid server_name: longer than %d bytes", MAX_SERVER_NAME);
        return -EINVAL;
    }
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f) {
            snprintf(err, errlen, "Invalid server_name: control characters are not allowed");
            return -EINVAL;
        }
    return 0;
}

struct hub_spawner *spawn_find_for_start(struct hub *hub, struct hub_user *u, const char *name,
                                         int *status, char *err, size_t errlen)
{
    *status = 400;
    if (name[0] && !hub->conf.allow_named_servers) {
        snprintf(err, errlen, "Named servers are not enabled.");
        return NULL;
    }
    if (spawn_check_server_name(name, err, errlen) < 0)
        return NULL;
    struct hub_spawner *sp = store_spawner_find(u, name);
    int64_t limit = hub->conf.named_server_limit_per_user;
    if (!sp && name[0] && limit > 0) {
        int64_t named = 0;
        for (size_t i = 0; i < u->spawners.n; i++)
            if (((struct hub_spawner *)u->spawners.v[i])->name[0])
                named++;
        if (named >= limit) {
            snprintf(err, errlen,
                     "User %s already has the maximum of %lld named servers.  One must be "
                     "deleted before a new server can be created",
                     u->name, (long long)limit);
            return NULL;
        }
    }
    if (!sp) {
        int r = store_spawner_ensure(&hub->store, u, name, &sp);
        if (r < 0) {
            *status = 500;
            snprintf(err, errlen, "cannot create the server record: %s", strerror(-r));
            return NULL;
        }
    }
    return sp;
}

/* Waiting. */

struct waiter {
    struct spawn_listener l;
    struct http_request *req;
    struct hub_spawner *sp;
    spawn_wait_done done;
};

static void finish(struct waiter *w, enum spawn_wait_result result, const char *message)
{
    struct http_request *req = w->req;
    spawn_unlisten(&w->l);
    req->detach = NULL;
    req->on_timeout = NULL;
    w->done(req, w->sp, result, message);
    http_resume(req);
}

static void on_event(struct spawn_listener *l, enum spawn_event_kind kind, const json_t *event)
{
    struct waiter *w = l->data;
    const char *msg = json_string_value(json_object_get(event, "message"));
    switch (kind) {
    case SPAWN_EVENT_READY:
        finish(w, SPAWN_WAIT_READY, msg);
        break;
    case SPAWN_EVENT_FAILED:
        finish(w, SPAWN_WAIT_FAILED, msg);
        break;
    case SPAWN_EVENT_STOPPED:
        finish(w, SPAWN_WAIT_STOPPED, NULL);
        break;
    default:
        break;
    }
}

static void on_detach(struct http_request *req)
{
    struct waiter *w = req->wait_data;
    spawn_unlisten(&w->l);
}

static void on_timeout(struct http_request *req)
{
    struct waiter *w = req->wait_data;
    w->done(req, w->sp, SPAWN_WAIT_TIMEOUT, NULL);
}

int spawn_wait(struct http_request *req, struct hub_spawner *sp, uint64_t timeout_ms,
               spawn_wait_done done)
{
    struct waiter *w = arena_calloc(&req->arena, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->req = req;
    w->sp = sp;
    w->done = done;
    w->l.on_event = on_event;
    w->l.data = w;
    if (spawn_listen(sp, &w->l) < 0) {
        done(req, sp, SPAWN_WAIT_STOPPED, NULL);
        return 0;
    }
    int r = http_suspend(req, timeout_ms);
    if (r < 0) {
        spawn_unlisten(&w->l);
        return r;
    }
    req->wait_data = w;
    req->detach = on_detach;
    req->on_timeout = on_timeout;
    return HTTP_SUSPENDED;
}
