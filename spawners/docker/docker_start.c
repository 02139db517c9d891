/* The start of a Docker server, one Engine call at a time, each step started from the previous
 * one's callback:
 *
 *   image ──(missing, ifnotpresent)──► pull ──► container by name ──(ours, stale)──► remove
 *     │ (skip, or present)                            │ (none)                          │
 *     └───────────────────────────────────────────────┴──────────► create ◄────────────┘
 *   create ──► start ──► [post_start_cmd: exec] ──► inspect (address) ──► wait: GET the
 *   server's /api until it answers, inspecting the container between tries; if it stopped,
 *   its exit code and the last lines of its log are the failure message.
 *
 * A container of the same name that is not ours is a conflict, except a stopped one that a
 * JupyterHub (dockerspawner) made for this very server: it is renamed out of the way and kept.
 * Progress events: pulling (10, 20), creating (40), starting (60), waiting (80). A stop while
 * this runs cancels the call in flight (docker_stop.c reports the start as cancelled). */
#include "docker.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PULL_TIMEOUT_MS      (30L * 60 * 1000) /* the hub's start_timeout ends it sooner */
#define PULL_MAX_RESPONSE    (64 << 20)
#define LOGS_MAX_RESPONSE    (256 << 10)
#define PROBE_TIMEOUT_MS     2000
#define PROBE_FIRST_DELAY_MS 50
#define PROBE_MAX_DELAY_MS   1000
#define IMAGE_REF_CHARS      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@"

static void step_find(struct docker_server *s);
static void step_create(struct docker_server *s);
static void step_inspect(struct docker_server *s);
static void step_logs(struct docker_server *s);
static void probe(struct docker_server *s);

static void clear_start(struct docker_server *s)
{
    free(s->image);
    json_decref(s->cmd);
    json_decref(s->args);
    for (char **e = s->env; e && *e; e++)
        free(*e);
    free(s->env);
    free(s->ip);
    free(s->base_url);
    free(s->url);
    free(s->failure);
    s->image = s->ip = s->base_url = s->url = s->failure = NULL;
    s->cmd = s->args = NULL;
    s->env = NULL;
    s->need_image_cmd = false;
    s->progress = NULL;
}

void docker_start_abort(struct docker_server *s)
{
    if (s->op != DOCKER_OP_START)
        return;
    docker_api_cancel(s->call);
    s->call = NULL;
    gm_fetch_cancel(s->probe);
    s->probe = NULL;
    uv_timer_stop(&s->timer);
    clear_start(s);
}

void docker_start_done(struct docker_server *s, int status, const char *message)
{
    gm_spawner_started_cb cb = s->start_cb;
    void *data = s->start_data;
    char url[DOCKER_URL_MAX];
    snprintf(url, sizeof(url), "%s", s->url ? s->url : "");
    s->start_cb = NULL;
    s->op = DOCKER_OP_NONE;
    uv_timer_stop(&s->timer);
    clear_start(s);
    if (status == 0)
        gm_log_info("Server of '%s' answers in container %s at %s", s->user, s->name, url);
    if (cb)
        cb(data, status, status == 0 ? url : NULL, status == 0 ? NULL : message);
}

