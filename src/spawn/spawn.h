/* The spawner host: JupyterHub's user.spawn/stop around a spawner plugin. It owns each server's
 * life (request → plugin start → HTTP check → proxy route → ready → poll → stop → cleanup), the
 * per-server API token and OAuth client, the limits (concurrent_spawn_limit,
 * active_server_limit, start_timeout, http_timeout), progress events, and re-adoption of running
 * servers after a hub restart.
 *
 * Everything runs on the loop thread. The run-time state of a server hangs off its spawner row
 * (hub_spawner.run); spawn_* functions are the only ones that touch it. */
#pragma once

#include <ganymede/spawner.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "util/hmap.h"

struct hub;
struct hub_spawner;
struct hub_token;
struct hub_user;

/* Spawner.* settings (spawn/options.c). */
struct spawn_config {
    json_t *cmd;         /* list of strings, or NULL: the spawner's default */
    char **args;         /* appended to cmd */
    json_t *environment; /* dict of strings */
    json_t *env_keep;    /* list of strings, or NULL: the spawner's default */
    char *ip;            /* "": the spawner's default */
    int64_t port;        /* 0: the spawner's default (0 there: a free port) */
    bool port_set;       /* Spawner.port was configured: 0 then means a free port even where
                            the spawner's default is a fixed one (KubeSpawner's 8888) */
    double start_timeout;
    double http_timeout;
    double poll_interval;
    double poll_jitter;
    char *notebook_dir;
    char *default_url;
    bool debug;
    bool disable_user_config;
    json_t *mem_limit; /* None, bytes, or "512M"/"2G" */
    json_t *mem_guarantee;
    json_t *cpu_limit; /* None or cores */
    json_t *cpu_guarantee;
    char *options_form; /* static HTML for the spawn page */
    char **oauth_client_allowed_scopes;
    json_t *server_token_scopes; /* list, or NULL: the `server` role */
    int64_t consecutive_failure_limit;
    char *hub_connect_url;
};

/* The route table a ready server is put in: the proxy, wired by the composition root
 * (app/hub.c), so that the spawner host does not include the proxy, which is above it and reads
 * the servers' state. Each call completes once through @cb with 0 or a negative errno. */
typedef void (*spawn_route_cb)(void *data, int status, const char *message);
struct spawn_router {
    void *impl;
    /** Add or replace a route; @data (stolen) is the route's JSON data. */
    int (*add)(void *impl, const char *routespec, const char *target, json_t *data,
               spawn_route_cb cb, void *cbdata);
    /** Delete a route (a missing route is not an error). */
    int (*remove)(void *impl, const char *routespec, spawn_route_cb cb, void *cbdata);
    /** Forget the calls made with @cbdata: their callbacks will not run. */
    void (*cancel)(void *impl, void *cbdata);
};

struct spawn_host {
    struct spawn_router router; /* unset (no proxy): routes cannot be added */
    const struct gm_spawner *plugin;
    void *plugin_conf;
    void *plugin_state;
    const char *class_name; /* reported by /hub/api/info */
    struct spawn_config conf;
    size_t pending;   /* servers starting */
    size_t active;    /* servers starting, running or stopping */
    int64_t failures; /* consecutive failed starts */
    size_t runs;      /* run-time objects alive */
    bool shutting_down;
    bool cleanup_pending; /* waiting for servers to stop (cleanup_servers) */
    uv_timer_t cleanup_timer;
    void (*shutdown_cb)(struct hub *hub);
    struct hmap probe_gates; /* server address → HTTP checks in flight (spawn/probe.c) */
};

extern const struct gm_option_class spawn_spawner_class;

/** Select the spawner (JupyterHub.spawner_class), apply its settings and start it. */
int spawn_host_init(struct hub *hub, char *err, size_t errlen);

/** After the proxy is up: re-adopt the servers the database says are running (poll each; the
 * dead are cleaned up), and start polling. */
void spawn_host_adopt(struct hub *hub);

/** At hub stop: stop every server if JupyterHub.cleanup_servers (bounded wait), else let them
 * run; free the run-time state; then @done runs (at once or later). */
void spawn_host_shutdown(struct hub *hub, void (*done)(struct hub *hub));

