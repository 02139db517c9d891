/* The composition root: what builds the hub from its parts (the database, the authenticator,
 * the HTTP server and its route table, the pages, the spawner host, the proxy, the services) and
 * runs its life cycle: create, start, stop on a signal or a shutdown request, free. It sits
 * above every part it wires; only main.c includes it, and the parts see the hub through
 * core/hub.h. */
#pragma once

#include "core/config.h"
#include "core/hub.h"
#include "db/db.h"
#include "http/server.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

/** Every option class compiled into this build (NULL-terminated): the config registry. */
const struct gm_option_class *const *hub_option_classes(void);

/** Create the hub from applied settings: derive URLs, open and migrate the database, load
 * secrets. @cfg must outlive the hub. Returns 0 or a negative errno with a message in @err. */
int hub_create(uv_loop_t *loop, const struct config *cfg, struct hub **ret, char *err,
               size_t errlen);

/** Start listening and watching signals. Returns 0 or a negative errno with a message. */
int hub_start(struct hub *hub, char *err, size_t errlen);

/** Begin a clean stop: stop accepting, finish or fail requests in flight, close the database
 * and every handle; the loop then ends. @exit_code is what main returns. */
void hub_stop(struct hub *hub, int exit_code);

/** With no config file: unless chosen otherwise, use shared-password with a password kept in
 * ./ganymede_password (made on first run), let everybody in, and run servers with the simple
 * spawner (homes in ./users): a newcomer can log in and start a server with nothing set up.
 * Says what it chose in the log. Returns 0 or -errno with a message. */
int hub_builtin_defaults(struct config *cfg, char *err, size_t errlen);

/** Load the objects from the database and apply the configuration to them (users, groups,
 * services, roles, config tokens). app/hub_state.c. */
int hub_state_init(struct hub *hub, char *err, size_t errlen);
void hub_state_release(struct hub *hub);

/** The HTTP server's base URL and limits from the settings (Ganymede.max_*, timeouts): the
 * hub's server and a standby's serve under the same ones. */
struct http_server_options hub_http_limits(const struct hub *hub);

/** Resolve a listening URL (http://ip:port) for @what (the setting's name, for messages). */
int hub_resolve_listen(const char *bind_url, const char *what, struct sockaddr_storage *ss,
                       socklen_t *len, char *err, size_t errlen);

/** Another hub holds the PostgreSQL database's lease: answer 503 {"status": "standby"} on
 * hub_bind_url and run the loop until the lease is this hub's (0), a signal stops it
 * (-ECANCELED), or the database cannot be used (a negative errno; @err says why).
 * app/standby.c. */
int hub_standby_wait(struct hub *hub, const struct db_location *loc, char *err, size_t errlen);

/** Block (@hold) or unblock SIGTERM and SIGINT: between a standby's takeover and hub_start,
 * which unblocks them once the loop watches them, so that a stop asked meanwhile is a clean
 * one. */
void hub_hold_stop_signals(bool hold);

/** On PostgreSQL, hold responses until their writes are durable (app/db_gate.c). */
void hub_db_gate_start(struct hub *hub);

/** Free what is left after the loop ended (or after a failed create/start). Accepts NULL. */
void hub_free(struct hub *hub);