static void fail(struct docker_server *s, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct docker_server *s, int status, const char *fmt, ...)
{
    char msg[DOCKER_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    docker_start_done(s, status, msg);
}

static void emit(struct docker_server *s, int pct, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void emit(struct docker_server *s, int pct, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (s->progress)
        s->progress->emit(s->progress->ctx, pct, msg, NULL);
}

/* An Engine call for the start; a call that cannot even begin fails the start. */
static void call(struct docker_server *s, const char *method, const char *path, const json_t *body,
                 long timeout_ms, size_t max, docker_api_cb cb, const char *what)
{
    int r = docker_api_call(&s->st->api, method, path, body, timeout_ms, max, cb, s, &s->call);
    if (r < 0)
        fail(s, r, "Cannot ask the Docker engine at %s (%s): %s", s->st->api.display, what,
             strerror(-r));
}

/* Where every answer to the start's calls goes first. Cancelling a call prevents its callback,
 * so this is a guard only. */
static bool still_starting(struct docker_server *s)
{
    s->call = NULL;
    return !s->freed && s->op == DOCKER_OP_START;
}

static void explain_fail(struct docker_server *s, const struct docker_reply *r, const char *what)
{
    char msg[DOCKER_MESSAGE_MAX];
    docker_api_explain(&s->st->api, r, what, msg, sizeof(msg));
    docker_start_done(s, r->error ? r->error : -EIO, msg);
}

/* An Engine path: @prefix, @name encoded (image names keep their '/', ':' and '@'), @suffix;
 * then the call, or a failed start when the path does not fit. */
static void call_on(struct docker_server *s, const char *method, const char *prefix,
                    const char *name, const char *suffix, const json_t *body, long timeout_ms,
                    size_t max, docker_api_cb cb, const char *what)
{
    struct gm_buf p;
    gm_buf_init(&p, DOCKER_URL_MAX);
    gm_buf_puts(&p, prefix);
    gm_url_encode(&p, name, "/:@");
    gm_buf_puts(&p, suffix);
    if (!p.error)
        call(s, method, p.data, body, timeout_ms, max, cb, what);
    else
        fail(s, -E2BIG, "The request for %s is too long (name: %.100s)", what, name);
    gm_buf_free(&p);
}

/* The template namespace of this server (owned strings). */
struct names {
    char *user, *lower, *server, *imagename;
    struct docker_ns ns;
};

static void names_free(struct names *n)
{
    free(n->user);
    free(n->lower);
    free(n->server);
    free(n->imagename);
}

static int names_init(struct names *n, const struct docker_server *s)
{
    const struct docker_conf *c = s->st->conf;
    bool legacy = strcmp(c->escape, "legacy") == 0;
    memset(n, 0, sizeof(*n));
    n->user = docker_escape(s->user, legacy);
    n->lower = strdup(s->server_name);
    for (char *p = n->lower; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    n->server = n->lower ? docker_escape(n->lower, legacy) : NULL;
    n->imagename = docker_image_name(s->image);
    if (!n->user || !n->server || !n->imagename) {
        names_free(n);
        return -ENOMEM;
    }
    n->ns = (struct docker_ns){
        .username = n->user,
        .raw_username = s->user,
        .servername = n->server,
        .raw_servername = s->server_name,
        .imagename = n->imagename,
        .prefix = c->prefix,
    };
    return 0;
}

/* The image. */

static void on_image(void *data, const struct docker_reply *r);
static void on_pulled(void *data, const struct docker_reply *r);

static void inspect_image(struct docker_server *s)
{
    call_on(s, "GET", "/images/", s->image, "/json", NULL, 0, 0, on_image, "inspecting the image");
}

static void pull(struct docker_server *s)
{
    char repo[DOCKER_NAME_MAX + 1], tag[DOCKER_NAME_MAX + 1];
    if (docker_image_split(s->image, repo, sizeof(repo), tag, sizeof(tag)) < 0) {
        fail(s, -EINVAL, "Image '%s' is not a valid image name", s->image);
        return;
    }
    emit(s, 10, "Pulling image %s", s->image);
    gm_log_info("Pulling image %s for '%s'", s->image, s->user);
    struct gm_buf p;
    gm_buf_init(&p, DOCKER_URL_MAX);
    gm_buf_puts(&p, "/images/create?fromImage=");
    gm_url_encode(&p, repo, NULL);
    if (tag[0]) {
        gm_buf_puts(&p, "&tag=");
        gm_url_encode(&p, tag, NULL);
    }
    if (!p.error)
        call(s, "POST", p.data, NULL, PULL_TIMEOUT_MS, PULL_MAX_RESPONSE, on_pulled,
             "pulling the image");
    else
        fail(s, -E2BIG, "The image name is too long");
    gm_buf_free(&p);
}

/* The image's Config.Cmd, when DockerSpawner.cmd is None and Spawner.args must follow it. */
static void use_image_cmd(struct docker_server *s, const json_t *image)
{
    if (!s->need_image_cmd)
        return;
    s->need_image_cmd = false;
    const json_t *cmd = json_object_get(json_object_get(image, "Config"), "Cmd");
    json_t *full = json_is_array(cmd) ? json_deep_copy(cmd) : json_array();
    json_array_extend(full, s->args);
    s->cmd = full;
}

static void on_image(void *data, const struct docker_reply *r)
{
    struct docker_server *s = data;
    if (!still_starting(s))
        return;
    enum docker_pull policy = s->st->pull;
    if (r->status == 200) {
        use_image_cmd(s, r->json);
        step_find(s);
    } else if (r->status == 404 && policy == DOCKER_PULL_IFNOTPRESENT) {
        pull(s);
    } else if (r->status == 404) {
        fail(s, -ENOENT,
             "Image %s is not present on the Docker engine at %s, and "
             "DockerSpawner.pull_policy is '%s': load or build the image there first",
             s->image, s->st->api.display, docker_pull_names[policy]);
    } else {
        explain_fail(s, r, "inspecting the image");
    }
}

/* A pull answers 200 and then streams JSON lines; a failure may come as a line with "error". */
static const char *pull_error(const struct docker_reply *r, char *out, size_t outlen)
{
    const char *p = r->body;
    const char *end = r->body + r->body_len;
    out[0] = '\0';
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n && p[0] == '{') {
            json_t *line = json_loadb(p, n, 0, NULL);
            const char *e = json_string_value(json_object_get(line, "error"));
            if (e)
                snprintf(out, outlen, "%s", e);
            json_decref(line);
        }
        p += n + 1;
    }
    return out[0] ? out : NULL;
}

static void on_pulled(void *data, const struct docker_reply *r)
{
    struct docker_server *s = data;
    if (!still_starting(s))
        return;
    char err[400];
    const char *why = r->status == 200 ? pull_error(r, err, sizeof(err)) : NULL;
    if (r->status != 200 || why) {
        char msg[DOCKER_MESSAGE_MAX];
        if (why || r->status)
            snprintf(msg, sizeof(msg),
                     "Image %s is not on the Docker engine and pulling it failed: %.400s. "
                     "Load or build the image on the engine, or check that its registry is "
                     "reachable",
                     s->image,
                     why             ? why
                     : r->message[0] ? r->message
                                     : "no reason given");
        else
            docker_api_explain(&s->st->api, r, "pulling the image", msg, sizeof(msg));
        docker_start_done(s, -ENOENT, msg);
        return;
    }
    emit(s, 20, "Pulled image %s", s->image);
    gm_log_info("Pulled image %s", s->image);
    if (s->need_image_cmd)
        inspect_image(s);
    else
        step_find(s);
}

static void step_image(struct docker_server *s)
{
    switch (s->st->pull) {
    case DOCKER_PULL_ALWAYS:
        pull(s);
        return;
    case DOCKER_PULL_SKIP:
        if (!s->need_image_cmd) {
            step_find(s);
            return;
        }
        break;
    default:
        break;
    }
    inspect_image(s);
}

/* An older container of the same name. */

static void on_removed_old(void *data, const struct docker_reply *r)
{
    struct docker_server *s = data;
    if (!still_starting(s))
        return;
    if (r->status == 204 || r->status == 404)
        step_create(s);
    else if (r->status == 409)
        fail(s, -EBUSY,
             "The previous container %s is still being removed by the Docker engine; try again "
             "in a moment",
             s->name);
    else
        explain_fail(s, r, "removing the previous container");
}

static void on_renamed(void *data, const struct docker_reply *r)
{
    struct docker_server *s = data;
    if (!still_starting(s))
        return;
    if (r->status == 204 || r->status == 200)
        step_create(s);
    else
        explain_fail(s, r, "renaming the previous container");
}

/* A stopped container that a JupyterHub (dockerspawner) made for this server before this hub:
 * with remove = False its own files may matter to the user, so it is renamed out of the way
 * rather than deleted. */
static void rename_previous(struct docker_server *s, const char *id)
{
    char name[DOCKER_NAME_MAX + 40];
    snprintf(name, sizeof(name), "%s-previous-%.12s", s->name, id);
    gm_log_warn("Container %s (id %.12s) was made by a JupyterHub for '%s' before this hub; "
                "keeping it as %s and creating a new one",
                s->name, id, s->user, name);
    struct gm_buf p;
    gm_buf_init(&p, DOCKER_URL_MAX);
    gm_buf_puts(&p, "/containers/");
    gm_url_encode(&p, id, NULL);
    gm_buf_puts(&p, "/rename?name=");
    gm_url_encode(&p, name, NULL);
    if (!p.error)
        call(s, "POST", p.data, NULL, 0, 0, on_renamed, "renaming the previous container");
    else
        fail(s, -ENOMEM, "out of memory");
    gm_buf_free(&p);
}

static void on_found(void *data, const struct docker_reply *r)
{
    struct docker_server *s = data;
    if (!still_starting(s))
        return;
    if (r->status == 404) {
        step_create(s);
        return;
    }
    if (r->status != 200) {
        explain_fail(s, r, "looking for an existing container");
        return;
    }
    const char *id = json_string_value(json_object_get(r->json, "Id"));
    const json_t *state = json_object_get(r->json, "State");
    bool running = json_is_true(json_object_get(state, "Running"));
    const char *status = json_string_value(json_object_get(state, "Status"));
    bool ours = id && docker_container_is_ours(r->json, s->user, s->server_name);
    if (id && !ours && !running &&
        docker_container_is_jupyterhubs(r->json, s->user, s->server_name)) {
        rename_previous(s, id);
        return;
    }
    if (!ours) {
        fail(s, -EEXIST,
             "A container named %s already exists on the Docker engine (id %.12s, %s) and was "
             "not made by this hub for this server: remove it (docker rm -f %s) or change "
             "DockerSpawner.name_template",
             s->name, id ? id : "?", status ? status : "unknown state", s->name);
        return;
    }
    /* Ours, from an earlier start: its environment (the API token) and configuration are
     * stale, so a fresh one replaces it (dockerspawner#423); data lives in volumes. */
    if (running)
        gm_log_warn("Container %s (id %.12s) of '%s' was still running; replacing it", s->name, id,
                    s->user);
    else
        gm_log_info("Replacing the stopped container %s (id %.12s) of '%s'", s->name, id, s->user);
    /* Its anonymous volumes go with it only where DockerSpawner.remove says so. */
    call_on(s, "DELETE", "/containers/", id, s->st->conf->remove ? "?v=1&force=1" : "?force=1",
            NULL, 0, 0, on_removed_old, "removing the previous container");
}

static void step_find(struct docker_server *s)
{
    call_on(s, "GET", "/containers/", s->name, "/json", NULL, 0, 0, on_found,
            "looking for an existing container");
}

/* Create and start. */

static void step_start(struct docker_server *s);

static void on_created(void *data, const struct docker_reply *r)
{
    struct docker_server *s = data;
    if (!still_starting(s))
        return;
    const char *id = json_string_value(json_object_get(r->json, "Id"));
    if (r->status == 201 && id && strlen(id) <= 128) {
        free(s->id);
        s->id = strdup(id);
        if (!s->id) {
            fail(s, -ENOMEM, "out of memory");
            return;
        }
        gm_log_info("Created container %s (id %.12s) for '%s' from image %s", s->name, id, s->user,
                    s->image);
        size_t i;
        json_t *w;
        json_array_foreach(json_object_get(r->json, "Warnings"), i, w)
        {
            if (json_is_string(w))
                gm_log_warn("Docker engine on container %s: %s", s->name, json_string_value(w));
        }
        step_start(s);
    } else if (r->status == 409) {
        fail(s, -EEXIST,
             "A container named %s already exists on the Docker engine: %.300s. Remove it "
             "(docker rm -f %s) or change DockerSpawner.name_template",
             s->name, r->message, s->name);
    } else if (r->status == 404) {
        fail(s, -ENOENT, "Image %s is not present on the Docker engine: %.300s", s->image,
             r->message);
    } else if (r->status == 400) {
        bool no_cmd = strstr(r->message, "No command specified") != NULL;
        fail(s, -EINVAL, "The Docker engine refused to create the container: %.400s%s", r->message,
             no_cmd ? " (the image has no command: set DockerSpawner.cmd, e.g. "
                      "[\"jupyterhub-singleuser\"])"
                    : "");
    } else {
        explain_fail(s, r, "creating the container");
    }
}

static void step_create(struct docker_server *s)
{
    const struct docker_state *st = s->st;
    char err[DOCKER_MESSAGE_MAX] = "out of memory";
    json_t *body = NULL;
    struct names n;
    if (names_init(&n, s) == 0) {
        struct docker_create cr = {
            .image = s->image,
            .cmd = s->cmd,
            .env = (const char *const *)s->env,
            .ns = &n.ns,
            .user = s->user,
            .server_name = s->server_name,
            .port = s->port,
            .mem_limit = s->mem_limit,
            .cpu_limit = s->cpu_limit,
            .host_ip = st->host_ip,
            .internal_ip = st->internal_ip,
            .run_as = s->run_as[0] ? s->run_as : NULL,
        };
        body = docker_create_body(st->conf, &cr, err, sizeof(err));
        names_free(&n);
    }
    if (!body) {
        fail(s, -EINVAL, "%s", err);
        return;
    }
    emit(s, 40, "Creating container %s from image %s", s->name, s->image);
    call_on(s, "POST", "/containers/create?name=", s->name, "", body, 0, 0, on_created,
            "creating the container");
    json_decref(body);
}

/* post_start_cmd: exec in the running container, its output logged. */

static void on_exec_done(void *data, const struct docker_reply *r)
{
    struct docker_server *s = data;
    if (!still_starting(s))
        return;
    if (r->status != 200) {
        explain_fail(s, r, "running DockerSpawner.post_start_cmd");
        return;
    }
    char out[1024];
    if (docker_log_tail(r->body, r->body_len, 20, out, sizeof(out)))
        gm_log_info("post_start_cmd in %s: %s", s->name, out);
    step_inspect(s);
}

static void on_exec_created(void *data, const struct docker_reply *r)
{
    struct docker_server *s = data;
    if (!still_starting(s))
        return;
    const char *id = json_string_value(json_object_get(r->json, "Id"));
    if (r->status != 201 || !id) {
        explain_fail(s, r, "running DockerSpawner.post_start_cmd");
        return;
    }
    json_t *body = json_pack("{s:b,s:b}", "Detach", 0, "Tty", 0);
    if (body)
        call_on(s, "POST", "/exec/", id, "/start", body, 0, 0, on_exec_done,
                "running DockerSpawner.post_start_cmd");
    else
        fail(s, -ENOMEM, "out of memory");
    json_decref(body);
}

static void post_start(struct docker_server *s)
{
    gm_log_debug("Running post_start_cmd in %s", s->name);
    json_t *body =
        json_pack("{s:O,s:b,s:b}", "Cmd", s->st->post_start, "AttachStdout", 1, "AttachStderr", 1);
    if (body)
        call_on(s, "POST", "/containers/", s->id, "/exec", body, 0, 0, on_exec_created,
                "running DockerSpawner.post_start_cmd");
    else
        fail(s, -ENOMEM, "out of memory");
    json_decref(body);
}

static void on_started(void *data, const struct docker_reply *r)
{
    struct docker_server *s = data;
    if (!still_starting(s))
        return;
    if (r->status != 204 && r->status != 304) {
        explain_fail(s, r, "starting the container");
        return;
    }
    gm_log_info("Started container %s (id %.12s) for '%s'", s->name, s->id, s->user);
    if (s->st->post_start)
        post_start(s);
    else
        step_inspect(s);
}

static void step_start(struct docker_server *s)
{
    emit(s, 60, "Starting container %s", s->name);
    call_on(s, "POST", "/containers/", s->id, "/start", NULL, 0, 0, on_started,
            "starting the container");
}

/* Waiting for the server: is the container still running (inspect), then does it answer. */

static void on_probe_timer(uv_timer_t *t)
{
    struct docker_server *s = t->data;
    if (!s->freed && s->op == DOCKER_OP_START)
        probe(s);
}

static void on_inspected(void *data, const struct docker_reply *r)
{
    struct docker_server *s = data;
    if (!still_starting(s))
        return;
    if (r->status == 404) {
        fail(s, -ENOENT, "Container %s disappeared while its server was starting (removed?)",
             s->name);
        return;
    }
    if (r->status != 200) {
        if (s->url) {
            /* An engine hiccup while waiting: the start_timeout still bounds the wait. */
            gm_log_warn("Cannot inspect container %s while waiting for its server: %s", s->name,
                        r->message);
            uv_timer_start(&s->timer, on_probe_timer, s->probe_delay_ms, 0);
            return;
        }
        explain_fail(s, r, "inspecting the started container");
        return;
    }
    const json_t *state = json_object_get(r->json, "State");
    if (!json_is_true(json_object_get(state, "Running"))) {
        s->exit_code = (int)json_integer_value(json_object_get(state, "ExitCode"));
        s->oom_killed = json_is_true(json_object_get(state, "OOMKilled"));
        step_logs(s);
        return;
    }
    if (!s->url) {
        char url[DOCKER_URL_MAX], err[DOCKER_MESSAGE_MAX];
        struct docker_where w = {
            .network = s->st->conf->network_name,
            .internal_ip = s->st->internal_ip,
            .internal_hostname = s->st->conf->use_internal_hostname,
            .host_ip = s->st->host_ip,
            .ip = s->ip,
            .port = s->port,
            .name = s->name,
        };
        if (docker_server_url(r->json, &w, url, sizeof(url), err, sizeof(err)) < 0) {
            fail(s, -EINVAL, "%s", err);
            return;
        }
        s->url = strdup(url);
        if (!s->url) {
            fail(s, -ENOMEM, "out of memory");
            return;
        }
        emit(s, 80, "Waiting for the server to answer at %s", url);
        s->probe_delay_ms = PROBE_FIRST_DELAY_MS;
        probe(s);
        return;
    }
    uv_timer_start(&s->timer, on_probe_timer, s->probe_delay_ms, 0);
    s->probe_delay_ms =
        s->probe_delay_ms * 2 > PROBE_MAX_DELAY_MS ? PROBE_MAX_DELAY_MS : s->probe_delay_ms * 2;
}

static void step_inspect(struct docker_server *s)
{
    call_on(s, "GET", "/containers/", s->id, "/json", NULL, 0, 0, on_inspected,
            "inspecting the started container");
}

static void on_probed(void *data, const struct gm_fetch_response *resp)
{
    struct docker_server *s = data;
    s->probe = NULL;
    if (s->freed || s->op != DOCKER_OP_START)
        return;
    if (resp->status > 0 && resp->status < 500) {
        docker_start_done(s, 0, NULL);
        return;
    }
    step_inspect(s); /* not yet: still running? */
}

static void probe(struct docker_server *s)
{
    struct gm_buf u;
    gm_buf_init(&u, DOCKER_URL_MAX * 2);
    gm_buf_printf(&u, "%s%sapi", s->url, s->base_url);
    struct gm_fetch_request req = {
        .url = u.error ? NULL : u.data,
        .timeout_ms = PROBE_TIMEOUT_MS,
        .connect_timeout_ms = PROBE_TIMEOUT_MS,
        .max_response = 64 << 10,
    };
    int r = req.url ? gm_fetch_start(s->st->host->fetcher, &req, on_probed, s, &s->probe) : -E2BIG;
    gm_buf_free(&u);
    if (r < 0)
        fail(s, r, "Cannot check whether the server answers: %s", strerror(-r));
}

/* A container that stopped during the start: its log says why. */

static void on_logs(void *data, const struct docker_reply *r)
{
    struct docker_server *s = data;
    if (!still_starting(s))
        return;
    char tail[DOCKER_MESSAGE_MAX / 2] = "";
    if (r->status == 200)
        docker_log_tail(r->body, r->body_len, DOCKER_LOG_LINES, tail, sizeof(tail));
    char oom[128] = "";
    if (s->oom_killed)
        snprintf(oom, sizeof(oom), ", killed for using more memory than its limit (%lld bytes)",
                 (long long)s->mem_limit);
    if (tail[0])
        fail(s, -ECHILD,
             "Container %s exited with code %d while its server was starting%s. Last lines of "
             "its log:\n%s",
             s->name, s->exit_code, oom, tail);
    else
        fail(s, -ECHILD,
             "Container %s exited with code %d while its server was starting%s; its log is "
             "empty",
             s->name, s->exit_code, oom);
}

static void step_logs(struct docker_server *s)
{
    char suffix[64];
    snprintf(suffix, sizeof(suffix), "/logs?stdout=1&stderr=1&tail=%d", DOCKER_LOG_LINES);
    call_on(s, "GET", "/containers/", s->id, suffix, NULL, 0, LOGS_MAX_RESPONSE, on_logs,
            "reading the container's log");
}

/* The beginning. */

static void fail_early(void *data)
{
    struct docker_server *s = data;
    if (s->op != DOCKER_OP_START)
        return;
    char msg[DOCKER_MESSAGE_MAX];
    snprintf(msg, sizeof(msg), "%s", s->failure ? s->failure : "out of memory");
    docker_start_done(s, -EINVAL, msg);
}

static void begin(void *data)
{
    struct docker_server *s = data;
    if (s->op == DOCKER_OP_START)
        step_image(s);
}

/* The image to run: user_options["image"] if allowed_images lets the user choose (an alias
 * stands for its image), else DockerSpawner.image. */
static int choose_image(struct docker_server *s, const json_t *user_options, char *err,
                        size_t errlen)
{
    const struct docker_state *st = s->st;
    const char *want = json_string_value(json_object_get(user_options, "image"));
    const char *image = st->conf->image;
    if (want && want[0]) {
        if (!st->allowed) {
            snprintf(err, errlen,
                     "Choosing an image is not allowed here (DockerSpawner.allowed_images is "
                     "empty)");
            return -EINVAL;
        }
        if (json_is_string(st->allowed)) {
            image = want;
        } else if (json_object_get(st->allowed, want)) {
            image = json_string_value(json_object_get(st->allowed, want));
        } else {
            struct gm_buf list;
            gm_buf_init(&list, 400);
            const char *k;
            json_t *v;
            json_object_foreach(st->allowed, k, v)
            {
                gm_buf_printf(&list, "%s%s", list.len ? ", " : "", k);
            }
            const char *choices = list.error ? NULL : list.data ? list.data : "";
            snprintf(err, errlen, "Image '%.200s' is not allowed; choose one of: %s", want,
                     choices ? choices : "(too many to list)");
            gm_buf_free(&list);
            return -EINVAL;
        }
    }
    if (strlen(image) > DOCKER_NAME_MAX || strspn(image, IMAGE_REF_CHARS) != strlen(image)) {
        snprintf(err, errlen, "'%.200s' is not a valid image name", image);
        return -EINVAL;
    }
    s->image = strdup(image);
    return s->image ? 0 : -ENOMEM;
}

static int container_name(struct docker_server *s, char *err, size_t errlen)
{
    const struct docker_conf *c = s->st->conf;
    const char *tmpl = c->name_template[0] ? c->name_template
                       : s->server_name[0] ? "{prefix}-{username}--{servername}"
                                           : "{prefix}-{username}";
    struct names n;
    char *name = NULL;
    int r = names_init(&n, s);
    if (r == 0) {
        r = docker_render(tmpl, &n.ns, &name, NULL);
        names_free(&n);
    }
    if (r < 0) {
        snprintf(err, errlen, "DockerSpawner.name_template (%s) does not format", tmpl);
        return r;
    }
    /* Docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
    size_t len = strlen(name);
    bool ok =
        len >= 2 && len <= DOCKER_NAME_MAX &&
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == len &&
        name[0] != '_' && name[0] != '.' && name[0] != '-';
    if (!ok) {
        snprintf(err, errlen,
                 "The container name '%.100s' (DockerSpawner.name_template) is not valid for "
                 "Docker: letters, digits, _ . - only, starting with a letter or digit",
                 name);
        free(name);
        return -EINVAL;
    }
    free(s->name);
    s->name = name;
    return 0;
}

/* The command: DockerSpawner.cmd + Spawner.args; with cmd None, the image's command + args,
 * or nothing at all (the image decides) when there are no args. */
static int command_of(struct docker_server *s, const char *const *args)
{
    const json_t *cmd = s->st->conf->cmd;
    s->args = json_array();
    for (const char *const *a = args; a && *a && s->args; a++)
        if (json_array_append_new(s->args, json_string(*a)) < 0)
            return -ENOMEM;
    if (!s->args)
        return -ENOMEM;
    if (json_is_string(cmd)) {
        s->cmd = json_pack("[O]", cmd);
    } else if (json_is_array(cmd)) {
        s->cmd = json_deep_copy(cmd);
    } else if (json_array_size(s->args)) {
        s->need_image_cmd = true;
        return 0;
    } else {
        return 0;
    }
    if (!s->cmd)
        return -ENOMEM;
    json_array_extend(s->cmd, s->args);
    return 0;
}

/* DockerSpawner.auth_state_uid_key / auth_state_gid_key: the container's User. */
static int run_as_of(struct docker_server *s, const json_t *auth_state, char *err, size_t errlen)
{
    const struct docker_conf *c = s->st->conf;
    s->run_as[0] = '\0';
    if (!c->auth_state_uid_key[0])
        return 0;
    int64_t uid, gid = -1;
    int r = gm_spawner_id_from_auth_state(auth_state, c->auth_state_uid_key,
                                          "DockerSpawner.auth_state_uid_key", &uid, err, errlen);
    if (r == 0 && c->auth_state_gid_key[0])
        r = gm_spawner_id_from_auth_state(auth_state, c->auth_state_gid_key,
                                          "DockerSpawner.auth_state_gid_key", &gid, err, errlen);
    if (r < 0)
        return r;
    if (gid >= 0)
        snprintf(s->run_as, sizeof(s->run_as), "%lld:%lld", (long long)uid, (long long)gid);
    else
        snprintf(s->run_as, sizeof(s->run_as), "%lld", (long long)uid);
    return 0;
}

int docker_start(void *server, const struct gm_server_spec *spec,
                 const struct gm_spawn_progress *progress, gm_spawner_started_cb cb, void *data)
{
    struct docker_server *s = server;
    if (s->op != DOCKER_OP_NONE)
        return -EBUSY;
    clear_start(s);
    size_t n = 0;
    while (spec->env && spec->env[n])
        n++;
    s->env = calloc(n + 1, sizeof(*s->env));
    for (size_t i = 0; s->env && i < n; i++)
        if (!(s->env[i] = strdup(spec->env[i]))) {
            clear_start(s);
            return -ENOMEM;
        }
    s->ip = strdup(spec->ip ? spec->ip : "");
    s->base_url = strdup(spec->base_url ? spec->base_url : "/");
    if (!s->env || !s->ip || !s->base_url || command_of(s, spec->argv) < 0) {
        clear_start(s);
        return -ENOMEM;
    }
    s->port = spec->port;
    s->mem_limit = spec->mem_limit;
    s->cpu_limit = spec->cpu_limit;
    s->exit_code = 0;
    s->oom_killed = false;
    free(s->id);
    s->id = NULL;
    char err[DOCKER_MESSAGE_MAX] = "";
    int r = choose_image(s, spec->user_options, err, sizeof(err));
    if (r == 0)
        r = container_name(s, err, sizeof(err));
    if (r == 0)
        r = run_as_of(s, spec->auth_state, err, sizeof(err));
    if (r == -ENOMEM) {
        clear_start(s);
        return r;
    }
    if (r < 0 && !(s->failure = strdup(err))) {
        clear_start(s);
        return -ENOMEM;
    }
    /* Even the first Engine call starts from the loop, so that the progress events come after
     * the hub's "Server requested" and a stop may interrupt anything. */
    r = docker_server_defer(s, r < 0 ? fail_early : begin);
    if (r < 0) {
        clear_start(s);
        return r;
    }
    s->progress = progress;
    s->start_cb = cb;
    s->start_data = data;
    s->op = DOCKER_OP_START;
    gm_log_debug("Starting the server of '%s' in container %s from image %s", s->user,
                 s->name ? s->name : "?", s->image ? s->image : "?");
    return 0;
}
