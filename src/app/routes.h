/* The hub's route table: every URL it serves, the API's and the pages' (the composition root
 * wires them, so it lives here above both). */
#pragma once

#include "http/server.h"

/** The most pages an authenticator may add to the table. */
#define APP_AUTH_ROUTES_MAX 64

/** Every route of the hub, in match order (first match wins), NULL-terminated. */
extern const struct http_route app_routes[];

/** A table of app_routes with @extra (@n entries, kept by reference) inserted before the
 * catch-all routes (hub/ and everything else), so that a plugin's pages are found. @ret is malloc'd
 * and NULL-terminated. Returns 0 or -ENOMEM. */
int app_routes_with(const struct http_route *extra, size_t n, struct http_route **ret);
