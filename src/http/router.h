/* Matching request paths against the route table (patterns are described in http/server.h). */
#pragma once

#include "http/server.h"

struct http_router;

/** Compile @routes (NULL-pattern terminated, kept by reference) under @base_url. Returns 0 or
 * -ENOMEM / -EINVAL (a bad pattern: a programmer error). */
int http_router_create(const char *base_url, const struct http_route *routes,
                       struct http_router **ret);

void http_router_free(struct http_router *r);

enum http_match {
    HTTP_MATCH_OK,
    HTTP_MATCH_NONE,         /* no pattern matches the path */
    HTTP_MATCH_METHOD,       /* a pattern matches, not for this method */
    HTTP_MATCH_BAD_ENCODING, /* a captured segment is not valid percent-encoding */
    HTTP_MATCH_MAX,
};

/** Match @req->path and @req->method, filling @req->params (in request memory). @ret is set to
 * the route on HTTP_MATCH_OK and to the path's route on HTTP_MATCH_METHOD; @allowed to the
 * methods the path accepts. */
enum http_match http_router_match(const struct http_router *r, struct http_request *req,
                                  const struct http_route **ret, unsigned *allowed);

/** The base URL the router serves ("/" or "/prefix/"). */
const char *http_router_base_url(const struct http_router *r);
