/* JWS verification against a JWKS and the claim checks (<ganymede/jwt.h>): keys made here
 * with OpenSSL and published as a JWKS, tokens signed with every accepted algorithm, then
 * every way a token or a key set can be wrong. */
#include "test.h"
#include "jwt_sign.h"

#include <ganymede/jwt.h>
#include <stdio.h>
#include <time.h>

#define NOW 1800000000

static EVP_PKEY *rsa, *other_rsa, *small_rsa, *ec256, *ec384, *ec521, *ed25519, *ed448;
static struct gm_jwks *keys;

static const char good_claims[] =
    "{\"iss\":\"https://id.example\",\"aud\":\"hub\",\"sub\":\"u1\",\"exp\":1800000300,"
    "\"iat\":1800000000,\"nonce\":\"n1\"}";

static int setup(void **state)
{
    (void)state;
    rsa = EVP_RSA_gen(2048);
    other_rsa = EVP_RSA_gen(2048);
    small_rsa = EVP_RSA_gen(1024);
    ec256 = EVP_EC_gen("P-256");
    ec384 = EVP_EC_gen("P-384");
    ec521 = EVP_EC_gen("P-521");
    ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    ed448 = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
    json_t *list = json_pack("[o, o, o, o, o, o, o, {s:s, s:s, s:s}]", jwk_of(rsa, "rsa1", NULL),
                             jwk_of(rsa, "rs-only", "RS256"), jwk_of(ec256, "ec256", NULL),
                             jwk_of(ec384, "ec384", "ES384"), jwk_of(ec521, "ec521", NULL),
                             jwk_of(ed25519, "ed1", "EdDSA"), jwk_of(ed448, "ed2", NULL), "kty",
                             "oct", "kid", "hmac", "k", "c2VjcmV0");
    char *text = jwks_text(list);
    char err[256];
    int r = gm_jwks_parse(text, strlen(text), &keys, err, sizeof(err));
    free(text);
    return r;
}

static int teardown(void **state)
{
    (void)state;
    gm_jwks_free(keys);
    EVP_PKEY *all[] = {rsa, other_rsa, small_rsa, ec256, ec384, ec521, ed25519, ed448};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        EVP_PKEY_free(all[i]);
    return 0;
}

/* gm_jwt_verify of @t (freed) with the test's keys; @why gets the message. */
static int verify(char *t, char *why)
{
    int r = gm_jwt_verify(keys, t, NULL, NULL, why, GM_JWT_WHY_MAX);
    free(t);
    return r;
}

static void assert_says(const char *why, const char *part)
{
    if (!strstr(why, part))
        fail_msg("'%s' does not say '%s'", why, part);
}

static void test_every_algorithm(void **state)
{
    (void)state;
    struct {
        EVP_PKEY *k;
        const char *alg, *kid;
    } cases[] = {
        {rsa, "RS256", "rsa1"},    {rsa, "RS384", "rsa1"},    {rsa, "RS512", "rsa1"},
        {rsa, "PS256", "rsa1"},    {rsa, "PS384", "rsa1"},    {rsa, "PS512", "rsa1"},
        {rsa, "RS256", "rs-only"}, {ec256, "ES256", "ec256"}, {ec384, "ES384", "ec384"},
        {ec521, "ES512", "ec521"}, {ed25519, "EdDSA", "ed1"}, {ed448, "EdDSA", "ed2"},
    };
    assert_int_equal(gm_jwks_count(keys), 7); /* the "oct" secret is not a key here */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char why[GM_JWT_WHY_MAX] = "x";
        char *t = sign(cases[i].k, cases[i].alg, cases[i].kid, good_claims);
        json_t *header = NULL, *claims = NULL;
        int r = gm_jwt_verify(keys, t, &header, &claims, why, sizeof(why));
        if (r != 0)
            fail_msg("%s with %s: %d %s", cases[i].alg, cases[i].kid, r, why);
        assert_string_equal(why, "");
        assert_string_equal(json_string_value(json_object_get(header, "alg")), cases[i].alg);
        assert_string_equal(json_string_value(json_object_get(header, "kid")), cases[i].kid);
        assert_string_equal(json_string_value(json_object_get(claims, "sub")), "u1");
        json_decref(header);
        json_decref(claims);
        free(t);
    }
}

