/* A standby hub. While another hub holds the PostgreSQL database's lease (db/pg_lease.c), this
 * one listens on its hub_bind_url and answers every request with 503 and {"status":
 * "standby"}, so that a readiness probe or a load balancer sends traffic to the active hub, and
 * it tries to take the lease every STANDBY_POLL_MS. Once it has it, hub_create goes on as for
 * any start: open and load the database, then hub_start re-adopts the servers and refills the
 * proxy.
 *
 * Each try is one blocking round trip to PostgreSQL (a reconnection is bounded by
 * connect_timeout): a standby serves nothing but 503s, which may wait that long. */
#include "app/app.h"
#include "db/db.h"
#include "ganymede/log.h"
#include "http/server.h"
#include "util/str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STANDBY_POLL_MS 250

struct hub_standby {
    struct hub *hub;
    struct db_lease_probe *probe;
    struct http_server *http;
    uv_timer_t poll;
    uv_signal_t sigterm, sigint;
    char active[128];
    char last_err[512];
    int result; /* 0: the lease is this hub's; -ECANCELED: stopped by a signal */
    bool finishing;
};

static int standby_answer(struct http_request *req)
{
    struct hub_standby *s = req->hub->standby;
    char message[300];
    snprintf(message, sizeof(message),
             "This hub is a standby: the hub %s is active. It takes over if that hub stops.",
             s->active);
    http_set_header(req, "Retry-After", "1");
    return http_respond_json(
        req, 503,
        json_pack("{s:s,s:s,s:s}", "status", "standby", "active", s->active, "message", message));
}

static const struct http_route standby_routes[] = {
    {"**", HTTP_GET | HTTP_HEAD | HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE | HTTP_OTHER,
     standby_answer, HTTP_ROUTE_API | HTTP_ROUTE_QUIET},
    {NULL, 0, NULL, 0},
};

static void on_http_closed(void *data)
{
    struct hub_standby *s = data;
    s->http = NULL;
    uv_close((uv_handle_t *)&s->poll, NULL);
}

static void finish(struct hub_standby *s, int result)
{
    if (s->finishing)
        return;
    s->finishing = true;
    s->result = result;
    uv_timer_stop(&s->poll);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->sigint, NULL);
    http_server_shutdown(s->http, 0, on_http_closed, s);
}

static void on_poll(uv_timer_t *t)
{
    struct hub_standby *s = t->data;
    char active[sizeof(s->active)], err[512] = "";
    str_copy(active, sizeof(active), s->active);
    int64_t left_ms = 0;
    int r = db_lease_try(s->probe, active, sizeof(active), &left_ms, err, sizeof(err));
    if (r == 1) {
        gm_log_info("This hub took the database's lease (the hub %s stopped renewing it): "
                    "taking over",
                    s->active);
        /* Until hub_start watches them again, a SIGTERM waits instead of killing a hub that
         * holds the lease without a clean stop. */
        hub_hold_stop_signals(true);
        finish(s, 0);
        return;
    }
    if (r < 0) {
        if (strcmp(err, s->last_err) != 0)
            gm_log_warn("Standing by: %s", err);
        str_copy(s->last_err, sizeof(s->last_err), err);
        return;
    }
    s->last_err[0] = '\0';
    if (strcmp(active, s->active) != 0) {
        gm_log_info("Standing by: the hub %s now holds the database's lease", active);
        str_copy(s->active, sizeof(s->active), active);
    }
}

static void on_signal(uv_signal_t *sig, int signum)
{
    struct hub_standby *s = sig->data;
    gm_log_info("Received %s while standing by, stopping", strsignal(signum));
    finish(s, -ECANCELED);
}

int hub_standby_wait(struct hub *hub, const struct db_location *loc, char *err, size_t errlen)
{
    struct hub_standby *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->hub = hub;
    str_copy(s->active, sizeof(s->active), "?");
    struct sockaddr_storage ss;
    socklen_t sl;
    int64_t left_ms = 0;
    int r = hub_resolve_listen(hub->conf.hub_bind_url, "JupyterHub.hub_bind_url", &ss, &sl, err,
                               errlen);
    if (r == 0)
        r = db_lease_probe_open(loc, &s->probe, err, errlen);
    if (r == 0)
        r = db_lease_try(s->probe, s->active, sizeof(s->active), &left_ms, err, errlen);
    if (r == 1) { /* it lapsed in between */
        db_lease_probe_close(s->probe);
        free(s);
        return 0;
    }
    struct http_server_options opts = hub_http_limits(hub);
    if (r == 0)
        r = http_server_create(hub->loop, (struct sockaddr *)&ss, sl, &opts, standby_routes, hub,
                               &s->http, err, errlen);
    if (r < 0) {
        db_lease_probe_close(s->probe);
        free(s);
        return r;
    }
    hub->standby = s;
    gm_log_info("Standing by: the hub %s holds the lease of the database %s (%lld ms more); "
                "this hub answers 503 on port %d and takes over when that lease lapses",
                s->active, loc->display, (long long)left_ms, http_server_port(s->http));
    uv_timer_init(hub->loop, &s->poll);
    s->poll.data = s;
    uv_timer_start(&s->poll, on_poll, STANDBY_POLL_MS, STANDBY_POLL_MS);
    uv_signal_init(hub->loop, &s->sigterm);
    uv_signal_init(hub->loop, &s->sigint);
    s->sigterm.data = s->sigint.data = s;
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_run(hub->loop, UV_RUN_DEFAULT);
    hub->standby = NULL;
    r = s->result;
    db_lease_probe_close(s->probe);
    free(s);
    if (r == -ECANCELED)
        snprintf(err, errlen, "stopped while standing by");
    return r;
}
