/* The functions the hub offers plugins through struct gm_host (include/ganymede/host.h). */
#include "core/hub.h"

#include <errno.h>
#include <stdlib.h>

struct deferred {
    uv_timer_t timer;
    void (*fn)(void *data);
    void *data;
};

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_timer(uv_timer_t *t)
{
    struct deferred *d = t->data;
    d->fn(d->data);
    uv_close((uv_handle_t *)&d->timer, on_closed);
}

static int host_defer(const struct gm_host *host, void (*fn)(void *data), void *data)
{
    struct deferred *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->fn = fn;
    d->data = data;
    uv_timer_init(host->loop, &d->timer);
    d->timer.data = d;
    uv_timer_start(&d->timer, on_timer, 0, 0);
    return 0;
}

void hub_host_init(struct hub *hub)
{
    hub->host.loop = hub->loop;
    hub->host.fetcher = hub->fetcher;
    hub->host.base_url = hub->base_url;
    hub->host.hub_prefix = hub->hub_prefix;
    hub->host.hub = hub;
    hub->host.state_dir = hub->state_dir;
    hub->host.defer = host_defer;
}
