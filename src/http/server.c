/* The libmicrohttpd daemon and the life of a request: allocated when the request line arrives
 * (URI log callback, which sees the raw URI), fed its body under a cap, dispatched to its route
 * handler, possibly suspended, answered, logged once, and freed when MHD is done with it. */
#include "http/server.h"
#include "core/errors.h"
#include "http/router.h"
#include "http/slow_clients.h"
#include "loop/mhd.h"
#include "util/str.h"
#include "util/time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ganymede/log.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct http_server {
    uv_loop_t *loop;
    struct MHD_Daemon *daemon;
    struct loop_mhd driver;
    struct http_router *router;
    struct http_slow_clients *slow;
    struct http_server_options opts;
    struct hub *hub;
    int listen_fd;
    int port;
    size_t active;
    struct http_request *waiting; /* suspended requests */
    struct http_gate gate;
    struct http_request *held; /* responses waiting at the gate */
    bool shutting_down;
    uv_timer_t grace_timer;
    http_server_closed_cb closed_cb;
    void *closed_data;
};

static void request_free(struct http_request *req);

/* Listening socket: made here so that errors name the address and port 0 works. */
static int listen_on(const struct sockaddr *addr, socklen_t len, int *ret_fd, int *ret_port)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (addr->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, addr, len) < 0 || listen(fd, 1024) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int port = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                              : ((struct sockaddr_in *)&ss)->sin_port);
    *ret_fd = fd;
    *ret_port = port;
    return 0;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct http_server *s = cls;
    struct http_request *req = calloc(1, sizeof(*req));
    if (!req)
        return NULL;
    req->server = s;
    req->hub = s->hub;
    req->conn = conn;
    http_slow_clients_request(s->slow, conn);
    req->start_us = time_mono_us();
    req->status = 0;
    arena_init(&req->arena, req->arena_initial, sizeof(req->arena_initial),
               s->opts.max_url * 2 + (256 << 10));
    gm_buf_init(&req->body, s->opts.max_body);
    size_t n = strlen(uri);
    if (n > s->opts.max_url) {
        /* Keep the start of the path: it says whether the answer should be JSON. */
        req->bad_uri = true;
        req->path = arena_printf(&req->arena, "%.200s", uri);
        req->uri = arena_printf(&req->arena, "%.200s...", uri);
        req->query = "";
        if (!req->path || !req->uri)
            req->uri = req->path = "/";
    } else {
        req->uri = arena_strndup(&req->arena, uri, n);
        size_t plen = strcspn(uri, "?");
        req->path = arena_strndup(&req->arena, uri, plen);
        req->query = uri[plen] ? req->uri + plen + 1 : "";
        if (!req->uri || !req->path) {
            req->bad_uri = true;
            req->uri = req->path = "/";
            req->query = "";
        }
    }
    s->active++;
    return req;
}

/* MHD would percent-decode the URL and query in place; we match on the raw path ourselves. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

static enum http_method parse_method(const char *m)
{
    static const struct {
        const char *name;
        enum http_method method;
    } methods[] = {
        {"GET", HTTP_GET},         {"HEAD", HTTP_HEAD},   {"POST", HTTP_POST},
        {"PUT", HTTP_PUT},         {"PATCH", HTTP_PATCH}, {"DELETE", HTTP_DELETE},
        {"OPTIONS", HTTP_OPTIONS},
    };
    for (size_t i = 0; i < sizeof(methods) / sizeof(*methods); i++)
        if (strcmp(m, methods[i].name) == 0)
            return methods[i].method;
    return HTTP_OTHER;
}

static void free_body(void *p)
{
    free(p);
}

/* MHD asks for the next bytes of a streamed response. With nothing to send the connection is
 * parked (the pattern microhttpd.h prescribes) until http_stream_write or _end wakes it. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    struct http_request *req = cls;
    size_t avail = req->stream_out.len - req->stream_off;
    if (avail) {
        size_t n = avail < max ? avail : max;
        memcpy(out, req->stream_out.data + req->stream_off, n);
        req->stream_off += n;
        if (req->stream_off == req->stream_out.len) {
            gm_buf_reset(&req->stream_out);
            req->stream_off = 0;
        }
        return (ssize_t)n;
    }
    if (req->stream_ended)
        return MHD_CONTENT_READER_END_OF_STREAM;
    MHD_suspend_connection(req->conn);
    req->stream_parked = true;
    return 0;
}

static void stream_wake(struct http_request *req)
{
    if (!req->stream_parked)
        return;
    req->stream_parked = false;
    MHD_resume_connection(req->conn);
    loop_mhd_kick(&req->server->driver);
}

/* The request's one timer: a suspension's or the gate's deadline (never both at once). */
static void request_timer(struct http_request *req)
{
    if (req->timer_started)
        return;
    uv_timer_init(req->server->loop, &req->timer);
    req->timer.data = req;
    req->timer_started = true;
}

