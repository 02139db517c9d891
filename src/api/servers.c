/* /hub/api/users/{name}/server[s/{server_name}] and their /progress streams (JupyterHub's
 * UserServerAPIHandler and SpawnProgressAPIHandler). */
#include "api/api.h"
#include "core/hub.h"
#include "http/metrics.h"
#include "spawn/requests.h"
#include "util/str.h"

#include <errno.h>
#include <ganymede/encode.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEEPALIVE_MS   8000
#define STREAM_PENDING (1 << 20) /* bytes waiting for a slow progress reader */

/* Which server a route names: {name}/server is the default one (or default_server_name). */
static const char *server_param(struct http_request *req, bool start)
{
    if (req->params[1])
        return req->params[1];
    const char *def = req->hub->conf.default_server_name;
    return start && req->hub->conf.allow_named_servers && def[0] ? def : "";
}

static void full_name(char *out, size_t n, const char *user, const char *server)
{
    snprintf(out, n, "%s/%s", user, server);
}

/* POST: start. */

static void on_start_done(struct http_request *req, struct hub_spawner *sp,
                          enum spawn_wait_result r, const char *msg)
{
    int status = 500;
    if (r == SPAWN_WAIT_FAILED)
        spawn_failure(sp, &status); /* e.g. 403: the login expired */
    if (r == SPAWN_WAIT_READY)
        http_respond_empty(req, 201);
    else if (r == SPAWN_WAIT_FAILED)
        http_error(req, status >= 400 && status < 600 ? status : 500, "%s",
                   msg ? msg : "Spawn failed");
    else
        http_respond_empty(req, 202);
}

int api_server_post(struct http_request *req)
{
    struct hub *hub = req->hub;
    const char *name = req->params[0];
    const char *server = server_param(req, true);
    char full[1024];
    full_name(full, sizeof(full), name, server);
    if (API_NEED(req, SCOPE_KIND_SERVER, full, SCOPE_SERVERS) < 0)
        return 0;
    struct hub_user *u = store_user_find(&hub->store, name);
    if (!u)
        return http_error(req, 404, "No such user: %s", name);
    json_t *options = NULL;
    if (api_body_object(req, &options, false, "user_options must be a JSON dict") < 0)
        return 0;
    char err[512];
    struct hub_spawner *sp = store_spawner_find(u, server);
    enum spawn_state state = sp ? spawn_state(sp) : SPAWN_IDLE;
    if (state == SPAWN_STARTING) {
        json_decref(options);
        metrics_observe(hub->spawn_metrics, "status=\"already-pending\"", 0);
        return http_respond_empty(req, 202);
    }
    if (state == SPAWN_READY) {
        json_decref(options);
        return http_error(req, 400, "%s is already running", full);
    }
    if (state == SPAWN_STOPPING) {
        json_decref(options);
        return http_error(req, 400, "%s is pending stop", full);
    }
    int status;
    if (!sp && !(sp = spawn_find_for_start(hub, u, server, &status, err, sizeof(err)))) {
        json_decref(options);
        return http_error(req, status, "%s", err);
    }
    if (options && json_object_size(options) == 0) {
        json_decref(options);
        options = NULL; /* an empty body keeps the previous options */
    }
    int r = spawn_start(hub, sp, options, err, sizeof(err));
    if (r == -EAGAIN || r == -EUSERS) {
        uint32_t rnd = 0;
        gm_random_bytes(&rnd, sizeof(rnd));
        char retry[16];
        snprintf(retry, sizeof(retry), "%u", 30 + rnd % 31);
        http_set_header(req, "Retry-After", retry);
        return http_error(req, 429, "%s", err);
    }
    if (r == -EALREADY || r == -EBUSY)
        return http_error(req, 400, "%s", err);
    if (r < 0)
        return http_error(req, 500, "%s", err);
    gm_log_info("%s requested a start of %s", auth_identify(req)->name, full);
    double slow = hub_tornado_setting(hub, "slow_spawn_timeout", 10);
    if (spawn_ready(sp))
        return http_respond_empty(req, 201);
    if (slow <= 0 || spawn_state(sp) != SPAWN_STARTING) {
        int code = 500;
        const char *failure = spawn_failure(sp, &code);
        if (spawn_state(sp) != SPAWN_STARTING && failure)
            return http_error(req, code >= 400 && code < 600 ? code : 500, "Spawn failed: %s",
                              failure);
        return http_respond_empty(req, 202);
    }
    return spawn_wait(req, sp, (uint64_t)(slow * 1000), on_start_done);
}

