/* /hub/api/proxy (JupyterHub's ProxyAPIHandler): the route table, a forced sync, and switching
 * to a new proxy. */
#include "api/api.h"
#include "core/hub.h"
#include "proxy/proxy.h"
#include "util/url.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROXY_WAIT_MS 60000

/* A request waiting for the proxy; whichever ends first (the call or the request) ends the
 * other. */
struct proxy_wait {
    struct http_request *req;
    struct api_page page;
};

/* The request went away (client gone, timeout, hub stopping): so does the wait. */
static void on_detach(struct http_request *req)
{
    struct proxy_wait *w = req->wait_data;
    proxy_cancel_calls(req->hub->proxy, w);
    proxy_forget_check_waiter(req->hub->proxy, w);
    free(w);
}

static struct proxy_wait *wait_new(struct http_request *req)
{
    struct proxy_wait *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    if (http_suspend(req, PROXY_WAIT_MS) < 0) {
        free(w);
        return NULL;
    }
    w->req = req;
    req->wait_data = w;
    req->detach = on_detach;
    return w;
}

/* The proxy answered: stop waiting. Frees @w. */
static struct http_request *wait_take(struct proxy_wait *w)
{
    struct http_request *req = w->req;
    free(w);
    req->detach = NULL;
    return req;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void on_routes(void *data, int status, const char *message, json_t *routes)
{
    struct proxy_wait *w = data;
    struct api_page page = w->page;
    struct http_request *req = wait_take(w);
    if (status < 0) {
        http_error(req, 502, "Cannot read the proxy's routes: %s", message);
        http_resume(req);
        return;
    }
    size_t total = json_object_size(routes);
    const char **keys = calloc(total ? total : 1, sizeof(*keys));
    json_t *out = keys ? json_object() : NULL;
    if (out) {
        size_t n = 0;
        const char *k;
        json_t *v;
        json_object_foreach(routes, k, v)
        {
            keys[n++] = k;
        }
        qsort(keys, n, sizeof(*keys), cmp_keys);
        for (size_t i = (size_t)page.offset; i < n && i < (size_t)(page.offset + page.limit); i++)
            json_object_set(out, keys[i], json_object_get(routes, keys[i]));
    }
    free(keys);
    if (out && page.envelope) {
        json_t *next = json_null();
        if ((size_t)(page.offset + page.limit) < total)
            next = json_pack("{s:I,s:I}", "offset", (json_int_t)(page.offset + page.limit), "limit",
                             (json_int_t)page.limit);
        out = json_pack("{s:o,s:{s:I,s:I,s:I,s:o}}", "items", out, "_pagination", "offset",
                        (json_int_t)page.offset, "limit", (json_int_t)page.limit, "total",
                        (json_int_t)total, "next", next);
    }
    http_respond_json(req, 200, out);
    http_resume(req);
}

int api_proxy_get(struct http_request *req)
{
    if (API_NEED(req, SCOPE_KIND_NONE, NULL, SCOPE_PROXY) < 0)
        return 0;
    struct api_page page;
    if (api_pagination(req, &page) < 0)
        return 0;
    struct proxy_wait *w = wait_new(req);
    if (!w)
        return -ENOMEM;
    w->page = page;
    int r = proxy_get_routes(req->hub->proxy, on_routes, w);
    if (r < 0) {
        wait_take(w);
        http_error(req, 502, "Cannot reach the proxy: %s", strerror(-r));
        http_resume(req);
    }
    return HTTP_SUSPENDED;
}

static void on_checked(void *data, int status, const char *message)
{
    struct http_request *req = wait_take(data);
    if (status < 0)
        http_error(req, 502, "Cannot sync the proxy: %s", message);
    else
        http_respond_empty(req, 200);
    http_resume(req);
}

static int sync_routes(struct http_request *req)
{
    struct proxy_wait *w = wait_new(req);
    if (!w)
        return -ENOMEM;
    int r = proxy_check_routes(req->hub->proxy, on_checked, w);
    if (r < 0) {
        wait_take(w);
        http_error(req, 502, "Cannot sync the proxy: %s", strerror(-r));
        http_resume(req);
    }
    return HTTP_SUSPENDED;
}

int api_proxy_post(struct http_request *req)
{
    if (API_NEED(req, SCOPE_KIND_NONE, NULL, SCOPE_PROXY) < 0)
        return 0;
    return sync_routes(req);
}

int api_proxy_patch(struct http_request *req)
{
    if (API_NEED(req, SCOPE_KIND_NONE, NULL, SCOPE_PROXY) < 0)
        return 0;
    json_t *body = NULL;
    if (api_body_object(req, &body, true, "body must be a JSON dict") < 0)
        return 0;
    const char *fields[] = {"ip", "port", "protocol", "auth_token"};
    for (size_t i = 0; i < 4; i++) {
        json_t *v = json_object_get(body, fields[i]);
        bool ok = !v || json_is_string(v) || (i == 1 && json_is_integer(v));
        if (!ok) {
            json_decref(body);
            return http_error(req, 400, "%s must be a string", fields[i]);
        }
    }
    const char *ip = json_string_value(json_object_get(body, "ip"));
    json_t *port_v = json_object_get(body, "port");
    const char *proto = json_string_value(json_object_get(body, "protocol"));
    const char *token = json_string_value(json_object_get(body, "auth_token"));
    int r = 0;
    if (ip || port_v || proto) {
        struct url u;
        /* Start from the current API URL and change what the body gives. */
        if (url_parse(proxy_api_url(req->hub->proxy), &u) < 0)
            memset(&u, 0, sizeof(u));
        char port[16];
        if (json_is_integer(port_v))
            snprintf(port, sizeof(port), "%lld", (long long)json_integer_value(port_v));
        else if (json_is_string(port_v))
            snprintf(port, sizeof(port), "%.15s", json_string_value(port_v));
        else
            snprintf(port, sizeof(port), "%d", u.port);
        char api_url[600];
        snprintf(api_url, sizeof(api_url), "%s://%s:%s", proto ? proto : u.scheme, ip ? ip : u.host,
                 port);
        struct url check;
        if (url_parse(api_url, &check) < 0) {
            json_decref(body);
            return http_error(req, 400, "Not a proxy API address: %s", api_url);
        }
        r = proxy_reconfigure(req->hub->proxy, api_url, NULL);
        if (r == 0)
            gm_log_info("Using the proxy API at %s", api_url);
    }
    if (r == 0 && token)
        r = proxy_reconfigure(req->hub->proxy, NULL, token);
    json_decref(body);
    if (r < 0)
        return r;
    return sync_routes(req);
}