/* The gate. */

static void unlink_held(struct http_request *req)
{
    struct http_server *s = req->server;
    if (!req->gate_held)
        return;
    if (req->held_prev)
        req->held_prev->held_next = req->held_next;
    else if (s->held == req)
        s->held = req->held_next;
    if (req->held_next)
        req->held_next->held_prev = req->held_prev;
    req->held_prev = req->held_next = NULL;
    req->gate_held = false;
}

/* Replace the response that was ready with an error (its headers go with it). */
static void replace_response(struct http_request *req, int status, const char *msg)
{
    req->resp_headers = NULL;
    if (req->streaming)
        return; /* its status line is part of what it streams: it goes as it is */
    http_error(req, status, "%s", msg);
}

/* @req's writes are settled: its response goes, as a 500 if one of them was refused. */
static void pass_gate(struct http_request *req)
{
    struct http_server *s = req->server;
    req->gate_passed = true;
    if (s->gate.failed_in(s->gate.ctx, req->gate_start, req->gate_until))
        replace_response(req, 500, "The hub's database refused this change; it was not saved");
}

/* Let a held @req through: its writes are settled (or will not be, in time). */
static void release(struct http_request *req, bool timed_out)
{
    struct http_server *s = req->server;
    unlink_held(req);
    uv_timer_stop(&req->timer);
    if (timed_out) {
        req->gate_passed = true;
        replace_response(req, 503,
                         "The hub's database did not confirm this change in time; it may still "
                         "be saved when the database answers again");
    } else {
        pass_gate(req);
    }
    MHD_resume_connection(req->conn);
    loop_mhd_kick(&s->driver);
}

static void on_gate_timeout(uv_timer_t *t)
{
    struct http_request *req = t->data;
    if (req->gate_held)
        release(req, true);
}

/* True when the response must wait: the connection is suspended until release(). */
static bool hold(struct http_request *req)
{
    struct http_server *s = req->server;
    if (req->gate_passed || !s->gate.issued)
        return false;
    if (!req->route) { /* refused before any handler ran: it wrote nothing */
        req->gate_passed = true;
        return false;
    }
    req->gate_until = s->gate.issued(s->gate.ctx);
    if (req->gate_until <= s->gate.durable(s->gate.ctx)) {
        pass_gate(req);
        return false;
    }
    request_timer(req);
    MHD_suspend_connection(req->conn);
    req->gate_held = true;
    req->held_prev = NULL;
    req->held_next = s->held;
    if (s->held)
        s->held->held_prev = req;
    s->held = req;
    uv_timer_start(&req->timer, on_gate_timeout, s->gate.timeout_ms, 0);
    return true;
}

void http_server_set_gate(struct http_server *s, const struct http_gate *gate)
{
    s->gate = *gate;
}

void http_server_gate_moved(struct http_server *s)
{
    if (!s->gate.durable)
        return;
    uint64_t durable = s->gate.durable(s->gate.ctx);
    for (struct http_request *req = s->held, *next; req; req = next) {
        next = req->held_next;
        if (req->gate_until <= durable)
            release(req, false);
    }
}

/* While the database is down, a request that would change something is refused before it
 * changes the hub's memory. */
static bool refused_at_gate(struct http_request *req)
{
    struct http_server *s = req->server;
    if (!s->gate.available)
        return false;
    if (s->gate.available(s->gate.ctx) || req->method == HTTP_GET || req->method == HTTP_HEAD ||
        req->method == HTTP_OPTIONS)
        return false;
    http_set_header(req, "Retry-After", "5");
    http_error(req, 503,
               "The hub cannot save changes right now: its database is unreachable (it is "
               "reconnecting), or its lease on it lapsed. Try again in a moment.");
    req->gate_passed = true;
    return true;
}

