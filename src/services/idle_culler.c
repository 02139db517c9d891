/* The idle culler (services/idle_culler.h), as jupyterhub-idle-culler 1.4 does it:
 *
 *   every --cull-every seconds: list the users (GET /users?state=ready, or all of them with
 *   --cull-users; paginated) → stop each ready server inactive for more than --timeout
 *   (its last_activity, or when it started) or older than --max-age (DELETE
 *   /users/{name}/server, or /servers/{name} with "remove" under --remove-named-servers), at
 *   most --concurrency at a time → with --cull-users, delete the users who have no server left
 *   and were inactive as long. --cull-admin-users=false leaves admins alone.
 *
 * It talks to the hub's REST API with the service's token (JUPYTERHUB_API_TOKEN), on the same
 * loop and fetcher as the hub. */
#include "services/idle_culler.h"

#include "loop/fetch.h"
#include "util/time.h"

#include <errno.h>
#include <ganymede/buf.h>
#include <ganymede/encode.h>
#include <ganymede/log.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define PAGE 200

struct culler {
    uv_loop_t *loop;
    struct gm_fetcher *fetcher;
    uv_timer_t timer;
    uv_signal_t sigterm, sigint;
    char url[1024];
    char auth[600];
    long timeout_s, every_s, max_age_s, concurrency;
    bool cull_users, remove_named, cull_admins;
    /* a pass */
    bool running;
    long offset;
    json_t *users; /* users listed in this pass */
    json_t *queue; /* [[method, path, body-or-null, what], ...] still to send */
    long in_flight;
    bool stopping;
};

static const char *const accept_headers[] = {"Accept: application/jupyterhub-pagination+json", NULL,
                                             NULL};

static void next_page(struct culler *c);
static void pump(struct culler *c);

static void pass_done(struct culler *c)
{
    json_decref(c->users);
    c->users = NULL;
    c->running = false;
}

static int64_t since(const json_t *obj, const char *key, int64_t now)
{
    int64_t t;
    const char *s = json_string_value(json_object_get(obj, key));
    return s && time_parse(s, &t) == 0 ? (now - t) / 1000000 : -1;
}

static void enqueue(struct culler *c, const char *method, const char *path, json_t *body,
                    const char *what)
{
    json_array_append_new(c->queue, json_pack("[s,s,o?,s]", method, path, body, what));
}

/* Decide what this pass culls, from the users listed. */
static void decide(struct culler *c)
{
    int64_t now = time_now_us();
    size_t i;
    json_t *u;
    json_array_foreach(c->users, i, u)
    {
        const char *name = json_string_value(json_object_get(u, "name"));
        if (!name || (json_is_true(json_object_get(u, "admin")) && !c->cull_admins))
            continue;
        struct gm_buf user_path;
        gm_buf_init(&user_path, 4096);
        gm_buf_puts(&user_path, "/users/");
        gm_url_encode(&user_path, name, NULL);
        const json_t *servers = json_object_get(u, "servers");
        size_t live = 0;
        const char *sname;
        json_t *s;
        json_object_foreach((json_t *)servers, sname, s)
        {
            live++;
            if (json_is_string(json_object_get(s, "pending")) ||
                !json_is_true(json_object_get(s, "ready")))
                continue;
            int64_t inactive = since(s, "last_activity", now);
            if (inactive < 0)
                inactive = since(s, "started", now);
            int64_t age = since(s, "started", now);
            bool idle = c->timeout_s && inactive > c->timeout_s;
            bool old = c->max_age_s && age > c->max_age_s;
            if (!idle && !old)
                continue;
            char what[700];
            snprintf(what, sizeof(what), "server %s/%s (%s %lld s)", name, sname,
                     idle ? "inactive for" : "running for", (long long)(idle ? inactive : age));
            struct gm_buf p;
            gm_buf_init(&p, 8192);
            gm_buf_puts(&p, user_path.data);
            if (sname[0]) {
                gm_buf_puts(&p, "/servers/");
                gm_url_encode(&p, sname, NULL);
            } else {
                gm_buf_puts(&p, "/server");
            }
            if (!p.error)
                enqueue(c, "DELETE", p.data,
                        sname[0] && c->remove_named ? json_pack("{s:b}", "remove", 1) : NULL, what);
            gm_buf_free(&p);
            live--;
        }
        int64_t user_inactive = since(u, "last_activity", now);
        if (c->cull_users && live == 0 && c->timeout_s && user_inactive > c->timeout_s &&
            !user_path.error) {
            char what[600];
            snprintf(what, sizeof(what), "user %s (inactive for %lld s)", name,
                     (long long)user_inactive);
            enqueue(c, "DELETE", user_path.data, NULL, what);
        }
        gm_buf_free(&user_path);
    }
}

