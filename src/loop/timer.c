/* struct gm_timer (include/ganymede/timer.h): a heap-held uv_timer_t freed in its close
 * callback, so that callers never deal with the handle's lifetime. */
#include <errno.h>
#include <ganymede/timer.h>
#include <stdbool.h>
#include <stdlib.h>

struct gm_timer {
    uv_timer_t handle;
    gm_timer_cb cb;
    void *data;
    bool self_owned; /* started without @ret: closes itself after it fired */
};

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_fire(uv_timer_t *h)
{
    struct gm_timer *t = h->data;
    bool last = t->self_owned;
    t->cb(t->data);
    if (last)
        uv_close((uv_handle_t *)&t->handle, on_closed);
}

int gm_timer_start(uv_loop_t *loop, uint64_t timeout_ms, uint64_t repeat_ms, gm_timer_cb cb,
                   void *data, struct gm_timer **ret)
{
    if (!loop || !cb || (!ret && repeat_ms))
        return -EINVAL;
    struct gm_timer *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->cb = cb;
    t->data = data;
    t->self_owned = !ret;
    int r = uv_timer_init(loop, &t->handle);
    if (r < 0) {
        free(t);
        return r;
    }
    t->handle.data = t;
    r = uv_timer_start(&t->handle, on_fire, timeout_ms, repeat_ms);
    if (r < 0) {
        uv_close((uv_handle_t *)&t->handle, on_closed);
        return r;
    }
    if (ret)
        *ret = t;
    return 0;
}

int gm_timer_restart(struct gm_timer *t, uint64_t timeout_ms, uint64_t repeat_ms)
{
    if (!t || t->self_owned || uv_is_closing((uv_handle_t *)&t->handle))
        return -EINVAL;
    return uv_timer_start(&t->handle, on_fire, timeout_ms, repeat_ms);
}

void gm_timer_stop(struct gm_timer *t)
{
    if (!t || t->self_owned || uv_is_closing((uv_handle_t *)&t->handle))
        return;
    uv_timer_stop(&t->handle);
    uv_close((uv_handle_t *)&t->handle, on_closed);
}
