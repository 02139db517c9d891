/* id_token verification: JWKS keys to PEM with OpenSSL 3, signatures with libjwt, claims by
 * hand (libjwt 1.x checks none). */
#include "auth/oidc_token.h"
#include "util/base64.h"
#include "util/str.h"

#include <errno.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEYS      64
#define MAX_TOKEN     (64 << 10)
#define MAX_KEY_BYTES 1024 /* 8192-bit RSA moduli */

enum key_type { KEY_RSA, KEY_EC };

struct oidc_key {
    char kid[128];
    char alg[8]; /* "" when the JWK does not say */
    enum key_type type;
    char *pem;
    size_t pem_len;
};

struct oidc_keys {
    struct oidc_key v[MAX_KEYS];
    size_t n;
};

/* Keys. */

static long b64_field(const json_t *jwk, const char *name, unsigned char *out, size_t cap)
{
    const char *s = json_string_value(json_object_get(jwk, name));
    return s ? b64url_decode(s, strlen(s), out, cap) : -1;
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
    if (nl < 128 || el < 1) /* at least 1024 bits */
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

static EVP_PKEY *ec_key(const json_t *jwk)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    const char *group = NULL;
    size_t size = 0;
    if (str_eq(crv, "P-256"))
        group = "prime256v1", size = 32;
    else if (str_eq(crv, "P-384"))
        group = "secp384r1", size = 48;
    else if (str_eq(crv, "P-521"))
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
    return pkey;
}

static int key_to_pem(EVP_PKEY *pkey, struct oidc_key *k)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int r = -ENOMEM;
    char *data;
    if (bio && PEM_write_bio_PUBKEY(bio, pkey)) {
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0 && (k->pem = str_ndup(data, (size_t)n))) {
            k->pem_len = (size_t)n;
            r = 0;
        }
    }
    BIO_free(bio);
    return r;
}

int oidc_keys_parse(const char *text, size_t len, struct oidc_keys **ret, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, 0, &jerr);
    json_t *list = json_object_get(doc, "keys");
    if (!json_is_array(list)) {
        snprintf(err, errlen, "the key set is not a JSON object with a \"keys\" list");
        json_decref(doc);
        return -EINVAL;
    }
    struct oidc_keys *ks = calloc(1, sizeof(*ks));
    if (!ks) {
        json_decref(doc);
        return -ENOMEM;
    }
    size_t i;
    json_t *jwk;
    json_array_foreach(list, i, jwk)
    {
        if (ks->n == MAX_KEYS)
            break;
        const char *kty = json_string_value(json_object_get(jwk, "kty"));
        const char *use = json_string_value(json_object_get(jwk, "use"));
        const char *alg = json_string_value(json_object_get(jwk, "alg"));
        if (use && strcmp(use, "sig") != 0)
            continue; /* an encryption key */
        struct oidc_key *k = &ks->v[ks->n];
        EVP_PKEY *pkey = NULL;
        if (str_eq(kty, "RSA")) {
            k->type = KEY_RSA;
            pkey = rsa_key(jwk);
        } else if (str_eq(kty, "EC")) {
            k->type = KEY_EC;
            pkey = ec_key(jwk);
        }
        if (!pkey)
            continue;
        str_copy(k->kid, sizeof(k->kid), json_string_value(json_object_get(jwk, "kid")));
        str_copy(k->alg, sizeof(k->alg), alg);
        int r = key_to_pem(pkey, k);
        EVP_PKEY_free(pkey);
        if (r < 0) {
            oidc_keys_free(ks);
            json_decref(doc);
            return r;
        }
        ks->n++;
    }
    json_decref(doc);
    *ret = ks;
    return 0;
}

void oidc_keys_free(struct oidc_keys *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++)
        free(k->v[i].pem);
    free(k);
}

/* Tokens. */

