/* What every API handler shares: the scope check with JupyterHub's 403/404 rules, pagination,
 * and small response helpers. */
#include "api/api.h"
#include "auth/rbac.h"
#include "auth/session.h"
#include "core/hub.h"
#include "util/str.h"

#include <ganymede/log.h>
#include <stdint.h>
#include <strings.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A cookie-authenticated POST must be JSON (or have no body type): a cross-site form post
 * cannot send that, as in JupyterHub's check_post_content_type. */
static bool json_content_type(struct http_request *req)
{
    const char *ct = http_header(req, "Content-Type");
    if (!ct || !ct[0])
        return true;
    return strncasecmp(ct, "application/json", 16) == 0 || strcasestr(ct, "application/json");
}

const struct auth_identity *api_caller(struct http_request *req)
{
    const struct auth_identity *id = auth_identify(req);
    if (id && !id->token && req->route && (req->route->flags & HTTP_ROUTE_API)) {
        const char *why = NULL;
        if ((req->method & HTTP_POST) && !json_content_type(req)) {
            gm_log_warn("Not allowing POST with content-type: %s",
                        http_header(req, "Content-Type"));
            id = NULL;
        } else if (auth_xsrf_needed(req) && !auth_xsrf_check(req, id->user, &why)) {
            http_error(req, 403, "%s", why);
            return NULL;
        }
    }
    if (!id)
        http_error(req, 403, "Missing or invalid credentials.");
    return id;
}

int api_need(struct http_request *req, enum scope_kind kind, const char *value, bool post_filter,
             const int *ids, size_t n)
{
    const struct auth_identity *id = api_caller(req);
    if (!id)
        return -EACCES;
    struct scope_membership m = rbac_membership(&req->hub->store);
    for (size_t i = 0; i < n; i++)
        if (scope_has(id->scopes, ids[i], kind, value, post_filter, &m))
            return 0;
    const struct scope_registry *reg = req->hub->store.scopes;
    if (kind != SCOPE_KIND_NONE) {
        for (size_t i = 0; i < n; i++)
            if (scope_set_holds(id->scopes, ids[i])) {
                /* Filtered to other resources: indistinguishable from not found. */
                http_error(req, 404, "No access to resources or resources not found");
                return -EACCES;
            }
    }
    struct gm_buf b;
    gm_buf_init(&b, 4096);
    for (size_t i = 0; i < n; i++)
        gm_buf_printf(&b, "%s%s", i ? ", " : "", reg->names[ids[i]]);
    gm_log_warn("Not authorizing access to %s. Requires any of [%s] on %s%s%s", req->path,
                b.data ? b.data : "", kind == SCOPE_KIND_NONE ? "*" : scope_kind_name(kind),
                kind == SCOPE_KIND_NONE ? "" : "=", kind == SCOPE_KIND_NONE ? "" : value);
    http_error(req, 403, "Action is not authorized with current scopes; requires any of [%s]",
               b.data ? b.data : "");
    gm_buf_free(&b);
    return -EACCES;
}

static bool accepts_pagination(struct http_request *req)
{
    const char *accept = http_header(req, "Accept");
    if (!accept)
        return false;
    const char *p = accept;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m && (p[m - 1] == ' ' || p[m - 1] == '\t'))
            m--;
        if (m == strlen("application/jupyterhub-pagination+json") &&
            strncasecmp(p, "application/jupyterhub-pagination+json", m) == 0)
            return true;
        p += n;
        if (*p == ',')
            p++;
    }
    return false;
}

static int parse_count(const char *s, int64_t *ret)
{
    /* int() accepts surrounding spaces and a sign; abs() is applied afterwards. */
    while (*s == ' ')
        s++;
    char text[32];
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        n--;
    if (n == 0 || n >= sizeof(text))
        return -EINVAL;
    memcpy(text, s, n);
    text[n] = '\0';
    int64_t v;
    if (str_to_int64(text, &v) < 0 || v == INT64_MIN)
        return -EINVAL;
    *ret = v < 0 ? -v : v;
    return 0;
}