static enum MHD_Result queue(struct http_request *req)
{
    struct http_server *s = req->server;
    if (hold(req))
        return MHD_YES;
    struct MHD_Response *resp =
        req->streaming
            ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, req, NULL)
            : MHD_create_response_from_buffer_with_free_callback(req->resp_len, req->resp_body,
                                                                 free_body);
    if (!resp)
        return MHD_NO;
    if (!req->streaming)
        req->resp_body = NULL; /* MHD owns it now */
    bool api = req->route ? (req->route->flags & HTTP_ROUTE_API) : false;
    for (const char *const *h = api ? s->opts.api_headers : s->opts.headers; h && h[0] && h[1];
         h += 2)
        MHD_add_response_header(resp, h[0], h[1]);
    if (api)
        MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                "accept, content-type, authorization");
    if (req->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, req->content_type);
    for (struct http_header *h = req->resp_headers; h; h = h->next)
        MHD_add_response_header(resp, h->name, h->value);
    if (s->shutting_down)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result r = MHD_queue_response(req->conn, (unsigned)req->status, resp);
    MHD_destroy_response(resp);
    req->queued = true;
    return r;
}

static void dispatch(struct http_request *req)
{
    struct http_server *s = req->server;
    if (s->gate.issued)
        req->gate_start = s->gate.issued(s->gate.ctx);
    if (req->bad_uri) {
        http_error(req, 414, "The URL is longer than the hub accepts (%zu bytes)", s->opts.max_url);
        return;
    }
    const struct http_route *route = NULL;
    unsigned allowed = 0;
    enum http_match m = http_router_match(s->router, req, &route, &allowed);
    req->route = route;
    if (m == HTTP_MATCH_OK && refused_at_gate(req))
        return;
    if (m == HTTP_MATCH_BAD_ENCODING) {
        http_error(req, 400, "The URL is not valid percent-encoding");
        return;
    }
    if (m == HTTP_MATCH_METHOD) {
        if (req->method == HTTP_OPTIONS && (route->flags & HTTP_ROUTE_API)) {
            http_respond_empty(req, 200);
            return;
        }
        char allow[96] = "";
        static const char *const names[] = {"GET",   "HEAD",   "POST",   "PUT",
                                            "PATCH", "DELETE", "OPTIONS"};
        for (int i = 0; i < 7; i++)
            if (allowed & (1u << i)) {
                if (allow[0])
                    strncat(allow, ", ", sizeof(allow) - strlen(allow) - 1);
                strncat(allow, names[i], sizeof(allow) - strlen(allow) - 1);
            }
        http_set_header(req, "Allow", allow);
        http_error(req, 405, "Method %s is not allowed here", req->method_name);
        return;
    }
    if (m == HTTP_MATCH_NONE) {
        http_error(req, 404, "Not found");
        return;
    }
    if (s->gate.issued) /* the writes after this one are this request's */
        req->gate_start = s->gate.issued(s->gate.ctx);
    int r = route->handler(req);
    if (r == HTTP_SUSPENDED) {
        if (!req->suspended && !req->responded)
            http_error(req, 500, "The request was lost inside the hub");
        return;
    }
    if (r < 0 && !req->responded)
        http_error_errno(req, r);
    else if (!req->responded)
        http_error(req, 500, "The hub did not answer this request");
}

/* A body past the cap is read and dropped, up to HTTP_DRAIN_MAX, before the 413 goes out: a
 * client or proxy still sending it when the hub closes the connection gets a reset instead of
 * the answer (configurable-http-proxy then reports the hub as down with a 503). That holds also
 * for a client that sent "Expect: 100-continue": a proxy forwards the header but streams the
 * body regardless, so the body is asked for and read. Only beyond HTTP_DRAIN_MAX does the 413
 * go out at once, and MHD closes the connection without reading on. */
#define HTTP_DRAIN_MAX ((uint64_t)128 << 20)

static uint64_t drain_max(const struct http_request *req)
{
    uint64_t cap = (uint64_t)req->server->opts.max_body * 4;
    return cap > HTTP_DRAIN_MAX ? cap : HTTP_DRAIN_MAX;
}

static enum MHD_Result refuse_too_large(struct http_request *req)
{
    http_error(req, 413, "The request body is larger than the hub accepts (%zu bytes)",
               req->server->opts.max_body);
    http_set_header(req, "Connection", "close");
    return queue(req);
}

