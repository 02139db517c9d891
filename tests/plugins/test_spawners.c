/* Spawners for tests and benchmarks only (built with -Dtest_plugins=enabled, never shipped).
 *
 * test-never-starts: start never completes; only a stop ends it (the start then reports
 *   -ECANCELED, as the contract asks). For Spawner.start_timeout and interrupted starts.
 * test-fixed: starts nothing; every server is FixedSpawner.target (an HTTP server the test or
 *   benchmark runs), so the hub's own cost of a spawn can be measured. */
#include <errno.h>
#include <stdio.h>
#include <ganymede/spawner.h>
#include <stdlib.h>
#include <string.h>

struct fixed_conf {
    char *target;
};

struct mock_state {
    const struct gm_host *host;
    const struct fixed_conf *conf;
};

struct mock_server {
    struct mock_state *st;
    bool running;
    bool freed;
    int holds; /* deferred calls not yet run, plus one for the owner */
    gm_spawner_started_cb start_cb;
    void *start_data;
    gm_spawner_stopped_cb stop_cb;
    void *stop_data;
    gm_spawner_polled_cb poll_cb;
    void *poll_data;
};

static int mock_init(const struct gm_host *host, void *conf, void **state, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct mock_state *st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    st->host = host;
    st->conf = conf;
    *state = st;
    return 0;
}

static void mock_destroy(void *state)
{
    free(state);
}

static int mock_server_new(void *state, const char *user, const char *server_name, void **ret)
{
    (void)user;
    (void)server_name;
    struct mock_server *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->st = state;
    s->holds = 1;
    *ret = s;
    return 0;
}

static void release(struct mock_server *s)
{
    if (--s->holds == 0)
        free(s);
}

static void mock_server_free(void *server)
{
    struct mock_server *s = server;
    s->freed = true;
    release(s);
}

static int defer(struct mock_server *s, void (*fn)(void *))
{
    int r = s->st->host->defer(s->st->host, fn, s);
    if (r == 0)
        s->holds++;
    return r;
}

/* test-never-starts */

static int never_start(void *server, const struct gm_server_spec *spec,
                       const struct gm_spawn_progress *progress, gm_spawner_started_cb cb,
                       void *data)
{
    (void)spec;
    struct mock_server *s = server;
    progress->emit(progress->ctx, 10, "Waiting forever (test-never-starts)", NULL);
    s->start_cb = cb;
    s->start_data = data;
    return 0;
}

static void stop_done(void *data)
{
    struct mock_server *s = data;
    if (!s->freed) {
        if (s->start_cb) {
            gm_spawner_started_cb cb = s->start_cb;
            s->start_cb = NULL;
            cb(s->start_data, -ECANCELED, NULL, "Spawn cancelled");
        }
        s->running = false;
        gm_spawner_stopped_cb cb = s->stop_cb;
        s->stop_cb = NULL;
        if (cb)
            cb(s->stop_data, 0, NULL);
    }
    release(s);
}

static int mock_stop(void *server, bool now, gm_spawner_stopped_cb cb, void *data)
{
    (void)now;
    struct mock_server *s = server;
    if (s->stop_cb)
        return -EBUSY;
    int r = defer(s, stop_done);
    if (r < 0)
        return r;
    s->stop_cb = cb;
    s->stop_data = data;
    return 0;
}

static void poll_done(void *data)
{
    struct mock_server *s = data;
    gm_spawner_polled_cb cb = s->poll_cb;
    s->poll_cb = NULL;
    if (!s->freed && cb)
        cb(s->poll_data, s->running || s->start_cb ? GM_SPAWNER_RUNNING : 0);
    release(s);
}

static int mock_poll(void *server, gm_spawner_polled_cb cb, void *data)
{
    struct mock_server *s = server;
    if (s->poll_cb)
        return -EBUSY;
    int r = defer(s, poll_done);
    if (r < 0)
        return r;
    s->poll_cb = cb;
    s->poll_data = data;
    return 0;
}

static json_t *mock_get_state(void *server)
{
    struct mock_server *s = server;
    return s->running ? json_pack("{s:b}", "running", 1) : NULL;
}

static int mock_load_state(void *server, const json_t *state)
{
    struct mock_server *s = server;
    s->running = json_is_true(json_object_get(state, "running"));
    return 0;
}

/* test-fixed */

static void fixed_started(void *data)
{
    struct mock_server *s = data;
    gm_spawner_started_cb cb = s->start_cb;
    s->start_cb = NULL;
    if (!s->freed && cb) {
        s->running = true;
        cb(s->start_data, 0, s->st->conf->target, NULL);
    }
    release(s);
}

static int fixed_start(void *server, const struct gm_server_spec *spec,
                       const struct gm_spawn_progress *progress, gm_spawner_started_cb cb,
                       void *data)
{
    (void)spec;
    (void)progress;
    struct mock_server *s = server;
    int r = defer(s, fixed_started);
    if (r < 0)
        return r;
    s->start_cb = cb;
    s->start_data = data;
    return 0;
}

static int fixed_init(const struct gm_host *host, void *conf, void **state, char *err,
                      size_t errlen)
{
    const struct fixed_conf *c = conf;
    if (!c->target[0]) {
        snprintf(err, errlen, "FixedSpawner.target must be set (http://127.0.0.1:PORT)");
        return -EINVAL;
    }
    return mock_init(host, conf, state, err, errlen);
}

static const struct gm_option fixed_options[] = {
    GM_OPTION("target", GM_OPTION_STRING, offsetof(struct fixed_conf, target), "\"\"",
              "The URL every server is (an HTTP server run by the test or benchmark)."),
    GM_OPTION_END,
};

static const struct gm_option_class fixed_class = {
    .name = "FixedSpawner",
    .parent = "Spawner",
    .help = "Tests and benchmarks only: every server is the same running HTTP server.",
    .options = fixed_options,
    .hidden = true,
};

static const char *const echo_cmd[] = {"true", NULL};

const struct gm_spawner test_spawner_never = {
    .abi = GM_ABI_VERSION,
    .name = "test-never-starts",
    .default_ip = "127.0.0.1",
    .default_cmd = echo_cmd,
    .init = mock_init,
    .destroy = mock_destroy,
    .server_new = mock_server_new,
    .server_free = mock_server_free,
    .start = never_start,
    .stop = mock_stop,
    .poll = mock_poll,
    .get_state = mock_get_state,
    .load_state = mock_load_state,
};

const struct gm_spawner test_spawner_fixed = {
    .abi = GM_ABI_VERSION,
    .name = "test-fixed",
    .options = &fixed_class,
    .conf_size = sizeof(struct fixed_conf),
    .default_ip = "127.0.0.1",
    .default_cmd = echo_cmd,
    .init = fixed_init,
    .destroy = mock_destroy,
    .server_new = mock_server_new,
    .server_free = mock_server_free,
    .start = fixed_start,
    .stop = mock_stop,
    .poll = mock_poll,
    .get_state = mock_get_state,
    .load_state = mock_load_state,
};
