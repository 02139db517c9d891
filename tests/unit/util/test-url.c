#include "test.h"
#include "util/url.h"

#include <errno.h>

static void test_forms(void **state)
{
    struct url u;
    assert_int_equal(url_parse("http://:8000", &u), 0);
    assert_string_equal(u.host, "");
    assert_int_equal(u.port, 8000);
    assert_string_equal(u.path, "/");
    assert_int_equal(url_parse("https://hub.example.org/jhub/", &u), 0);
    assert_string_equal(u.scheme, "https");
    assert_int_equal(u.port, 443);
    assert_string_equal(u.path, "/jhub/");
    assert_int_equal(url_parse("http://[::1]:8081/x?y", &u), 0);
    assert_string_equal(u.host, "::1");
    assert_true(u.ipv6);
    assert_string_equal(u.path, "/x");
}

static void test_bad(void **state)
{
    struct url u;
    assert_int_equal(url_parse("127.0.0.1:8000", &u), -EINVAL);
    assert_int_equal(url_parse("http://host:99999", &u), -EINVAL);
    assert_int_equal(url_parse("http://host:", &u), -EINVAL);
    assert_int_equal(url_parse("http://[::1", &u), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_forms), cmocka_unit_test(test_bad)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