static void test_without_kid(void **state)
{
    (void)state;
    char why[GM_JWT_WHY_MAX];
    /* Every key whose type and alg fit is tried. */
    assert_int_equal(verify(sign(rsa, "PS256", NULL, good_claims), why), 0);
    assert_int_equal(verify(sign(ec384, "ES384", NULL, good_claims), why), 0);
    assert_int_equal(verify(sign(ed448, "EdDSA", NULL, good_claims), why), 0);
    assert_int_equal(verify(sign(other_rsa, "RS256", NULL, good_claims), why), -EKEYREJECTED);
    assert_says(why, "matches none of the 2 keys");
    struct gm_jwks *ec_only = NULL;
    char *text = jwks_text(json_pack("[o]", jwk_of(ec256, NULL, NULL)));
    assert_int_equal(gm_jwks_parse(text, strlen(text), &ec_only, why, sizeof(why)), 0);
    free(text);
    char *t = sign(rsa, "RS256", NULL, good_claims);
    assert_int_equal(gm_jwt_verify(ec_only, t, NULL, NULL, why, sizeof(why)), -ENOKEY);
    assert_says(why, "no key in the key set fits alg \"RS256\"");
    free(t);
    gm_jwks_free(ec_only);
}

static void test_bad_signatures(void **state)
{
    (void)state;
    char why[GM_JWT_WHY_MAX];
    /* Another key under a known kid. */
    assert_int_equal(verify(sign(other_rsa, "RS256", "rsa1", good_claims), why), -EKEYREJECTED);
    assert_says(why, "signature does not match key \"rsa1\"");
    /* PKCS#1 v1.5 presented as PSS. */
    char *t = sign(rsa, "RS256", "rsa1", good_claims);
    char *h = header_json("PS256", "rsa1");
    char *forged = sign_raw(rsa, "RS256", h, good_claims);
    free(h);
    assert_int_equal(verify(forged, why), -EKEYREJECTED);
    /* The claims changed after signing. */
    char *dot = strchr(t, '.');
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(t, why), -EKEYREJECTED);
    /* A truncated signature, an ES256 signature of the wrong size, none at all. */
    t = sign(rsa, "RS256", "rsa1", good_claims);
    t[strlen(t) - 8] = '\0';
    assert_int_equal(verify(t, why), -EKEYREJECTED);
    t = sign(ec256, "ES256", "ec256", good_claims);
    t[strlen(t) - 4] = '\0';
    assert_int_equal(verify(t, why), -EKEYREJECTED);
    t = sign(ec256, "ES256", "ec256", good_claims);
    strrchr(t, '.')[1] = '\0';
    assert_int_equal(verify(t, why), -EKEYREJECTED);
    assert_says(why, "no signature");
    /* A kid whose key does not fit the alg: an RSA key named by an ES256 token, a JWK that
     * says RS256 used for PS256, a P-256 key for ES384. */
    assert_int_equal(verify(sign(ec256, "ES256", "rsa1", good_claims), why), -EKEYREJECTED);
    assert_says(why, "key \"rsa1\" (RSA) does not fit alg \"ES256\"");
    assert_int_equal(verify(sign(rsa, "PS256", "rs-only", good_claims), why), -EKEYREJECTED);
    assert_int_equal(verify(sign(ec384, "ES384", "ec256", good_claims), why), -EKEYREJECTED);
    assert_says(why, "EC P-256");
}

