/* The pages around starting a server (JupyterHub's SpawnHandler, SpawnPendingHandler,
 * UserUrlHandler, UserRedirectHandler and ProxyErrorHandler): the options form, the progress
 * page, the page for a server that is not running (never a redirect loop), and the error pages
 * the proxy shows. */
#include "api/api.h"
#include "auth/rbac.h"
#include "auth/session.h"
#include "core/errors.h"
#include "core/hub.h"
#include "pages/pages.h"
#include "spawn/requests.h"
#include <ganymede/buf.h>
#include <ganymede/encode.h>
#include "util/str.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IMMEDIATE_FAILURE_MS 1000 /* how long a spawn request waits for quick errors */
#define REDIRECT_LIMIT       4    /* JupyterHub's user_redirect_limit */

/* URLs. */

static char *server_url(struct hub *hub, const struct hub_spawner *sp)
{
    struct gm_buf b;
    gm_buf_init(&b, 8192);
    api_server_url(hub, &b, sp->user->name, sp->name);
    return gm_buf_steal(&b);
}

/* /hub/<page>/<user>[/<server>] with an optional query. */
static char *user_page_url(struct hub *hub, const char *page, const char *user, const char *server,
                           const char *query)
{
    struct gm_buf b;
    gm_buf_init(&b, 16384);
    gm_buf_printf(&b, "%s%s/", hub->hub_prefix, page);
    gm_url_encode(&b, user, "@~");
    if (server && server[0]) {
        gm_buf_putc(&b, '/');
        gm_url_encode(&b, server, "@~");
    }
    if (query && query[0])
        gm_buf_printf(&b, "?%s", query);
    return gm_buf_steal(&b);
}

/* "next=<encoded>" for a query string, or "" when there is no valid next. */
static char *next_query(struct http_request *req, const char *next)
{
    struct gm_buf b;
    gm_buf_init(&b, 16384);
    if (next) {
        gm_buf_puts(&b, "next=");
        gm_url_encode(&b, next, "");
    }
    char *s = gm_buf_steal(&b);
    return s ? s : str_dup("");
}

static const char *valid_next(struct http_request *req)
{
    const char *next = http_query(req, "next");
    return next && next[0] ? page_valid_next(req, next) : NULL;
}

/* Who and which server a spawn URL is about, with the permission check of JupyterHub: the
 * caller needs the `servers` scope on the server (admins have it for everyone). */
static struct hub_user *target_user(struct http_request *req, struct hub_user *me,
                                    const char **server)
{
    struct hub *hub = req->hub;
    const char *name = req->params[0] ? req->params[0] : me->name;
    *server = req->params[1] ? req->params[1] : "";
    if (!req->params[1] && hub->conf.allow_named_servers && hub->conf.default_server_name[0])
        *server = hub->conf.default_server_name;
    char full[1024];
    snprintf(full, sizeof(full), "%s/%s", name, *server);
    if (strcmp(name, me->name) != 0 && API_NEED(req, SCOPE_KIND_SERVER, full, SCOPE_SERVERS) < 0)
        return NULL;
    struct hub_user *u = store_user_find(&hub->store, name);
    if (!u)
        http_error(req, 404, "No such user: %s", name);
    return u;
}

/* The options form: the spawner's own, or Spawner.options_form. NULL when there is none. */
static char *options_form(struct hub *hub, struct hub_user *u)
{
    const struct gm_spawner *s = hub->spawn->plugin;
    if (s->options_form) {
        const char **groups = store_user_group_names(u);
        char *form = groups ? s->options_form(hub->spawn->plugin_state, u->name, groups) : NULL;
        free(groups);
        if (form)
            return form;
    }
    return hub->spawn->conf.options_form[0] ? str_dup(hub->spawn->conf.options_form) : NULL;
}

static int render_form(struct http_request *req, struct hub_user *me, struct hub_user *u,
                       const char *server, char *form, const char *error, int status)
{
    json_t *ctx = page_context(req, me);
    if (!ctx) {
        free(form);
        return -ENOMEM;
    }
    char *url = user_page_url(req->hub, "spawn", u->name, server, req->query);
    json_object_set_new(ctx, "url", json_string(url ? url : ""));
    free(url);
    json_object_set_new(ctx, "spawner_options_form", json_string(form ? form : ""));
    free(form);
    if (u != me)
        json_object_set_new(ctx, "for_user", json_string(u->name));
    if (error)
        json_object_set_new(ctx, "error_message", json_string(error));
    json_object_set_new(ctx, "title", json_string("Server Options"));
    return page_respond(req, status, "spawn.html", ctx);
}

