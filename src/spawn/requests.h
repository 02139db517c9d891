/* Starting and stopping servers on behalf of a request (spawn/requests.c): the named-server
 * rules, and a bounded wait for the outcome. */
#pragma once

#include "spawn/spawn.h"

#include <stddef.h>
#include <stdint.h>

struct http_request;
struct hub_user;

/** Whether @name can name a server: no '/', no control characters, at most 255 bytes. */
int spawn_check_server_name(const char *name, char *err, size_t errlen);

/** The spawner row a start of @u's server @name ("" = default) uses, created if missing,
 * under JupyterHub's rules (named servers allowed, named_server_limit_per_user). NULL with an
 * HTTP @status and message otherwise. */
struct hub_spawner *spawn_find_for_start(struct hub *hub, struct hub_user *u, const char *name,
                                         int *status, char *err, size_t errlen);

enum spawn_wait_result {
    SPAWN_WAIT_READY,
    SPAWN_WAIT_FAILED, /* @message says why */
    SPAWN_WAIT_STOPPED,
    SPAWN_WAIT_TIMEOUT,
};

/** Called once, with the request's response to set; @sp is the server waited on. */
typedef void (*spawn_wait_done)(struct http_request *req, struct hub_spawner *sp,
                                enum spawn_wait_result result, const char *message);

/** Suspend @req until @sp is ready, failed or stopped, or @timeout_ms passed; then @done sets
 * the response. Returns HTTP_SUSPENDED (or 0 when @done already ran), or a negative errno. */
int spawn_wait(struct http_request *req, struct hub_spawner *sp, uint64_t timeout_ms,
               spawn_wait_done done);
