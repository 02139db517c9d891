/* What every page shares: the template context JupyterHub's templates know (base_url, prefix,
 * user, xsrf, login_url, ...), rendering inside page.html, error pages, the login redirect of
 * pages that need a user, and the validation of `next` redirects. */
#include "pages/pages.h"
#include "api/api.h"
#include "auth/identity.h"
#include "auth/session.h"
#include "core/errors.h"
#include "core/hub.h"
#include "pages/template.h"
#include "util/str.h"
#include "version.h"

#include <ctype.h>
#include <errno.h>
#include <ganymede/encode.h>
#include <ganymede/log.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

json_t *page_context(struct http_request *req, struct hub_user *u)
{
    struct hub *hub = req->hub;
    json_t *ctx = json_object();
    if (!ctx)
        return NULL;
    /* Administrators' template_vars first, so that the hub's own values win. */
    if (json_is_object(hub->conf.template_vars))
        json_object_update(ctx, hub->conf.template_vars);
    json_object_set_new(ctx, "base_url", json_string(hub->hub_prefix));
    json_object_set_new(ctx, "prefix", json_string(hub->base_url));
    json_object_set_new(ctx, "logo_url", json_string(hub->base_url));
    json_object_set_new(ctx, "static_url", json_sprintf("%sstatic/", hub->hub_prefix));
    json_object_set_new(ctx, "static_version", json_string(hub->static_version));
    json_object_set_new(ctx, "login_url", json_sprintf("%slogin", hub->hub_prefix));
    json_object_set_new(ctx, "logout_url", json_sprintf("%slogout", hub->hub_prefix));
    json_object_set_new(ctx, "version", json_string(HUB_JUPYTERHUB_VERSION));
    json_object_set_new(ctx, "ganymede_version", json_string(GANYMEDE_VERSION));
    json_object_set_new(ctx, "show_login", json_boolean(hub->authenticator->authenticate));
    if (u) {
        json_object_set_new(ctx, "user",
                            json_pack("{s:s,s:b}", "name", u->name, "admin", u->admin));
        const struct auth_identity *id = auth_identify(req);
        if (id && scope_set_holds(id->scopes, SCOPE_ADMIN_UI))
            json_object_set_new(ctx, "admin_ui", json_true());
    }
    const char *xsrf = auth_xsrf_token(req, u);
    json_object_set_new(ctx, "xsrf", json_string(xsrf));
    json_object_set_new(ctx, "xsrf_token", json_string(xsrf));
    return ctx;
}

int page_respond(struct http_request *req, int status, const char *name, json_t *ctx)
{
    struct hub *hub = req->hub;
    struct gm_buf main;
    gm_buf_init(&main, 4 << 20);
    char err[512] = "";
    int r = page_render(hub->templates, name, ctx, &main, err, sizeof(err));
    if (r == 0) {
        json_object_set_new(ctx, "main", json_stringn(main.data ? main.data : "", main.len));
        gm_buf_free(&main);
        gm_buf_init(&main, 4 << 20);
        r = page_render(hub->templates, "page.html", ctx, &main, err, sizeof(err));
    }
    json_decref(ctx);
    if (r < 0) {
        gm_buf_free(&main);
        gm_log_error("Cannot render %s: %s", name, err);
        /* A plain page still tells the user something went wrong. */
        return http_respond(req, 500, "text/html; charset=UTF-8",
                            "<!DOCTYPE html><title>500</title><h1>500: the page could not be "
                            "rendered</h1>",
                            80);
    }
    size_t len = main.len;
    http_set_header(req, "Cache-Control", "no-store");
    return http_respond_owned(req, status, "text/html; charset=UTF-8", gm_buf_steal(&main), len);
}

