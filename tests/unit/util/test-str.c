#include "test.h"
#include <ganymede/buf.h>
#include "util/str.h"

#include <errno.h>

static void test_int64(void **state)
{
    int64_t v = 7;
    assert_int_equal(str_to_int64("42", &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(str_to_int64("-9223372036854775808", &v), 0);
    assert_int_equal(str_to_int64("9223372036854775808", &v), -ERANGE);
    assert_int_equal(str_to_int64("12abc", &v), -EINVAL);
    assert_int_equal(str_to_int64("", &v), -EINVAL);
    assert_int_equal(str_to_int64(" 1", &v), -EINVAL);
    assert_int_equal(v, -9223372036854775807LL - 1); /* untouched by the failures */
}

static void test_double(void **state)
{
    double d = 0;
    assert_int_equal(str_to_double("1.5", &d), 0);
    assert_true(d == 1.5);
    assert_int_equal(str_to_double("nan", &d), -EINVAL);
    assert_int_equal(str_to_double("1e999", &d), -ERANGE);
}

static void test_copy(void **state)
{
    char small[4];
    assert_int_equal(str_copy(small, sizeof(small), "abc"), 0);
    assert_int_equal(str_copy(small, sizeof(small), "abcdef"), -E2BIG);
    assert_string_equal(small, "abc");
}

static void test_url_decode(void **state)
{
    char out[32];
    assert_int_equal(str_url_decode("a%2Fb+c", 7, out, false), 5);
    assert_string_equal(out, "a/b+c");
    assert_int_equal(str_url_decode("a%2Fb+c", 7, out, true), 5);
    assert_string_equal(out, "a/b c");
    assert_int_equal(str_url_decode("%zz", 3, out, false), -EINVAL);
    assert_int_equal(str_url_decode("%4", 2, out, false), -EINVAL);
    assert_int_equal(str_url_decode("a%00b", 5, out, false), -EINVAL);
}

static void test_url_encode(void **state)
{
    struct gm_buf b;
    gm_buf_init(&b, 100);
    assert_int_equal(str_url_encode(&b, "al ice@x/y", "@~"), 0);
    assert_string_equal(b.data, "al%20ice@x%2Fy");
    gm_buf_free(&b);
}

static void test_ct_eq(void **state)
{
    assert_true(str_ct_eq("abc", 3, "abc", 3));
    assert_false(str_ct_eq("abc", 3, "abd", 3));
    assert_false(str_ct_eq("abc", 3, "abcd", 4));
}

static void test_distance(void **state)
{
    assert_int_equal(str_distance("bind_url", "bind_url"), 0);
    assert_int_equal(str_distance("bind_ulr", "bind_url"), 2);
    assert_int_equal(str_distance("JupyterHb", "JupyterHub"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int64),      cmocka_unit_test(test_double),
        cmocka_unit_test(test_copy),       cmocka_unit_test(test_url_decode),
        cmocka_unit_test(test_url_encode), cmocka_unit_test(test_ct_eq),
        cmocka_unit_test(test_distance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