/* Take @n more bytes of the body: kept under the cap, else counted and dropped. */
static enum MHD_Result take_upload(struct http_request *req, const char *upload, size_t n)
{
    if (!req->too_large && gm_buf_append(&req->body, upload, n) == 0)
        return MHD_YES;
    if (!req->too_large) {
        req->too_large = true;
        req->drained = req->body.len;
        gm_buf_free(&req->body);
    }
    req->drained += n;
    if (req->drained > drain_max(req))
        return refuse_too_large(req);
    return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    struct http_request *req = *con_cls;
    if (!req)
        return MHD_NO; /* out of memory when the request arrived */
    if (req->responded && !req->queued)
        return queue(req);
    if (req->queued || req->suspended)
        return MHD_YES;
    if (!req->first_call_done) {
        req->first_call_done = true;
        http_slow_clients_headers_done(req->server->slow, conn);
        req->conn = conn;
        req->method_name = arena_strdup(&req->arena, method);
        req->method = parse_method(method);
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int64_t len;
        if (cl && str_to_int64(cl, &len) == 0 && (len < 0 || (uint64_t)len > req->body.max)) {
            req->too_large = true;
            gm_buf_free(&req->body);
            if (len < 0 || (uint64_t)len > drain_max(req))
                return refuse_too_large(req);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        return take_upload(req, upload, n);
    }
    if (req->too_large)
        return refuse_too_large(req);
    dispatch(req);
    if (req->responded)
        return queue(req);
    return MHD_YES; /* suspended */
}

static void log_access(struct http_request *req)
{
    int status = req->status ? req->status : 499;
    enum gm_log_level level = status >= 500   ? GM_LOG_ERROR
                              : status >= 400 ? GM_LOG_WARNING
                                              : GM_LOG_INFO;
    /* Quiet routes: probes, whose 503 is an answer too (a standby's). */
    if (((status < 300 || status == 503) && req->route && (req->route->flags & HTTP_ROUTE_QUIET)) ||
        status == 304)
        level = GM_LOG_DEBUG;
    double ms = (double)(time_mono_us() - req->start_us) / 1000.0;
    if (ms >= 1000 && level < GM_LOG_INFO)
        level = GM_LOG_INFO;
    if (!gm_log_enabled(level))
        return;
    /* Query parameters that may carry secrets are masked, as JupyterHub does. */
    char uri[1024];
    size_t o = 0;
    const char *q = strchr(req->uri, '?');
    size_t plen = q ? (size_t)(q - req->uri) : strlen(req->uri);
    o = (size_t)snprintf(uri, sizeof(uri), "%.*s", (int)plen, req->uri);
    if (o >= sizeof(uri))
        o = sizeof(uri) - 1;
    if (q) {
        const char *p = q + 1;
        char sep = '?';
        while (*p && o < sizeof(uri) - 1) {
            size_t n = strcspn(p, "&");
            const char *eq = memchr(p, '=', n);
            size_t klen = eq ? (size_t)(eq - p) : n;
            bool secret = false;
            static const char *const keys[] = {"token", "auth", "key", "code", "state", "_xsrf"};
            for (size_t i = 0; i < 6 && eq; i++) {
                const char *k = keys[i];
                for (size_t j = 0; j + strlen(k) <= klen && !secret; j++)
                    secret = strncmp(p + j, k, strlen(k)) == 0;
            }
            int w = secret
                        ? snprintf(uri + o, sizeof(uri) - o, "%c%.*s=[secret]", sep, (int)klen, p)
                        : snprintf(uri + o, sizeof(uri) - o, "%c%.*s", sep, (int)n, p);
            o += w > 0 ? (size_t)w : 0;
            if (o >= sizeof(uri))
                o = sizeof(uri) - 1;
            sep = '&';
            p += n;
            if (*p == '&')
                p++;
        }
    }
    uri[o] = '\0';
    gm_log_write(level, __FILE__, __LINE__, "%d %s %s (%s@%s) %.2fms", status,
                 req->method_name ? req->method_name : "?", uri, req->user ? req->user : "",
                 http_client_ip(req), ms);
}

static void on_timer_closed(uv_handle_t *h)
{
    request_free(h->data);
}

static void unlink_waiting(struct http_request *req)
{
    struct http_server *s = req->server;
    if (req->wait_prev)
        req->wait_prev->wait_next = req->wait_next;
    else if (s->waiting == req)
        s->waiting = req->wait_next;
    if (req->wait_next)
        req->wait_next->wait_prev = req->wait_prev;
    req->wait_prev = req->wait_next = NULL;
}

static void request_free(struct http_request *req)
{
    free(req->resp_body);
    gm_buf_free(&req->body);
    gm_buf_free(&req->stream_out);
    arena_free(&req->arena);
    free(req);
}

static void maybe_finish_shutdown(struct http_server *s);

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    struct http_server *s = cls;
    struct http_request *req = *con_cls;
    *con_cls = NULL;
    if (!req)
        return;
    if (req->first_call_done || req->bad_uri) {
        log_access(req);
        if (s->opts.observe)
            s->opts.observe(req, (double)(time_mono_us() - req->start_us) / 1e6);
    }
    if (req->detach) {
        void (*detach)(struct http_request *) = req->detach;
        req->detach = NULL;
        detach(req);
    }
    unlink_waiting(req);
    unlink_held(req);
    s->active--;
    if (req->timer_started) {
        uv_timer_stop(&req->timer);
        req->timer.data = req;
        uv_close((uv_handle_t *)&req->timer, on_timer_closed);
    } else {
        request_free(req);
    }
    maybe_finish_shutdown(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    gm_log_debug("libmicrohttpd: %s", msg);
}

int http_server_create(uv_loop_t *loop, const struct sockaddr *addr, socklen_t addrlen,
                       const struct http_server_options *opts, const struct http_route *routes,
                       struct hub *hub, struct http_server **ret, char *err, size_t errlen)
{
    struct http_server *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->loop = loop;
    s->opts = *opts;
    s->hub = hub;
    s->listen_fd = -1;
    int r = http_router_create(opts->base_url, routes, &s->router);
    if (r < 0) {
        snprintf(err, errlen, "cannot build the route table: %s", strerror(-r));
        goto fail;
    }
    r = listen_on(addr, addrlen, &s->listen_fd, &s->port);
    if (r < 0) {
        char host[INET6_ADDRSTRLEN] = "?";
        int port = 0;
        if (addr->sa_family == AF_INET) {
            inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, host, sizeof(host));
            port = ntohs(((const struct sockaddr_in *)addr)->sin_port);
        } else if (addr->sa_family == AF_INET6) {
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, host,
                      sizeof(host));
            port = ntohs(((const struct sockaddr_in6 *)addr)->sin6_port);
        }
        snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, strerror(-r));
        goto fail;
    }
    r = http_slow_clients_start(loop, (uint64_t)opts->header_timeout * 1000, &s->slow);
    if (r < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, s->listen_fd, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
        http_slow_clients_notify, s->slow, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(opts->max_header + opts->max_url + 4096),
        MHD_OPTION_CONNECTION_LIMIT, opts->connection_limit ? opts->connection_limit : 1000u,
        MHD_OPTION_CONNECTION_TIMEOUT, opts->connection_timeout, MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(err, errlen, "cannot start the HTTP server (libmicrohttpd refused its options)");
        r = -EINVAL;
        goto fail;
    }
    s->driver.data = s;
    r = loop_mhd_start(&s->driver, loop, s->daemon);
    if (r < 0) {
        snprintf(err, errlen, "cannot watch the HTTP server: %s", uv_strerror(r));
        MHD_stop_daemon(s->daemon); /* closes the listening socket too */
        s->daemon = NULL;
        s->listen_fd = -1;
        goto fail;
    }
    uv_timer_init(loop, &s->grace_timer);
    s->grace_timer.data = s;
    *ret = s;
    return 0;