int api_pagination(struct http_request *req, struct api_page *ret)
{
    struct hub *hub = req->hub;
    ret->envelope = accepts_pagination(req);
    int64_t max = hub->conf.api_page_max_limit;
    int64_t limit = ret->envelope ? hub->conf.api_page_default_limit : max;
    int64_t offset = 0;
    const char *o = http_query(req, "offset"), *l = http_query(req, "limit");
    if ((o && parse_count(o, &offset) < 0) || (l && parse_count(l, &limit) < 0)) {
        http_error(req, 400, "Invalid argument type, offset and limit must be integers");
        return -EINVAL;
    }
    if (limit > max)
        limit = max;
    if (limit < 1)
        limit = 1;
    ret->offset = offset;
    ret->limit = limit;
    return 0;
}

/* The request URL with offset and limit replaced, absolute, as request.full_url(). */
static int next_url(struct http_request *req, struct gm_buf *b, int64_t offset, int64_t limit)
{
    const char *origin = http_origin(req);
    int r = gm_buf_printf(b, "%s%s?", origin ? origin : "http://127.0.0.1", req->path);
    const char *p = req->query;
    bool first = true;
    while (r == 0 && *p) {
        size_t n = strcspn(p, "&");
        bool skip = (n >= 6 && strncmp(p, "offset", 6) == 0 && (n == 6 || p[6] == '=')) ||
                    (n >= 5 && strncmp(p, "limit", 5) == 0 && (n == 5 || p[5] == '='));
        if (!skip && n) {
            r = gm_buf_printf(b, "%s%.*s", first ? "" : "&", (int)n, p);
            first = false;
        }
        p += n;
        if (*p == '&')
            p++;
    }
    if (r == 0)
        r = gm_buf_printf(b, "%soffset=%lld&limit=%lld", first ? "" : "&", (long long)offset,
                          (long long)limit);
    return r;
}

int api_respond_buf(struct http_request *req, int status, struct gm_buf *b)
{
    size_t len = b->len;
    char *body = gm_buf_steal(b);
    if (!body)
        return http_error(req, 500, "Out of memory");
    return http_respond_owned(req, status, "application/json", body, len);
}

int api_respond_page(struct http_request *req, const struct api_page *page, struct gm_buf *items,
                     size_t total)
{
    if (!page->envelope) {
        gm_buf_putc(items, ']');
        return api_respond_buf(req, 200, items);
    }
    struct gm_buf b;
    gm_buf_init(&b, items->max + 8192);
    gm_buf_puts(&b, "{\"items\":");
    gm_buf_append(&b, items->data ? items->data : "[", items->len ? items->len : 1);
    gm_buf_putc(&b, ']');
    gm_buf_printf(&b, ",\"_pagination\":{\"offset\":%lld,\"limit\":%lld,\"total\":%zu,\"next\":",
                  (long long)page->offset, (long long)page->limit, total);
    int64_t next = page->offset + page->limit;
    if ((size_t)next < total) {
        struct gm_buf url;
        gm_buf_init(&url, 64 << 10);
        next_url(req, &url, next, page->limit);
        gm_buf_printf(&b, "{\"offset\":%lld,\"limit\":%lld,\"url\":", (long long)next,
                      (long long)page->limit);
        gm_buf_json_string(&b, url.data ? url.data : "");
        gm_buf_putc(&b, '}');
        gm_buf_free(&url);
    } else {
        gm_buf_puts(&b, "null");
    }
    int r = gm_buf_puts(&b, "}}");
    gm_buf_free(items);
    if (r < 0) {
        gm_buf_free(&b);
        return http_error(req, 500, "The response is too large");
    }
    return api_respond_buf(req, 200, &b);
}

int api_body_object(struct http_request *req, json_t **ret, bool required, const char *what)
{
    json_t *v = NULL;
    if (http_body_json(req, &v) < 0)
        return -EBADMSG;
    if ((!v && required) || (v && !json_is_object(v))) {
        json_decref(v);
        http_error(req, 400, "%s", what);
        return -EINVAL;
    }
    *ret = v;
    return 0;
}
