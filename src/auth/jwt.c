/* JWS verification against a JWKS, and JWT claim checks (<ganymede/jwt.h>), on OpenSSL 3's
 * EVP interface: JWKs become EVP_PKEYs once, when the set is parsed; a signature is one
 * EVP_DigestVerify. libjwt 1.10 (Debian bookworm) knows neither JWKS, PS256 nor EdDSA, so it
 * is not used. */

#include <errno.h>
#include <ganymede/encode.h>
#include <ganymede/jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_KID       256
#define MAX_KEY_BYTES 1024 /* an 8192-bit RSA modulus */
#define MIN_RSA_BYTES 256  /* RFC 7518 3.3: 2048 bits or more */
#define MAX_SIG_BYTES 1024

enum kty { KTY_RSA, KTY_EC, KTY_OKP };

static const char *const kty_names[] = {[KTY_RSA] = "RSA", [KTY_EC] = "EC", [KTY_OKP] = "OKP"};

struct jwk {
    char kid[MAX_KID]; /* "" when the JWK has none */
    char alg[16];      /* "" when the JWK does not say */
    char crv[16];      /* EC and OKP */
    enum kty kty;
    EVP_PKEY *pkey;
};

struct gm_jwks {
    struct jwk v[GM_JWKS_MAX_KEYS];
    size_t n;
};

struct alg {
    const char *name;
    enum kty kty;
    const char *md;  /* NULL for EdDSA */
    const char *crv; /* ES*: the curve it needs */
    size_t ec_size;  /* ES*: bytes of r and of s */
    bool pss;
};

static const struct alg algs[] = {
    {"RS256", KTY_RSA, "SHA256", NULL, 0, false},
    {"RS384", KTY_RSA, "SHA384", NULL, 0, false},
    {"RS512", KTY_RSA, "SHA512", NULL, 0, false},
    {"PS256", KTY_RSA, "SHA256", NULL, 0, true},
    {"PS384", KTY_RSA, "SHA384", NULL, 0, true},
    {"PS512", KTY_RSA, "SHA512", NULL, 0, true},
    {"ES256", KTY_EC, "SHA256", "P-256", 32, false},
    {"ES384", KTY_EC, "SHA384", "P-384", 48, false},
    {"ES512", KTY_EC, "SHA512", "P-521", 66, false},
    {"EdDSA", KTY_OKP, NULL, NULL, 0, false},
};

