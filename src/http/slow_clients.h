/* The slow-client guard of the HTTP server: a connection must send its request line and
 * headers within a deadline. libmicrohttpd's own timeout counts idleness only, so a client
 * sending one byte every few seconds (slowloris) would hold a connection forever. */
#pragma once

#include <microhttpd.h>
#include <stdint.h>
#include <uv.h>

struct http_slow_clients;

/** Check the connections every second; @timeout_ms 0 turns the guard off (every call below
 * then does nothing). Returns 0 or a negative errno. */
int http_slow_clients_start(uv_loop_t *loop, uint64_t timeout_ms, struct http_slow_clients **ret);
/** Close the timer and free the guard (the connections' records go with the daemon). */
void http_slow_clients_stop(struct http_slow_clients *g);

/** libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback (@cls is the guard): a new
 * connection's deadline starts now. */
void http_slow_clients_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                              enum MHD_ConnectionNotificationCode code);
/** A request line arrived on @conn (its headers are on their way). */
void http_slow_clients_request(struct http_slow_clients *g, struct MHD_Connection *conn);
/** Its headers are complete: no deadline until the next request line. */
void http_slow_clients_headers_done(struct http_slow_clients *g, struct MHD_Connection *conn);
