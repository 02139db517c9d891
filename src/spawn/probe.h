/* The HTTP check of a starting server (JupyterHub's wait_up): one GET, with at most
 * SPAWN_PROBE_PER_TARGET checks in flight per server address. Servers that share an address
 * (a benchmark backend, a service behind one port) would otherwise get hundreds of connections
 * at once, overflow a small listen backlog and make every check wait for a SYN retransmit. */
#pragma once

#include <ganymede/fetch.h>
#include <stdbool.h>

#define SPAWN_PROBE_PER_TARGET 4

struct hub;
struct spawn_gate;

/** The outcome: @status is the HTTP status, or 0 when nothing answered. */
typedef void (*spawn_probe_cb)(void *data, int status);

struct spawn_probe {
    struct hub *hub;
    struct spawn_gate *gate;
    struct gm_fetch *fetch; /* in flight */
    bool queued;            /* waiting for a free place at the gate */
    char *url;
    long timeout_ms;
    spawn_probe_cb cb;
    void *data;
    struct spawn_probe *next; /* in the gate's queue */
};

/** GET @url (whose server is @target, "http://host:port") now or when the gate lets it.
 * Returns 0 (the callback runs once, later) or a negative errno. */
int spawn_probe_start(struct hub *hub, struct spawn_probe *p, const char *target, const char *url,
                      long timeout_ms, spawn_probe_cb cb, void *data);

/** Whether a probe is queued or in flight. */
bool spawn_probe_active(const struct spawn_probe *p);

/** Stop it (the callback will not run). Safe when not active. */
void spawn_probe_cancel(struct spawn_probe *p);

/** Free the gates (hub shutdown, after every probe was cancelled). */
void spawn_probe_release(struct hub *hub);
