/* HTTP checks of starting servers, at most SPAWN_PROBE_PER_TARGET in flight per address. */
#include "spawn/probe.h"
#include "core/hub.h"
#include "spawn/spawn.h"
#include "util/str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_TIMEOUT_MS 1000

struct spawn_gate {
    char *target; /* the map's key */
    int in_flight;
    struct spawn_probe *head, *tail;
};

static void send_probe(struct spawn_probe *p);

static void gate_release_if_idle(struct hub *hub, struct spawn_gate *g)
{
    if (g->in_flight || g->head)
        return;
    hmap_del(&hub->spawn->probe_gates, g->target);
    free(g->target);
    free(g);
}

/* A place at the gate came free: the next queued probe goes. */
static void gate_next(struct hub *hub, struct spawn_gate *g)
{
    while (g->head && g->in_flight < SPAWN_PROBE_PER_TARGET) {
        struct spawn_probe *p = g->head;
        g->head = p->next;
        if (!g->head)
            g->tail = NULL;
        p->next = NULL;
        p->queued = false;
        send_probe(p);
    }
    gate_release_if_idle(hub, g);
}

static void on_response(void *data, const struct gm_fetch_response *resp)
{
    struct spawn_probe *p = data;
    struct spawn_gate *g = p->gate;
    struct hub *hub = p->hub;
    p->fetch = NULL;
    p->gate = NULL;
    g->in_flight--;
    free(p->url);
    p->url = NULL;
    p->cb(p->data, resp->status);
    gate_next(hub, g);
}

static void send_probe(struct spawn_probe *p)
{
    struct gm_fetch_request req = {
        .url = p->url,
        .timeout_ms = p->timeout_ms,
        .connect_timeout_ms = CONNECT_TIMEOUT_MS,
        .max_response = 1 << 20,
    };
    p->gate->in_flight++;
    if (gm_fetch_start(p->hub->fetcher, &req, on_response, p, &p->fetch) < 0) {
        /* Report it like a server that does not answer: the caller retries or gives up. */
        struct gm_fetch_response none = {.status = 0, .error = -EIO, .message = "", .body = ""};
        on_response(p, &none);
    }
}

int spawn_probe_start(struct hub *hub, struct spawn_probe *p, const char *target, const char *url,
                      long timeout_ms, spawn_probe_cb cb, void *data)
{
    struct spawn_gate *g = hmap_get(&hub->spawn->probe_gates, target);
    if (!g) {
        g = calloc(1, sizeof(*g));
        if (!g || !(g->target = strdup(target))) {
            free(g);
            return -ENOMEM;
        }
        if (hmap_put(&hub->spawn->probe_gates, g->target, g) < 0) {
            free(g->target);
            free(g);
            return -ENOMEM;
        }
    }
    p->url = strdup(url);
    if (!p->url) {
        gate_release_if_idle(hub, g);
        return -ENOMEM;
    }
    p->hub = hub;
    p->gate = g;
    p->timeout_ms = timeout_ms;
    p->cb = cb;
    p->data = data;
    p->next = NULL;
    if (g->in_flight < SPAWN_PROBE_PER_TARGET) {
        send_probe(p);
        return 0;
    }
    p->queued = true;
    if (g->tail)
        g->tail->next = p;
    else
        g->head = p;
    g->tail = p;
    return 0;
}

bool spawn_probe_active(const struct spawn_probe *p)
{
    return p->gate != NULL;
}

void spawn_probe_cancel(struct spawn_probe *p)
{
    struct spawn_gate *g = p->gate;
    if (!g)
        return;
    if (p->queued) {
        struct spawn_probe **pp = &g->head;
        while (*pp && *pp != p)
            pp = &(*pp)->next;
        if (*pp)
            *pp = p->next;
        g->tail = NULL;
        for (struct spawn_probe *q = g->head; q; q = q->next)
            g->tail = q;
        p->queued = false;
    } else if (p->fetch) {
        gm_fetch_cancel(p->fetch);
        p->fetch = NULL;
        g->in_flight--;
    }
    p->gate = NULL;
    p->next = NULL;
    free(p->url);
    p->url = NULL;
    gate_next(p->hub, g);
}

static void free_gate(const char *key, void *value, void *ctx)
{
    (void)key;
    (void)ctx;
    struct spawn_gate *g = value;
    free(g->target);
    free(g);
}

void spawn_probe_release(struct hub *hub)
{
    hmap_each(&hub->spawn->probe_gates, free_gate, NULL);
    hmap_free(&hub->spawn->probe_gates);
}
