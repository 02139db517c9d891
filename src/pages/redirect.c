/* Redirects that keep URLs under the hub: anything outside /hub/ that reaches the hub goes to the
 * same path under /hub/ (JupyterHub's PrefixRedirectHandler), and /hub goes to /hub/. */
#include "core/hub.h"
#include "pages/pages.h"
#include <ganymede/buf.h>
#include "util/str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int redirect_with_query(struct http_request *req, const char *path_prefix, const char *rest)
{
    struct gm_buf b;
    gm_buf_init(&b, 16384);
    gm_buf_puts(&b, path_prefix);
    gm_buf_puts(&b, rest);
    if (req->query[0]) {
        gm_buf_putc(&b, '?');
        gm_buf_puts(&b, req->query);
    }
    char *loc = gm_buf_steal(&b);
    int r = http_redirect(req, 302, loc ? loc : path_prefix);
    free(loc);
    return r;
}

int page_prefix_redirect(struct http_request *req)
{
    /* params[0] is the raw rest of the path below base_url. */
    const char *rest = req->params[0] ? req->params[0] : "";
    struct gm_buf b;
    gm_buf_init(&b, 4096);
    gm_buf_puts(&b, req->hub->hub_prefix);
    char *prefix = gm_buf_steal(&b);
    if (!prefix)
        return -ENOMEM;
    /* /user/<name> and /services/<name> without a trailing slash get one first. */
    const char *suffix = "";
    if ((str_has_prefix(rest, "user/") || str_has_prefix(rest, "services/")) &&
        !strchr(strchr(rest, '/') + 1, '/'))
        suffix = "/";
    struct gm_buf path;
    gm_buf_init(&path, 16384);
    gm_buf_puts(&path, rest);
    gm_buf_puts(&path, suffix);
    char *p = gm_buf_steal(&path);
    int r = redirect_with_query(req, prefix, p ? p : "");
    free(p);
    free(prefix);
    return r;
}

int page_add_slash(struct http_request *req)
{
    return redirect_with_query(req, req->hub->hub_prefix, "");
}

int page_not_found(struct http_request *req)
{
    return http_error(req, 404, "Page not found: %s", req->path);
}

int page_root(struct http_request *req)
{
    struct hub *hub = req->hub;
    struct hub_user *u = page_user(req);
    if (hub->conf.default_url[0])
        return http_redirect(req, 302, hub->conf.default_url);
    if (u)
        return http_redirect(req, 302, page_next_url(req, u, NULL));
    char *login = arena_printf(&req->arena, "%slogin?next=%%2Fhub%%2F", hub->hub_prefix);
    return http_redirect(req, 302, login ? login : "/");
}
