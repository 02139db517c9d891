/* The hub's route table. */
#pragma once

#include "http/server.h"

/** Every route of the hub, in match order (first match wins), NULL-terminated. */
extern const struct http_route http_routes[];

/** A table of http_routes with @extra (@n entries, kept by reference) inserted before the
 * catch-all routes (hub/ and everything else), so that a plugin's pages are found. @ret is malloc'd
 * and NULL-terminated. Returns 0 or -ENOMEM. */
int http_routes_with(const struct http_route *extra, size_t n, struct http_route **ret);
