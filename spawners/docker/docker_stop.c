/* Stopping and polling a Docker server.
 *
 * Stop: `POST /containers/{id}/stop` lets the engine send the image's stop signal (SIGTERM),
 * wait the container's StopTimeout (extra_create_kwargs {"StopTimeout": N}; the engine's
 * default is 10 s) and then SIGKILL; with `now`, t=0 kills at once. Then, if
 * DockerSpawner.remove, `DELETE /containers/{id}?v=1` (its anonymous volumes too; named volumes
 * stay). A container already gone counts as stopped. A stop during a start cancels what the
 * start had in flight and reports the start as cancelled first.
 *
 * Poll: inspect; gone (404) → 0, running → GM_SPAWNER_RUNNING, exited → its exit code. When the
 * engine cannot be asked, the server is reported running (with a warning): an engine restart
 * must not make the hub drop servers that are fine. */
#include "docker.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STOP_MARGIN_MS 5000

static void stop_done(struct docker_server *s, int status, const char *message)
{
    gm_spawner_stopped_cb cb = s->stop_cb;
    void *data = s->stop_data;
    s->stop_cb = NULL;
    s->op = DOCKER_OP_NONE;
    if (status == 0) {
        free(s->id);
        s->id = NULL;
    }
    if (cb)
        cb(data, status, message);
}

static void stop_explain(struct docker_server *s, const struct docker_reply *r, const char *what)
{
    char msg[DOCKER_MESSAGE_MAX];
    docker_api_explain(&s->st->api, r, what, msg, sizeof(msg));
    stop_done(s, r->error ? r->error : -EIO, msg);
}

static void on_removed(void *data, const struct docker_reply *r)
{
    struct docker_server *s = data;
    s->call = NULL;
    if (s->freed || s->op != DOCKER_OP_STOP)
        return;
    if (r->status == 204 || r->status == 404 || r->status == 409) {
        gm_log_info("Removed container %s of '%s'", s->name ? s->name : "?", s->user);
        stop_done(s, 0, NULL);
    } else {
        stop_explain(s, r, "removing the container");
    }
}

static void remove_container(struct docker_server *s)
{
    struct gm_buf p;
    gm_buf_init(&p, DOCKER_URL_MAX);
    gm_buf_puts(&p, "/containers/");
    gm_url_encode(&p, s->id, NULL);
    gm_buf_puts(&p, "?v=1");
    int r = !p.error ? docker_api_call(&s->st->api, "DELETE", p.data, NULL, 0, 0, on_removed, s,
                                       &s->call)
                     : -ENOMEM;
    gm_buf_free(&p);
    if (r < 0) {
        char msg[256];
        snprintf(msg, sizeof(msg), "cannot remove container %s: %s", s->name, strerror(-r));
        stop_done(s, r, msg);
    }
}

static void on_stopped(void *data, const struct docker_reply *r)
{
    struct docker_server *s = data;
    s->call = NULL;
    if (s->freed || s->op != DOCKER_OP_STOP)
        return;
    /* 204 stopped, 304 was not running, 404 gone. */
    if (r->status != 204 && r->status != 304 && r->status != 404) {
        stop_explain(s, r, "stopping the container");
        return;
    }
    gm_log_info("Container %s of '%s' is stopped", s->name ? s->name : "?", s->user);
    if (s->st->conf->remove && r->status != 404)
        remove_container(s);
    else
        stop_done(s, 0, NULL);
}

static void stop_begin(void *data)
{
    struct docker_server *s = data;
    if (s->op != DOCKER_OP_STOP)
        return;
    if (s->start_cb) {
        gm_spawner_started_cb cb = s->start_cb;
        s->start_cb = NULL;
        cb(s->start_data, -ECANCELED, NULL, "Spawn cancelled");
        if (s->freed || s->op != DOCKER_OP_STOP)
            return;
    }
    if (!s->id) {
        stop_done(s, 0, NULL);
        return;
    }
    gm_log_info("Stopping container %s (id %.12s) of '%s'%s", s->name ? s->name : "?", s->id,
                s->user, s->now ? " now" : "");
    struct gm_buf p;
    gm_buf_init(&p, DOCKER_URL_MAX);
    gm_buf_puts(&p, "/containers/");
    gm_url_encode(&p, s->id, NULL);
    gm_buf_puts(&p, s->now ? "/stop?t=0" : "/stop");
    /* The engine answers once the container is down: after the grace period at most. */
    long timeout = s->st->api.timeout_ms + (long)s->st->stop_grace_s * 1000 + STOP_MARGIN_MS;
    int r = !p.error ? docker_api_call(&s->st->api, "POST", p.data, NULL, timeout, 0, on_stopped, s,
                                       &s->call)
                     : -ENOMEM;
    gm_buf_free(&p);
    if (r < 0) {
        char msg[256];
        snprintf(msg, sizeof(msg), "cannot stop container %s: %s", s->name, strerror(-r));
        stop_done(s, r, msg);
    }
}

