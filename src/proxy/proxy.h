/* The proxy in front of the hub: configurable-http-proxy (CHP), started as a child or already
 * running, programmed through its REST API with one route per server and service, as
 * JupyterHub's proxy.py does. Every call is async (curl multi on the loop) with JupyterHub's
 * limits: 10 in flight, connect timeout 3 s, request timeout 10 s, retries on 5xx and
 * connection errors with backoff for up to 30 s.
 *
 * Routespecs are paths that end with '/' ("/user/alice/"); on the wire the trailing slash goes
 * (except for "/") and names are percent-encoded as JupyterHub encodes them. */
#pragma once

#include "spawn/spawn.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct hub;
struct proxy;

/* ConfigurableHTTPProxy.* settings (proxy/options.c). */
struct proxy_config {
    json_t *command; /* list of strings */
    bool should_start;
    char *api_url;
    char *auth_token;
    bool debug;
    char *log_level;
    double check_running_interval;
    char *pid_file;
    int64_t concurrency;
    json_t *extra_routes; /* Proxy.extra_routes: {routespec: target} */
};

extern const struct gm_option_class proxy_chp_class;
extern const struct gm_option_class proxy_proxy_class;

/** Read the settings; prepare (nothing runs yet). */
int proxy_create(struct hub *hub, struct proxy **ret, char *err, size_t errlen);

/** Start the proxy (or check that the external one answers), then sync every route; @cb runs
 * once with 0 or a negative errno and a message. */
typedef void (*proxy_done_cb)(void *data, int status, const char *message);
int proxy_start(struct proxy *p, proxy_done_cb cb, void *data);

/** The public URL users open ("http://127.0.0.1:8000/"). */
const char *proxy_public_url(const struct proxy *p);

/** The proxy's API ("http://127.0.0.1:8001"). */
const char *proxy_api_url(const struct proxy *p);

/** Add or replace a route. @data (stolen) is the route's JSON data ({"user", "server_name"} or
 * {"service"}); "jupyterhub": true is added. */
int proxy_add_route(struct proxy *p, const char *routespec, const char *target, json_t *data,
                    proxy_done_cb cb, void *cbdata);

/** Delete a route (a missing route is not an error). */
int proxy_delete_route(struct proxy *p, const char *routespec, proxy_done_cb cb, void *cbdata);

/** The route table as JupyterHub's API reports it: {routespec: {"routespec", "target",
 * "data"}}; @routes is borrowed during the call, NULL on failure. */
typedef void (*proxy_routes_cb)(void *data, int status, const char *message, json_t *routes);
int proxy_get_routes(struct proxy *p, proxy_routes_cb cb, void *cbdata);

/** Reconcile now (as on POST /hub/api/proxy): the hub's route, every ready server and service,
 * extra routes; other routes with "jupyterhub": true go. @cb may be NULL. */
int proxy_check_routes(struct proxy *p, proxy_done_cb cb, void *cbdata);

/** Forget the calls made with @cbdata: their callbacks will not run (an object going away). */
void proxy_cancel_calls(struct proxy *p, void *cbdata);

/** The proxy as the spawner host's route table (struct spawn_router). */
void proxy_spawn_router(struct proxy *p, struct spawn_router *ret);

/** Forget a waiter of proxy_check_routes (its callback will not run). */
void proxy_forget_check_waiter(struct proxy *p, void *cbdata);

/** Point at another proxy API (PATCH /hub/api/proxy): new api_url and/or auth_token (NULL
 * keeps). */
int proxy_reconfigure(struct proxy *p, const char *api_url, const char *auth_token);

/** Stop the timers; with JupyterHub.cleanup_proxy stop the proxy we started. @cb runs once
 * everything is closed. */
void proxy_shutdown(struct proxy *p, void (*cb)(void *data), void *data);

void proxy_free(struct proxy *p);
