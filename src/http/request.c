/* Reading requests (headers, query, body) and building responses, including JupyterHub's error
 * bodies. */
#include "core/errors.h"
#include "http/server.h"
#include "util/str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ganymede/encode.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *http_header(struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* Parse "a=1&b=2" (query strings and form bodies) into a list in request memory. */
static struct http_query_param *parse_params(struct http_request *req, const char *p, size_t len)
{
    struct http_query_param *head = NULL, **tail = &head;
    const char *end = p + len;
    while (p < end) {
        size_t n = 0;
        while (p + n < end && p[n] != '&' && p[n] != ';')
            n++;
        if (n) {
            const char *eq = memchr(p, '=', n);
            size_t klen = eq ? (size_t)(eq - p) : n;
            size_t vlen = eq ? n - klen - 1 : 0;
            struct http_query_param *q = arena_calloc(&req->arena, sizeof(*q));
            char *k = arena_alloc(&req->arena, klen + 1);
            char *v = arena_alloc(&req->arena, vlen + 1);
            if (!q || !k || !v)
                return head;
            /* A parameter that does not decode is dropped, as Python's parse_qs does. */
            if (gm_url_decode(p, klen, k, klen + 1, true) >= 0 &&
                gm_url_decode(eq ? eq + 1 : "", vlen, v, vlen + 1, true) >= 0) {
                q->name = k;
                q->value = v;
                q->has_value = eq != NULL;
                *tail = q;
                tail = &q->next;
            }
        }
        p += n;
        if (p < end)
            p++;
    }
    return head;
}

static void parse_query(struct http_request *req)
{
    req->query_parsed = true;
    req->query_params = parse_params(req, req->query, strlen(req->query));
}

static const char *param(struct http_query_param *list, const char *name)
{
    for (struct http_query_param *q = list; q; q = q->next)
        if (strcmp(q->name, name) == 0)
            return q->value;
    return NULL;
}

const char *http_form(struct http_request *req, const char *name)
{
    if (!req->form_parsed) {
        req->form_parsed = true;
        const char *ct = http_header(req, "Content-Type");
        if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 && req->body.len)
            req->form_params = parse_params(req, req->body.data, req->body.len);
    }
    return param(req->form_params, name);
}

const char *http_cookie(struct http_request *req, const char *name)
{
    const char *header = http_header(req, "Cookie");
    if (!header)
        return NULL;
    size_t nlen = strlen(name);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == ';')
            p++;
        size_t n = strcspn(p, ";");
        const char *eq = memchr(p, '=', n);
        if (eq) {
            const char *k = p, *kend = eq;
            while (kend > k && kend[-1] == ' ')
                kend--;
            if ((size_t)(kend - k) == nlen && memcmp(k, name, nlen) == 0) {
                const char *v = eq + 1, *vend = p + n;
                while (v < vend && *v == ' ')
                    v++;
                while (vend > v && vend[-1] == ' ')
                    vend--;
                if (vend - v >= 2 && *v == '"' && vend[-1] == '"') {
                    v++;
                    vend--;
                }
                return arena_strndup(&req->arena, v, (size_t)(vend - v));
            }
        }
        p += n;
    }
    return NULL;
}

int http_set_cookie(struct http_request *req, const char *name, const char *value,
                    const struct http_cookie_options *o)
{
    struct gm_buf b;
    gm_buf_init(&b, 16384);
    gm_buf_printf(&b, "%s=%s; Path=%s", name, o->max_age < 0 ? "" : value, o->path ? o->path : "/");
    if (o->max_age < 0)
        gm_buf_puts(&b, "; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
    else if (o->max_age > 0)
        gm_buf_printf(&b, "; Max-Age=%ld", o->max_age);
    if (o->http_only)
        gm_buf_puts(&b, "; HttpOnly");
    if (o->secure)
        gm_buf_puts(&b, "; Secure");
    if (o->same_site)
        gm_buf_printf(&b, "; SameSite=%s", o->same_site);
    if (o->partitioned)
        gm_buf_puts(&b, "; Partitioned");
    int r = b.data ? http_set_header(req, "Set-Cookie", b.data) : -ENOMEM;
    gm_buf_free(&b);
    return r;
}

bool http_is_https(struct http_request *req)
{
    /* TLS ends before the hub (at the proxy): trust what the proxy says. */
    const char *proto = http_header(req, "X-Forwarded-Proto");
    return proto && strncasecmp(proto, "https", 5) == 0;
}

const char *http_origin(struct http_request *req)
{
    const char *host = http_header(req, "Host");
    if (!host || !host[0] || strlen(host) > 255 ||
        host[strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")])
        return NULL;
    return arena_printf(&req->arena, "%s://%s", http_is_https(req) ? "https" : "http", host);
}

const char *http_query(struct http_request *req, const char *name)
{
    if (!req->query_parsed)
        parse_query(req);
    return param(req->query_params, name);
}

bool http_query_has(struct http_request *req, const char *name)
{
    return http_query(req, name) != NULL;
}

const char *http_client_ip(struct http_request *req)
{
    const union MHD_ConnectionInfo *info =
        req->conn ? MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS) : NULL;
    if (!info || !info->client_addr)
        return "";
    char *out = arena_alloc(&req->arena, INET6_ADDRSTRLEN);
    if (!out)
        return "";
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, INET6_ADDRSTRLEN);
    else if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, INET6_ADDRSTRLEN);
    else
        out[0] = '\0';
    return out;
}

