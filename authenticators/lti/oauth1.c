/* OAuth 1.0 HMAC-SHA1 signatures (RFC 5849 3.4). */
#include "oauth1.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 4096

/* A bounded string being built; `failed` once something did not fit. */
struct out {
    char *p;
    size_t len, cap;
    bool failed;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->failed || o->len + n >= o->cap) {
        o->failed = true;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

/* RFC 5849 3.6: everything but ALPHA, DIGIT, "-", ".", "_", "~" as %XX (uppercase). */
static void put_pct(struct out *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            put(o, (const char *)&s[i], 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            put(o, e, 3);
        }
    }
}

struct encoded {
    char *name, *value;
};

static int compare_encoded(const void *a, const void *b)
{
    const struct encoded *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static char *pct_dup(const char *s)
{
    size_t n = strlen(s);
    char *buf = malloc(3 * n + 1);
    if (!buf)
        return NULL;
    struct out o = {buf, 0, 3 * n + 1, false};
    buf[0] = '\0';
    put_pct(&o, s, n);
    return buf;
}

/* RFC 5849 3.4.1.2: lowercase scheme and host, no default port, the path as given. */
static int put_base_uri(struct out *o, const char *url)
{
    const char *sep = strstr(url, "://");
    if (!sep)
        return -EINVAL;
    size_t slen = (size_t)(sep - url);
    char scheme[8];
    if (slen == 0 || slen >= sizeof(scheme))
        return -EINVAL;
    for (size_t i = 0; i < slen; i++)
        scheme[i] = (char)tolower((unsigned char)url[i]);
    scheme[slen] = '\0';
    bool https = strcmp(scheme, "https") == 0;
    if (!https && strcmp(scheme, "http") != 0)
        return -EINVAL;
    const char *host = sep + 3;
    size_t hlen = strcspn(host, "/?#");
    if (hlen == 0)
        return -EINVAL;
    const char *path = host + hlen;
    size_t plen = strcspn(path, "?#");
    /* The default port is dropped; the host is lowercased. */
    const char *colon = NULL;
    for (const char *c = host + hlen; c > host; c--)
        if (c[-1] == ':') {
            colon = c - 1;
            break;
        } else if (c[-1] == ']') {
            break;
        }
    size_t name_len = hlen;
    if (colon) {
        size_t plen_port = hlen - (size_t)(colon - host) - 1;
        if ((https && plen_port == 3 && strncmp(colon + 1, "443", 3) == 0) ||
            (!https && plen_port == 2 && strncmp(colon + 1, "80", 2) == 0))
            name_len = (size_t)(colon - host);
    }
    put(o, scheme, slen);
    put(o, "://", 3);
    for (size_t i = 0; i < name_len; i++) {
        char c = (char)tolower((unsigned char)host[i]);
        put(o, &c, 1);
    }
    if (plen)
        put(o, path, plen);
    else
        put(o, "/", 1);
    return 0;
}

long oauth1_base_string(const char *method, const char *url, const struct oauth1_param *params,
                        size_t n, char *out, size_t outlen)
{
    if (outlen == 0)
        return -ENOSPC;
    out[0] = '\0';
    /* The base URI and the normalised parameters are built first, then encoded once more. */
    char *uri = malloc(outlen), *norm = malloc(outlen);
    struct encoded *e = calloc(n ? n : 1, sizeof(*e));
    long r = uri && norm && e ? 0 : -ENOMEM;
    struct out u = {uri, 0, outlen, false}, p = {norm, 0, outlen, false};
    if (r == 0) {
        uri[0] = norm[0] = '\0';
        r = put_base_uri(&u, url);
    }
    for (size_t i = 0; r == 0 && i < n; i++) {
        e[i].name = pct_dup(params[i].name);
        e[i].value = pct_dup(params[i].value);
        if (!e[i].name || !e[i].value)
            r = -ENOMEM;
    }
    if (r == 0) {
        qsort(e, n, sizeof(*e), compare_encoded);
        for (size_t i = 0; i < n; i++) {
            if (i)
                put(&p, "&", 1);
            put(&p, e[i].name, strlen(e[i].name));
            put(&p, "=", 1);
            put(&p, e[i].value, strlen(e[i].value));
        }
        struct out o = {out, 0, outlen, false};
        for (const char *m = method; *m; m++) {
            char c = (char)toupper((unsigned char)*m);
            put(&o, &c, 1);
        }
        put(&o, "&", 1);
        put_pct(&o, uri, u.len);
        put(&o, "&", 1);
        put_pct(&o, norm, p.len);
        r = u.failed || p.failed || o.failed ? -ENOSPC : (long)o.len;
    }
    for (size_t i = 0; e && i < n; i++) {
        free(e[i].name);
        free(e[i].value);
    }
    free(e);
    free(uri);
    free(norm);
    return r;
}

int oauth1_hmac_sha1(const char *base, const char *consumer_secret, const char *token_secret,
                     char *out, size_t outlen)
{
    char key[KEY_MAX];
    struct out k = {key, 0, sizeof(key), false};
    key[0] = '\0';
    put_pct(&k, consumer_secret, strlen(consumer_secret));
    put(&k, "&", 1);
    put_pct(&k, token_secret ? token_secret : "", token_secret ? strlen(token_secret) : 0);
    if (k.failed || outlen < 29)
        return -ENOSPC;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha1(), key, (int)k.len, (const unsigned char *)base, strlen(base), mac, &maclen))
        return -EIO;
    OPENSSL_cleanse(key, sizeof(key));
    EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen); /* 20 bytes -> 28 characters */
    return 0;
}

bool oauth1_verify(const char *base, const char *consumer_secret, const char *signature)
{
    char expected[64];
    if (oauth1_hmac_sha1(base, consumer_secret, "", expected, sizeof(expected)) < 0)
        return false;
    size_t n = strlen(expected);
    return strlen(signature) == n && CRYPTO_memcmp(expected, signature, n) == 0;
}
