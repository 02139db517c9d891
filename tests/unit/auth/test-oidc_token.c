/* id_token verification: keys made here with OpenSSL, published as a JWKS the way providers
 * do, tokens signed with libjwt; then every way a token can be wrong. */
#include "test.h"
#include "auth/oidc_token.h"
#include "util/base64.h"

#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>

#define NOW 1800000000

static EVP_PKEY *rsa, *ec, *other_rsa;
static char *rsa_pem, *ec_pem, *other_pem, *rsa_pub_pem;
static struct oidc_keys *keys;

static char *private_pem(EVP_PKEY *k)
{
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL);
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *out = strndup(data, (size_t)n);
    BIO_free(bio);
    return out;
}

static char *public_pem(EVP_PKEY *k)
{
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, k);
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *out = strndup(data, (size_t)n);
    BIO_free(bio);
    return out;
}

static json_t *b64_bn(EVP_PKEY *k, const char *name)
{
    BIGNUM *bn = NULL;
    EVP_PKEY_get_bn_param(k, name, &bn);
    unsigned char raw[1024];
    int n = BN_bn2bin(bn, raw);
    BN_free(bn);
    struct buf b;
    buf_init(&b, 4096);
    b64url_encode(&b, raw, (size_t)n, false);
    json_t *s = json_string(b.data);
    buf_free(&b);
    return s;
}

static json_t *b64_raw(const unsigned char *raw, size_t n)
{
    struct buf b;
    buf_init(&b, 4096);
    b64url_encode(&b, raw, n, false);
    json_t *s = json_string(b.data);
    buf_free(&b);
    return s;
}

static int setup(void **state)
{
    (void)state;
    rsa = EVP_RSA_gen(2048);
    other_rsa = EVP_RSA_gen(2048);
    ec = EVP_EC_gen("P-256");
    rsa_pem = private_pem(rsa);
    other_pem = private_pem(other_rsa);
    ec_pem = private_pem(ec);
    rsa_pub_pem = public_pem(rsa);
    unsigned char point[65];
    size_t len = 0;
    EVP_PKEY_get_octet_string_param(ec, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &len);
    json_t *jwks = json_pack(
        "{s:[{s:s, s:s, s:s, s:s, s:o, s:o}, {s:s, s:s, s:s, s:s, s:o, s:o}, {s:s, s:s, s:s}]}",
        "keys", "kty", "RSA", "kid", "rsa1", "use", "sig", "alg", "RS256", "n", b64_bn(rsa, "n"),
        "e", b64_bn(rsa, "e"), "kty", "EC", "kid", "ec1", "use", "sig", "crv", "P-256", "x",
        b64_raw(point + 1, 32), "y", b64_raw(point + 33, 32), "kty", "oct", "kid", "hmac", "k",
        "c2VjcmV0");
    char *text = json_dumps(jwks, 0);
    char err[256];
    int r = oidc_keys_parse(text, strlen(text), &keys, err, sizeof(err));
    free(text);
    json_decref(jwks);
    return r;
}

static int teardown(void **state)
{
    (void)state;
    oidc_keys_free(keys);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(other_rsa);
    EVP_PKEY_free(ec);
    free(rsa_pem);
    free(other_pem);
    free(ec_pem);
    free(rsa_pub_pem);
    return 0;
}

/* A token with @claims (JSON text), signed with @alg and @pem under @kid. */
static char *sign(jwt_alg_t alg, const char *pem, const char *kid, const char *claims)
{
    jwt_t *jwt = NULL;
    jwt_new(&jwt);
    jwt_add_grants_json(jwt, claims);
    if (kid)
        jwt_add_header(jwt, "kid", kid);
    jwt_set_alg(jwt, alg, (const unsigned char *)pem, (int)strlen(pem));
    char *token = jwt_encode_str(jwt);
    jwt_free(jwt);
    return token;
}

static const char good_claims[] =
    "{\"iss\":\"https://id.example\",\"aud\":\"hub\",\"sub\":\"u1\",\"exp\":1800000300,"
    "\"iat\":1800000000,\"nonce\":\"n1\",\"preferred_username\":\"alice\"}";

static const struct oidc_expect expect = {
    .issuer = "https://id.example",
    .client_id = "hub",
    .nonce = "n1",
    .now = NOW,
    .leeway = 60,
};

static int verify(const char *token, char *why, size_t whylen)
{
    json_t *claims = NULL;
    int r = oidc_token_verify(keys, token, &expect, 0, &claims, why, whylen);
    json_decref(claims);
    return r;
}

static void test_valid_rsa_and_ec(void **state)
{
    (void)state;
    char why[256] = "";
    char *t = sign(JWT_ALG_RS256, rsa_pem, "rsa1", good_claims);
    json_t *claims = NULL;
    assert_int_equal(oidc_token_verify(keys, t, &expect, 0, &claims, why, sizeof(why)), 0);
    assert_string_equal(json_string_value(json_object_get(claims, "preferred_username")), "alice");
    json_decref(claims);
    free(t);
    t = sign(JWT_ALG_ES256, ec_pem, "ec1", good_claims);
    assert_int_equal(verify(t, why, sizeof(why)), 0);
    free(t);
    char kid[64];
    t = sign(JWT_ALG_RS256, rsa_pem, "rsa1", good_claims);
    assert_int_equal(oidc_token_kid(t, kid, sizeof(kid)), 0);
    assert_string_equal(kid, "rsa1");
    free(t);
}