/* DELETE: stop. */

static void on_stop_done(struct http_request *req, struct hub_spawner *sp, enum spawn_wait_result r,
                         const char *msg)
{
    (void)sp;
    (void)msg;
    http_respond_empty(req, r == SPAWN_WAIT_STOPPED ? 204 : 202);
}

int api_server_delete(struct http_request *req)
{
    struct hub *hub = req->hub;
    const char *name = req->params[0];
    const char *server = server_param(req, false);
    char full[1024];
    full_name(full, sizeof(full), name, server);
    if (API_NEED(req, SCOPE_KIND_SERVER, full, SCOPE_DELETE_SERVERS) < 0)
        return 0;
    struct hub_user *u = store_user_find(&hub->store, name);
    if (!u)
        return http_error(req, 404, "No such user: %s", name);
    json_t *body = NULL;
    if (api_body_object(req, &body, false, "body must be a JSON dict") < 0)
        return 0;
    json_t *remove_v = json_object_get(body, "remove");
    bool remove = json_is_true(remove_v);
    bool bad_remove = remove_v && !json_is_boolean(remove_v);
    json_decref(body);
    if (bad_remove)
        return http_error(req, 400, "remove must be true or false");
    if (remove && !server[0])
        return http_error(req, 400, "Cannot delete the default server");
    if (server[0] && !hub->conf.allow_named_servers)
        return http_error(req, 400, "Named servers are not enabled.");
    /* Stopping a server that is not running succeeds (204), as in JupyterHub: the idle culler
     * and scripts race servers that exit by themselves. */
    struct hub_spawner *sp = store_spawner_find(u, server);
    if (!sp) {
        if (server[0])
            return http_error(req, 404, "%s has no server named '%s'", name, server);
        return http_respond_empty(req, 204);
    }
    int r = spawn_stop(hub, sp, remove);
    if (r == -EALREADY)
        return http_respond_empty(req, 202);
    if (r == -EINVAL) {
        if (remove)
            gm_log_info("%s deleted the server %s", auth_identify(req)->name, full);
        return http_respond_empty(req, 204);
    }
    if (r < 0)
        return r;
    gm_log_info("%s requested a stop of %s", auth_identify(req)->name, full);
    double slow = hub_tornado_setting(hub, "slow_stop_timeout", 10);
    if (spawn_state(sp) == SPAWN_IDLE || (remove && !store_spawner_find(u, server)))
        return http_respond_empty(req, 204);
    if (slow <= 0)
        return http_respond_empty(req, 202);
    return spawn_wait(req, sp, (uint64_t)(slow * 1000), on_stop_done);
}

/* GET .../progress: server-sent events. */

struct stream {
    struct spawn_listener l;
    struct http_request *req;
    uv_timer_t keepalive;
    bool ended;
};

static void on_keepalive_closed(uv_handle_t *h)
{
    free(h->data);
}

static void stream_close(struct stream *st)
{
    spawn_unlisten(&st->l);
    uv_timer_stop(&st->keepalive);
    uv_close((uv_handle_t *)&st->keepalive, on_keepalive_closed);
}

static void stream_detach(struct http_request *req)
{
    stream_close(req->wait_data);
}

static void stream_send(struct http_request *req, const json_t *event)
{
    char *text = json_dumps(event, JSON_COMPACT);
    if (!text)
        return;
    struct gm_buf b;
    gm_buf_init(&b, STREAM_PENDING);
    gm_buf_printf(&b, "data: %s\n\n", text);
    free(text);
    if (b.data)
        http_stream_write(req, b.data, b.len);
    gm_buf_free(&b);
}