fail:
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    http_slow_clients_stop(s->slow);
    http_router_free(s->router);
    free(s);
    return r;
}

const struct http_server_options *http_server_options(const struct http_server *s)
{
    return &s->opts;
}

int http_server_port(const struct http_server *s)
{
    return s->port;
}

size_t http_server_active(const struct http_server *s)
{
    return s->active;
}

/* Shutdown: quiesce, fail the waiting, wait for the rest (bounded), stop, close handles. */

static void on_grace_closed(uv_handle_t *h)
{
    struct http_server *s = h->data;
    http_server_closed_cb cb = s->closed_cb;
    void *data = s->closed_data;
    http_router_free(s->router);
    free(s);
    if (cb)
        cb(data);
}

static void on_driver_closed(struct loop_mhd *m)
{
    struct http_server *s = m->data;
    uv_close((uv_handle_t *)&s->grace_timer, on_grace_closed);
}

static void finish_shutdown(struct http_server *s)
{
    if (!s->daemon)
        return;
    uv_timer_stop(&s->grace_timer);
    /* Completion callbacks of the remaining connections run inside MHD_stop_daemon. */
    struct MHD_Daemon *d = s->daemon;
    MHD_stop_daemon(d);
    s->daemon = NULL;
    http_slow_clients_stop(s->slow); /* its records went with the connections */
    s->slow = NULL;
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        s->listen_fd = -1;
    }
    loop_mhd_close(&s->driver, on_driver_closed);
}

