#include "test.h"
#include "util/time.h"

#include <errno.h>

static void test_format(void **state)
{
    char out[32];
    time_format_iso(1714564800000000LL, out);
    assert_string_equal(out, "2024-05-01T12:00:00Z");
    time_format_iso(1714564800123456LL, out);
    assert_string_equal(out, "2024-05-01T12:00:00.123456Z");
    time_format_db(1714564800000000LL, out);
    assert_string_equal(out, "2024-05-01 12:00:00.000000");
}

static void test_parse(void **state)
{
    int64_t t = 0;
    assert_int_equal(time_parse("2024-05-01T12:00:00.123456Z", &t), 0);
    assert_true(t == 1714564800123456LL);
    assert_int_equal(time_parse("2024-05-01 12:00:00.123456", &t), 0);
    assert_true(t == 1714564800123456LL);
    assert_int_equal(time_parse("2024-05-01T14:00:00+02:00", &t), 0);
    assert_true(t == 1714564800000000LL);
    assert_int_equal(time_parse("2024-05-01T12:00:00.5Z", &t), 0);
    assert_true(t == 1714564800500000LL);
    assert_int_equal(time_parse("2024-13-01T00:00:00Z", &t), -EINVAL);
    assert_int_equal(time_parse("yesterday", &t), -EINVAL);
    assert_int_equal(time_parse("2024-05-01T12:00:00Zjunk", &t), -EINVAL);
}

static void test_round_trip(void **state)
{
    int64_t now = time_now_us(), back = 0;
    char out[32];
    time_format_iso(now, out);
    assert_int_equal(time_parse(out, &back), 0);
    assert_true(back == now);
    time_format_db(now, out);
    assert_int_equal(time_parse(out, &back), 0);
    assert_true(back == now);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