/* After a start: go to the server if it became ready at once, show a quick failure, or follow
 * the progress on the spawn-pending page. */
static void after_start(struct http_request *req, struct hub_spawner *sp, enum spawn_wait_result r,
                        const char *msg)
{
    struct hub *hub = req->hub;
    const char *next = valid_next(req);
    if (r == SPAWN_WAIT_READY) {
        char *url = server_url(hub, sp);
        http_redirect(req, 302, next ? next : url ? url : "/");
        free(url);
        return;
    }
    char *nq = next_query(req, next);
    char *pending = user_page_url(hub, "spawn-pending", sp->user->name, sp->name, nq);
    free(nq);
    if (r == SPAWN_WAIT_FAILED)
        gm_log_info("Start of %s's server failed at once: %s", sp->user->name, msg ? msg : "");
    http_redirect(req, 302, pending ? pending : "/");
    free(pending);
}

static int start_and_wait(struct http_request *req, struct hub_spawner *sp, json_t *options)
{
    char err[512];
    int r = spawn_start(req->hub, sp, options, err, sizeof(err));
    if (r == -EAGAIN || r == -EUSERS) {
        http_set_header(req, "Retry-After", "30");
        return http_error(req, 429, "%s", err);
    }
    if (r < 0)
        return http_error(req, r == -EALREADY || r == -EBUSY ? 400 : 500, "%s", err);
    if (spawn_state(sp) != SPAWN_STARTING) {
        after_start(req, sp, spawn_ready(sp) ? SPAWN_WAIT_READY : SPAWN_WAIT_FAILED, NULL);
        return 0;
    }
    return spawn_wait(req, sp, IMMEDIATE_FAILURE_MS, after_start);
}

/* user_options from query arguments or a form: {field: [values]}, as JupyterHub's default
 * options_from_form; the spawner may turn it into something else. */
static int collect_options(struct http_request *req, struct http_query_param *params, json_t **ret,
                           char *err, size_t errlen)
{
    json_t *form = json_object();
    if (!form)
        return -ENOMEM;
    for (struct http_query_param *p = params; p; p = p->next) {
        if (strcmp(p->name, "_xsrf") == 0 || strcmp(p->name, "next") == 0)
            continue;
        json_t *list = json_object_get(form, p->name);
        if (!list) {
            list = json_array();
            json_object_set_new(form, p->name, list);
        }
        json_array_append_new(list, json_string(p->value));
    }
    const struct gm_spawner *s = req->hub->spawn->plugin;
    if (s->options_from_form) {
        json_t *opts = NULL;
        int r = s->options_from_form(req->hub->spawn->plugin_state, form, &opts, err, errlen);
        json_decref(form);
        if (r < 0)
            return r;
        *ret = opts;
        return 0;
    }
    *ret = form;
    return 0;
}

int page_spawn(struct http_request *req)
{
    struct hub *hub = req->hub;
    struct hub_user *me = page_require_user(req);
    if (!me)
        return 0;
    const char *server;
    struct hub_user *u = target_user(req, me, &server);
    if (!u)
        return 0;
    char err[512];
    int status;
    struct hub_spawner *sp = store_spawner_find(u, server);
    if (!sp && !(sp = spawn_find_for_start(hub, u, server, &status, err, sizeof(err))))
        return http_error(req, status, "%s", err);
    const char *next = valid_next(req);
    enum spawn_state state = spawn_state(sp);
    if (state == SPAWN_READY) {
        char *url = server_url(hub, sp);
        int r = http_redirect(req, 302, next ? next : url ? url : "/");
        free(url);
        return r;
    }
    if (state != SPAWN_IDLE) {
        char *nq = next_query(req, next);
        char *pending = user_page_url(hub, "spawn-pending", u->name, sp->name, nq);
        free(nq);
        int r = http_redirect(req, 302, pending ? pending : "/");
        free(pending);
        return r;
    }
    /* Options in the query (other than next) start the server with them. */
    http_query(req, "next");
    bool has_options = false;
    for (struct http_query_param *p = req->query_params; p && !has_options; p = p->next)
        has_options = strcmp(p->name, "next") != 0 && strcmp(p->name, "_xsrf") != 0;
    if (has_options) {
        json_t *options = NULL;
        int r = collect_options(req, req->query_params, &options, err, sizeof(err));
        if (r < 0)
            return http_error(req, 400, "%s", r == -ENOMEM ? "out of memory" : err);
        return start_and_wait(req, sp, options);
    }
    char *form = options_form(hub, u);
    if (form)
        return render_form(req, me, u, sp->name, form, NULL, 200);
    return start_and_wait(req, sp, NULL);
}