static void on_deleted(void *data, const struct gm_fetch_response *resp)
{
    char **ctx = data;
    struct culler *c = (struct culler *)ctx[0];
    char *what = ctx[1];
    if (resp->status >= 200 && resp->status < 300)
        gm_log_info("Culled %s", what);
    else if (resp->status != 404)
        gm_log_warn("Culling %s failed: %s (HTTP %d)", what,
                    resp->error ? resp->message : (resp->body ? resp->body : ""), resp->status);
    free(what);
    free(ctx);
    c->in_flight--;
    pump(c);
}

static void pump(struct culler *c)
{
    while (!c->stopping && c->in_flight < c->concurrency && json_array_size(c->queue)) {
        json_t *job = json_incref(json_array_get(c->queue, 0));
        json_array_remove(c->queue, 0);
        char url[8192];
        snprintf(url, sizeof(url), "%s%s", c->url, json_string_value(json_array_get(job, 1)));
        const json_t *body = json_array_get(job, 2);
        char *text = json_is_object(body) ? json_dumps(body, JSON_COMPACT) : NULL;
        const char *headers[] = {c->auth, "Content-Type: application/json", NULL};
        struct gm_fetch_request req = {.method = json_string_value(json_array_get(job, 0)),
                                       .url = url,
                                       .headers = headers,
                                       .body = text,
                                       .body_len = text ? strlen(text) : 0,
                                       .timeout_ms = 60000};
        char **ctx = calloc(2, sizeof(*ctx));
        if (ctx) {
            ctx[0] = (char *)c;
            ctx[1] = strdup(json_string_value(json_array_get(job, 3)));
        }
        gm_log_info("Culling %s", json_string_value(json_array_get(job, 3)));
        if (ctx && ctx[1] && gm_fetch_start(c->fetcher, &req, on_deleted, ctx, NULL) == 0) {
            c->in_flight++;
        } else {
            gm_log_warn("Cannot cull %s", json_string_value(json_array_get(job, 3)));
            if (ctx)
                free(ctx[1]);
            free(ctx);
        }
        free(text);
        json_decref(job);
    }
    if (c->running && !c->in_flight && !json_array_size(c->queue))
        pass_done(c);
}

static void on_page(void *data, const struct gm_fetch_response *resp)
{
    struct culler *c = data;
    json_t *page = resp->status == 200 ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
    const json_t *items = json_is_array(page) ? page : json_object_get(page, "items");
    if (!json_is_array(items)) {
        gm_log_warn("Listing the users at %s failed: %s (HTTP %d)", c->url,
                    resp->error ? resp->message : (resp->body ? resp->body : ""), resp->status);
        json_decref(page);
        pass_done(c);
        return;
    }
    json_array_extend(c->users, (json_t *)items);
    const json_t *next = json_object_get(json_object_get(page, "_pagination"), "next");
    bool more = json_is_object(next) && json_array_size(items) > 0;
    c->offset = more ? (long)json_integer_value(json_object_get(next, "offset")) : 0;
    json_decref(page);
    if (more) {
        next_page(c);
        return;
    }
    decide(c);
    pump(c);
}

static void next_page(struct culler *c)
{
    char url[2048];
    snprintf(url, sizeof(url), "%s/users?%soffset=%ld&limit=%d", c->url,
             c->cull_users ? "" : "state=ready&", c->offset, PAGE);
    const char *headers[] = {accept_headers[0], c->auth, NULL};
    struct gm_fetch_request req = {
        .url = url, .headers = headers, .timeout_ms = 60000, .max_response = 64 << 20};
    if (gm_fetch_start(c->fetcher, &req, on_page, c, NULL) < 0) {
        gm_log_warn("Cannot list the users at %s", c->url);
        pass_done(c);
    }
}

static void on_timer(uv_timer_t *t)
{
    struct culler *c = t->data;
    if (c->running || c->stopping)
        return;
    c->running = true;
    c->offset = 0;
    c->users = json_array();
    next_page(c);
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    struct culler *c = s->data;
    c->stopping = true;
    uv_timer_stop(&c->timer);
    uv_signal_stop(&c->sigterm);
    uv_signal_stop(&c->sigint);
    uv_close((uv_handle_t *)&c->timer, NULL);
    uv_close((uv_handle_t *)&c->sigterm, NULL);
    uv_close((uv_handle_t *)&c->sigint, NULL);
    loop_fetch_destroy(c->fetcher);
    c->fetcher = NULL;
}