/* The JSON of the token's @part-th dot-separated segment (0: header, 1: payload). */
static json_t *segment_json(const char *token, int part)
{
    const char *p = token;
    for (int i = 0; i < part && p; i++) {
        p = strchr(p, '.');
        p = p ? p + 1 : NULL;
    }
    if (!p)
        return NULL;
    const char *end = strchr(p, '.');
    if (!end)
        return NULL;
    size_t n = (size_t)(end - p);
    unsigned char *raw = malloc(n + 1);
    if (!raw)
        return NULL;
    long m = b64url_decode(p, n, raw, n);
    json_t *v = m > 0 ? json_loadb((const char *)raw, (size_t)m, 0, NULL) : NULL;
    free(raw);
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

int oidc_token_kid(const char *token, char *out, size_t outlen)
{
    json_t *h = token && strlen(token) < MAX_TOKEN ? segment_json(token, 0) : NULL;
    if (!h)
        return -EINVAL;
    str_copy(out, outlen, json_string_value(json_object_get(h, "kid")));
    json_decref(h);
    return 0;
}

static const struct oidc_key *find_key(const struct oidc_keys *ks, const char *kid, const char *alg)
{
    enum key_type type = alg[0] == 'R' ? KEY_RSA : KEY_EC;
    const struct oidc_key *found = NULL;
    size_t candidates = 0;
    for (size_t i = 0; ks && i < ks->n; i++) {
        const struct oidc_key *k = &ks->v[i];
        if (k->type != type || (k->alg[0] && strcmp(k->alg, alg) != 0))
            continue;
        if (kid[0] && strcmp(k->kid, kid) == 0)
            return k;
        if (!kid[0]) {
            found = k;
            candidates++;
        }
    }
    return candidates == 1 ? found : NULL; /* without a kid, only an unambiguous key */
}

static bool aud_ok(const json_t *claims, const char *client_id)
{
    const json_t *aud = json_object_get(claims, "aud");
    bool ok = false;
    if (json_is_string(aud)) {
        ok = strcmp(json_string_value(aud), client_id) == 0;
    } else if (json_is_array(aud)) {
        size_t i;
        json_t *a;
        json_array_foreach(aud, i, a)
        {
            ok = ok || (json_is_string(a) && strcmp(json_string_value(a), client_id) == 0);
        }
    }
    const json_t *azp = json_object_get(claims, "azp");
    return ok && (!azp || (json_is_string(azp) && strcmp(json_string_value(azp), client_id) == 0));
}

static int check_claims(const json_t *c, const struct oidc_expect *e, char *why, size_t whylen)
{
    const json_t *exp = json_object_get(c, "exp"), *iat = json_object_get(c, "iat"),
                 *nbf = json_object_get(c, "nbf");
    const char *iss = json_string_value(json_object_get(c, "iss"));
    const char *nonce = json_string_value(json_object_get(c, "nonce"));
    if (e->issuer && !str_eq(iss, e->issuer))
        snprintf(why, whylen, "it was issued by %s, not by %s", iss ? iss : "nobody", e->issuer);
    else if (!aud_ok(c, e->client_id))
        snprintf(why, whylen, "it was not issued for this hub (audience)");
    else if (!json_is_number(exp) || json_number_value(exp) + (double)e->leeway < (double)e->now)
        snprintf(why, whylen, "it has expired");
    else if ((iat && (!json_is_number(iat) ||
                      json_number_value(iat) - (double)e->leeway > (double)e->now)) ||
             (nbf && (!json_is_number(nbf) ||
                      json_number_value(nbf) - (double)e->leeway > (double)e->now)))
        snprintf(why, whylen, "it is not valid yet");
    else if (e->nonce && !str_eq(nonce, e->nonce))
        snprintf(why, whylen, "it belongs to another login (nonce)");
    else
        return 0;
    return -EACCES;
}

int oidc_token_verify(const struct oidc_keys *keys, const char *token, const struct oidc_expect *e,
                      int unverified, json_t **claims, char *why, size_t whylen)
{
    *claims = NULL;
    json_t *header = token && strlen(token) < MAX_TOKEN ? segment_json(token, 0) : NULL;
    if (!header) {
        snprintf(why, whylen, "it is not a JSON Web Token");
        return -EACCES;
    }
    char alg[8] = "", kid[128] = "";
    str_copy(alg, sizeof(alg), json_string_value(json_object_get(header, "alg")));
    str_copy(kid, sizeof(kid), json_string_value(json_object_get(header, "kid")));
    json_decref(header);
    json_t *payload = NULL;
    if (unverified) {
        payload = segment_json(token, 1);
    } else {
        static const char *const algs[] = {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"};
        bool known = false;
        for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
            known = known || strcmp(alg, algs[i]) == 0;
        if (!known) {
            snprintf(why, whylen, "its algorithm (%s) is not an accepted signature algorithm",
                     alg[0] ? alg : "none");
            return -EACCES;
        }
        const struct oidc_key *k = find_key(keys, kid, alg);
        if (!k)
            return -ENOKEY;
        jwt_t *jwt = NULL;
        if (jwt_decode(&jwt, token, (const unsigned char *)k->pem, (int)k->pem_len) != 0 || !jwt) {
            snprintf(why, whylen, "its signature does not match the provider's key");
            jwt_free(jwt);
            return -EACCES;
        }
        char *text = jwt_get_grants_json(jwt, NULL);
        payload = text ? json_loads(text, 0, NULL) : NULL;
        free(text);
        jwt_free(jwt);
    }
    if (!json_is_object(payload)) {
        json_decref(payload);
        snprintf(why, whylen, "its claims are not a JSON object");
        return -EACCES;
    }
    int r = check_claims(payload, e, why, whylen);
    if (r < 0) {
        json_decref(payload);
        return r;
    }
    *claims = payload;
    return 0;
}
