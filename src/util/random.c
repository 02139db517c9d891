/* Random bytes from getrandom(2) and their hex/alphanumeric encodings. */
#include "util/random.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

int random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

void hex_encode(const void *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = in;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long hex_decode(const char *in, void *out, size_t cap)
{
    size_t n = strlen(in);
    if (n % 2 || n / 2 > cap)
        return -EINVAL;
    unsigned char *o = out;
    for (size_t i = 0; i < n; i += 2) {
        int h = nibble(in[i]), l = nibble(in[i + 1]);
        if (h < 0 || l < 0)
            return -EINVAL;
        o[i / 2] = (unsigned char)(h << 4 | l);
    }
    return (long)(n / 2);
}

int random_hex(char *out, size_t n)
{
    unsigned char tmp[64];
    if (n > sizeof(tmp))
        return -EINVAL;
    int r = random_bytes(tmp, n);
    if (r < 0)
        return r;
    hex_encode(tmp, n, out);
    return 0;
}

int random_uuid_hex(char out[33])
{
    unsigned char u[16];
    int r = random_bytes(u, sizeof(u));
    if (r < 0)
        return r;
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
    hex_encode(u, sizeof(u), out);
    return 0;
}

int random_alnum(char *out, size_t n)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t i = 0;
    while (i < n) {
        unsigned char tmp[64];
        int r = random_bytes(tmp, sizeof(tmp));
        if (r < 0)
            return r;
        /* Rejection sampling keeps every character equally likely (248 = 4 * 62). */
        for (size_t j = 0; j < sizeof(tmp) && i < n; j++)
            if (tmp[j] < 248)
                out[i++] = set[tmp[j] % 62];
    }
    out[n] = '\0';
    return 0;
}