int page_spawn_post(struct http_request *req)
{
    struct hub *hub = req->hub;
    struct hub_user *me = page_user(req);
    if (!me)
        return http_error(req, 403, "You are not logged in");
    const char *why = NULL;
    if (!auth_xsrf_check(req, me, &why))
        return http_error(req, 403, "%s", why);
    const char *server;
    struct hub_user *u = target_user(req, me, &server);
    if (!u)
        return 0;
    char err[512];
    int status;
    struct hub_spawner *sp = store_spawner_find(u, server);
    if (!sp && !(sp = spawn_find_for_start(hub, u, server, &status, err, sizeof(err))))
        return http_error(req, status, "%s", err);
    if (spawn_state(sp) != SPAWN_IDLE)
        return http_error(req, 400, "%s's server%s%s is already %s", u->name,
                          sp->name[0] ? " " : "", sp->name,
                          spawn_ready(sp) ? "running" : "pending");
    http_form(req, "_xsrf");
    json_t *options = NULL;
    int r = collect_options(req, req->form_params, &options, err, sizeof(err));
    if (r == -ENOMEM)
        return r;
    if (r < 0)
        return render_form(req, me, u, sp->name, options_form(hub, u), err, 400);
    return start_and_wait(req, sp, options);
}

/* spawn-pending and not-running. */

static int not_running(struct http_request *req, struct hub_user *me, struct hub_spawner *sp,
                       int status, const char *failure, const char *next)
{
    struct hub *hub = req->hub;
    json_t *ctx = page_context(req, me);
    if (!ctx)
        return -ENOMEM;
    char *nq = next_query(req, next);
    char *spawn = user_page_url(hub, "spawn", sp->user->name, sp->name, nq);
    free(nq);
    json_object_set_new(ctx, "spawn_url", json_string(spawn ? spawn : ""));
    json_object_set_new(ctx, "spawn_url_js", json_string(spawn ? spawn : ""));
    free(spawn);
    char desc[600];
    if (sp->user == me)
        snprintf(desc, sizeof(desc), "Your server%s%s", sp->name[0] ? " " : "", sp->name);
    else
        snprintf(desc, sizeof(desc), "The server%s%s of %s", sp->name[0] ? " " : "", sp->name,
                 sp->user->name);
    json_object_set_new(ctx, "server_description", json_string(desc));
    json_object_set_new(ctx, "server_name", json_string(sp->name));
    if (failure) {
        json_object_set_new(ctx, "failed", json_true());
        json_object_set_new(ctx, "failed_message", json_string(failure));
    } else if (hub->conf.implicit_spawn_seconds > 0) {
        json_object_set_new(ctx, "implicit_spawn_seconds",
                            json_real(hub->conf.implicit_spawn_seconds));
    }
    json_object_set_new(ctx, "title", json_string(failure ? "Spawn failed" : "Not running"));
    return page_respond(req, status, "not_running.html", ctx);
}

int page_spawn_pending(struct http_request *req)
{
    struct hub *hub = req->hub;
    struct hub_user *me = page_require_user(req);
    if (!me)
        return 0;
    const char *server;
    struct hub_user *u = target_user(req, me, &server);
    if (!u)
        return 0;
    struct hub_spawner *sp = store_spawner_find(u, server);
    if (!sp)
        return http_error(req, 404, "%s has no server named '%s'", u->name, server);
    const char *next = valid_next(req);
    enum spawn_state state = spawn_state(sp);
    if (state == SPAWN_READY) {
        char *url = server_url(hub, sp);
        int r = http_redirect(req, 302, next ? next : url ? url : "/");
        free(url);
        return r;
    }
    if (state == SPAWN_IDLE) {
        int status = 200;
        const char *failure = spawn_failure(sp, &status);
        return not_running(req, me, sp, failure ? status : 200, failure, next);
    }
    json_t *ctx = page_context(req, me);
    if (!ctx)
        return -ENOMEM;
    if (state == SPAWN_STOPPING) {
        json_object_set_new(ctx, "title", json_string("Stopping"));
        return page_respond(req, 200, "stop_pending.html", ctx);
    }
    struct gm_buf progress;
    gm_buf_init(&progress, 16384);
    gm_buf_printf(&progress, "%sapi/users/", hub->hub_prefix);
    gm_url_encode(&progress, u->name, "@~");
    if (sp->name[0]) {
        gm_buf_puts(&progress, "/servers/");
        gm_url_encode(&progress, sp->name, "@~");
        gm_buf_puts(&progress, "/progress");
    } else {
        gm_buf_puts(&progress, "/server/progress");
    }
    json_object_set_new(ctx, "progress_url", json_string(progress.data ? progress.data : ""));
    gm_buf_free(&progress);
    json_object_set_new(ctx, "next_url", json_string(next ? next : ""));
    char *spawn = user_page_url(hub, "spawn", u->name, sp->name, NULL);
    json_object_set_new(ctx, "spawn_url", json_string(spawn ? spawn : ""));
    free(spawn);
    json_object_set_new(ctx, "scripts", json_pack("[s]", "spawn_pending.js"));
    json_object_set_new(ctx, "title", json_string("Starting"));
    return page_respond(req, 200, "spawn_pending.html", ctx);
}

