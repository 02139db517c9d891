/* Hashes made by JupyterHub itself verify here, so a JupyterHub database's tokens keep working.
 * The expected values were printed by Debian's jupyterhub 3.0 package:
 *     python3 -c "from jupyterhub.utils import hash_token; \
 *                 print(hash_token(TOKEN, salt=SALT, rounds=ROUNDS))"           */
#include "test.h"
#include "auth/token_hash.h"

static const struct {
    const char *token;
    const char *hashed;
} jupyterhub_made[] = {
    {"a65b76b7df0442a782a8fb1406b80490",
     "sha512:1:51139e9d959f9cc1:b6b5f4823c3d2276e0bf066c216ebff453346a709f1bc673e2fd1a243168589f"
     "f1c539ac52ec358663acc14662e6a3b38b4bcf35d26eb855cb0a8016c492765f"},
    {"config-provided-token",
     "sha512:16384:0123456789abcdef:b1e9b2d6d4a8fe427772ff55f71942562511ec16c9fa60f0ed8287c381d33"
     "a0e230f1172b86db37316b3d6cc8426a4d3d9b6a35d339c718ca4b05394cfe7e1c7"},
    {"t\xc3\xb6k\xe2\x82\xacn",
     "sha512:3:fedcba9876543210:7a66be3169ff4308addebd85457bac0087ff8c800593f9e40a77e3708733ae57f"
     "9444afc6957e2e1b2b0edce6fd71752f20767f867656299fe6e50852323178f"},
};

static void test_jupyterhub_hashes_verify(void **state)
{
    for (size_t i = 0; i < sizeof(jupyterhub_made) / sizeof(*jupyterhub_made); i++) {
        assert_true(auth_token_verify(jupyterhub_made[i].hashed, jupyterhub_made[i].token));
        assert_false(auth_token_verify(jupyterhub_made[i].hashed, "wrong-token"));
    }
}

static void test_we_hash_like_jupyterhub(void **state)
{
    char out[AUTH_TOKEN_HASHED_MAX];
    assert_int_equal(
        auth_token_hash_salted("config-provided-token", 16384, "0123456789abcdef", out), 0);
    assert_string_equal(out, jupyterhub_made[1].hashed);
}

static void test_new_tokens(void **state)
{
    char a[33], b[33], hashed[AUTH_TOKEN_HASHED_MAX];
    assert_int_equal(auth_token_new(a), 0);
    assert_int_equal(auth_token_new(b), 0);
    assert_int_equal(strlen(a), 32);
    assert_string_not_equal(a, b);
    assert_int_equal(auth_token_hash(a, 1, hashed), 0);
    assert_true(strncmp(hashed, "sha512:1:", 9) == 0);
    assert_true(auth_token_verify(hashed, a));
    assert_false(auth_token_verify(hashed, b));
}

static void test_malformed_hashes_never_match(void **state)
{
    assert_false(auth_token_verify("", "x"));
    assert_false(auth_token_verify("md5:1:aa:bb", "x"));
    assert_false(auth_token_verify("sha512:abc:aa:bb", "x"));
    assert_false(auth_token_verify("sha512:99999999:aa:bb", "x")); /* too many rounds */
    assert_false(auth_token_verify("sha512:1:aa", "x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jupyterhub_hashes_verify),
        cmocka_unit_test(test_we_hash_like_jupyterhub),
        cmocka_unit_test(test_new_tokens),
        cmocka_unit_test(test_malformed_hashes_never_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
