/* Splitting the URLs that appear in configuration (bind_url, hub_connect_url, api_url, db_url)
 * into their parts. Only what the hub needs: scheme://host[:port][/path]. */
#pragma once

#include <stdbool.h>

struct url {
    char scheme[16]; /* "http", "https", lower-case */
    char host[256];  /* without brackets for IPv6; "" when omitted (http://:8000) */
    int port;        /* explicit port, or the scheme's default (80/443) */
    char path[1024]; /* "/" when omitted */
    bool ipv6;       /* host was written in brackets */
};

/** Parse @s. Returns 0 or -EINVAL (missing scheme, bad port, parts too long). */
int url_parse(const char *s, struct url *ret);