static void say(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *why, size_t whylen, const char *fmt, ...)
{
    if (!why || !whylen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

static bool eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static void copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* Keys. */

static long b64_field(const json_t *jwk, const char *name, unsigned char *out, size_t cap)
{
    const char *s = json_string_value(json_object_get(jwk, name));
    return s ? gm_base64url_decode(s, strlen(s), out, cap) : -1;
}

static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static EVP_PKEY *rsa_key(const json_t *jwk)
{
    unsigned char n[MAX_KEY_BYTES], e[16];
    long nl = b64_field(jwk, "n", n, sizeof(n)), el = b64_field(jwk, "e", e, sizeof(e));
    size_t skip = 0;
    while (nl > 0 && skip < (size_t)nl && n[skip] == 0)
        skip++; /* leading zeros do not count towards the size */
    if (nl < 0 || (size_t)nl - skip < MIN_RSA_BYTES || el < 1)
        return NULL;
    BIGNUM *bn = BN_bin2bn(n, (int)nl, NULL), *be = BN_bin2bn(e, (int)el, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    if (bn && be && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
        pkey = pkey_from_params("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return pkey;
}

static EVP_PKEY *ec_key(const json_t *jwk, const char *crv)
{
    const char *group = NULL;
    size_t size = 0;
    if (eq(crv, "P-256"))
        group = "prime256v1", size = 32;
    else if (eq(crv, "P-384"))
        group = "secp384r1", size = 48;
    else if (eq(crv, "P-521"))
        group = "secp521r1", size = 66;
    if (!group)
        return NULL;
    unsigned char point[1 + 2 * 66];
    point[0] = 0x04; /* uncompressed */
    long xl = b64_field(jwk, "x", point + 1, size),
         yl = b64_field(jwk, "y", point + 1 + size, size);
    if (xl != (long)size || yl != (long)size)
        return NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * size))
        pkey = pkey_from_params("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    /* A point that is not on the curve is not a key. */
    EVP_PKEY_CTX *check = pkey ? EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL) : NULL;
    if (pkey && (!check || EVP_PKEY_public_check(check) != 1)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(check);
    return pkey;
}

static EVP_PKEY *okp_key(const json_t *jwk, const char *crv)
{
    unsigned char x[57];
    long xl = b64_field(jwk, "x", x, sizeof(x));
    if (eq(crv, "Ed25519") && xl == 32)
        return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, 32);
    if (eq(crv, "Ed448") && xl == 57)
        return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED448, NULL, x, 57);
    return NULL; /* X25519 and X448 are for key agreement */
}

/* Whether a JWK may verify signatures: "use" and "key_ops", when present, must say so. */
static bool for_signatures(const json_t *jwk)
{
    const json_t *use = json_object_get(jwk, "use");
    const json_t *ops = json_object_get(jwk, "key_ops");
    if (use && !eq(json_string_value(use), "sig"))
        return false;
    if (!ops)
        return true;
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op)
    {
        if (eq(json_string_value(op), "verify"))
            return true;
    }
    return false;
}

int gm_jwks_parse(const char *text, size_t len, struct gm_jwks **ret, char *err, size_t errlen)
{
    if (!text || !ret)
        return -EINVAL;
    if (len > GM_JWKS_MAX_DOC) {
        say(err, errlen, "the key set is larger than %d bytes", GM_JWKS_MAX_DOC);
        return -E2BIG;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *list = json_object_get(doc, "keys");
    if (!json_is_array(list)) {
        say(err, errlen, "the key set is not a JSON object with a \"keys\" list");
        json_decref(doc);
        return -EINVAL;
    }
    struct gm_jwks *ks = calloc(1, sizeof(*ks));
    if (!ks) {
        json_decref(doc);
        return -ENOMEM;
    }
    size_t i;
    json_t *jwk;
    json_array_foreach(list, i, jwk)
    {
        if (ks->n == GM_JWKS_MAX_KEYS)
            break;
        const char *kty = json_string_value(json_object_get(jwk, "kty"));
        const char *kid = json_string_value(json_object_get(jwk, "kid"));
        const char *alg = json_string_value(json_object_get(jwk, "alg"));
        const char *crv = json_string_value(json_object_get(jwk, "crv"));
        if (!json_is_object(jwk) || !for_signatures(jwk) || (kid && strlen(kid) >= MAX_KID) ||
            (alg && strlen(alg) >= sizeof(ks->v[0].alg)) ||
            (crv && strlen(crv) >= sizeof(ks->v[0].crv)))
            continue;
        struct jwk *k = &ks->v[ks->n];
        if (eq(kty, "RSA")) {
            k->kty = KTY_RSA;
            k->pkey = rsa_key(jwk);
        } else if (eq(kty, "EC")) {
            k->kty = KTY_EC;
            k->pkey = ec_key(jwk, crv);
        } else if (eq(kty, "OKP")) {
            k->kty = KTY_OKP;
            k->pkey = okp_key(jwk, crv);
        }
        if (!k->pkey)
            continue; /* a secret ("oct"), an unknown type or a malformed key */
        copy(k->kid, sizeof(k->kid), kid);
        copy(k->alg, sizeof(k->alg), alg);
        copy(k->crv, sizeof(k->crv), crv);
        ks->n++;
    }
    json_decref(doc);
    *ret = ks;
    return 0;
}

void gm_jwks_free(struct gm_jwks *keys)
{
    if (!keys)
        return;
    for (size_t i = 0; i < keys->n; i++)
        EVP_PKEY_free(keys->v[i].pkey);
    free(keys);
}

size_t gm_jwks_count(const struct gm_jwks *keys)
{
    return keys ? keys->n : 0;
}

/* Tokens. */

struct jws {
    const char *seg[3]; /* header, payload, signature: base64url text in the token */
    size_t len[3];
    json_t *header;
};

static bool base64url_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return n % 4 != 1;
}

static const char *const seg_names[] = {"header", "claims", "signature"};

/* The JSON object in segment @i, or NULL with @why. */
static json_t *segment_object(const struct jws *t, int i, int *status, char *why, size_t whylen)
{
    unsigned char *raw = malloc(t->len[i] + 1);
    if (!raw) {
        *status = -ENOMEM;
        return NULL;
    }
    long n = gm_base64url_decode(t->seg[i], t->len[i], raw, t->len[i]);
    json_t *v =
        n > 0 ? json_loadb((const char *)raw, (size_t)n, JSON_REJECT_DUPLICATES, NULL) : NULL;
    free(raw);
    if (!json_is_object(v)) {
        json_decref(v);
        say(why, whylen, "the token's %s is not a JSON object", seg_names[i]);
        *status = -EBADMSG;
        return NULL;
    }
    return v;
}

/* Split @token into its segments and decode the header. */
static int parse(const char *token, struct jws *t, char *why, size_t whylen)
{
    memset(t, 0, sizeof(*t));
    if (!token)
        return -EINVAL;
    size_t len = strnlen(token, (size_t)GM_JWT_MAX_TOKEN + 1);
    if (len > GM_JWT_MAX_TOKEN) {
        say(why, whylen, "the token is longer than %d bytes", GM_JWT_MAX_TOKEN);
        return -E2BIG;
    }
    size_t n = 0;
    const char *p = token;
    for (;;) {
        const char *dot = memchr(p, '.', len - (size_t)(p - token));
        if (n < 3) {
            t->seg[n] = p;
            t->len[n] = dot ? (size_t)(dot - p) : len - (size_t)(p - token);
        }
        n++;
        if (!dot)
            break;
        p = dot + 1;
    }
    if (n != 3) {
        say(why, whylen, "the token is not a compact JWS (%zu segment%s, not 3)", n,
            n == 1 ? "" : "s");
        return -EBADMSG;
    }
    for (int i = 0; i < 3; i++)
        if (!base64url_text(t->seg[i], t->len[i]) || (i < 2 && t->len[i] == 0)) {
            say(why, whylen, "the token's %s is not base64url", seg_names[i]);
            return -EBADMSG;
        }
    int status = 0;
    t->header = segment_object(t, 0, &status, why, whylen);
    if (!t->header)
        return status;
    if (!json_is_string(json_object_get(t->header, "alg"))) {
        say(why, whylen, "the token's header has no alg");
        json_decref(t->header);
        t->header = NULL;
        return -EBADMSG;
    }
    if (json_object_get(t->header, "crit")) {
        /* RFC 7515 4.1.11: extensions we do not know must make the token invalid. */
        say(why, whylen, "the token's header lists critical extensions (crit)");
        json_decref(t->header);
        t->header = NULL;
        return -EBADMSG;
    }
    return 0;
}

static const struct alg *find_alg(const char *name)
{
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
        if (strcmp(algs[i].name, name) == 0)
            return &algs[i];
    return NULL;
}

/* Whether key @k can verify @a signatures. */
static bool fits(const struct jwk *k, const struct alg *a)
{
    if (k->kty != a->kty || (k->alg[0] && strcmp(k->alg, a->name) != 0))
        return false;
    return !a->crv || strcmp(k->crv, a->crv) == 0;
}

/* ES*: JWS carries r || s; OpenSSL wants DER. */
static int ec_der(const struct alg *a, const unsigned char *sig, size_t len, unsigned char **der,
                  size_t *der_len)
{
    if (len != 2 * a->ec_size)
        return -EKEYREJECTED;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)a->ec_size, NULL);
    BIGNUM *s = BN_bin2bn(sig + a->ec_size, (int)a->ec_size, NULL);
    if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
        ECDSA_SIG_free(es);
        BN_free(r);
        BN_free(s);
        return -ENOMEM;
    }
    *der = NULL;
    int n = i2d_ECDSA_SIG(es, der);
    ECDSA_SIG_free(es);
    if (n <= 0)
        return -ENOMEM;
    *der_len = (size_t)n;
    return 0;
}