static void on_grace(uv_timer_t *t)
{
    struct http_server *s = t->data;
    if (s->active)
        gm_log_warn("Closing %zu HTTP request(s) still in progress at shutdown", s->active);
    finish_shutdown(s);
}

static void maybe_finish_shutdown(struct http_server *s)
{
    /* Not from inside MHD's callbacks: MHD_stop_daemon runs from the timer. */
    if (s->shutting_down && s->active == 0 && s->daemon)
        uv_timer_start(&s->grace_timer, on_grace, 0, 0);
}

void http_server_shutdown(struct http_server *s, unsigned grace_ms, http_server_closed_cb cb,
                          void *data)
{
    s->shutting_down = true;
    s->closed_cb = cb;
    s->closed_data = data;
    /* Stop accepting. A quiesced daemon hands the listening socket back to us (closed in
     * finish_shutdown); otherwise MHD closes it when it stops. */
    if (MHD_quiesce_daemon(s->daemon) == MHD_INVALID_SOCKET)
        s->listen_fd = -1;
    /* Held responses cannot outlive the daemon (MHD refuses to stop with suspended
     * connections): they go now, as 503s unless their writes are durable already. */
    http_server_gate_moved(s);
    while (s->held)
        release(s->held, true);
    while (s->waiting) {
        struct http_request *req = s->waiting;
        unlink_waiting(req);
        if (req->detach) {
            void (*detach)(struct http_request *) = req->detach;
            req->detach = NULL;
            detach(req);
        }
        if (req->streaming) {
            http_stream_end(req);
            continue;
        }
        if (!req->responded)
            http_error(req, 503, "The hub is shutting down");
        http_resume(req);
    }
    uv_timer_start(&s->grace_timer, on_grace, s->active ? grace_ms : 0, 0);
}

/* Suspension. */

static void on_suspend_timeout(uv_timer_t *t)
{
    struct http_request *req = t->data;
    if (!req->suspended)
        return;
    if (req->detach) {
        void (*detach)(struct http_request *) = req->detach;
        req->detach = NULL;
        detach(req);
    }
    if (req->on_timeout)
        req->on_timeout(req);
    if (!req->responded)
        http_error(req, 504, "The hub gave up waiting for this request to complete");
    http_resume(req);
}

int http_suspend(struct http_request *req, uint64_t timeout_ms)
{
    struct http_server *s = req->server;
    if (req->suspended || req->responded)
        return -EINVAL;
    if (s->shutting_down)
        return -ESHUTDOWN;
    request_timer(req);
    MHD_suspend_connection(req->conn);
    req->suspended = true;
    uv_timer_start(&req->timer, on_suspend_timeout, timeout_ms, 0);
    req->wait_next = s->waiting;
    req->wait_prev = NULL;
    if (s->waiting)
        s->waiting->wait_prev = req;
    s->waiting = req;
    return 0;
}

void http_resume(struct http_request *req)
{
    if (!req->suspended)
        return;
    req->suspended = false;
    uv_timer_stop(&req->timer);
    unlink_waiting(req);
    MHD_resume_connection(req->conn);
    loop_mhd_kick(&req->server->driver);
}

/* Streams. They sit on the waiting list so that shutdown can end them. */

int http_stream_start(struct http_request *req, int status, const char *content_type,
                      size_t max_pending)
{
    struct http_server *s = req->server;
    if (req->responded || req->suspended)
        return -EINVAL;
    if (s->shutting_down)
        return -ESHUTDOWN;
    gm_buf_init(&req->stream_out, max_pending);
    req->streaming = true;
    req->status = status;
    req->content_type = content_type;
    req->responded = true;
    req->wait_next = s->waiting;
    req->wait_prev = NULL;
    if (s->waiting)
        s->waiting->wait_prev = req;
    s->waiting = req;
    return 0;
}

int http_stream_write(struct http_request *req, const void *data, size_t len)
{
    if (!req->streaming || req->stream_ended)
        return -EPIPE;
    if (req->stream_off && req->stream_off == req->stream_out.len) {
        gm_buf_reset(&req->stream_out);
        req->stream_off = 0;
    }
    if (gm_buf_append(&req->stream_out, data, len) < 0) {
        gm_log_warn("Ending the stream of %s: the client does not read it", req->uri);
        http_stream_end(req);
        return -ENOBUFS;
    }
    stream_wake(req);
    return 0;
}

void http_stream_end(struct http_request *req)
{
    if (!req->streaming || req->stream_ended)
        return;
    req->stream_ended = true;
    unlink_waiting(req);
    stream_wake(req);
}