static void stream_end(struct stream *st)
{
    struct http_request *req = st->req;
    req->detach = NULL;
    stream_close(st);
    http_stream_end(req);
}

static void on_stream_event(struct spawn_listener *l, enum spawn_event_kind kind,
                            const json_t *event)
{
    struct stream *st = l->data;
    if (event)
        stream_send(st->req, event);
    if (kind != SPAWN_EVENT_PROGRESS)
        stream_end(st);
}

static void on_keepalive(uv_timer_t *t)
{
    struct stream *st = t->data;
    http_stream_write(st->req, "\n\n", 2);
}

static int send_once(struct http_request *req, json_t *event)
{
    int r = http_stream_start(req, 200, "text/event-stream", STREAM_PENDING);
    if (r == 0) {
        http_set_header(req, "Cache-Control", "no-cache");
        stream_send(req, event);
        http_stream_end(req);
    }
    json_decref(event);
    return r;
}

int api_server_progress(struct http_request *req)
{
    struct hub *hub = req->hub;
    const char *name = req->params[0];
    const char *server = server_param(req, false);
    char full[1024];
    full_name(full, sizeof(full), name, server);
    if (API_NEED(req, SCOPE_KIND_SERVER, full, SCOPE_READ_SERVERS) < 0)
        return 0;
    struct hub_user *u = store_user_find(&hub->store, name);
    if (!u)
        return http_error(req, 404, "No such user: %s", name);
    if (server[0] && !hub->conf.allow_named_servers)
        return http_error(req, 400, "Named servers are not enabled.");
    struct hub_spawner *sp = store_spawner_find(u, server);
    if (!sp)
        return http_error(req, 404, "%s has no server named '%s'", name, server);
    enum spawn_state state = spawn_state(sp);
    if (state == SPAWN_READY) {
        struct gm_buf url;
        gm_buf_init(&url, 8192);
        api_server_url(hub, &url, name, server);
        struct gm_buf html;
        gm_buf_init(&html, 16384);
        gm_buf_puts(&html, "Server ready at <a href=\"");
        gm_buf_html_escape(&html, url.data ? url.data : "");
        gm_buf_puts(&html, "\">");
        gm_buf_html_escape(&html, url.data ? url.data : "");
        gm_buf_puts(&html, "</a>");
        json_t *ev = json_pack("{s:i,s:b,s:s+,s:s,s:s}", "progress", 100, "ready", 1, "message",
                               "Server ready at ", url.data ? url.data : "", "html_message",
                               html.data ? html.data : "", "url", url.data ? url.data : "");
        gm_buf_free(&url);
        gm_buf_free(&html);
        return send_once(req, ev);
    }
    const char *failure = spawn_failure(sp, NULL);
    if (state == SPAWN_IDLE && failure)
        return send_once(req, json_pack("{s:i,s:b,s:s+}", "progress", 100, "failed", 1, "message",
                                        "Spawn failed: ", failure));
    if (state != SPAWN_STARTING)
        return http_error(req, 400, "%s is not starting...", full);
    struct stream *st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    int r = http_stream_start(req, 200, "text/event-stream", STREAM_PENDING);
    if (r < 0) {
        free(st);
        return r;
    }
    http_set_header(req, "Cache-Control", "no-cache");
    st->req = req;
    st->l.on_event = on_stream_event;
    st->l.data = st;
    uv_timer_init(hub->loop, &st->keepalive);
    st->keepalive.data = st;
    uv_timer_start(&st->keepalive, on_keepalive, KEEPALIVE_MS, KEEPALIVE_MS);
    req->wait_data = st;
    req->detach = stream_detach;
    spawn_listen(sp, &st->l);
    /* What happened so far, then whatever comes. */
    const json_t *events = spawn_events(sp);
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev)
    {
        stream_send(req, ev);
    }
    return 0;
}
