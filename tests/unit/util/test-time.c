#include "test.h"
#include "util/time.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

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

/* The hand-written calendar arithmetic agrees with gmtime_r + strftime over 1970-2199,
 * including leap days and the ends of months and years. */
static void test_matches_gmtime(void **state)
{
    (void)state;
    int64_t step = 86400LL * 1000000 * 7 + 3600LL * 1000000 * 5 + 123457; /* a week and a bit */
    for (int64_t us = 0; us < 7258118400LL * 1000000; us += step) {
        char ours[32], theirs[64];
        time_format_iso(us, ours);
        time_t t = (time_t)(us / 1000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        size_t n = strftime(theirs, sizeof(theirs), "%Y-%m-%dT%H:%M:%S", &tm);
        long frac = (long)(us % 1000000);
        if (frac)
            snprintf(theirs + n, sizeof(theirs) - n, ".%06ldZ", frac);
        else
            snprintf(theirs + n, sizeof(theirs) - n, "Z");
        assert_string_equal(ours, theirs);
    }
    char leap[32];
    time_format_db(951782400000000LL, leap); /* 2000-02-29 00:00:00 */
    assert_string_equal(leap, "2000-02-29 00:00:00.000000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_matches_gmtime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