/* /hub/user/<name>[/<server>]/<path>: the proxy had no route for /user/..., so the default
 * route brought the request to the hub. */

static bool wants_json(struct http_request *req, const char *rest)
{
    const char *accept = http_header(req, "Accept");
    if (accept && strcasestr(accept, "application/json"))
        return true;
    /* An "api" path segment: a client of the server's API, not a browser. */
    for (const char *p = rest; p && *p;) {
        size_t n = strcspn(p, "/");
        if (n == 3 && strncmp(p, "api", 3) == 0)
            return true;
        p += n;
        if (*p == '/')
            p++;
    }
    return false;
}

static void on_redirect_timeout(struct http_request *req)
{
    const char *location = req->wait_data;
    http_redirect(req, 302, location);
}

int page_user_url(struct http_request *req)
{
    struct hub *hub = req->hub;
    const char *name = req->params[0];
    const char *rest = req->params[1] ? req->params[1] : "";
    struct hub_user *u = store_user_find(&hub->store, name);
    /* The server: the first path segment if it names one of the user's servers. */
    struct hub_spawner *sp = NULL;
    const char *path_in_server = rest;
    if (u && hub->conf.allow_named_servers) {
        size_t n = strcspn(rest, "/");
        char seg[256];
        if (n && n < sizeof(seg)) {
            char raw[256];
            memcpy(raw, rest, n);
            raw[n] = '\0';
            if (gm_url_decode(raw, n, seg, sizeof(seg), false) >= 0) {
                sp = store_spawner_find(u, seg);
                if (sp)
                    path_in_server = rest[n] ? rest + n + 1 : "";
            }
        }
    }
    if (u && !sp)
        sp = store_spawner_find(u, "");
    char original[16384];
    snprintf(original, sizeof(original), "%suser/%s", hub->base_url,
             req->path + strlen(hub->hub_prefix) + strlen("user/"));
    if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
        return http_respond_json(req, 424,
                                 json_pack("{s:i,s:s+}", "status", 424, "message",
                                           "JupyterHub server no longer running at ", original));
    }
    const struct auth_identity *id = auth_identify(req);
    if (!id) {
        struct hub_user *me = page_require_user(req);
        (void)me;
        return 0;
    }
    char full[1024];
    snprintf(full, sizeof(full), "%s/%s", name, sp ? sp->name : "");
    struct scope_membership m = rbac_membership(&hub->store);
    if (!u || !scope_has(id->scopes, SCOPE_ACCESS_SERVERS, SCOPE_KIND_SERVER, full, false, &m))
        return http_error(req, 404, "No access to %s", original);
    (void)path_in_server;
    enum spawn_state state = sp ? spawn_state(sp) : SPAWN_IDLE;
    if (state == SPAWN_READY) {
        /* The proxy lags behind the hub: send the browser back, a bounded number of times. */
        const char *n_arg = http_query(req, "redirects");
        int64_t n = 0;
        if (n_arg && str_to_int64(n_arg, &n) < 0)
            n = 0;
        if (n >= REDIRECT_LIMIT)
            return http_error(req, 500, "Redirect loop detected.");
        struct gm_buf loc;
        gm_buf_init(&loc, 16384);
        gm_buf_puts(&loc, original);
        gm_buf_putc(&loc, '?');
        bool first = true;
        for (const char *p = req->query; *p;) {
            size_t k = strcspn(p, "&");
            if (k && !(k >= 9 && strncmp(p, "redirects", 9) == 0 && (k == 9 || p[9] == '='))) {
                gm_buf_printf(&loc, "%s%.*s", first ? "" : "&", (int)k, p);
                first = false;
            }
            p += k;
            if (*p == '&')
                p++;
        }
        gm_buf_printf(&loc, "%sredirects=%lld", first ? "" : "&", (long long)(n + 1));
        char *location = arena_strdup(&req->arena, loc.data ? loc.data : original);
        gm_buf_free(&loc);
        if (n == 0 || !location)
            return http_redirect(req, 302, location ? location : original);
        /* Give the proxy time before the next try: min(2**n, 10) s, without blocking. */
        uint64_t delay = n >= 4 ? 10000 : (1u << n) * 1000;
        req->wait_data = location;
        req->on_timeout = on_redirect_timeout;
        int r = http_suspend(req, delay);
        return r < 0 ? http_redirect(req, 302, location) : HTTP_SUSPENDED;
    }
    if (wants_json(req, rest)) {
        char *spawn = user_page_url(hub, "spawn", name, sp ? sp->name : "", NULL);
        json_t *body = json_pack("{s:i,s:s++}", "status", 424, "message",
                                 "JupyterHub server no longer running at ", original,
                                 ". Restart the server at ");
        json_t *msg = json_sprintf("%s%s", json_string_value(json_object_get(body, "message")),
                                   spawn ? spawn : "");
        free(spawn);
        if (body && msg)
            json_object_set_new(body, "message", msg);
        else
            json_decref(msg);
        return http_respond_json(req, 424, body);
    }
    struct hub_user *me = id->user;
    if (!me)
        return http_error(req, 424, "The server at %s is not running", original);
    char *uri = arena_printf(&req->arena, "%s%s%s", original, req->query[0] ? "?" : "", req->query);
    if (!uri)
        return -ENOMEM;
    if (sp && (state != SPAWN_IDLE || spawn_failure(sp, NULL))) {
        char *nq = next_query(req, uri);
        char *pending = user_page_url(hub, "spawn-pending", name, sp->name, nq);
        free(nq);
        int r = http_redirect(req, 303, pending ? pending : "/");
        free(pending);
        return r;
    }
    if (!sp) {
        /* A user without a server row yet: the page offers to start the default one. */
        char err[256];
        int status;
        sp = spawn_find_for_start(hub, u, "", &status, err, sizeof(err));
        if (!sp)
            return http_error(req, status, "%s", err);
    }
    return not_running(req, me, sp, 424, NULL, uri);
}

