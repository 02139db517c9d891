/* URL splitting for configuration values. */
#include "util/url.h"
#include "util/str.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int url_parse(const char *s, struct url *ret)
{
    struct url u;
    memset(&u, 0, sizeof(u));
    const char *sep = strstr(s, "://");
    if (!sep || sep == s || (size_t)(sep - s) >= sizeof(u.scheme))
        return -EINVAL;
    for (size_t i = 0; i < (size_t)(sep - s); i++) {
        if (!isalpha((unsigned char)s[i]) && s[i] != '+')
            return -EINVAL;
        u.scheme[i] = (char)tolower((unsigned char)s[i]);
    }
    const char *p = sep + 3;
    const char *host_end;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (!close || (size_t)(close - p - 1) >= sizeof(u.host))
            return -EINVAL;
        memcpy(u.host, p + 1, (size_t)(close - p - 1));
        u.ipv6 = true;
        host_end = close + 1;
    } else {
        host_end = p + strcspn(p, ":/?#");
        if ((size_t)(host_end - p) >= sizeof(u.host))
            return -EINVAL;
        memcpy(u.host, p, (size_t)(host_end - p));
    }
    if (strcmp(u.scheme, "https") == 0)
        u.port = 443;
    else
        u.port = 80;
    p = host_end;
    if (*p == ':') {
        p++;
        const char *end = p + strcspn(p, "/?#");
        char num[8];
        if (end == p || (size_t)(end - p) >= sizeof(num))
            return -EINVAL;
        memcpy(num, p, (size_t)(end - p));
        num[end - p] = '\0';
        int64_t port;
        if (str_to_int64(num, &port) < 0 || port < 0 || port > 65535)
            return -EINVAL;
        u.port = (int)port;
        p = end;
    } else if (*p && *p != '/' && *p != '?' && *p != '#') {
        return -EINVAL;
    }
    size_t plen = strcspn(p, "?#");
    if (plen == 0) {
        u.path[0] = '/';
    } else {
        if (plen >= sizeof(u.path))
            return -EINVAL;
        memcpy(u.path, p, plen);
        u.path[plen] = '\0';
    }
    *ret = u;
    return 0;
}