int docker_stop(void *server, bool now, gm_spawner_stopped_cb cb, void *data)
{
    struct docker_server *s = server;
    if (s->op == DOCKER_OP_STOP)
        return -EBUSY;
    int r = docker_server_defer(s, stop_begin);
    if (r < 0)
        return r;
    /* A start in flight ends here; stop_begin reports it cancelled (its callback is kept). */
    docker_start_abort(s);
    s->op = DOCKER_OP_STOP;
    s->now = now;
    s->stop_cb = cb;
    s->stop_data = data;
    return 0;
}

/* Poll. */

static void poll_done(struct docker_server *s, int exit_status)
{
    gm_spawner_polled_cb cb = s->poll_cb;
    s->poll_cb = NULL;
    if (cb)
        cb(s->poll_data, exit_status);
}

static void on_polled(void *data, const struct docker_reply *r)
{
    struct docker_server *s = data;
    s->poll_call = NULL;
    if (s->freed)
        return;
    if (r->status == 404) {
        gm_log_warn("Container %s of '%s' is gone", s->name ? s->name : "?", s->user);
        free(s->id);
        s->id = NULL;
        poll_done(s, 0);
        return;
    }
    if (r->status != 200) {
        char msg[DOCKER_MESSAGE_MAX];
        docker_api_explain(&s->st->api, r, "checking the container", msg, sizeof(msg));
        gm_log_warn("%s; taking the server of '%s' as running", msg, s->user);
        poll_done(s, GM_SPAWNER_RUNNING);
        return;
    }
    const json_t *state = json_object_get(r->json, "State");
    if (json_is_true(json_object_get(state, "Running"))) {
        poll_done(s, GM_SPAWNER_RUNNING);
        return;
    }
    int code = (int)json_integer_value(json_object_get(state, "ExitCode"));
    const char *error = json_string_value(json_object_get(state, "Error"));
    const char *finished = json_string_value(json_object_get(state, "FinishedAt"));
    gm_log_info("Container %s of '%s' exited: ExitCode=%d, Error='%s', FinishedAt=%s",
                s->name ? s->name : "?", s->user, code, error ? error : "",
                finished ? finished : "?");
    poll_done(s, code == GM_SPAWNER_RUNNING ? 0 : code);
}

static void poll_deferred(void *data)
{
    struct docker_server *s = data;
    poll_done(s, s->op == DOCKER_OP_START ? GM_SPAWNER_RUNNING : 0);
}

int docker_poll(void *server, gm_spawner_polled_cb cb, void *data)
{
    struct docker_server *s = server;
    if (s->poll_cb)
        return -EBUSY;
    int r;
    const char *which = s->id ? s->id : s->name;
    if (s->op == DOCKER_OP_START || !which) {
        /* Starting counts as running; with no container at all there is nothing to run. */
        r = docker_server_defer(s, poll_deferred);
    } else {
        struct gm_buf p;
        gm_buf_init(&p, DOCKER_URL_MAX);
        gm_buf_puts(&p, "/containers/");
        gm_url_encode(&p, which, NULL);
        gm_buf_puts(&p, "/json");
        r = !p.error ? docker_api_call(&s->st->api, "GET", p.data, NULL, 0, 0, on_polled, s,
                                       &s->poll_call)
                     : -ENOMEM;
        gm_buf_free(&p);
    }
    if (r < 0)
        return r;
    s->poll_cb = cb;
    s->poll_data = data;
    return 0;
}