/* 0 when @sig is @k's signature of @input with @a; -EKEYREJECTED otherwise. */
static int verify_with(const struct jwk *k, const struct alg *a, const char *input,
                       size_t input_len, const unsigned char *sig, size_t sig_len)
{
    unsigned char *der = NULL;
    if (a->kty == KTY_EC) {
        int r = ec_der(a, sig, sig_len, &der, &sig_len);
        if (r < 0)
            return r;
        sig = der;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int r = -ENOMEM;
    if (md && EVP_DigestVerifyInit_ex(md, &pctx, a->md, NULL, NULL, k->pkey, NULL) == 1) {
        r = 0;
        if (a->kty == KTY_RSA && a->pss)
            r = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
                        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0
                    ? 0
                    : -ENOMEM;
        else if (a->kty == KTY_RSA)
            r = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0 ? 0 : -ENOMEM;
        if (r == 0)
            r = EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)input, input_len) == 1
                    ? 0
                    : -EKEYREJECTED;
    } else if (md) {
        r = -EKEYREJECTED; /* e.g. an Ed448 key under a digest it does not take */
    }
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    return r;
}

static int check_signature(const struct gm_jwks *keys, const struct jws *t, char *why,
                           size_t whylen)
{
    const char *name = json_string_value(json_object_get(t->header, "alg"));
    const struct alg *a = find_alg(name);
    if (!a) {
        if (strcmp(name, "none") == 0)
            say(why, whylen, "alg \"none\" (an unsigned token) is not accepted");
        else if (strncmp(name, "HS", 2) == 0)
            say(why, whylen,
                "alg \"%.20s\" (a shared secret) is not accepted, only public-key signatures",
                name);
        else
            say(why, whylen,
                "alg \"%.20s\" is not accepted (only RS256/384/512, PS256/384/512, "
                "ES256/384/512 and EdDSA)",
                name);
        return -ENOTSUP;
    }
    const json_t *kid_json = json_object_get(t->header, "kid");
    const char *kid = json_string_value(kid_json);
    if (kid_json && !kid) {
        say(why, whylen, "the token's kid is not a string");
        return -EBADMSG;
    }
    unsigned char sig[MAX_SIG_BYTES];
    long sig_len = gm_base64url_decode(t->seg[2], t->len[2], sig, sizeof(sig));
    if (sig_len <= 0) {
        say(why, whylen, "the token has no signature");
        return -EKEYREJECTED;
    }
    const char *input = t->seg[0];
    size_t input_len = t->len[0] + 1 + t->len[1];
    size_t tried = 0;
    for (size_t i = 0; keys && i < keys->n; i++) {
        const struct jwk *k = &keys->v[i];
        if (kid && strcmp(k->kid, kid) != 0)
            continue;
        if (!fits(k, a)) {
            if (kid) {
                say(why, whylen, "key \"%.100s\" (%s%s%s) does not fit alg \"%s\"", kid,
                    kty_names[k->kty], k->crv[0] ? " " : "", k->crv, a->name);
                return -EKEYREJECTED;
            }
            continue;
        }
        tried++;
        int r = verify_with(k, a, input, input_len, sig, (size_t)sig_len);
        if (r == 0 || r == -ENOMEM)
            return r;
        if (kid) {
            say(why, whylen, "the signature does not match key \"%.100s\"", kid);
            return r;
        }
    }
    if (kid) {
        say(why, whylen, "no key \"%.100s\" in the key set", kid);
        return -ENOKEY;
    }
    if (!tried) {
        say(why, whylen, "no key in the key set fits alg \"%s\" (and the token names no kid)",
            a->name);
        return -ENOKEY;
    }
    say(why, whylen, "the signature matches none of the %zu keys that fit alg \"%s\"", tried,
        a->name);
    return -EKEYREJECTED;
}

