/* Route matching segment by segment on the raw path, so that an encoded slash (%2F) inside a
 * user name stays inside its segment, as in JupyterHub's tornado patterns. */
#include "http/router.h"
#include "util/str.h"

#include <errno.h>
#include <ganymede/encode.h>
#include <stdlib.h>
#include <string.h>

#define ROUTER_MAX_SEGMENTS 16

enum seg_kind {
    SEG_LITERAL,
    SEG_ONE,   /* {} */
    SEG_MAYBE, /* {?} */
    SEG_REST,  /* ** */
    SEG_KIND_MAX,
};

struct seg {
    enum seg_kind kind;
    const char *text;
    size_t len;
};

struct compiled {
    const struct http_route *route;
    struct seg segs[ROUTER_MAX_SEGMENTS];
    size_t n;
};

struct http_router {
    char *base_url;
    size_t base_len;
    struct compiled *routes;
    size_t n;
};

static int compile(const struct http_route *route, struct compiled *c)
{
    c->route = route;
    c->n = 0;
    const char *p = route->pattern;
    for (;;) {
        size_t len = strcspn(p, "/");
        if (c->n >= ROUTER_MAX_SEGMENTS)
            return -EINVAL;
        struct seg *s = &c->segs[c->n++];
        s->text = p;
        s->len = len;
        if (len == 2 && memcmp(p, "{}", 2) == 0)
            s->kind = SEG_ONE;
        else if (len == 3 && memcmp(p, "{?}", 3) == 0)
            s->kind = SEG_MAYBE;
        else if (len == 2 && memcmp(p, "**", 2) == 0)
            s->kind = p[2] ? SEG_KIND_MAX : SEG_REST;
        else
            s->kind = SEG_LITERAL;
        if (s->kind == SEG_KIND_MAX)
            return -EINVAL;
        if (!p[len])
            break;
        p += len + 1;
    }
    return 0;
}

int http_router_create(const char *base_url, const struct http_route *routes,
                       struct http_router **ret)
{
    size_t n = 0;
    while (routes[n].pattern)
        n++;
    struct http_router *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->base_url = strdup(base_url);
    r->routes = calloc(n ? n : 1, sizeof(*r->routes));
    if (!r->base_url || !r->routes) {
        http_router_free(r);
        return -ENOMEM;
    }
    r->base_len = strlen(base_url);
    for (size_t i = 0; i < n; i++) {
        if (compile(&routes[i], &r->routes[i]) < 0) {
            http_router_free(r);
            return -EINVAL;
        }
    }
    r->n = n;
    *ret = r;
    return 0;
}

void http_router_free(struct http_router *r)
{
    if (!r)
        return;
    free(r->base_url);
    free(r->routes);
    free(r);
}

const char *http_router_base_url(const struct http_router *r)
{
    return r->base_url;
}

struct path_seg {
    const char *text;
    size_t len;
};

/* Does @c match the path? Captures go to @caps (raw). */
static bool match_one(const struct compiled *c, const struct path_seg *segs, size_t n,
                      const char *rest_of[], struct path_seg *caps, size_t *ncaps)
{
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct seg *s = &c->segs[i];
        if (s->kind == SEG_REST) {
            if (k < HTTP_MAX_PARAMS) {
                caps[k].text = i < n ? segs[i].text : "";
                caps[k].len = i < n ? strlen(rest_of[i]) : 0;
                k++;
            }
            *ncaps = k;
            return true;
        }
        if (i >= n)
            return false;
        switch (s->kind) {
        case SEG_LITERAL:
            if (segs[i].len != s->len || memcmp(segs[i].text, s->text, s->len) != 0)
                return false;
            break;
        case SEG_ONE:
            if (segs[i].len == 0)
                return false;
            /* fall through */
        case SEG_MAYBE:
            if (k < HTTP_MAX_PARAMS)
                caps[k++] = segs[i];
            break;
        default:
            return false;
        }
    }
    *ncaps = k;
    return c->n == n;
}

enum http_match http_router_match(const struct http_router *r, struct http_request *req,
                                  const struct http_route **ret, unsigned *allowed)
{
    *allowed = 0;
    *ret = NULL;
    const char *path = req->path;
    if (strncmp(path, r->base_url, r->base_len) != 0)
        return HTTP_MATCH_NONE;
    const char *rel = path + r->base_len;
    struct path_seg segs[ROUTER_MAX_SEGMENTS];
    const char *rest_of[ROUTER_MAX_SEGMENTS];
    size_t n = 0;
    const char *p = rel;
    for (;;) {
        if (n >= ROUTER_MAX_SEGMENTS)
            return HTTP_MATCH_NONE;
        size_t len = strcspn(p, "/");
        segs[n].text = p;
        segs[n].len = len;
        rest_of[n] = p;
        n++;
        if (!p[len])
            break;
        p += len + 1;
    }
    const struct compiled *found = NULL;
    struct path_seg caps[HTTP_MAX_PARAMS];
    size_t ncaps = 0;
    for (size_t i = 0; i < r->n; i++) {
        struct path_seg c2[HTTP_MAX_PARAMS];
        size_t nc2 = 0;
        const struct compiled *c = &r->routes[i];
        if ((c->route->flags & HTTP_ROUTE_FALLBACK) && *ret)
            continue;
        if (!match_one(c, segs, n, rest_of, c2, &nc2))
            continue;
        *allowed |= c->route->methods;
        unsigned methods = c->route->methods;
        if ((c->route->flags & HTTP_ROUTE_HEAD_AS_GET) && (methods & HTTP_GET))
            methods |= HTTP_HEAD;
        if (!found && (methods & req->method)) {
            found = c;
            memcpy(caps, c2, sizeof(caps));
            ncaps = nc2;
        }
        if (!*ret)
            *ret = c->route;
    }
    if (!found)
        return *ret ? HTTP_MATCH_METHOD : HTTP_MATCH_NONE;
    *ret = found->route;
    for (size_t i = 0; i < ncaps; i++) {
        bool rest = found->segs[found->n - 1].kind == SEG_REST && i == ncaps - 1;
        char *out = arena_alloc(&req->arena, caps[i].len + 1);
        if (!out)
            return HTTP_MATCH_BAD_ENCODING;
        if (rest) {
            memcpy(out, caps[i].text, caps[i].len);
            out[caps[i].len] = '\0';
        } else if (gm_url_decode(caps[i].text, caps[i].len, out, caps[i].len + 1, false) < 0) {
            return HTTP_MATCH_BAD_ENCODING;
        }
        req->params[i] = out;
    }
    return HTTP_MATCH_OK;
}
