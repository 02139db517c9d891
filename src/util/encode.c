/* The toolkit's encodings (include/ganymede/encode.h): base64 in both alphabets, hex, and
 * random values from getrandom(2). Percent-encoding lives with the URL code, in url.c. Nothing
 * here allocates except the gm_buf appends, and nothing logs. */
#include <ganymede/encode.h>

#include <errno.h>
#include <string.h>
#include <sys/random.h>

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64_encode(struct gm_buf *out, const void *in, size_t n, const char *alphabet, bool pad)
{
    if (n > GM_ENCODE_MAX)
        return -E2BIG;
    const unsigned char *p = in;
    size_t full = n / 3, rest = n % 3;
    size_t len = 4 * full + (rest ? (pad ? 4 : rest + 1) : 0);
    int r = gm_buf_grow(out, len);
    if (r < 0)
        return r;
    char *o = out->data + out->len;
    for (size_t i = 0; i < full; i++, p += 3) {
        *o++ = alphabet[p[0] >> 2];
        *o++ = alphabet[(p[0] & 3) << 4 | p[1] >> 4];
        *o++ = alphabet[(p[1] & 15) << 2 | p[2] >> 6];
        *o++ = alphabet[p[2] & 63];
    }
    if (rest) {
        unsigned b1 = rest == 2 ? p[1] : 0;
        *o++ = alphabet[p[0] >> 2];
        *o++ = alphabet[(p[0] & 3) << 4 | b1 >> 4];
        if (rest == 2)
            *o++ = alphabet[(b1 & 15) << 2];
        else if (pad)
            *o++ = '=';
        if (pad)
            *o++ = '=';
    }
    out->len += len;
    out->data[out->len] = '\0';
    return 0;
}

int gm_base64_encode(struct gm_buf *out, const void *in, size_t n)
{
    return b64_encode(out, in, n, b64_std, true);
}

int gm_base64url_encode(struct gm_buf *out, const void *in, size_t n, bool pad)
{
    return b64_encode(out, in, n, b64_url, pad);
}

/* The value of one base64 character, or -1; @url also accepts "-_" beside "+/". */
static int b64_value(unsigned char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || (url && c == '-'))
        return 62;
    if (c == '/' || (url && c == '_'))
        return 63;
    return -1;
}

static long b64_decode(const char *in, size_t n, void *out, size_t cap, bool url)
{
    if (n > GM_ENCODE_MAX)
        return -E2BIG; /* before anything is read */
    while (n && (in[n - 1] == '\n' || in[n - 1] == '\r' || in[n - 1] == ' '))
        n--;
    while (n && in[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return -EINVAL;
    size_t len = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (len > cap)
        return -E2BIG;
    unsigned char *o = out;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)in[i], url);
        if (v < 0)
            return -EINVAL;
        acc = (acc << 6 | (unsigned)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (unsigned char)(acc >> bits);
        }
    }
    return (long)len;
}

long gm_base64_decode(const char *in, size_t n, void *out, size_t cap)
{
    return b64_decode(in, n, out, cap, false);
}

long gm_base64url_decode(const char *in, size_t n, void *out, size_t cap)
{
    return b64_decode(in, n, out, cap, true);
}

int gm_hex_encode(const void *in, size_t n, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    if (outlen == 0 || n > (outlen - 1) / 2)
        return -E2BIG;
    const unsigned char *p = in;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = '\0';
    return 0;
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

long gm_hex_decode(const char *in, size_t n, void *out, size_t cap)
{
    if (n % 2)
        return -EINVAL;
    if (n / 2 > cap)
        return -E2BIG;
    unsigned char *o = out;
    for (size_t i = 0; i < n; i += 2) {
        int h = nibble(in[i]), l = nibble(in[i + 1]);
        if (h < 0 || l < 0)
            return -EINVAL;
        o[i / 2] = (unsigned char)(h << 4 | l);
    }
    return (long)(n / 2);
}

int gm_random_bytes(void *out, size_t n)
{
    unsigned char *p = out;
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

int gm_random_hex(char *out, size_t n)
{
    unsigned char tmp[GM_RANDOM_HEX_MAX];
    if (n > sizeof(tmp))
        return -EINVAL;
    int r = gm_random_bytes(tmp, n);
    if (r < 0)
        return r;
    return gm_hex_encode(tmp, n, out, 2 * n + 1);
}

int gm_random_uuid_hex(char out[33])
{
    unsigned char u[16];
    int r = gm_random_bytes(u, sizeof(u));
    if (r < 0)
        return r;
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    return gm_hex_encode(u, sizeof(u), out, 33);
}

int gm_random_alnum(char *out, size_t n)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t i = 0;
    while (i < n) {
        unsigned char tmp[64];
        int r = gm_random_bytes(tmp, sizeof(tmp));
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

int gm_random_token(struct gm_buf *out, size_t n)
{
    unsigned char tmp[GM_RANDOM_TOKEN_MAX];
    if (n > sizeof(tmp))
        return -E2BIG;
    int r = gm_random_bytes(tmp, n);
    if (r == 0)
        r = gm_base64url_encode(out, tmp, n, false);
    explicit_bzero(tmp, sizeof(tmp));
    return r;
}
