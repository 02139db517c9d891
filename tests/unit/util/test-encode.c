/* src/util/encode.c: the toolkit's base64, hex and random values (<ganymede/encode.h>), with
 * RFC 4648's test vectors, the caps and bad input. */
#include "test.h"

#include <errno.h>
#include <ganymede/encode.h>
#include <stdlib.h>

/* RFC 4648 §10. */
static const char *const vectors[][2] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void test_base64_vectors(void **state)
{
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const char *raw = vectors[i][0], *enc = vectors[i][1];
        struct gm_buf b;
        gm_buf_init(&b, 64);
        assert_int_equal(gm_base64_encode(&b, raw, strlen(raw)), 0);
        assert_string_equal(b.data ? b.data : "", enc);
        gm_buf_free(&b);
        char out[16];
        assert_int_equal(gm_base64_decode(enc, strlen(enc), out, sizeof(out)), strlen(raw));
        assert_memory_equal(out, raw, strlen(raw));
        /* Unpadded, too. */
        size_t n = strlen(enc);
        while (n && enc[n - 1] == '=')
            n--;
        assert_int_equal(gm_base64_decode(enc, n, out, sizeof(out)), strlen(raw));
        assert_int_equal(gm_base64url_decode(enc, n, out, sizeof(out)), strlen(raw));
        gm_buf_init(&b, 64);
        assert_int_equal(gm_base64url_encode(&b, raw, strlen(raw), false), 0);
        assert_int_equal(b.len, n);
        if (n)
            assert_memory_equal(b.data, enc, n);
        gm_buf_free(&b);
    }
}

static void test_base64_alphabets(void **state)
{
    const unsigned char raw[] = {0xfb, 0xff, 0xbf, 0xfe};
    struct gm_buf b;
    gm_buf_init(&b, 64);
    assert_int_equal(gm_base64_encode(&b, raw, sizeof(raw)), 0);
    assert_string_equal(b.data, "+/+//g==");
    gm_buf_reset(&b);
    assert_int_equal(gm_base64url_encode(&b, raw, sizeof(raw), true), 0);
    assert_string_equal(b.data, "-_-__g==");
    gm_buf_reset(&b);
    assert_int_equal(gm_base64url_encode(&b, raw, sizeof(raw), false), 0);
    assert_string_equal(b.data, "-_-__g");
    gm_buf_free(&b);

    unsigned char out[8];
    assert_int_equal(gm_base64url_decode("-_-__g", 6, out, sizeof(out)), 4);
    assert_memory_equal(out, raw, 4);
    /* The URL-safe decoder takes the standard alphabet as well; the standard one does not
     * take the URL-safe characters. */
    assert_int_equal(gm_base64url_decode("+/+//g==", 8, out, sizeof(out)), 4);
    assert_memory_equal(out, raw, 4);
    assert_int_equal(gm_base64_decode("+/+//g==", 8, out, sizeof(out)), 4);
    assert_int_equal(gm_base64_decode("-_-__g", 6, out, sizeof(out)), -EINVAL);
    /* Trailing newlines and spaces are ignored (a key file). */
    assert_int_equal(gm_base64_decode("Zm9v\r\n", 6, out, sizeof(out)), 3);
    assert_memory_equal(out, "foo", 3);
}

static void test_base64_bad(void **state)
{
    unsigned char out[16];
    assert_int_equal(gm_base64_decode("Zm9vY", 5, out, sizeof(out)), -EINVAL); /* n % 4 == 1 */
    assert_int_equal(gm_base64_decode("Zm=v", 4, out, sizeof(out)), -EINVAL);  /* inner '=' */
    assert_int_equal(gm_base64_decode("Zm9v!A==", 8, out, sizeof(out)), -EINVAL);
    assert_int_equal(gm_base64_decode("Zm 9v", 5, out, sizeof(out)), -EINVAL);
    assert_int_equal(gm_base64url_decode("Zm9v\0A==", 8, out, sizeof(out)), -EINVAL);
    assert_int_equal(gm_base64url_decode("\xc3\xa9", 2, out, sizeof(out)), -EINVAL);
    assert_int_equal(gm_base64_decode("", 0, out, 0), 0);
    assert_int_equal(gm_base64_decode("====", 4, out, 0), 0);
}

static void test_base64_caps(void **state)
{
    unsigned char out[3];
    assert_int_equal(gm_base64_decode("Zm9v", 4, out, 3), 3);
    assert_int_equal(gm_base64_decode("Zm9vYg", 6, out, 3), -E2BIG);
    assert_int_equal(gm_base64url_decode("Zm9v", 4, out, 2), -E2BIG);
    assert_int_equal(gm_base64_decode("Zm9", 3, out, 1), -E2BIG);

    struct gm_buf b;
    gm_buf_init(&b, 7);
    assert_int_equal(gm_base64_encode(&b, "foob", 4), -E2BIG); /* 8 characters */
    assert_null(b.data);
    assert_int_equal(b.error, -E2BIG);
    gm_buf_free(&b);
    gm_buf_init(&b, 6);
    assert_int_equal(gm_base64url_encode(&b, "foob", 4, false), 0); /* 6 characters */
    assert_string_equal(b.data, "Zm9vYg");
    gm_buf_free(&b);
    gm_buf_init(&b, 64);
    assert_int_equal(gm_base64_encode(&b, "x", GM_ENCODE_MAX + 1), -E2BIG);
    assert_int_equal(gm_base64url_decode("x", GM_ENCODE_MAX + 4, out, sizeof(out)), -E2BIG);
    gm_buf_free(&b);
}