static void test_refused_algorithms(void **state)
{
    (void)state;
    char why[GM_JWT_WHY_MAX];
    assert_int_equal(verify(sign_none("rsa1", good_claims), why), -ENOTSUP);
    assert_says(why, "alg \"none\"");
    assert_int_equal(verify(sign_none(NULL, good_claims), why), -ENOTSUP);
    /* The classic confusion: HS256 with the public key (as PEM, or the JWK's n) as secret. */
    char *pem = public_pem(rsa);
    assert_int_equal(verify(sign_hmac("rsa1", pem, strlen(pem), good_claims), why), -ENOTSUP);
    assert_says(why, "HS256");
    free(pem);
    assert_int_equal(verify(sign_hmac("hmac", "secret", 6, good_claims), why), -ENOTSUP);
    /* Unknown names, and a header without a usable alg. */
    char *t = sign_raw(rsa, "RS256", "{\"alg\":\"RS1\",\"kid\":\"rsa1\"}", good_claims);
    assert_int_equal(verify(t, why), -ENOTSUP);
    t = sign_raw(rsa, "RS256", "{\"alg\":\"rs256\"}", good_claims);
    assert_int_equal(verify(t, why), -ENOTSUP);
    t = sign_raw(rsa, "RS256", "{\"kid\":\"rsa1\"}", good_claims);
    assert_int_equal(verify(t, why), -EBADMSG);
    assert_says(why, "no alg");
    t = sign_raw(rsa, "RS256", "{\"alg\":256}", good_claims);
    assert_int_equal(verify(t, why), -EBADMSG);
    t = sign_raw(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":7}", good_claims);
    assert_int_equal(verify(t, why), -EBADMSG);
}

static void test_unknown_kid(void **state)
{
    (void)state;
    char why[GM_JWT_WHY_MAX];
    assert_int_equal(verify(sign(rsa, "RS256", "rotated", good_claims), why), -ENOKEY);
    assert_says(why, "no key \"rotated\"");
    char *t = sign(rsa, "RS256", "rsa1", good_claims);
    assert_int_equal(gm_jwt_verify(NULL, t, NULL, NULL, why, sizeof(why)), -ENOKEY);
    free(t);
}

static void test_malformed_tokens(void **state)
{
    (void)state;
    char why[GM_JWT_WHY_MAX];
    const char *bad[] = {
        "",
        "abc",
        "a.b",
        "a.b.c.d.e",
        ".e30.c2ln",
        "e30..c2ln",
        "e30=.e30.c2ln",    /* padding */
        "e3+/.e30.c2ln",    /* the standard alphabet */
        "e30 .e30.c2ln",    /* a space */
        "eyJhbGc.e30.c2ln", /* header cut in the middle of the JSON */
        "bm9wZQ.e30.c2ln",  /* "nope" */
        "W10.e30.c2ln",     /* "[]" */
        "e.e30.c2ln",       /* one character: not base64 */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = gm_jwt_verify(keys, bad[i], NULL, NULL, why, sizeof(why));
        if (r != -EBADMSG)
            fail_msg("'%s' gave %d (%s)", bad[i], r, why);
    }
    assert_int_equal(gm_jwt_verify(keys, "abc", NULL, NULL, why, sizeof(why)), -EBADMSG);
    assert_says(why, "1 segment, not 3");
    assert_int_equal(gm_jwt_verify(keys, NULL, NULL, NULL, why, sizeof(why)), -EINVAL);
    /* Well signed, but the claims are not an object, or not JSON. */
    assert_int_equal(verify(sign(rsa, "RS256", "rsa1", "[1,2]"), why), -EBADMSG);
    assert_says(why, "claims");
    assert_int_equal(verify(sign(rsa, "RS256", "rsa1", "{\"a\":"), why), -EBADMSG);
    /* Duplicate names, and critical extensions nobody here knows. */
    char *t = sign_raw(rsa, "RS256", "{\"alg\":\"RS256\",\"alg\":\"none\"}", good_claims);
    assert_int_equal(verify(t, why), -EBADMSG);
    t = sign_raw(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"b64\"]}",
                 good_claims);
    assert_int_equal(verify(t, why), -EBADMSG);
    assert_says(why, "crit");
    /* Oversized: refused before anything is decoded. */
    char *big = malloc(GM_JWT_MAX_TOKEN + 2);
    memset(big, 'A', GM_JWT_MAX_TOKEN + 1);
    big[GM_JWT_MAX_TOKEN + 1] = '\0';
    big[10] = '.';
    big[20] = '.';
    assert_int_equal(gm_jwt_verify(keys, big, NULL, NULL, why, sizeof(why)), -E2BIG);
    assert_says(why, "longer than");
    free(big);
    /* A large claim set within the bound is fine. */
    struct gm_buf claims;
    gm_buf_init(&claims, 1 << 20);
    gm_buf_printf(&claims, "{\"sub\":\"u1\",\"pad\":\"");
    for (int i = 0; i < 30000; i++)
        gm_buf_putc(&claims, 'x');
    gm_buf_puts(&claims, "\"}");
    assert_int_equal(verify(sign(rsa, "RS256", "rsa1", claims.data), why), 0);
    gm_buf_free(&claims);
}

