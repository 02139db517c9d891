/* src/core/log.c: gm_log_safe, which makes what a client sent fit for one log line. */
#include "test.h"

#include <ganymede/log.h>
#include <string.h>

static void test_log_safe(void **state)
{
    (void)state;
    char buf[16];
    assert_string_equal(gm_log_safe("plain value", buf, sizeof(buf)), "plain value");
    assert_string_equal(gm_log_safe("a\r\n[E forged", buf, sizeof(buf)), "a??[E forged");
    assert_string_equal(gm_log_safe("tab\there\x7f", buf, sizeof(buf)), "tab?here?");
    assert_string_equal(gm_log_safe("0123456789abcdefXYZ", buf, sizeof(buf)), "0123456789abcde");
    assert_string_equal(gm_log_safe(NULL, buf, sizeof(buf)), "");
    assert_string_equal(gm_log_safe("x", buf, 1), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
