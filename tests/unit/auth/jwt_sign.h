/* The issuer's side, for the tests of <ganymede/jwt.h>: keys made with OpenSSL, published as
 * JWKs the way providers do, and compact JWS tokens signed with them (or with an HMAC, or not
 * at all). Every function returns memory the caller frees and fails the test on error. */
#pragma once

#include <ganymede/encode.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

static inline char *b64u(const void *data, size_t n)
{
    struct gm_buf b;
    gm_buf_init(&b, 1 << 20);
    assert_int_equal(gm_base64url_encode(&b, data, n, false), 0);
    return gm_buf_steal(&b);
}

static inline json_t *b64u_json(const void *data, size_t n)
{
    char *s = b64u(data, n);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static inline json_t *bn_json(EVP_PKEY *k, const char *name)
{
    BIGNUM *bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(k, name, &bn), 1);
    unsigned char raw[1024];
    int n = BN_bn2bin(bn, raw);
    BN_free(bn);
    return b64u_json(raw, (size_t)n);
}

/* The public JWK of @k, with @kid and @alg when not NULL. */
static inline json_t *jwk_of(EVP_PKEY *k, const char *kid, const char *alg)
{
    json_t *j = json_object();
    if (EVP_PKEY_is_a(k, "RSA")) {
        json_object_set_new(j, "kty", json_string("RSA"));
        json_object_set_new(j, "n", bn_json(k, OSSL_PKEY_PARAM_RSA_N));
        json_object_set_new(j, "e", bn_json(k, OSSL_PKEY_PARAM_RSA_E));
    } else if (EVP_PKEY_is_a(k, "EC")) {
        unsigned char point[1 + 2 * 66];
        size_t len = 0;
        assert_int_equal(
            EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &len),
            1);
        size_t size = (len - 1) / 2;
        json_object_set_new(j, "kty", json_string("EC"));
        json_object_set_new(j, "crv",
                            json_string(size == 32   ? "P-256"
                                        : size == 48 ? "P-384"
                                                     : "P-521"));
        json_object_set_new(j, "x", b64u_json(point + 1, size));
        json_object_set_new(j, "y", b64u_json(point + 1 + size, size));
    } else {
        unsigned char raw[64];
        size_t len = sizeof(raw);
        assert_int_equal(EVP_PKEY_get_raw_public_key(k, raw, &len), 1);
        json_object_set_new(j, "kty", json_string("OKP"));
        json_object_set_new(j, "crv", json_string(len == 32 ? "Ed25519" : "Ed448"));
        json_object_set_new(j, "x", b64u_json(raw, len));
    }
    json_object_set_new(j, "use", json_string("sig"));
    if (kid)
        json_object_set_new(j, "kid", json_string(kid));
    if (alg)
        json_object_set_new(j, "alg", json_string(alg));
    return j;
}

/* A JWKS document of the JWKs in @keys (stolen). */
static inline char *jwks_text(json_t *keys)
{
    json_t *doc = json_pack("{s:o}", "keys", keys);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

static inline char *public_pem(EVP_PKEY *k)
{
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, k);
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *out = strndup(data, (size_t)n);
    BIO_free(bio);
    return out;
}

/* base64url(@header).base64url(@claims), both JSON text. */
static inline char *signing_input(const char *header, const char *claims)
{
    char *h = b64u(header, strlen(header)), *c = b64u(claims, strlen(claims));
    size_t n = strlen(h) + strlen(c) + 2;
    char *out = malloc(n);
    snprintf(out, n, "%s.%s", h, c);
    free(h);
    free(c);
    return out;
}

static inline char *join_signature(char *input, const unsigned char *sig, size_t sig_len)
{
    char *s = b64u(sig, sig_len);
    size_t n = strlen(input) + strlen(s) + 2;
    char *out = malloc(n);
    snprintf(out, n, "%s.%s", input, s);
    free(s);
    free(input);
    return out;
}

static inline const char *alg_md(const char *alg)
{
    if (strcmp(alg, "EdDSA") == 0)
        return NULL;
    return strstr(alg, "256") ? "SHA256" : strstr(alg, "384") ? "SHA384" : "SHA512";
}

/* @claims signed by @k with @alg under the header @header (JSON text, alg included). */
static inline char *sign_raw(EVP_PKEY *k, const char *alg, const char *header, const char *claims)
{
    char *input = signing_input(header, claims);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    assert_int_equal(EVP_DigestSignInit_ex(md, &pctx, alg_md(alg), NULL, NULL, k, NULL), 1);
    if (alg[0] == 'P') {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    }
    size_t len = 0;
    assert_int_equal(EVP_DigestSign(md, NULL, &len, (unsigned char *)input, strlen(input)), 1);
    unsigned char *sig = malloc(len);
    assert_int_equal(EVP_DigestSign(md, sig, &len, (unsigned char *)input, strlen(input)), 1);
    EVP_MD_CTX_free(md);
    if (alg[0] == 'E' && alg[1] == 'S') {
        /* DER to JWS's r || s. */
        size_t size = strcmp(alg, "ES256") == 0 ? 32 : strcmp(alg, "ES384") == 0 ? 48 : 66;
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
        unsigned char *raw = calloc(1, 2 * size);
        BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)size);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + size, (int)size);
        ECDSA_SIG_free(es);
        free(sig);
        sig = raw;
        len = 2 * size;
    }
    char *out = join_signature(input, sig, len);
    free(sig);
    return out;
}

static inline char *header_json(const char *alg, const char *kid)
{
    json_t *h = json_pack("{s:s, s:s}", "alg", alg, "typ", "JWT");
    if (kid)
        json_object_set_new(h, "kid", json_string(kid));
    char *text = json_dumps(h, JSON_COMPACT);
    json_decref(h);
    return text;
}

/* @claims signed by @k with @alg, under @kid when not NULL. */
static inline char *sign(EVP_PKEY *k, const char *alg, const char *kid, const char *claims)
{
    char *h = header_json(alg, kid);
    char *t = sign_raw(k, alg, h, claims);
    free(h);
    return t;
}

/* HS256 with @secret: what an attacker makes of a public key. */
static inline char *sign_hmac(const char *kid, const void *secret, size_t secret_len,
                              const char *claims)
{
    char *h = header_json("HS256", kid);
    char *input = signing_input(h, claims);
    free(h);
    unsigned char mac[32];
    unsigned int len = sizeof(mac);
    HMAC(EVP_sha256(), secret, (int)secret_len, (unsigned char *)input, strlen(input), mac, &len);
    return join_signature(input, mac, len);
}

/* alg none: no signature at all. */
static inline char *sign_none(const char *kid, const char *claims)
{
    char *h = header_json("none", kid);
    char *input = signing_input(h, claims);
    free(h);
    size_t n = strlen(input) + 2;
    char *out = malloc(n);
    snprintf(out, n, "%s.", input);
    free(input);
    return out;
}
