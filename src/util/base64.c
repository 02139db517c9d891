/* URL-safe base64 over OpenSSL's EVP block coder. */
#include "util/base64.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

int b64url_encode(struct gm_buf *out, const void *in, size_t n, bool pad)
{
    if (n > (size_t)1 << 28)
        return -E2BIG;
    size_t cap = 4 * ((n + 2) / 3) + 1;
    if (gm_buf_grow(out, cap) < 0)
        return -ENOMEM;
    char *p = out->data + out->len;
    int m = EVP_EncodeBlock((unsigned char *)p, in, (int)n);
    for (int i = 0; i < m; i++)
        p[i] = p[i] == '+' ? '-' : p[i] == '/' ? '_' : p[i];
    while (!pad && m > 0 && p[m - 1] == '=')
        m--;
    out->len += (size_t)m;
    out->data[out->len] = '\0';
    return 0;
}

long b64url_decode(const char *in, size_t n, void *out, size_t cap)
{
    while (n && (in[n - 1] == '\n' || in[n - 1] == '\r' || in[n - 1] == ' '))
        n--;
    while (n && in[n - 1] == '=')
        n--;
    if (n % 4 == 1 || n > (size_t)1 << 28)
        return -1;
    size_t padded = (n + 3) / 4 * 4;
    size_t pad = padded - n;
    if (padded / 4 * 3 - pad > cap)
        return -1;
    char *tmp = malloc(padded + 1);
    unsigned char *raw = malloc(padded / 4 * 3 + 1);
    long ret = -1;
    if (!tmp || !raw)
        goto out;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == '=')
            goto out; /* padding only at the end */
        tmp[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    for (size_t i = n; i < padded; i++)
        tmp[i] = '=';
    int m = EVP_DecodeBlock(raw, (unsigned char *)tmp, (int)padded);
    if (m < 0 || (size_t)m < pad)
        goto out;
    memcpy(out, raw, (size_t)m - pad);
    ret = (long)((size_t)m - pad);
out:
    free(tmp);
    free(raw);
    return ret;
}