static bool flag(const char *a, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return false;
    if (a[n] == '=') {
        *value = a + n + 1;
        return true;
    }
    if (a[n] == '\0') {
        *value = NULL;
        return true;
    }
    return false;
}

static bool truth(const char *v)
{
    return !v || strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "1") == 0;
}

static bool number(const char *v, long *ret)
{
    char *end;
    long n = v ? strtol(v, &end, 10) : -1;
    if (!v || !*v || *end || n < 0 || n > 100000000)
        return false;
    *ret = n;
    return true;
}

int idle_culler_main(int argc, char **argv)
{
    struct culler c = {.timeout_s = 600, .concurrency = 10, .cull_admins = true};
    /* As jupyterhub-idle-culler: the hub's API as a service is told it, unless --url says. */
    const char *api_url = getenv("JUPYTERHUB_API_URL");
    snprintf(c.url, sizeof(c.url), "%s",
             api_url && api_url[0] ? api_url : "http://localhost:8081/hub/api");
    long every = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        bool ok = true;
        if (flag(a, "--url", &v) && v)
            snprintf(c.url, sizeof(c.url), "%s", v);
        else if (flag(a, "--timeout", &v))
            ok = number(v, &c.timeout_s);
        else if (flag(a, "--cull-every", &v))
            ok = number(v, &every);
        else if (flag(a, "--max-age", &v))
            ok = number(v, &c.max_age_s);
        else if (flag(a, "--concurrency", &v))
            ok = number(v, &c.concurrency) && c.concurrency > 0;
        else if (flag(a, "--cull-users", &v))
            c.cull_users = truth(v);
        else if (flag(a, "--remove-named-servers", &v))
            c.remove_named = truth(v);
        else if (flag(a, "--cull-admin-users", &v))
            c.cull_admins = truth(v);
        else if (flag(a, "--api-page-size", &v) || flag(a, "--ssl-enabled", &v) ||
                 flag(a, "--internal-certs-location", &v))
            continue; /* accepted: pages are PAGE users; the hub's API is plain HTTP here */
        else
            ok = false;
        if (!ok) {
            fprintf(stderr,
                    "ganymede idle-culler: bad argument '%s' (flags: --url, --timeout, "
                    "--cull-every, --max-age, --concurrency, --cull-users, "
                    "--remove-named-servers, --cull-admin-users)\n",
                    a);
            return 2;
        }
    }
    size_t ul = strlen(c.url);
    while (ul && c.url[ul - 1] == '/')
        c.url[--ul] = '\0';
    c.every_s = every > 0 ? every : (c.timeout_s / 2 > 0 ? c.timeout_s / 2 : 1);
    const char *token = getenv("JUPYTERHUB_API_TOKEN");
    if (!token || !token[0]) {
        fprintf(stderr, "ganymede idle-culler: JUPYTERHUB_API_TOKEN is not set (run it as a "
                        "hub service)\n");
        return 2;
    }
    snprintf(c.auth, sizeof(c.auth), "Authorization: token %.500s", token);
    signal(SIGPIPE, SIG_IGN);
    c.loop = uv_default_loop();
    c.queue = json_array();
    if (loop_fetch_create(c.loop, &c.fetcher) < 0 || !c.queue)
        return 1;
    uv_timer_init(c.loop, &c.timer);
    c.timer.data = &c;
    uv_signal_init(c.loop, &c.sigterm);
    uv_signal_init(c.loop, &c.sigint);
    c.sigterm.data = c.sigint.data = &c;
    uv_signal_start(&c.sigterm, on_signal, SIGTERM);
    uv_signal_start(&c.sigint, on_signal, SIGINT);
    gm_log_info("Culling servers inactive for %ld s every %ld s at %s%s%s", c.timeout_s, c.every_s,
                c.url, c.cull_users ? ", and users" : "", c.cull_admins ? "" : " (not admins)");
    uv_timer_start(&c.timer, on_timer, 0, (uint64_t)c.every_s * 1000);
    uv_run(c.loop, UV_RUN_DEFAULT);
    json_decref(c.queue);
    json_decref(c.users);
    uv_loop_close(c.loop);
    return 0;
}
