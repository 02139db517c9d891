/* The run-time state of one server (spawn/run.c), shared with the spawner host (spawn/host.c).
 * Nothing outside spawn/ includes this. */
#pragma once

#include "spawn/probe.h"
#include "spawn/spawn.h"

#include <ganymede/fetch.h>
#include <uv.h>

struct auth_refresh;
struct spawn_launch;

struct spawn_run {
    struct hub *hub;
    struct hub_spawner *sp;
    void *server; /* the plugin's object */
    enum spawn_state state;
    char *routespec;  /* /user/alice/ */
    char *target;     /* http://127.0.0.1:45678 once started */
    int64_t token_id; /* the server's API token, from its start on (0: none) */

    /* What is in flight: at most one of each. */
    bool busy_start, busy_stop, busy_poll, busy_route;
    bool busy_refresh;            /* the login is being refreshed before the start */
    struct auth_refresh *refresh; /* that refresh */
    struct spawn_launch *launch;  /* what the start will use, kept during the refresh */
    struct spawn_probe probe;     /* the HTTP check */
    uv_timer_t timer;             /* start timeout, check backoff, or the next poll */

    bool stop_requested;    /* a stop (or a failure's cleanup) is under way */
    bool plugin_stopped;    /* the plugin's stop was called for it */
    bool remove_after_stop; /* delete the spawner row afterwards */
    bool route_added;
    bool check_waiting;
    int64_t deadline_ms; /* loop time when the HTTP check gives up */
    uint64_t check_delay_ms;
    int64_t requested_us; /* when the start was asked for (monotonic) */

    struct gm_spawn_progress progress;
    int progress_pct;
    json_t *events; /* of the current or last start */
    char *failure;  /* why the last start failed */
    int failure_status;
    struct spawn_listener *listeners;
};

/** The run-time object of @sp, created on first use. NULL (with a message) on failure. */
struct spawn_run *spawn_run_get(struct hub *hub, struct hub_spawner *sp, char *err, size_t errlen);

/** Free it: the plugin cancels what is in flight (no callback runs), listeners are dropped. */
void spawn_run_free(struct spawn_run *run);

/** A server found in the database at start: load the plugin's state and treat it as ready
 * until the first poll (right away) says otherwise. */
void spawn_run_adopt(struct spawn_run *run);

void spawn_run_schedule_poll(struct spawn_run *run);
void spawn_run_poll_now(struct spawn_run *run);

/** During shutdown with cleanup_servers: called when a stop finished. */
void spawn_host_check_shutdown(struct hub *hub);
