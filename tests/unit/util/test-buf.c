#include "test.h"
#include "util/buf.h"

#include <errno.h>
#include <stdlib.h>

static void test_append_and_cap(void **state)
{
    struct buf b;
    buf_init(&b, 8);
    assert_int_equal(buf_puts(&b, "abcd"), 0);
    assert_int_equal(buf_puts(&b, "efgh"), 0);
    assert_string_equal(b.data, "abcdefgh");
    /* One more byte is over the cap and leaves the contents as they were. */
    assert_int_equal(buf_putc(&b, 'x'), -E2BIG);
    assert_string_equal(b.data, "abcdefgh");
    assert_int_equal(b.len, 8);
    buf_free(&b);
    buf_free(&b); /* twice is fine */
}

static void test_printf_grows(void **state)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(buf_printf(&b, "%04d,", i), 0);
    assert_int_equal(b.len, 5000);
    assert_memory_equal(b.data + 4995, "0999,", 5);
    char *s = buf_steal(&b);
    assert_null(b.data);
    free(s);
}

static void test_json_string(void **state)
{
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(buf_json_string(&b, "a\"b\\c\n\x01é"), 0);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001é\"");
    buf_free(&b);
}

static void test_html_escape(void **state)
{
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(buf_html_escape(&b, "<a href=\"x\">'&'</a>"), 0);
    assert_string_equal(b.data, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    buf_free(&b);
}

static void test_steal_empty(void **state)
{
    struct buf b;
    buf_init(&b, 10);
    char *s = buf_steal(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_cap), cmocka_unit_test(test_printf_grows),
        cmocka_unit_test(test_json_string),    cmocka_unit_test(test_html_escape),
        cmocka_unit_test(test_steal_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
