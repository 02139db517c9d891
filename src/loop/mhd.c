/* libmicrohttpd on libuv. MHD_run() is never re-entered: kicks made from inside it are
 * remembered and turned into a zero timeout when it returns. */
#include "loop/mhd.h"

#include <errno.h>

static void on_timer(uv_timer_t *t);

static void run(struct loop_mhd *m)
{
    m->in_run = true;
    m->kicked = false;
    MHD_run(m->daemon);
    m->in_run = false;
    MHD_UNSIGNED_LONG_LONG timeout = 0;
    if (m->kicked) {
        m->kicked = false;
    } else if (MHD_get_timeout(m->daemon, &timeout) != MHD_YES) {
        uv_timer_stop(&m->timer);
        return;
    }
    uv_timer_start(&m->timer, on_timer, timeout, 0);
}

static void on_timer(uv_timer_t *t)
{
    run(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    run(p->data);
}

int loop_mhd_start(struct loop_mhd *m, uv_loop_t *loop, struct MHD_Daemon *daemon)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info)
        return -EINVAL;
    m->daemon = daemon;
    m->in_run = m->kicked = false;
    m->close_cb = NULL;
    int r = uv_poll_init(loop, &m->poll, info->epoll_fd);
    if (r < 0)
        return r;
    m->poll.data = m;
    uv_timer_init(loop, &m->timer);
    m->timer.data = m;
    m->open_handles = 2;
    r = uv_poll_start(&m->poll, UV_READABLE, on_poll);
    if (r == 0)
        run(m);
    return r;
}

void loop_mhd_kick(struct loop_mhd *m)
{
    if (m->in_run)
        m->kicked = true;
    else if (!uv_is_closing((uv_handle_t *)&m->timer))
        uv_timer_start(&m->timer, on_timer, 0, 0);
}

static void on_close(uv_handle_t *h)
{
    struct loop_mhd *m = h->data;
    if (--m->open_handles == 0 && m->close_cb)
        m->close_cb(m);
}

void loop_mhd_close(struct loop_mhd *m, loop_mhd_close_cb cb)
{
    m->close_cb = cb;
    uv_close((uv_handle_t *)&m->poll, on_close);
    uv_close((uv_handle_t *)&m->timer, on_close);
}
