/* Shared by the files of proxy/: the proxy object, and calls to its REST API (proxy/client.c).
 * Nothing outside proxy/ includes this. */
#pragma once

#include "proxy/proxy.h"

#include <ganymede/fetch.h>
#include <sys/types.h>
#include <uv.h>

struct loop_process;
struct proxy_call;
struct check;

/* Someone waiting for a route check to finish (POST /hub/api/proxy). */
struct proxy_check_waiter {
    proxy_done_cb cb;
    void *data;
    struct proxy_check_waiter *next;
};

/** How a call ended: @status 0 (then @http_status is 2xx and @body the answer) or a negative
 * errno with a @message; and the caller's callback to pass it on to. */
struct proxy_reply {
    int status;
    const char *message;
    int http_status;
    const char *body;
    proxy_done_cb cb;
    proxy_routes_cb routes_cb;
    void *cbdata;
};

/** Called when a call ended (never for cancelled calls). */
typedef void (*proxy_call_done)(struct proxy *p, const struct proxy_reply *reply);

/* The caller's callback travels with the call. */
struct proxy_call_target {
    proxy_call_done done;
    proxy_done_cb cb;
    proxy_routes_cb routes_cb;
    void *cbdata;
};

struct proxy {
    struct hub *hub;
    struct proxy_config conf;
    char *api_url;     /* without a trailing slash */
    char *auth_header; /* "Authorization: token ..." */
    char *public_url;  /* "http://127.0.0.1:8000/" */
    char *public_ip;
    int public_port;
    char *hub_routespec; /* base_url */
    char *hub_target;    /* http://127.0.0.1:8081 */

    /* The process, when the hub runs the proxy. */
    char command_path[1024];   /* the command as found on PATH ("" when not found) */
    char version[32];          /* its configurable-http-proxy package version ("" unknown) */
    struct loop_process *proc; /* our child */
    pid_t adopted_pid;         /* one left by the previous hub, reused */
    bool exited;
    uv_timer_t check_timer;    /* check_running_interval */
    uv_timer_t activity_timer; /* last_activity_interval */
    uv_timer_t start_timer;    /* waiting for the API to answer */
    int64_t start_deadline_ms;
    bool starting;
    bool restarting;
    uint64_t last_restart_ms; /* loop time of the last restart */
    proxy_done_cb start_cb;
    void *start_data;

    /* API calls. */
    struct proxy_call *calls; /* every live call */
    struct proxy_call *queue_head, *queue_tail;
    size_t in_flight;

    /* Route checks run one at a time; a request during one runs once more after it. */
    bool checking;
    bool check_again;
    bool check_activity;         /* this check also reads activity */
    struct check *current_check; /* changes in flight; freed if the hub stops meanwhile */
    struct proxy_check_waiter *check_waiters; /* of the check under way */
    struct proxy_check_waiter *next_waiters;  /* of the one after it */

    bool shutting_down;
    int open_handles;
    void (*closed_cb)(void *data);
    void *closed_data;
};

/** Call the proxy API: @method on /api/routes@path (@path percent-encoded, "" for the table).
 * With @retry, connection errors and 5xx are retried with backoff for up to 30 s. */
int proxy_call(struct proxy *p, const char *method, const char *path, const char *body, bool retry,
               const struct proxy_call_target *target);

/** Forget every call (shutdown). */
void proxy_cancel_all(struct proxy *p);

/** Routespec ("/user/a%20b/") → the path CHP wants ("/user/a%20b"), in @out. */
void proxy_chp_path(const char *routespec, char *out, size_t outlen);

/** CHP's key ("/user/a b") → routespec ("/user/a%20b/") (caller frees). */
char *proxy_routespec_from_chp(const char *key);

/** Free a route check whose changes were cancelled (shutdown). */
void proxy_check_free(struct check *c);

/** After the proxy (re)started: check the routes and start the activity timer. */
void proxy_routes_started(struct proxy *p);
