/* URLs: splitting the ones in configuration values, and the toolkit's percent-encoding
 * (gm_url_encode, gm_url_decode of include/ganymede/encode.h). */
#include "util/url.h"
#include "util/str.h"
#include <ganymede/encode.h>

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

static int url_encode(struct gm_buf *out, const char *s, const char *safe, bool plus)
{
    static const char hex[] = "0123456789ABCDEF";
    int r = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && r == 0; p++) {
        if (isalnum(*p) || strchr("_.-~", *p) || (safe && *p < 0x80 && strchr(safe, *p))) {
            r = gm_buf_putc(out, (char)*p);
        } else if (plus && *p == ' ') {
            r = gm_buf_putc(out, '+');
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            r = gm_buf_append(out, esc, 3);
        }
    }
    return r;
}

int gm_url_encode(struct gm_buf *out, const char *s, const char *safe)
{
    return url_encode(out, s, safe, false);
}

int gm_url_encode_plus(struct gm_buf *out, const char *s, const char *safe)
{
    return url_encode(out, s, safe, true);
}

long gm_url_decode(const char *s, size_t n, char *out, size_t outlen, bool plus)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            unsigned char byte;
            if (n - i < 3 || gm_hex_decode(s + i + 1, 2, &byte, 1) != 1)
                return -EINVAL;
            c = (char)byte;
            i += 2;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        if (c == '\0')
            return -EINVAL;
        if (o + 1 >= outlen)
            return -E2BIG;
        out[o++] = c;
    }
    if (outlen == 0)
        return -E2BIG;
    out[o] = '\0';
    return (long)o;
}