static void test_base64_round_trip(void **state)
{
    unsigned char raw[300], out[300];
    for (size_t i = 0; i < sizeof(raw); i++)
        raw[i] = (unsigned char)(i * 7 + 3);
    for (size_t n = 0; n <= sizeof(raw); n += 37) {
        struct gm_buf b;
        gm_buf_init(&b, 1024);
        assert_int_equal(gm_base64_encode(&b, raw, n), 0);
        assert_int_equal(b.len % 4, 0);
        assert_int_equal(gm_base64_decode(b.data ? b.data : "", b.len, out, n), n);
        assert_memory_equal(out, raw, n);
        gm_buf_reset(&b);
        assert_int_equal(gm_base64url_encode(&b, raw, n, false), 0);
        assert_null(b.data ? strchr(b.data, '=') : NULL);
        assert_int_equal(gm_base64url_decode(b.data ? b.data : "", b.len, out, n), n);
        assert_memory_equal(out, raw, n);
        gm_buf_free(&b);
    }
}

static void test_hex(void **state)
{
    const unsigned char raw[] = {0x00, 0x1f, 0xa0, 0xff};
    char hex[9];
    assert_int_equal(gm_hex_encode(raw, 4, hex, sizeof(hex)), 0);
    assert_string_equal(hex, "001fa0ff");
    assert_int_equal(gm_hex_encode(raw, 4, hex, 8), -E2BIG); /* no room for the NUL */
    assert_int_equal(gm_hex_encode(raw, 0, hex, 1), 0);
    assert_string_equal(hex, "");
    assert_int_equal(gm_hex_encode(raw, 0, hex, 0), -E2BIG);

    unsigned char out[4];
    assert_int_equal(gm_hex_decode("001FA0ff", 8, out, sizeof(out)), 4);
    assert_memory_equal(out, raw, 4);
    assert_int_equal(gm_hex_decode("", 0, out, 0), 0);
    assert_int_equal(gm_hex_decode("001", 3, out, sizeof(out)), -EINVAL);
    assert_int_equal(gm_hex_decode("0g", 2, out, sizeof(out)), -EINVAL);
    assert_int_equal(gm_hex_decode("0 ", 2, out, sizeof(out)), -EINVAL);
    assert_int_equal(gm_hex_decode("0011223344", 10, out, sizeof(out)), -E2BIG);
    /* Only @n characters are read. */
    assert_int_equal(gm_hex_decode("00zz", 2, out, sizeof(out)), 1);
}

static bool all_in(const char *s, const char *set)
{
    return strspn(s, set) == strlen(s);
}

static void test_random(void **state)
{
    unsigned char a[32] = {0}, b[32] = {0};
    assert_int_equal(gm_random_bytes(a, sizeof(a)), 0);
    assert_int_equal(gm_random_bytes(b, sizeof(b)), 0);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(gm_random_bytes(a, 0), 0);

    char hex[2 * GM_RANDOM_HEX_MAX + 1];
    assert_int_equal(gm_random_hex(hex, 16), 0);
    assert_int_equal(strlen(hex), 32);
    assert_true(all_in(hex, "0123456789abcdef"));
    assert_int_equal(gm_random_hex(hex, GM_RANDOM_HEX_MAX), 0);
    assert_int_equal(strlen(hex), 2 * GM_RANDOM_HEX_MAX);
    assert_int_equal(gm_random_hex(hex, GM_RANDOM_HEX_MAX + 1), -EINVAL);

    char uuid[33], uuid2[33];
    assert_int_equal(gm_random_uuid_hex(uuid), 0);
    assert_int_equal(gm_random_uuid_hex(uuid2), 0);
    assert_int_equal(strlen(uuid), 32);
    assert_true(all_in(uuid, "0123456789abcdef"));
    assert_int_equal(uuid[12], '4');           /* version 4 */
    assert_non_null(strchr("89ab", uuid[16])); /* RFC 4122 variant */
    assert_string_not_equal(uuid, uuid2);

    char tok[101];
    assert_int_equal(gm_random_alnum(tok, 100), 0);
    assert_int_equal(strlen(tok), 100);
    assert_true(all_in(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"));
    assert_int_equal(gm_random_alnum(tok, 0), 0);
    assert_string_equal(tok, "");
}

static void test_random_token(void **state)
{
    struct gm_buf b;
    gm_buf_init(&b, 1024);
    assert_int_equal(gm_random_token(&b, 32), 0);
    assert_int_equal(b.len, 43); /* secrets.token_urlsafe(32) */
    assert_true(all_in(b.data, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"));
    unsigned char raw[32];
    assert_int_equal(gm_base64url_decode(b.data, b.len, raw, sizeof(raw)), 32);
    assert_int_equal(gm_random_token(&b, GM_RANDOM_TOKEN_MAX + 1), -E2BIG);
    gm_buf_free(&b);
    gm_buf_init(&b, 10);
    assert_int_equal(gm_random_token(&b, 32), -E2BIG); /* over the buffer's cap */
    assert_null(b.data);
    gm_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_vectors),
        cmocka_unit_test(test_base64_alphabets),
        cmocka_unit_test(test_base64_bad),
        cmocka_unit_test(test_base64_caps),
        cmocka_unit_test(test_base64_round_trip),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_random_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
