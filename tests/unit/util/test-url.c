/* src/util/url.c: splitting configuration URLs, and the toolkit's percent-encoding
 * (gm_url_encode, gm_url_encode_plus, gm_url_decode of <ganymede/encode.h>). */
#include "test.h"
#include "util/url.h"

#include <errno.h>
#include <ganymede/encode.h>
#include <stdlib.h>

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

static void encode_is(const char *s, const char *safe, bool plus, const char *want)
{
    struct gm_buf b;
    gm_buf_init(&b, 1024);
    int r = plus ? gm_url_encode_plus(&b, s, safe) : gm_url_encode(&b, s, safe);
    assert_int_equal(r, 0);
    assert_string_equal(b.data ? b.data : "", want);
    gm_buf_free(&b);
}

static void test_url_encode(void **state)
{
    /* urllib.parse.quote(s, safe=...) */
    encode_is("al ice@x/y", "@~", false, "al%20ice@x%2Fy");
    encode_is("a b/c:d@\xc3\xa9", "/:@", false, "a%20b/c:d@%C3%A9");
    encode_is("AZaz09_.-~", NULL, false, "AZaz09_.-~");
    encode_is("a&b=c+d", NULL, false, "a%26b%3Dc%2Bd");
    encode_is("a&b=c+d", "", false, "a%26b%3Dc%2Bd");
    encode_is("", NULL, false, "");
    encode_is("\x01\x7f\xff", NULL, false, "%01%7F%FF");
    /* Only ASCII characters of @safe count: a UTF-8 byte in it is still encoded. */
    encode_is("\xc3\xa9", "\xc3\xa9", false, "%C3%A9");
    /* quote_plus: spaces as '+', a real '+' encoded. */
    encode_is("a b+c", NULL, true, "a+b%2Bc");
    encode_is("x y/z", "/", true, "x+y/z");
}

static void test_url_encode_cap(void **state)
{
    struct gm_buf b;
    gm_buf_init(&b, 5);
    assert_int_equal(gm_url_encode(&b, "abcde", NULL), 0);
    assert_int_equal(gm_url_encode(&b, "f", NULL), -E2BIG);
    assert_string_equal(b.data, "abcde");
    gm_buf_reset(&b);
    /* An escape is three bytes: it does not fit in the last two. */
    assert_int_equal(gm_url_encode(&b, "abc d", NULL), -E2BIG);
    assert_int_equal(b.error, -E2BIG);
    gm_buf_free(&b);
    gm_buf_init(&b, 0);
    assert_int_equal(gm_url_encode_plus(&b, " ", NULL), -E2BIG);
    gm_buf_free(&b);
}

static void test_url_decode(void **state)
{
    char out[32];
    assert_int_equal(gm_url_decode("a%2Fb+c", 7, out, sizeof(out), false), 5);
    assert_string_equal(out, "a/b+c");
    assert_int_equal(gm_url_decode("a%2Fb+c", 7, out, sizeof(out), true), 5);
    assert_string_equal(out, "a/b c");
    assert_int_equal(gm_url_decode("%c3%A9", 6, out, sizeof(out), false), 2);
    assert_string_equal(out, "\xc3\xa9");
    assert_int_equal(gm_url_decode("", 0, out, sizeof(out), false), 0);
    assert_string_equal(out, "");
    /* Only @n bytes are read. */
    assert_int_equal(gm_url_decode("abc%41", 3, out, sizeof(out), false), 3);
    assert_string_equal(out, "abc");
    /* Bad escapes, an encoded NUL, an escape cut by @n. */
    assert_int_equal(gm_url_decode("%zz", 3, out, sizeof(out), false), -EINVAL);
    assert_int_equal(gm_url_decode("%4", 2, out, sizeof(out), false), -EINVAL);
    assert_int_equal(gm_url_decode("%", 1, out, sizeof(out), false), -EINVAL);
    assert_int_equal(gm_url_decode("a%00b", 5, out, sizeof(out), false), -EINVAL);
    assert_int_equal(gm_url_decode("%41", 2, out, sizeof(out), false), -EINVAL);
    assert_int_equal(gm_url_decode("a%g1", 4, out, sizeof(out), false), -EINVAL);
}

static void test_url_decode_cap(void **state)
{
    char out[4];
    assert_int_equal(gm_url_decode("abc", 3, out, sizeof(out), false), 3);
    assert_int_equal(gm_url_decode("abcd", 4, out, sizeof(out), false), -E2BIG);
    /* Escapes shrink the text: "%41%42%43" needs only four bytes. */
    assert_int_equal(gm_url_decode("%41%42%43", 9, out, sizeof(out), false), 3);
    assert_string_equal(out, "ABC");
    assert_int_equal(gm_url_decode("", 0, out, 0, false), -E2BIG);
    assert_int_equal(gm_url_decode("a", 1, out, 1, false), -E2BIG);
}

static void test_url_round_trip(void **state)
{
    char in[256], out[256];
    for (int i = 1; i < 256; i++)
        in[i - 1] = (char)i;
    in[255] = '\0';
    struct gm_buf b;
    gm_buf_init(&b, 1024);
    assert_int_equal(gm_url_encode_plus(&b, in, NULL), 0);
    assert_int_equal(gm_url_decode(b.data, b.len, out, sizeof(out), true), 255);
    assert_memory_equal(out, in, 256);
    gm_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),          cmocka_unit_test(test_bad),
        cmocka_unit_test(test_url_encode),     cmocka_unit_test(test_url_encode_cap),
        cmocka_unit_test(test_url_decode),     cmocka_unit_test(test_url_decode_cap),
        cmocka_unit_test(test_url_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