char *page_render_error(struct http_request *req, int status, const char *message)
{
    struct hub *hub = req->hub;
    if (!hub || !hub->templates)
        return NULL;
    /* Signed-in users keep their navigation bar on error pages, as in JupyterHub. */
    json_t *ctx = page_context(req, page_user(req));
    if (!ctx)
        return NULL;
    json_object_set_new(ctx, "status_code", json_integer(status));
    json_object_set_new(ctx, "status_message", json_string(errors_http_reason(status)));
    json_object_set_new(ctx, "message", json_string(message));
    json_object_set_new(ctx, "title", json_sprintf("%d", status));
    struct gm_buf main;
    gm_buf_init(&main, 4 << 20);
    char err[256] = "";
    int r = page_render(hub->templates, "error.html", ctx, &main, err, sizeof(err));
    if (r == 0) {
        json_object_set_new(ctx, "main", json_stringn(main.data ? main.data : "", main.len));
        gm_buf_reset(&main);
        r = page_render(hub->templates, "page.html", ctx, &main, err, sizeof(err));
    }
    json_decref(ctx);
    if (r < 0) {
        gm_buf_free(&main);
        return NULL;
    }
    return gm_buf_steal(&main);
}

struct hub_user *page_user(struct http_request *req)
{
    const struct auth_identity *id = auth_identify(req);
    return id ? id->user : NULL;
}

struct hub_user *page_require_user(struct http_request *req)
{
    struct hub_user *u = page_user(req);
    if (u)
        return u;
    struct gm_buf b;
    gm_buf_init(&b, 64 << 10);
    gm_buf_printf(&b, "%slogin?next=", req->hub->hub_prefix);
    gm_url_encode(&b, req->uri, "");
    http_redirect(req, 302, b.data ? b.data : "/");
    gm_buf_free(&b);
    return NULL;
}

/* `next` may only lead within the hub's own origin (JupyterHub's _validate_next_url, plus
 * control characters, which browsers drop before following a redirect). */
const char *page_valid_next(struct http_request *req, const char *next)
{
    if (!next || !next[0] || strlen(next) > 4096)
        return NULL;
    struct gm_buf b;
    gm_buf_init(&b, 16384);
    for (const char *p = next; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            gm_buf_free(&b);
            gm_log_warn("Disallowing redirect with control characters");
            return NULL;
        }
        if (*p == '\\')
            gm_buf_puts(&b, "%5C");
        else
            gm_buf_putc(&b, *p);
    }
    char *url = b.data;
    const char *host = http_header(req, "Host");
    const char *proto = http_is_https(req) ? "https" : "http";
    const char *path = url;
    char prefix[600];
    if (host) {
        snprintf(prefix, sizeof(prefix), "%s://%s/", proto, host);
        if (strncasecmp(url, prefix, strlen(prefix)) == 0)
            path = url + strlen(prefix) - 1;
        snprintf(prefix, sizeof(prefix), "//%s/", host);
        if (strncasecmp(url, prefix, strlen(prefix)) == 0)
            path = url + strlen(prefix) - 1;
    }
    const char *result = NULL;
    if (path[0] == '/' && path[1] != '/' && !strstr(path, "://"))
        result = arena_strdup(&req->arena, path);
    else
        gm_log_warn("Disallowing redirect outside JupyterHub: '%s'", next);
    gm_buf_free(&b);
    return result;
}

const char *page_next_url(struct http_request *req, struct hub_user *u, const char *fallback)
{
    struct hub *hub = req->hub;
    const char *next = page_valid_next(req, http_query(req, "next"));
    if (!next)
        next = page_valid_next(req, http_form(req, "next"));
    if (next)
        return next;
    if (fallback)
        return fallback;
    if (hub->conf.default_url[0])
        return hub->conf.default_url;
    if (u && hub->conf.redirect_to_server) {
        struct hub_spawner *sp = store_spawner_find(u, "");
        if (sp && sp->server) {
            struct gm_buf b;
            gm_buf_init(&b, 4096);
            api_server_url(hub, &b, u->name, "");
            const char *url = arena_strdup(&req->arena, b.data ? b.data : "/");
            gm_buf_free(&b);
            return url;
        }
        return arena_printf(&req->arena, "%sspawn", hub->hub_prefix);
    }
    return arena_printf(&req->arena, "%shome", hub->hub_prefix);
}