/* Nesting depth of JSON text, counted outside strings, so that deep documents are refused
 * before the parser recurses into them. */
static unsigned json_depth(const char *s, size_t n)
{
    unsigned depth = 0, max = 0;
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                max = depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return max;
}

int http_body_json(struct http_request *req, json_t **ret)
{
    *ret = NULL;
    if (req->body.len == 0)
        return 0;
    unsigned max = http_server_options(req->server)->max_json_depth;
    if (json_depth(req->body.data, req->body.len) > max) {
        http_error(req, 400, "Invalid JSON in body of request: nested more than %u levels", max);
        return -EBADMSG;
    }
    json_error_t jerr;
    json_t *v = json_loadb(req->body.data, req->body.len, JSON_DECODE_ANY, &jerr);
    if (!v) {
        http_error(req, 400, "Invalid JSON in body of request: %s", jerr.text);
        return -EBADMSG;
    }
    *ret = v;
    return 0;
}

int http_set_header(struct http_request *req, const char *name, const char *value)
{
    struct http_header *h = arena_alloc(&req->arena, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->name = arena_strdup(&req->arena, name);
    h->value = arena_strdup(&req->arena, value);
    if (!h->name || !h->value)
        return -ENOMEM;
    h->next = req->resp_headers;
    req->resp_headers = h;
    return 0;
}

int http_respond_owned(struct http_request *req, int status, const char *content_type, char *body,
                       size_t len)
{
    free(req->resp_body);
    req->resp_body = body;
    req->resp_len = body ? len : 0;
    req->status = status;
    req->content_type = content_type;
    req->responded = true;
    return 0;
}

int http_respond(struct http_request *req, int status, const char *content_type, const void *body,
                 size_t len)
{
    char *copy = NULL;
    if (len) {
        copy = malloc(len);
        if (!copy)
            return http_respond_owned(req, 500, NULL, NULL, 0);
        memcpy(copy, body, len);
    }
    return http_respond_owned(req, status, content_type, copy, len);
}

int http_respond_empty(struct http_request *req, int status)
{
    return http_respond_owned(req, status, NULL, NULL, 0);
}

int http_respond_json(struct http_request *req, int status, json_t *value)
{
    if (!value)
        return http_error(req, 500, "Out of memory");
    char *s = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(value);
    if (!s)
        return http_error(req, 500, "Out of memory");
    return http_respond_owned(req, status, "application/json", s, strlen(s));
}

int http_redirect(struct http_request *req, int status, const char *location)
{
    http_set_header(req, "Location", location);
    return http_respond_owned(req, status ? status : 302, NULL, NULL, 0);
}

static bool is_api(struct http_request *req)
{
    if (req->route)
        return req->route->flags & HTTP_ROUTE_API;
    const char *base = http_server_options(req->server)->base_url;
    size_t n = strlen(base);
    return strncmp(req->path, base, n) == 0 && str_has_prefix(req->path + n, "hub/api");
}

int http_error(struct http_request *req, int status, const char *fmt, ...)
{
    char msg[12288]; /* a failed start's message ends with 4 KiB of the server's output */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (is_api(req)) {
        json_t *body = json_pack("{s:i,s:s}", "status", status, "message", msg);
        return http_respond_json(req, status, body);
    }
    const struct http_server_options *opts = http_server_options(req->server);
    char *html = opts->render_error ? opts->render_error(req, status, msg) : NULL;
    if (html)
        return http_respond_owned(req, status, "text/html; charset=UTF-8", html, strlen(html));
    struct gm_buf b;
    gm_buf_init(&b, 64 << 10);
    gm_buf_printf(&b,
                  "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%d %s</title>"
                  "</head><body><h1>%d %s</h1><p>",
                  status, errors_http_reason(status), status, errors_http_reason(status));
    gm_buf_html_escape(&b, msg);
    gm_buf_puts(&b, "</p></body></html>\n");
    size_t len = b.len;
    return http_respond_owned(req, status, "text/html; charset=UTF-8", gm_buf_steal(&b), len);
}

int http_error_errno(struct http_request *req, int err)
{
    return http_error(req, errors_http_status(err), "%s", errors_message(err));
}