/** Free what spawn_host_init made (after shutdown). */
void spawn_host_release(struct hub *hub);

/* One server. */

enum spawn_state {
    SPAWN_IDLE,
    SPAWN_STARTING,
    SPAWN_READY,
    SPAWN_STOPPING,
};

enum spawn_state spawn_state(const struct hub_spawner *sp);

/** "spawn", "stop" or NULL, as the `pending` field of JupyterHub's server model. */
const char *spawn_pending(const struct hub_spawner *sp);

/** Whether the server is ready (running and routed). */
bool spawn_ready(const struct hub_spawner *sp);

/** The message of the last failed start (NULL if it did not fail) and its HTTP status. */
const char *spawn_failure(const struct hub_spawner *sp, int *status);

/** Start the server of @sp with @user_options (stolen; NULL keeps the previous ones).
 * Returns 0 (started), or a negative errno with a message for the user in @err:
 * -EALREADY running or starting, -EBUSY stopping, -EAGAIN too many starting (429),
 * -EUSERS active_server_limit reached (429), other errors from the hub's objects. */
int spawn_start(struct hub *hub, struct hub_spawner *sp, json_t *user_options, char *err,
                size_t errlen);

/** Stop the server of @sp (interrupting a start); with @remove, delete the spawner row
 * afterwards (named servers). Returns 0 (stopping), -EALREADY already stopping, -EINVAL not
 * running (then @remove deletes the idle row at once). */
int spawn_stop(struct hub *hub, struct hub_spawner *sp, bool remove);

/** A starting server's report about itself (POST /hub/api/batchspawner with its own @token):
 * handed to the spawner of the server that token belongs to. Returns 0, or an HTTP status
 * (403 not a server's token, 404 a spawner that takes no reports, 409 a server that is not
 * starting, 400 what the spawner refused) with a message in @err. */
int spawn_report(struct hub *hub, const struct hub_token *token, const json_t *body, char *err,
                 size_t errlen);

/** The address the proxy routes to ("http://127.0.0.1:45678"), or NULL. */
const char *spawn_target(const struct hub_spawner *sp);

/** Progress events of the current (or last) start: a JSON array, never NULL while a start
 * is pending or after one ran; NULL otherwise. */
const json_t *spawn_events(const struct hub_spawner *sp);

/* Watching a server (progress streams, requests waiting for a start or a stop). */

enum spawn_event_kind {
    SPAWN_EVENT_PROGRESS, /* event: {"progress", "message", ...} */
    SPAWN_EVENT_READY,    /* event: the ready event */
    SPAWN_EVENT_FAILED,   /* event: the failed event */
    SPAWN_EVENT_STOPPED,  /* event: NULL */
};

struct spawn_listener {
    void (*on_event)(struct spawn_listener *l, enum spawn_event_kind kind, const json_t *event);
    void *data;
    struct spawn_listener *prev, *next;
    struct hub_spawner *sp; /* set while listening */
};

/** Listen to @sp's events (it must have run-time state: after spawn_start, or while it is
 * not idle). Returns 0 or -ENOENT. */
int spawn_listen(struct hub_spawner *sp, struct spawn_listener *l);

/** Stop listening (safe from inside on_event, and when not listening). */
void spawn_unlisten(struct spawn_listener *l);

/** Before a user is deleted (all its servers idle): drop their run-time state. */
void spawn_release_user(struct hub *hub, struct hub_user *u);

/** @sp is deleted for good (its user, or a named server removed): the plugin removes what
 * outlives stops (Spawner.delete_forever). */
void spawn_forget_forever(struct hub *hub, struct hub_spawner *sp);

/** Every active server: call @fn for each (for proxy route checks). */
void spawn_each_active(struct hub *hub, void (*fn)(void *ctx, struct hub_spawner *sp), void *ctx);

/** The routespec of a server: "/user/alice/" or "/user/alice/srv/" under base_url (caller
 * frees). */
char *spawn_routespec(struct hub *hub, const struct hub_spawner *sp);

/** The OAuth client id of a server: jupyterhub-user-<name>[-<server>] (caller frees). */
char *spawn_client_id(const struct hub_spawner *sp);
