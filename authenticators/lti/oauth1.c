/* OAuth 1.0 HMAC-SHA1 signatures (RFC 5849 3.4), built with the toolkit's buffers and
 * encodings (<ganymede/buf.h>, <ganymede/encode.h>). */
#include "oauth1.h"

#include <ctype.h>
#include <errno.h>
#include <ganymede/buf.h>
#include <ganymede/encode.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 4096

/* RFC 5849 3.6's percent-encoding (everything but ALPHA, DIGIT, "-", ".", "_", "~" as upper-case
 * %XX) is RFC 3986's encoding of a component: gm_url_encode with nothing else kept. */
static void put_pct(struct gm_buf *o, const char *s)
{
    gm_url_encode(o, s, NULL);
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
    struct gm_buf b;
    gm_buf_init(&b, 3 * strlen(s));
    put_pct(&b, s);
    char *r = b.error ? NULL : gm_buf_steal(&b);
    gm_buf_free(&b);
    return r;
}

/* RFC 5849 3.4.1.2: lowercase scheme and host, no default port, the path as given. */
static int put_base_uri(struct gm_buf *o, const char *url)
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
    gm_buf_append(o, scheme, slen);
    gm_buf_puts(o, "://");
    for (size_t i = 0; i < name_len; i++)
        gm_buf_putc(o, (char)tolower((unsigned char)host[i]));
    if (plen)
        gm_buf_append(o, path, plen);
    else
        gm_buf_putc(o, '/');
    return 0;
}

/* A buffer's failure as this file reports it: not fitting is -ENOSPC. */
static int buf_status(const struct gm_buf *b)
{
    return b->error == -E2BIG ? -ENOSPC : b->error;
}

long oauth1_base_string(const char *method, const char *url, const struct oauth1_param *params,
                        size_t n, char *out, size_t outlen)
{
    if (outlen == 0)
        return -ENOSPC;
    out[0] = '\0';
    /* The base URI and the normalised parameters are built first, then encoded once more. */
    struct gm_buf u, p, o;
    gm_buf_init(&u, outlen - 1);
    gm_buf_init(&p, outlen - 1);
    gm_buf_init(&o, outlen - 1);
    struct encoded *e = calloc(n ? n : 1, sizeof(*e));
    long r = e ? put_base_uri(&u, url) : -ENOMEM;
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
                gm_buf_putc(&p, '&');
            gm_buf_puts(&p, e[i].name);
            gm_buf_putc(&p, '=');
            gm_buf_puts(&p, e[i].value);
        }
        for (const char *m = method; *m; m++)
            gm_buf_putc(&o, (char)toupper((unsigned char)*m));
        gm_buf_putc(&o, '&');
        put_pct(&o, u.data ? u.data : "");
        gm_buf_putc(&o, '&');
        put_pct(&o, p.data ? p.data : "");
        r = buf_status(&u) ? buf_status(&u) : buf_status(&p) ? buf_status(&p) : buf_status(&o);
        if (r == 0) {
            memcpy(out, o.data ? o.data : "", o.len + 1);
            r = (long)o.len;
        }
    }
    for (size_t i = 0; e && i < n; i++) {
        free(e[i].name);
        free(e[i].value);
    }
    free(e);
    gm_buf_free(&u);
    gm_buf_free(&p);
    gm_buf_free(&o);
    return r;
}

int oauth1_hmac_sha1(const char *base, const char *consumer_secret, const char *token_secret,
                     char *out, size_t outlen)
{
    struct gm_buf k, sig;
    gm_buf_init(&k, KEY_MAX - 1);
    gm_buf_init(&sig, 28); /* 20 bytes of SHA-1 are 28 characters of base64 */
    put_pct(&k, consumer_secret);
    gm_buf_putc(&k, '&');
    put_pct(&k, token_secret ? token_secret : "");
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    int r = buf_status(&k);
    if (r == 0 && outlen < 29)
        r = -ENOSPC;
    if (r == 0 && !HMAC(EVP_sha1(), k.data, (int)k.len, (const unsigned char *)base, strlen(base),
                        mac, &maclen))
        r = -EIO;
    if (r == 0)
        r = gm_base64_encode(&sig, mac, maclen);
    if (r == 0)
        memcpy(out, sig.data, sig.len + 1);
    if (k.data)
        OPENSSL_cleanse(k.data, k.len);
    gm_buf_free(&k);
    gm_buf_free(&sig);
    return r;
}

bool oauth1_verify(const char *base, const char *consumer_secret, const char *signature)
{
    char expected[64];
    if (oauth1_hmac_sha1(base, consumer_secret, "", expected, sizeof(expected)) < 0)
        return false;
    size_t n = strlen(expected);
    return strlen(signature) == n && CRYPTO_memcmp(expected, signature, n) == 0;
}

/* RFC 5849 3.5.1: OAuth realm="x", oauth_consumer_key="k", ... (values percent-encoded). */
json_t *oauth1_header_params(const char *header, char *err, size_t errlen)
{
    if (strncasecmp(header, "OAuth ", 6) != 0) {
        snprintf(err, errlen, "the Authorization header is not an OAuth one");
        return NULL;
    }
    json_t *out = json_object();
    const char *p = header + 6;
    size_t count = 0;
    while (out && *p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (!*p)
            break;
        size_t nlen = strcspn(p, "=");
        const char *eq = p + nlen;
        if (*eq != '=' || eq[1] != '"' || nlen == 0 || nlen > 64 || ++count > 32) {
            snprintf(err, errlen, "the OAuth Authorization header is not name=\"value\", ...");
            json_decref(out);
            return NULL;
        }
        const char *v = eq + 2, *close = strchr(v, '"');
        if (!close || (size_t)(close - v) > 4096) {
            snprintf(err, errlen, "the OAuth Authorization header has an unclosed value");
            json_decref(out);
            return NULL;
        }
        char name[65], value[4097];
        snprintf(name, sizeof(name), "%.*s", (int)nlen, p);
        long n = gm_url_decode(v, (size_t)(close - v), value, sizeof(value), false);
        if (n < 0 || strlen(value) != (size_t)n) {
            snprintf(err, errlen, "the OAuth Authorization header's %s is not percent-encoded",
                     name);
            json_decref(out);
            return NULL;
        }
        json_t *jv = json_string(value);
        if (!jv || json_object_get(out, name)) {
            snprintf(err, errlen,
                     !jv ? "the OAuth Authorization header's %s is not UTF-8"
                         : "the OAuth Authorization header gives %s twice",
                     name);
            json_decref(jv);
            json_decref(out);
            return NULL;
        }
        if (strcmp(name, "realm") == 0) {
            json_decref(jv);
        } else if (json_object_set_new(out, name, jv) < 0) {
            snprintf(err, errlen, "out of memory");
            json_decref(out);
            return NULL;
        }
        p = close + 1;
    }
    if (!out)
        snprintf(err, errlen, "out of memory");
    return out;
}