static void test_peek(void **state)
{
    (void)state;
    char why[GM_JWT_WHY_MAX];
    json_t *header = NULL, *claims = NULL;
    char *t = sign_none(NULL, good_claims);
    assert_int_equal(gm_jwt_peek(t, &header, &claims, why, sizeof(why)), 0);
    assert_string_equal(json_string_value(json_object_get(header, "alg")), "none");
    assert_string_equal(json_string_value(json_object_get(claims, "iss")), "https://id.example");
    json_decref(header);
    json_decref(claims);
    free(t);
    t = sign(other_rsa, "RS256", "anything", good_claims);
    assert_int_equal(gm_jwt_peek(t, NULL, &claims, why, sizeof(why)), 0);
    json_decref(claims);
    free(t);
    assert_int_equal(gm_jwt_peek("a.b", NULL, NULL, why, sizeof(why)), -EBADMSG);
}

/* The claims check of @claims (JSON text) against @e. */
static int check(const char *claims, const struct gm_jwt_expect *e, char *why)
{
    json_t *c = json_loads(claims, 0, NULL);
    assert_non_null(c);
    int r = gm_jwt_check_claims(c, e, why, GM_JWT_WHY_MAX);
    json_decref(c);
    return r;
}

static void test_claims(void **state)
{
    (void)state;
    char why[GM_JWT_WHY_MAX];
    const struct gm_jwt_expect e = {
        .issuer = "https://id.example",
        .audience = "hub",
        .nonce = "n1",
        .now = NOW,
        .leeway = 60,
        .require_exp = true,
    };
    assert_int_equal(check(good_claims, &e, why), 0);
    assert_string_equal(why, "");
    struct {
        const char *claims, *says;
    } bad[] = {
        {"{\"iss\":\"https://evil\",\"aud\":\"hub\",\"exp\":1800000300,\"nonce\":\"n1\"}",
         "iss: the token was issued by \"https://evil\""},
        {"{\"aud\":\"hub\",\"exp\":1800000300,\"nonce\":\"n1\"}", "iss: "},
        {"{\"iss\":\"https://id.example\",\"aud\":\"other\",\"exp\":1800000300,\"nonce\":\"n1\"}",
         "aud: the token is for \"other\""},
        {"{\"iss\":\"https://id.example\",\"exp\":1800000300,\"nonce\":\"n1\"}", "aud: "},
        {"{\"iss\":\"https://id.example\",\"aud\":[\"a\",\"b\"],\"exp\":1800000300,"
         "\"nonce\":\"n1\"}",
         "aud: \"hub\" is not among"},
        {"{\"iss\":\"https://id.example\",\"aud\":[\"hub\",\"x\"],\"exp\":1800000300,"
         "\"nonce\":\"n1\"}",
         "azp: the token has 2 audiences and no azp"},
        {"{\"iss\":\"https://id.example\",\"aud\":[\"hub\",\"x\"],\"azp\":\"x\","
         "\"exp\":1800000300,\"nonce\":\"n1\"}",
         "azp: the token was issued to \"x\""},
        {"{\"iss\":\"https://id.example\",\"aud\":\"hub\",\"azp\":\"x\",\"exp\":1800000300,"
         "\"nonce\":\"n1\"}",
         "azp: "},
        {"{\"iss\":\"https://id.example\",\"aud\":\"hub\",\"exp\":1799999900,\"nonce\":\"n1\"}",
         "exp: the token expired 100 s ago"},
        {"{\"iss\":\"https://id.example\",\"aud\":\"hub\",\"nonce\":\"n1\"}",
         "exp: the token has no"},
        {"{\"iss\":\"https://id.example\",\"aud\":\"hub\",\"exp\":\"soon\",\"nonce\":\"n1\"}",
         "exp: the claim is not a number"},
        {"{\"iss\":\"https://id.example\",\"aud\":\"hub\",\"exp\":1800000300,\"nbf\":1800000100,"
         "\"nonce\":\"n1\"}",
         "nbf: the token is not valid for another 100 s"},
        {"{\"iss\":\"https://id.example\",\"aud\":\"hub\",\"exp\":1800000300,\"iat\":1800000100,"
         "\"nonce\":\"n1\"}",
         "iat: the token was issued 100 s in the future"},
        {"{\"iss\":\"https://id.example\",\"aud\":\"hub\",\"exp\":1800000300,\"nonce\":\"n2\"}",
         "nonce: "},
        {"{\"iss\":\"https://id.example\",\"aud\":\"hub\",\"exp\":1800000300}", "nonce: "},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = check(bad[i].claims, &e, why);
        if (r != -EACCES)
            fail_msg("%s gave %d", bad[i].claims, r);
        assert_says(why, bad[i].says);
    }
    /* Within the leeway; several audiences with the right azp. */
    assert_int_equal(check("{\"iss\":\"https://id.example\",\"aud\":[\"hub\",\"api\"],"
                           "\"azp\":\"hub\",\"exp\":1799999950,\"nbf\":1800000050,"
                           "\"iat\":1800000050,\"nonce\":\"n1\"}",
                           &e, why),
                     0);
    /* Without leeway the same token is refused. */
    struct gm_jwt_expect strict = e;
    strict.leeway = 0;
    assert_int_equal(check("{\"iss\":\"https://id.example\",\"aud\":\"hub\",\"exp\":1799999950,"
                           "\"nonce\":\"n1\"}",
                           &strict, why),
                     -EACCES);
    assert_int_equal(check("{\"iss\":\"https://id.example\",\"aud\":\"hub\",\"exp\":1800000300,"
                           "\"nbf\":1800000050,\"nonce\":\"n1\"}",
                           &strict, why),
                     -EACCES);
    /* Only what is asked for is checked: exp, when present, always. */
    const struct gm_jwt_expect loose = {.now = NOW};
    assert_int_equal(check("{\"iss\":\"x\",\"aud\":\"y\"}", &loose, why), 0);
    assert_int_equal(check("{\"exp\":1799999999}", &loose, why), -EACCES);
    const struct gm_jwt_expect iat = {.now = NOW, .require_iat = true};
    assert_int_equal(check("{\"exp\":1800000300}", &iat, why), -EACCES);
    assert_says(why, "iat: ");
    /* now = 0 is the current time. */
    const struct gm_jwt_expect current = {.require_exp = true};
    char claims[128];
    snprintf(claims, sizeof(claims), "{\"exp\":%lld}", (long long)time(NULL) + 100);
    assert_int_equal(check(claims, &current, why), 0);
    json_t *array = json_array();
    assert_int_equal(gm_jwt_check_claims(array, &e, why, sizeof(why)), -EINVAL);
    json_decref(array);
}