static void test_signature_and_keys(void **state)
{
    (void)state;
    char why[256] = "";
    /* Signed by another key under a known kid. */
    char *t = sign(JWT_ALG_RS256, other_pem, "rsa1", good_claims);
    assert_int_equal(verify(t, why, sizeof(why)), -EACCES);
    assert_non_null(strstr(why, "signature"));
    free(t);
    /* An unknown kid: the caller fetches the keys again. */
    t = sign(JWT_ALG_RS256, rsa_pem, "rotated", good_claims);
    assert_int_equal(verify(t, why, sizeof(why)), -ENOKEY);
    free(t);
    /* The payload changed after signing. */
    t = sign(JWT_ALG_RS256, rsa_pem, "rsa1", good_claims);
    char *dot = strchr(t, '.');
    dot[3] = dot[3] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(t, why, sizeof(why)), -EACCES);
    free(t);
    /* HS256 "signed" with the public key as the secret (algorithm confusion). */
    t = sign(JWT_ALG_HS256, rsa_pub_pem, "rsa1", good_claims);
    assert_int_equal(verify(t, why, sizeof(why)), -EACCES);
    assert_non_null(strstr(why, "HS256"));
    free(t);
    /* alg none. */
    t = sign(JWT_ALG_NONE, "", "rsa1", good_claims);
    assert_int_equal(verify(t, why, sizeof(why)), -EACCES);
    free(t);
    /* An RSA kid with an EC algorithm. */
    t = sign(JWT_ALG_ES256, ec_pem, "rsa1", good_claims);
    assert_int_equal(verify(t, why, sizeof(why)), -ENOKEY);
    free(t);
    assert_int_equal(verify("not a token", why, sizeof(why)), -EACCES);
    assert_int_equal(verify("", why, sizeof(why)), -EACCES);
}

static void expect_refused(const char *claims, const char *reason)
{
    char why[256] = "";
    char *t = sign(JWT_ALG_RS256, rsa_pem, "rsa1", claims);
    assert_int_equal(verify(t, why, sizeof(why)), -EACCES);
    if (!strstr(why, reason))
        fail_msg("'%s' does not say '%s'", why, reason);
    free(t);
}

static void test_claims(void **state)
{
    (void)state;
    expect_refused("{\"iss\":\"https://evil\",\"aud\":\"hub\",\"exp\":1800000300,\"nonce\":\"n1\"}",
                   "issued by");
    expect_refused(
        "{\"iss\":\"https://id.example\",\"aud\":\"other\",\"exp\":1800000300,\"nonce\":\"n1\"}",
        "audience");
    expect_refused("{\"iss\":\"https://id.example\",\"aud\":[\"hub\",\"x\"],\"azp\":\"x\","
                   "\"exp\":1800000300,\"nonce\":\"n1\"}",
                   "audience");
    expect_refused(
        "{\"iss\":\"https://id.example\",\"aud\":\"hub\",\"exp\":1799999000,\"nonce\":\"n1\"}",
        "expired");
    expect_refused("{\"iss\":\"https://id.example\",\"aud\":\"hub\",\"nonce\":\"n1\"}", "expired");
    expect_refused("{\"iss\":\"https://id.example\",\"aud\":\"hub\",\"exp\":1800000300,"
                   "\"iat\":1800009000,\"nonce\":\"n1\"}",
                   "not valid yet");
    expect_refused(
        "{\"iss\":\"https://id.example\",\"aud\":\"hub\",\"exp\":1800000300,\"nonce\":\"n2\"}",
        "nonce");
    expect_refused("{\"iss\":\"https://id.example\",\"aud\":\"hub\",\"exp\":1800000300}", "nonce");
    /* Within the leeway, and an audience list that includes the hub. */
    char why[256] = "";
    char *t = sign(JWT_ALG_RS256, rsa_pem, "rsa1",
                   "{\"iss\":\"https://id.example\",\"aud\":[\"hub\",\"api\"],\"azp\":\"hub\","
                   "\"exp\":1799999990,\"nonce\":\"n1\"}");
    assert_int_equal(verify(t, why, sizeof(why)), 0);
    free(t);
}

static void test_unverified_mode(void **state)
{
    (void)state;
    /* oauthenticator's userdata_from_id_token without keys: claims only. */
    char why[256] = "";
    json_t *claims = NULL;
    char *t = sign(JWT_ALG_RS256, other_pem, NULL, good_claims);
    struct oidc_expect e = expect;
    e.issuer = NULL;
    assert_int_equal(oidc_token_verify(NULL, t, &e, 1, &claims, why, sizeof(why)), 0);
    json_decref(claims);
    e.client_id = "other";
    assert_int_equal(oidc_token_verify(NULL, t, &e, 1, &claims, why, sizeof(why)), -EACCES);
    free(t);
}

static void test_bad_key_sets(void **state)
{
    (void)state;
    struct oidc_keys *k = NULL;
    char err[256];
    assert_int_equal(oidc_keys_parse("[]", 2, &k, err, sizeof(err)), -EINVAL);
    assert_int_equal(oidc_keys_parse("{", 1, &k, err, sizeof(err)), -EINVAL);
    /* Broken keys are skipped, not fatal. */
    const char *odd = "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"!!\",\"e\":\"AQAB\"},"
                      "{\"kty\":\"EC\",\"crv\":\"P-999\"},{\"kty\":\"RSA\",\"use\":\"enc\"}]}";
    assert_int_equal(oidc_keys_parse(odd, strlen(odd), &k, err, sizeof(err)), 0);
    char why[256];
    json_t *claims = NULL;
    char *t = sign(JWT_ALG_RS256, rsa_pem, NULL, good_claims);
    assert_int_equal(oidc_token_verify(k, t, &expect, 0, &claims, why, sizeof(why)), -ENOKEY);
    free(t);
    oidc_keys_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_rsa_and_ec), cmocka_unit_test(test_signature_and_keys),
        cmocka_unit_test(test_claims),           cmocka_unit_test(test_unverified_mode),
        cmocka_unit_test(test_bad_key_sets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
