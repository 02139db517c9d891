/* The durability gate: on PostgreSQL, the HTTP server holds each response until the writes
 * issued before it are durable (db/db.h, http/server.h). SQLite writes complete at once and need
 * no gate. */
#include "app/app.h"
#include "db/db.h"
#include "http/server.h"

/* A response waits this long for the database before it becomes a 503. */
#define APP_DB_GATE_TIMEOUT_MS 15000

static uint64_t issued(void *ctx)
{
    return db_issued_seq(((struct hub *)ctx)->db);
}

static uint64_t durable(void *ctx)
{
    return db_durable_seq(((struct hub *)ctx)->db);
}

static bool failed_in(void *ctx, uint64_t lo, uint64_t hi)
{
    return db_failed_between(((struct hub *)ctx)->db, lo, hi);
}

static bool available(void *ctx)
{
    return db_available(((struct hub *)ctx)->db);
}

static void on_settled(void *ctx)
{
    struct hub *hub = ctx;
    if (hub->http)
        http_server_gate_moved(hub->http);
    /* Superseded: the hub that took over owns the servers and the proxy's routes now, also
     * when this one was already stopping. */
    if (db_superseded(hub->db)) {
        hub->conf.cleanup_servers = false;
        hub->conf.cleanup_proxy = false;
        if (!hub->stopping)
            hub_stop_soon(hub, 1);
    }
}

void hub_db_gate_start(struct hub *hub)
{
    if (db_kind(hub->db) != DB_POSTGRES)
        return;
    struct http_gate gate = {
        .issued = issued,
        .durable = durable,
        .failed_in = failed_in,
        .available = available,
        .ctx = hub,
        .timeout_ms = APP_DB_GATE_TIMEOUT_MS,
    };
    http_server_set_gate(hub->http, &gate);
    db_on_settled(hub->db, on_settled, hub);
    db_serve(hub->db);
}
