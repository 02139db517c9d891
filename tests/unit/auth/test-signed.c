/* Signed cookie values interoperate with tornado (JupyterHub's cookies). The expected value was
 * printed by tornado.web.create_signed_value(secret, 'jupyterhub-hub-login', 'abc123cookieid',
 * version=2, clock=lambda: 1700000000). */
#include "test.h"
#include "auth/signed.h"

#include <ganymede/encode.h>

static const char tornado_made[] =
    "2|1:0|10:1700000000|20:jupyterhub-hub-login|20:YWJjMTIzY29va2llaWQ=|"
    "cf2af30b9973bea01efe5eb17c12d2b1c8fd3c9ed955166591c47dfc2f111a7b";

static unsigned char secret[32];

static int setup(void **state)
{
    gm_hex_decode("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 64, secret,
                  32);
    return 0;
}

static void test_same_as_tornado(void **state)
{
    struct gm_buf b;
    gm_buf_init(&b, 4096);
    assert_int_equal(
        auth_signed_create(secret, 32, "jupyterhub-hub-login", "abc123cookieid", 1700000000, &b),
        0);
    assert_string_equal(b.data, tornado_made);
    gm_buf_free(&b);
    char out[64];
    assert_int_equal(auth_signed_verify(secret, 32, "jupyterhub-hub-login", tornado_made,
                                        1700000100, 86400, out, sizeof(out)),
                     0);
    assert_string_equal(out, "abc123cookieid");
}

static void test_refusals(void **state)
{
    char out[64];
    /* Too old, wrong name, tampered, wrong secret. */
    assert_int_equal(auth_signed_verify(secret, 32, "jupyterhub-hub-login", tornado_made,
                                        1700000000 + 15 * 86400, 14 * 86400, out, sizeof(out)),
                     -EINVAL);
    assert_int_equal(
        auth_signed_verify(secret, 32, "_xsrf", tornado_made, 1700000100, 86400, out, sizeof(out)),
        -EINVAL);
    char tampered[sizeof(tornado_made)];
    memcpy(tampered, tornado_made, sizeof(tornado_made));
    tampered[45] = 'Z';
    assert_int_equal(auth_signed_verify(secret, 32, "jupyterhub-hub-login", tampered, 1700000100,
                                        86400, out, sizeof(out)),
                     -EINVAL);
    unsigned char other[32] = {1};
    assert_int_equal(auth_signed_verify(other, 32, "jupyterhub-hub-login", tornado_made, 1700000100,
                                        86400, out, sizeof(out)),
                     -EINVAL);
    assert_int_equal(auth_signed_verify(secret, 32, "x", "garbage", 0, 1, out, sizeof(out)),
                     -EINVAL);
    assert_int_equal(
        auth_signed_verify(secret, 32, "x", "2|1:0|999999999999:", 0, 1, out, sizeof(out)),
        -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_tornado),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
