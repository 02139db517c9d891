/* Tornado signed values v2 (tornado.web.create_signed_value / decode_signed_value). */
#include "auth/signed.h"
#include "util/str.h"

#include <errno.h>
#include <ganymede/encode.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int field(struct gm_buf *b, const char *s, size_t n)
{
    int r = gm_buf_printf(b, "%zu:", n);
    if (r == 0)
        r = gm_buf_append(b, s, n);
    if (r == 0)
        r = gm_buf_putc(b, '|');
    return r;
}

int auth_signed_create(const unsigned char *secret, size_t secret_len, const char *name,
                       const char *value, int64_t now, struct gm_buf *out)
{
    char ts[24];
    int tn = snprintf(ts, sizeof(ts), "%lld", (long long)now);
    struct gm_buf b64;
    gm_buf_init(&b64, GM_ENCODE_MAX);
    int r = gm_base64_encode(&b64, value, strlen(value));
    if (r < 0) {
        gm_buf_free(&b64);
        return r;
    }
    size_t start = out->len;
    r = gm_buf_puts(out, "2|");
    if (r == 0)
        r = field(out, "0", 1);
    if (r == 0)
        r = field(out, ts, (size_t)tn);
    if (r == 0)
        r = field(out, name, strlen(name));
    if (r == 0)
        r = field(out, b64.data ? b64.data : "", b64.len);
    gm_buf_free(&b64);
    if (r < 0)
        return r;
    unsigned char mac[32];
    unsigned int maclen = sizeof(mac);
    if (!HMAC(EVP_sha256(), secret, (int)secret_len, (unsigned char *)out->data + start,
              out->len - start, mac, &maclen))
        return -EIO;
    char hex[65];
    gm_hex_encode(mac, 32, hex, sizeof(hex));
    return gm_buf_puts(out, hex);
}

/* Read "<len>:<bytes>|" at *p; return the field's start and length. */
static int read_field(const char **p, const char *end, const char **ret, size_t *len)
{
    const char *colon = memchr(*p, ':', (size_t)(end - *p));
    if (!colon || colon == *p || colon - *p > 10)
        return -EINVAL;
    size_t n = 0;
    for (const char *q = *p; q < colon; q++) {
        if (*q < '0' || *q > '9')
            return -EINVAL;
        n = n * 10 + (size_t)(*q - '0');
    }
    const char *v = colon + 1;
    if ((size_t)(end - v) < n + 1 || v[n] != '|')
        return -EINVAL;
    *ret = v;
    *len = n;
    *p = v + n + 1;
    return 0;
}

int auth_signed_verify(const unsigned char *secret, size_t secret_len, const char *name,
                       const char *signed_value, int64_t now, int64_t max_age, char *out,
                       size_t outlen)
{
    size_t total = strlen(signed_value);
    if (total > 8192 || strncmp(signed_value, "2|", 2) != 0)
        return -EINVAL;
    const char *end = signed_value + total;
    const char *p = signed_value + 2;
    const char *kv, *ts, *nm, *val;
    size_t kvn, tsn, nmn, valn;
    if (read_field(&p, end, &kv, &kvn) < 0 || read_field(&p, end, &ts, &tsn) < 0 ||
        read_field(&p, end, &nm, &nmn) < 0 || read_field(&p, end, &val, &valn) < 0)
        return -EINVAL;
    const char *sig = p;
    if ((size_t)(end - sig) != 64)
        return -EINVAL;
    unsigned char mac[32];
    unsigned int maclen = sizeof(mac);
    if (!HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)signed_value,
              (size_t)(sig - signed_value), mac, &maclen))
        return -EIO;
    char hex[65];
    gm_hex_encode(mac, 32, hex, sizeof(hex));
    if (!str_ct_eq(hex, 64, sig, 64))
        return -EINVAL;
    if (nmn != strlen(name) || memcmp(nm, name, nmn) != 0)
        return -EINVAL;
    char tsbuf[24];
    if (tsn >= sizeof(tsbuf))
        return -EINVAL;
    memcpy(tsbuf, ts, tsn);
    tsbuf[tsn] = '\0';
    int64_t t;
    if (str_to_int64(tsbuf, &t) < 0 || t < now - max_age || t > now + 31 * 86400)
        return -EINVAL;
    if (outlen == 0 || valn % 4 != 0 || valn / 4 * 3 >= outlen + 3)
        return -EINVAL;
    long m = gm_base64_decode(val, valn, out, outlen - 1);
    if (m < 0)
        return -EINVAL;
    out[m] = '\0';
    if (strlen(out) != (size_t)m)
        return -EINVAL; /* embedded NUL */
    return 0;
}
