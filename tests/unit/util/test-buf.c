/* include/ganymede/buf.h, implemented in src/util/buf.c: growth, the cap, the sticky error. */
#include "test.h"
#include <ganymede/buf.h>

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

static void test_append_and_cap(void **state)
{
    struct gm_buf b;
    gm_buf_init(&b, 8);
    assert_int_equal(gm_buf_puts(&b, "abcd"), 0);
    assert_int_equal(gm_buf_puts(&b, "efgh"), 0);
    assert_string_equal(b.data, "abcdefgh");
    /* One more byte is over the cap and leaves the contents as they were. */
    assert_int_equal(gm_buf_putc(&b, 'x'), -E2BIG);
    assert_string_equal(b.data, "abcdefgh");
    assert_int_equal(b.len, 8);
    gm_buf_free(&b);
    gm_buf_free(&b); /* twice is fine */
}

static void test_printf_grows(void **state)
{
    struct gm_buf b;
    gm_buf_init(&b, 1 << 20);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(gm_buf_printf(&b, "%04d,", i), 0);
    assert_int_equal(b.len, 5000);
    assert_memory_equal(b.data + 4995, "0999,", 5);
    char *s = gm_buf_steal(&b);
    assert_null(b.data);
    free(s);
}

static void test_json_string(void **state)
{
    struct gm_buf b;
    gm_buf_init(&b, 1024);
    assert_int_equal(gm_buf_json_string(&b, "a\"b\\c\n\x01é"), 0);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001é\"");
    gm_buf_free(&b);
}

static void test_html_escape(void **state)
{
    struct gm_buf b;
    gm_buf_init(&b, 1024);
    assert_int_equal(gm_buf_html_escape(&b, "<a href=\"x\">'&'</a>"), 0);
    assert_string_equal(b.data, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    gm_buf_free(&b);
}

static void test_steal_empty(void **state)
{
    struct gm_buf b;
    gm_buf_init(&b, 10);
    char *s = gm_buf_steal(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
}

static void test_error_is_sticky(void **state)
{
    struct gm_buf b;
    gm_buf_init(&b, 4);
    assert_int_equal(b.error, 0);
    assert_int_equal(gm_buf_puts(&b, "abcdef"), -E2BIG);
    assert_null(b.data); /* nothing appended, nothing allocated */
    assert_int_equal(b.error, -E2BIG);
    /* Later appends that fit still work, but the error says the text is not whole. */
    assert_int_equal(gm_buf_puts(&b, "ab"), 0);
    assert_string_equal(b.data, "ab");
    assert_int_equal(b.error, -E2BIG);
    char *s = gm_buf_steal(&b);
    assert_string_equal(s, "ab");
    assert_int_equal(b.error, -E2BIG);
    free(s);
    gm_buf_free(&b);
    assert_int_equal(b.error, -E2BIG); /* readable after free, as the header's example does */
    gm_buf_reset(&b);
    assert_int_equal(b.error, 0);
    gm_buf_init(&b, 4);
    assert_int_equal(b.error, 0);
}

static void test_reset_keeps_memory(void **state)
{
    struct gm_buf b;
    gm_buf_init(&b, 100);
    assert_int_equal(gm_buf_puts(&b, "hello"), 0);
    char *mem = b.data;
    gm_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_ptr_equal(b.data, mem);
    assert_string_equal(b.data, "");
    assert_int_equal(gm_buf_puts(&b, "again"), 0);
    assert_string_equal(b.data, "again");
    gm_buf_free(&b);
    gm_buf_reset(&b); /* a freed buffer too */
    gm_buf_free(NULL);
}

static void test_grow_and_binary(void **state)
{
    struct gm_buf b;
    gm_buf_init(&b, 10);
    assert_int_equal(gm_buf_grow(&b, 10), 0);
    assert_true(b.cap >= 11);
    assert_int_equal(b.len, 0);
    assert_int_equal(gm_buf_grow(&b, 11), -E2BIG);
    assert_int_equal(gm_buf_append(&b, "a\0b", 3), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b", 4);
    assert_int_equal(gm_buf_append(&b, NULL, 0), 0);
    assert_int_equal(b.len, 3);
    /* A cap near SIZE_MAX does not overflow the arithmetic. */
    assert_int_equal(gm_buf_append(&b, "x", (size_t)-1), -E2BIG);
    gm_buf_free(&b);
}

static int vappend(struct gm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int vappend(struct gm_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = gm_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return r;
}

static void test_printf_cap(void **state)
{
    struct gm_buf b;
    gm_buf_init(&b, 6);
    assert_int_equal(vappend(&b, "%s-%d", "ab", 12), 0);
    assert_string_equal(b.data, "ab-12");
    assert_int_equal(gm_buf_printf(&b, "%d", 34), -E2BIG);
    assert_string_equal(b.data, "ab-12");
    assert_int_equal(gm_buf_printf(&b, "%d", 3), 0);
    assert_string_equal(b.data, "ab-123");
    gm_buf_free(&b);
}

static void test_escapes_over_cap(void **state)
{
    struct gm_buf b;
    gm_buf_init(&b, 5);
    assert_int_equal(gm_buf_html_escape(&b, "<<"), -E2BIG);
    assert_int_equal(b.error, -E2BIG);
    gm_buf_free(&b);
    gm_buf_init(&b, 3);
    assert_int_equal(gm_buf_json_string(&b, "abc"), -E2BIG);
    gm_buf_free(&b);
    gm_buf_init(&b, 2);
    assert_int_equal(gm_buf_json_string(&b, ""), 0);
    assert_string_equal(b.data, "\"\"");
    gm_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_cap),     cmocka_unit_test(test_printf_grows),
        cmocka_unit_test(test_json_string),        cmocka_unit_test(test_html_escape),
        cmocka_unit_test(test_steal_empty),        cmocka_unit_test(test_error_is_sticky),
        cmocka_unit_test(test_reset_keeps_memory), cmocka_unit_test(test_grow_and_binary),
        cmocka_unit_test(test_printf_cap),         cmocka_unit_test(test_escapes_over_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