static int decode(const struct gm_jwks *keys, bool verify, const char *token, json_t **ret_header,
                  json_t **ret_claims, char *why, size_t whylen)
{
    struct jws t;
    say(why, whylen, "%s", "");
    int r = parse(token, &t, why, whylen);
    if (r < 0)
        return r;
    if (verify)
        r = check_signature(keys, &t, why, whylen);
    json_t *claims = r == 0 ? segment_object(&t, 1, &r, why, whylen) : NULL;
    if (r < 0) {
        json_decref(t.header);
        return r;
    }
    if (ret_header)
        *ret_header = t.header;
    else
        json_decref(t.header);
    if (ret_claims)
        *ret_claims = claims;
    else
        json_decref(claims);
    return 0;
}

int gm_jwt_verify(const struct gm_jwks *keys, const char *token, json_t **ret_header,
                  json_t **ret_claims, char *why, size_t whylen)
{
    return decode(keys, true, token, ret_header, ret_claims, why, whylen);
}

int gm_jwt_peek(const char *token, json_t **ret_header, json_t **ret_claims, char *why,
                size_t whylen)
{
    return decode(NULL, false, token, ret_header, ret_claims, why, whylen);
}

/* Claims. */

/* A NumericDate claim: 1 and @ret when present, 0 when absent, -EACCES when not a number. */
static int time_claim(const json_t *claims, const char *name, int64_t *ret, char *why,
                      size_t whylen)
{
    const json_t *v = json_object_get(claims, name);
    if (!v)
        return 0;
    if (!json_is_number(v)) {
        say(why, whylen, "%s: the claim is not a number", name);
        return -EACCES;
    }
    double d = json_number_value(v);
    if (!(d > -1e15 && d < 1e15)) {
        say(why, whylen, "%s: the claim is not a time", name);
        return -EACCES;
    }
    *ret = (int64_t)d;
    return 1;
}

