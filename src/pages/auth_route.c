/* The authenticator's own pages (struct gm_auth_route: an LTI launch, a provider's callback)
 * mounted under /hub/, and the request API they answer with (<ganymede/request.h>). */
#include "core/hub.h"
#include "pages/pages.h"

#include <errno.h>
#include <ganymede/request.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUTE_PATH_MAX 200

struct gm_request {
    struct http_request *req;
};

/* A path of one or more segments of unreserved characters. */
static bool valid_path(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > ROUTE_PATH_MAX || p[0] == '/' || p[n - 1] == '/' || strstr(p, "//"))
        return false;
    return strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~-/") == n;
}

static const struct gm_auth_route *find_route(const struct hub *hub, const char *pattern)
{
    const struct gm_auth_route *r = hub->authenticator->routes;
    for (; r && r->path; r++)
        if (strncmp(pattern, "hub/", 4) == 0 && strcmp(pattern + 4, r->path) == 0)
            return r;
    return NULL;
}

static int page_auth_route(struct http_request *req)
{
    struct hub *hub = req->hub;
    const struct gm_auth_route *r = find_route(hub, req->route->pattern);
    if (!r)
        return page_not_found(req);
    struct gm_request *g = arena_calloc(&req->arena, sizeof(*g));
    if (!g)
        return -ENOMEM;
    g->req = req;
    int status = r->handle(hub->authenticator_state, g);
    if (status >= 0 && !req->responded && status != HTTP_SUSPENDED)
        return http_error(req, 500, "The login page %s gave no answer", r->path);
    return status;
}

int page_auth_routes_build(struct hub *hub, const struct http_route *table,
                           struct http_route *extra, size_t max, size_t *n_ret, char *err,
                           size_t errlen)
{
    const struct gm_auth_route *own = hub->authenticator->routes;
    size_t n = 0;
    while (own && own[n].path)
        n++;
    if (n > max) {
        snprintf(err, errlen, "the authenticator has more than %zu pages", max);
        return -EINVAL;
    }
    hub->auth_route_patterns = calloc(n + 1, sizeof(char *));
    if (!hub->auth_route_patterns)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        const struct gm_auth_route *r = &own[i];
        if (!valid_path(r->path) || !r->handle ||
            !(r->methods & (GM_REQUEST_GET | GM_REQUEST_POST))) {
            snprintf(err, errlen, "the authenticator's page '%s' is not valid", r->path);
            return -EINVAL;
        }
        char *pattern = malloc(strlen(r->path) + 5);
        if (!pattern)
            goto oom;
        memcpy(pattern, "hub/", 4);
        memcpy(pattern + 4, r->path, strlen(r->path) + 1);
        hub->auth_route_patterns[i] = pattern;
        for (const struct http_route *h = table; h->pattern; h++) {
            if (strcmp(h->pattern, pattern) == 0) {
                snprintf(err, errlen, "the authenticator's page /hub/%s is one of the hub's",
                         r->path);
                return -EINVAL;
            }
        }
        extra[i] = (struct http_route){
            .pattern = pattern,
            .methods = ((r->methods & GM_REQUEST_GET) ? HTTP_GET | HTTP_HEAD : 0) |
                       ((r->methods & GM_REQUEST_POST) ? HTTP_POST : 0),
            .handler = page_auth_route,
        };
    }
    *n_ret = n;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
}

void page_auth_routes_free(struct hub *hub)
{
    for (char **p = hub->auth_route_patterns; p && *p; p++)
        free(*p);
    free(hub->auth_route_patterns);
    hub->auth_route_patterns = NULL;
}

/* <ganymede/request.h> */

const char *gm_request_method(const struct gm_request *r)
{
    return r->req->method_name;
}

const char *gm_request_param(const struct gm_request *r, const char *name)
{
    const char *v = http_query(r->req, name);
    return v ? v : http_form(r->req, name);
}

/* Parse the query and the form, once (the http_* getters do it lazily). */
static void parse_params(struct http_request *req)
{
    http_query(req, "");
    http_form(req, "");
}

static int add_params(json_t *out, const struct http_query_param *p)
{
    for (; p; p = p->next)
        if (!json_object_get(out, p->name) &&
            json_object_set_new(out, p->name, json_string(p->value)) < 0)
            return -ENOMEM;
    return 0;
}

json_t *gm_request_params(const struct gm_request *r)
{
    struct http_request *req = r->req;
    parse_params(req);
    json_t *out = json_object();
    if (out && (add_params(out, req->query_params) < 0 || add_params(out, req->form_params) < 0)) {
        json_decref(out);
        return NULL;
    }
    return out;
}

void gm_request_each_param(const struct gm_request *r,
                           void (*fn)(void *data, const char *name, const char *value), void *data)
{
    struct http_request *req = r->req;
    parse_params(req);
    for (const struct http_query_param *p = req->query_params; p; p = p->next)
        fn(data, p->name, p->value);
    for (const struct http_query_param *p = req->form_params; p; p = p->next)
        fn(data, p->name, p->value);
}

const char *gm_request_header(const struct gm_request *r, const char *name)
{
    return http_header(r->req, name);
}

const char *gm_request_cookie(const struct gm_request *r, const char *name)
{
    return http_cookie(r->req, name);
}

const char *gm_request_url(const struct gm_request *r)
{
    const char *origin = http_origin(r->req);
    return origin ? arena_printf(&r->req->arena, "%s%s", origin, r->req->path) : NULL;
}

int gm_request_set_cookie(struct gm_request *r, const char *name, const char *value, long max_age)
{
    struct http_cookie_options o = {
        .path = r->req->hub->hub_prefix,
        .max_age = max_age,
        .http_only = true,
        .secure = http_is_https(r->req),
        .same_site = "Lax",
    };
    return http_set_cookie(r->req, name, max_age < 0 ? "" : value, &o);
}

int gm_request_set_cross_site_cookie(struct gm_request *r, const char *name, const char *value,
                                     long max_age)
{
    bool https = http_is_https(r->req);
    struct http_cookie_options o = {
        .path = r->req->hub->hub_prefix,
        .max_age = max_age,
        .http_only = true,
        .secure = https,
        .same_site = https ? "None" : "Lax",
        .partitioned = https,
    };
    return http_set_cookie(r->req, name, max_age < 0 ? "" : value, &o);
}

bool gm_request_is_https(const struct gm_request *r)
{
    return http_is_https(r->req);
}

int gm_request_respond(struct gm_request *r, int status, const char *content_type, const char *body)
{
    return http_respond(r->req, status, content_type, body, body ? strlen(body) : 0);
}

int gm_request_redirect(struct gm_request *r, const char *url)
{
    return http_redirect(r->req, 302, url);
}

int gm_request_error(struct gm_request *r, int status, const char *message)
{
    return http_error(r->req, status, "%s", message);
}

static int login_error(struct http_request *req, int err, const char *message)
{
    int status = err == -EACCES ? 403 : err == -EINVAL ? 400 : err == -ETIMEDOUT ? 504 : 500;
    return http_error(req, status, "%s", message);
}

int gm_request_login(struct gm_request *r, const json_t *data, const char *next)
{
    return page_login_run(r->req, data, next, login_error);
}

int gm_request_login_as(struct gm_request *r, const json_t *result, const char *next)
{
    if (!json_is_string(json_object_get(result, "name")))
        return http_error(r->req, 500, "The authenticator gave no user name");
    return page_login_accept(r->req, result, next, login_error);
}
