/* Deadlines for request headers (http/slow_clients.h). Each connection has a record (MHD's
 * socket context) in a list; a timer closes, with shutdown(2), those whose request line and
 * headers are late, and libmicrohttpd then sees the end of the stream and closes the rest. */
#include "http/slow_clients.h"
#include "util/time.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdlib.h>
#include <sys/socket.h>

#define SLOW_CHECK_MS 1000

struct slow_conn {
    int fd;
    int64_t deadline_us; /* 0: not counting (headers done) */
    struct slow_conn *prev, *next;
};

struct http_slow_clients {
    uv_timer_t timer;
    uint64_t timeout_ms;
    struct slow_conn *conns;
};

static struct slow_conn *record(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *i =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return i ? i->socket_context : NULL;
}

static void on_check(uv_timer_t *t)
{
    struct http_slow_clients *g = t->data;
    int64_t now = time_mono_us();
    size_t closed = 0;
    for (struct slow_conn *c = g->conns; c; c = c->next) {
        if (c->deadline_us && now > c->deadline_us) {
            c->deadline_us = 0;
            shutdown(c->fd, SHUT_RDWR);
            closed++;
        }
    }
    if (closed)
        gm_log_info("Closed %zu connection(s) that did not send a request's headers within "
                    "%llu s (Ganymede.header_timeout)",
                    closed, (unsigned long long)(g->timeout_ms / 1000));
}

int http_slow_clients_start(uv_loop_t *loop, uint64_t timeout_ms, struct http_slow_clients **ret)
{
    struct http_slow_clients *g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    g->timeout_ms = timeout_ms;
    uv_timer_init(loop, &g->timer);
    g->timer.data = g;
    if (timeout_ms)
        uv_timer_start(&g->timer, on_check, SLOW_CHECK_MS, SLOW_CHECK_MS);
    *ret = g;
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

void http_slow_clients_stop(struct http_slow_clients *g)
{
    if (!g)
        return;
    /* Records left belong to connections libmicrohttpd has not closed yet; it reports them
     * closed (notify) before the daemon stops, which is before this. */
    uv_timer_stop(&g->timer);
    uv_close((uv_handle_t *)&g->timer, on_closed);
}

void http_slow_clients_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                              enum MHD_ConnectionNotificationCode code)
{
    struct http_slow_clients *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct slow_conn *c = calloc(1, sizeof(*c));
        *socket_context = c;
        if (!c)
            return; /* not guarded */
        const union MHD_ConnectionInfo *i =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        c->fd = i ? i->connect_fd : -1;
        c->deadline_us =
            g->timeout_ms && c->fd >= 0 ? time_mono_us() + (int64_t)g->timeout_ms * 1000 : 0;
        c->next = g->conns;
        if (g->conns)
            g->conns->prev = c;
        g->conns = c;
        return;
    }
    struct slow_conn *c = *socket_context;
    if (!c)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        g->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
    *socket_context = NULL;
}

void http_slow_clients_request(struct http_slow_clients *g, struct MHD_Connection *conn)
{
    struct slow_conn *c = g->timeout_ms ? record(conn) : NULL;
    if (c && !c->deadline_us && c->fd >= 0)
        c->deadline_us = time_mono_us() + (int64_t)g->timeout_ms * 1000;
}

void http_slow_clients_headers_done(struct http_slow_clients *g, struct MHD_Connection *conn)
{
    struct slow_conn *c = g->timeout_ms ? record(conn) : NULL;
    if (c)
        c->deadline_us = 0;
}