static int check_times(const json_t *c, const struct gm_jwt_expect *e, char *why, size_t whylen)
{
    int64_t now = e->now ? e->now : (int64_t)time(NULL), t = 0;
    int r = time_claim(c, "exp", &t, why, whylen);
    if (r < 0)
        return r;
    if (r == 0 && e->require_exp) {
        say(why, whylen, "exp: the token has no expiry time");
        return -EACCES;
    }
    if (r == 1 && now > t + e->leeway) {
        say(why, whylen, "exp: the token expired %lld s ago", (long long)(now - t));
        return -EACCES;
    }
    r = time_claim(c, "nbf", &t, why, whylen);
    if (r < 0)
        return r;
    if (r == 1 && t - e->leeway > now) {
        say(why, whylen, "nbf: the token is not valid for another %lld s", (long long)(t - now));
        return -EACCES;
    }
    r = time_claim(c, "iat", &t, why, whylen);
    if (r < 0)
        return r;
    if (r == 0 && e->require_iat) {
        say(why, whylen, "iat: the token does not say when it was issued");
        return -EACCES;
    }
    if (r == 1 && t - e->leeway > now) {
        say(why, whylen, "iat: the token was issued %lld s in the future", (long long)(t - now));
        return -EACCES;
    }
    return 0;
}

static int check_audience(const json_t *c, const char *want, char *why, size_t whylen)
{
    const json_t *aud = json_object_get(c, "aud");
    const json_t *azp = json_object_get(c, "azp");
    size_t n = 0;
    bool found = false;
    if (json_is_string(aud)) {
        n = 1;
        found = strcmp(json_string_value(aud), want) == 0;
    } else if (json_is_array(aud)) {
        size_t i;
        json_t *a;
        json_array_foreach(aud, i, a)
        {
            n++;
            found = found || eq(json_string_value(a), want);
        }
    }
    if (!found && json_is_string(aud))
        say(why, whylen, "aud: the token is for \"%.100s\", not \"%.100s\"", json_string_value(aud),
            want);
    else if (!found)
        say(why, whylen, "aud: \"%.100s\" is not among the token's audiences", want);
    else if (n > 1 && !azp)
        say(why, whylen, "azp: the token has %zu audiences and no azp", n);
    else if (azp && !eq(json_string_value(azp), want))
        say(why, whylen, "azp: the token was issued to \"%.100s\", not \"%.100s\"",
            json_is_string(azp) ? json_string_value(azp) : "?", want);
    else
        return 0;
    return -EACCES;
}

int gm_jwt_check_claims(const json_t *claims, const struct gm_jwt_expect *e, char *why,
                        size_t whylen)
{
    say(why, whylen, "%s", "");
    if (!json_is_object(claims) || !e)
        return -EINVAL;
    int r = check_times(claims, e, why, whylen);
    if (r < 0)
        return r;
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    if (e->issuer && !eq(iss, e->issuer)) {
        if (iss)
            say(why, whylen, "iss: the token was issued by \"%.100s\", not \"%.100s\"", iss,
                e->issuer);
        else
            say(why, whylen, "iss: the token does not say who issued it");
        return -EACCES;
    }
    if (e->audience && (r = check_audience(claims, e->audience, why, whylen)) < 0)
        return r;
    if (e->nonce && !eq(json_string_value(json_object_get(claims, "nonce")), e->nonce)) {
        say(why, whylen, "nonce: the token belongs to another login");
        return -EACCES;
    }
    return 0;
}