/* /hub/user-redirect/<path>: the same path on the caller's own server. */
int page_user_redirect(struct http_request *req)
{
    struct hub *hub = req->hub;
    struct hub_user *me = page_require_user(req);
    if (!me)
        return 0;
    const char *rest = req->params[0] ? req->params[0] : "";
    const char *server = hub->conf.allow_named_servers ? hub->conf.default_server_name : "";
    struct gm_buf next;
    gm_buf_init(&next, 16384);
    gm_buf_printf(&next, "%suser/", hub->base_url);
    gm_url_encode(&next, me->name, "@~");
    gm_buf_putc(&next, '/');
    if (server[0]) {
        gm_url_encode(&next, server, "@~");
        gm_buf_putc(&next, '/');
    }
    gm_buf_puts(&next, rest);
    if (req->query[0])
        gm_buf_printf(&next, "?%s", req->query);
    char *nq = next_query(req, next.data ? next.data : "");
    gm_buf_free(&next);
    char *spawn = user_page_url(hub, "spawn", me->name, server, nq);
    free(nq);
    int r = http_redirect(req, 302, spawn ? spawn : "/");
    free(spawn);
    return r;
}

/* /hub/error/<code>: the page configurable-http-proxy shows for 404 (no route) and 503 (the
 * server does not answer). Answered with 200: the proxy sets the status itself. */
int page_proxy_error(struct http_request *req)
{
    int64_t code = 0;
    if (str_to_int64(req->params[0], &code) < 0 || code < 400 || code > 599)
        code = 500;
    struct hub_user *u = page_user(req);
    json_t *ctx = page_context(req, u);
    if (!ctx)
        return -ENOMEM;
    json_object_set_new(ctx, "status_code", json_integer(code));
    json_object_set_new(ctx, "status_message", json_string(errors_http_reason((int)code)));
    if (code == 503) {
        json_object_set_new(ctx, "message",
                            json_string("Your server appears to be down. Try restarting it "
                                        "from the hub."));
    } else if (code == 404) {
        json_object_set_new(ctx, "message", json_string("Nothing is served at this address."));
    }
    json_object_set_new(ctx, "title", json_sprintf("%lld", (long long)code));
    return page_respond(req, 200, "error.html", ctx);
}