static int parse_count(const char *text, char *err)
{
    struct gm_jwks *k = NULL;
    int r = gm_jwks_parse(text, strlen(text), &k, err, GM_JWT_WHY_MAX);
    if (r == 0)
        r = (int)gm_jwks_count(k);
    gm_jwks_free(k);
    return r;
}

static void test_bad_key_sets(void **state)
{
    (void)state;
    char err[GM_JWT_WHY_MAX];
    assert_int_equal(parse_count("[]", err), -EINVAL);
    assert_int_equal(parse_count("{", err), -EINVAL);
    assert_int_equal(parse_count("{\"keys\":{}}", err), -EINVAL);
    assert_says(err, "\"keys\" list");
    assert_int_equal(parse_count("{\"keys\":[]}", err), 0);
    /* Keys that cannot verify anything are skipped. */
    json_t *ec = jwk_of(ec256, "bent", NULL);
    char *x = strdup(json_string_value(json_object_get(ec, "y")));
    x[3] = x[3] == 'A' ? 'B' : 'A'; /* the point leaves the curve */
    json_object_set_new(ec, "y", json_string(x));
    free(x);
    json_t *enc = jwk_of(rsa, "enc", NULL);
    json_object_set_new(enc, "use", json_string("enc"));
    json_t *ops = jwk_of(rsa, "ops", NULL);
    json_object_set_new(ops, "key_ops", json_pack("[s]", "encrypt"));
    json_t *p999 = jwk_of(ec384, "p999", NULL);
    json_object_set_new(p999, "crv", json_string("P-999"));
    json_t *short_x = jwk_of(ec384, "short", NULL);
    json_object_set_new(short_x, "x", json_string("AAAA"));
    char long_kid[400];
    memset(long_kid, 'k', sizeof(long_kid) - 1);
    long_kid[sizeof(long_kid) - 1] = '\0';
    json_t *list = json_pack(
        "[{s:s, s:s, s:s}, o, o, o, o, o, o, o, {s:s, s:s, s:s}, {s:s, s:s}, s, i]", "kty", "RSA",
        "n", "!!", "e", "AQAB", jwk_of(small_rsa, "small", NULL), ec, enc, ops, p999, short_x,
        jwk_of(rsa, long_kid, NULL), "kty", "OKP", "crv", "X25519", "x",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "kty", "oct", "k", "c2VjcmV0", "RSA", 7);
    char *text = jwks_text(list);
    struct gm_jwks *k = NULL;
    assert_int_equal(gm_jwks_parse(text, strlen(text), &k, err, sizeof(err)), 0);
    free(text);
    assert_int_equal(gm_jwks_count(k), 0);
    char *t = sign(small_rsa, "RS256", "small", good_claims);
    assert_int_equal(gm_jwt_verify(k, t, NULL, NULL, err, sizeof(err)), -ENOKEY);
    free(t);
    gm_jwks_free(k);
    /* At most GM_JWKS_MAX_KEYS keys are kept; documents are bounded. */
    json_t *many = json_array();
    for (int i = 0; i < GM_JWKS_MAX_KEYS + 5; i++)
        json_array_append_new(many, jwk_of(ec256, NULL, NULL));
    text = jwks_text(many);
    assert_int_equal(parse_count(text, err), GM_JWKS_MAX_KEYS);
    free(text);
    char *huge = malloc(GM_JWKS_MAX_DOC + 2);
    memset(huge, ' ', GM_JWKS_MAX_DOC + 1);
    huge[GM_JWKS_MAX_DOC + 1] = '\0';
    assert_int_equal(parse_count(huge, err), -E2BIG);
    free(huge);
    gm_jwks_free(NULL);
    assert_int_equal(gm_jwks_count(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_algorithm),
        cmocka_unit_test(test_without_kid),
        cmocka_unit_test(test_bad_signatures),
        cmocka_unit_test(test_refused_algorithms),
        cmocka_unit_test(test_unknown_kid),
        cmocka_unit_test(test_malformed_tokens),
        cmocka_unit_test(test_peek),
        cmocka_unit_test(test_claims),
        cmocka_unit_test(test_bad_key_sets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
