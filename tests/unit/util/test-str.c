#include "test.h"
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
        cmocka_unit_test(test_int64), cmocka_unit_test(test_double),   cmocka_unit_test(test_copy),
        cmocka_unit_test(test_ct_eq), cmocka_unit_test(test_distance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
