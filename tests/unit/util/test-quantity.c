/* src/util/quantity.c: JupyterHub's ByteSpecification and Kubernetes quantities
 * (<ganymede/quantity.h>), their rounding, their limits and the canonical text. */
#include "test.h"

#include <errno.h>
#include <ganymede/quantity.h>
#include <stdlib.h>

static void bytes_are(const char *s, int64_t want)
{
    int64_t v = -1;
    assert_int_equal(gm_bytes_parse(s, &v), 0);
    assert_int_equal(v, want);
}

static void bytes_fail(const char *s, int want)
{
    int64_t v = 42;
    assert_int_equal(gm_bytes_parse(s, &v), want);
    assert_int_equal(v, 42); /* untouched */
}

static void test_bytes(void **state)
{
    bytes_are("1024", 1024);
    bytes_are("0", 0);
    bytes_are("1K", 1024);
    bytes_are("512M", 536870912);
    bytes_are("2G", 2147483648);
    bytes_are("1T", 1099511627776);
    /* Python: int(float("1.5") * 1024**3), int(0.1 * 1024) */
    bytes_are("1.5G", 1610612736);
    bytes_are("0.1K", 102);
    bytes_are(".5K", 512);
    bytes_are("5.K", 5120);
    bytes_are("007M", 7340032);
    bytes_are("8388607T", INT64_C(9223370937343148032));
}

static void test_bytes_bad(void **state)
{
    bytes_fail("", -EINVAL);
    bytes_fail("K", -EINVAL);
    bytes_fail("512m", -EINVAL); /* ByteSpecification's suffixes are upper case */
    bytes_fail("512MB", -EINVAL);
    bytes_fail("1Ki", -EINVAL);
    bytes_fail("1P", -EINVAL);
    bytes_fail("-1G", -EINVAL);
    bytes_fail("+1G", -EINVAL);
    bytes_fail(" 1G", -EINVAL);
    bytes_fail("1 G", -EINVAL);
    bytes_fail("1e3", -EINVAL);
    bytes_fail("1.5", -EINVAL); /* bytes are whole */
    bytes_fail("1.2.3G", -EINVAL);
    bytes_fail("lots", -EINVAL);
    bytes_fail("inf", -EINVAL);
    bytes_fail(NULL, -EINVAL);
    bytes_fail("8388608T", -ERANGE); /* 2^63 */
    bytes_fail("9223372036854775808", -ERANGE);
    bytes_fail("1000000000000000000000000000000000000000", -ERANGE);
    char longer[GM_QUANTITY_INPUT_MAX + 2];
    memset(longer, '1', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    bytes_fail(longer, -EINVAL);
    bytes_are("9223372036854775807", INT64_MAX);
}

static void test_bytes_json(void **state)
{
    int64_t v = 0;
    json_t *j = json_integer(1073741824);
    assert_int_equal(gm_bytes_json(j, &v), 0);
    assert_int_equal(v, 1073741824);
    json_decref(j);
    j = json_real(1536.9);
    assert_int_equal(gm_bytes_json(j, &v), 0);
    assert_int_equal(v, 1536);
    json_decref(j);
    j = json_string("2G");
    assert_int_equal(gm_bytes_json(j, &v), 0);
    assert_int_equal(v, 2147483648);
    json_decref(j);
    v = 7;
    j = json_integer(-1);
    assert_int_equal(gm_bytes_json(j, &v), -EINVAL);
    json_decref(j);
    j = json_real(-0.5);
    assert_int_equal(gm_bytes_json(j, &v), -EINVAL);
    json_decref(j);
    j = json_real(1e19);
    assert_int_equal(gm_bytes_json(j, &v), -ERANGE);
    json_decref(j);
    j = json_true();
    assert_int_equal(gm_bytes_json(j, &v), -EINVAL);
    assert_int_equal(gm_bytes_json(json_null(), &v), -EINVAL);
    assert_int_equal(gm_bytes_json(NULL, &v), -EINVAL);
    assert_int_equal(v, 7);
}

static void quantity_is(const char *s, int scale, int64_t want, enum gm_quantity_format format)
{
    int64_t v = -1;
    enum gm_quantity_format f = GM_QUANTITY_FORMAT_MAX;
    assert_int_equal(gm_quantity_parse(s, scale, &v, &f), 0);
    assert_int_equal(v, want);
    assert_int_equal(f, format);
}

static void test_quantity_parse(void **state)
{
    const enum gm_quantity_format D = GM_QUANTITY_DECIMAL_SI, B = GM_QUANTITY_BINARY_SI,
                                  X = GM_QUANTITY_DECIMAL_EXPONENT;
    quantity_is("500m", GM_QUANTITY_MILLI, 500, D);
    quantity_is("500m", GM_QUANTITY_UNITS, 1, D); /* Value() rounds up */
    quantity_is("0.5", GM_QUANTITY_MILLI, 500, D);
    quantity_is(".5", GM_QUANTITY_MILLI, 500, D);
    quantity_is("2", GM_QUANTITY_MILLI, 2000, D);
    quantity_is("1.5Gi", GM_QUANTITY_UNITS, 1610612736, B);
    quantity_is("1Ki", 0, 1024, B);
    quantity_is("1Mi", 0, 1048576, B);
    quantity_is("1Ti", 0, INT64_C(1099511627776), B);
    quantity_is("1Pi", 0, INT64_C(1125899906842624), B);
    quantity_is("1Ei", 0, INT64_C(1152921504606846976), B);
    quantity_is("1k", 0, 1000, D);
    quantity_is("1M", 0, 1000000, D);
    quantity_is("1G", 0, 1000000000, D);
    quantity_is("1T", 0, INT64_C(1000000000000), D);
    quantity_is("1P", 0, INT64_C(1000000000000000), D);
    quantity_is("1E", 0, INT64_C(1000000000000000000), D);
    quantity_is("1u", GM_QUANTITY_NANO, 1000, D);
    quantity_is("1n", GM_QUANTITY_NANO, 1, D);
    quantity_is("1n", GM_QUANTITY_MILLI, 1, D); /* up, not to 0 */
    quantity_is("1e3", 0, 1000, X);
    quantity_is("1E3", 0, 1000, X);
    quantity_is("5e-3", GM_QUANTITY_MILLI, 5, X);
    quantity_is("1e+2", 0, 100, X);
    quantity_is("-500m", GM_QUANTITY_MILLI, -500, D);
    quantity_is("-1.5", 0, -2, D); /* away from zero */
    quantity_is("+1", 0, 1, D);
    quantity_is("0", 0, 0, D);
    quantity_is("0.0001", 0, 1, D);
    quantity_is("1e-100", 0, 1, X);
    quantity_is("0e100", 0, 0, X);
    quantity_is("9223372036854775807", 0, INT64_MAX, D);
    quantity_is("-9223372036854775808", 0, INT64_MIN, D);
    quantity_is("7Ei", 0, INT64_C(8070450532247928832), B);
    int64_t v;
    assert_int_equal(gm_quantity_parse("1", 0, &v, NULL), 0); /* format may be NULL */
}

static void test_quantity_bad(void **state)
{
    int64_t v = 42;
    static const char *const bad[] = {
        "",     "Gi",  "1K",  "1ki", "1 Gi", " 1", "1.5.2", "0x10", "1e",   "1e+", "1ee3",
        "1Gib", "1mm", "abc", "1i",  "-",    ".",  "1,5",   "1Zi",  "1e3k", "--1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gm_quantity_parse(bad[i], 0, &v, NULL), -EINVAL);
    assert_int_equal(gm_quantity_parse(NULL, 0, &v, NULL), -EINVAL);
    assert_int_equal(gm_quantity_parse("1", -1, &v, NULL), -EINVAL);
    assert_int_equal(gm_quantity_parse("1", 10, &v, NULL), -EINVAL);
    /* Overflow at the scale asked for. */
    assert_int_equal(gm_quantity_parse("8Ei", 0, &v, NULL), -ERANGE);
    assert_int_equal(gm_quantity_parse("10E", 0, &v, NULL), -ERANGE);
    assert_int_equal(gm_quantity_parse("9223372036854775808", 0, &v, NULL), -ERANGE);
    assert_int_equal(gm_quantity_parse("-9223372036854775809", 0, &v, NULL), -ERANGE);
    assert_int_equal(gm_quantity_parse("10G", GM_QUANTITY_NANO, &v, NULL), -ERANGE);
    assert_int_equal(gm_quantity_parse("1e19", 0, &v, NULL), -ERANGE);
    assert_int_equal(gm_quantity_parse("1e1001", 0, &v, NULL), -ERANGE);
    assert_int_equal(v, 42);
    assert_int_equal(gm_quantity_parse("9.2G", GM_QUANTITY_NANO, &v, NULL), 0);
}

static void formats_as(int64_t value, int scale, enum gm_quantity_format f, const char *want)
{
    char out[GM_QUANTITY_TEXT_MAX];
    assert_int_equal(gm_quantity_format(value, scale, f, out, sizeof(out)), 0);
    assert_string_equal(out, want);
}

static void test_quantity_format(void **state)
{
    const enum gm_quantity_format D = GM_QUANTITY_DECIMAL_SI, B = GM_QUANTITY_BINARY_SI,
                                  X = GM_QUANTITY_DECIMAL_EXPONENT;
    /* What kubectl shows for resource.MustParse(text).String(). */
    formats_as(500, GM_QUANTITY_MILLI, D, "500m");   /* "0.5" */
    formats_as(1500, GM_QUANTITY_MILLI, D, "1500m"); /* "1.5" */
    formats_as(2000, GM_QUANTITY_MILLI, D, "2");     /* "2000m" */
    formats_as(2000, 0, D, "2k");                    /* "2000" */
    formats_as(1500000000, 0, D, "1500M");           /* "1.5G" */
    formats_as(0, 0, D, "0");
    formats_as(0, GM_QUANTITY_MILLI, B, "0");
    formats_as(1, GM_QUANTITY_NANO, D, "1n");
    formats_as(1000, GM_QUANTITY_NANO, D, "1u");
    formats_as(10, GM_QUANTITY_NANO, D, "10n");
    formats_as(-500, GM_QUANTITY_MILLI, D, "-500m");
    formats_as(INT64_C(1000000000000000000), 0, D, "1E");
    formats_as(INT64_MAX, 0, D, "9223372036854775807");
    formats_as(INT64_MIN, 0, D, "-9223372036854775808");
    formats_as(1610612736, 0, B, "1536Mi"); /* "1.5Gi" */
    formats_as(1073741824, 0, B, "1Gi");
    formats_as(1024, 0, B, "1Ki");
    formats_as(1025, 0, B, "1025");
    formats_as(512, 0, B, "512");                    /* "0.5Ki": under 1024, decimal */
    formats_as(1000, 0, B, "1k");                    /* decimal rules then */
    formats_as(1500, GM_QUANTITY_MILLI, B, "1500m"); /* not whole */
    formats_as(2048000, GM_QUANTITY_MILLI, B, "2Ki");
    formats_as(-2048, 0, B, "-2Ki");
    formats_as(INT64_C(1152921504606846976) * 4, 0, B, "4Ei");
    formats_as(1000, 0, X, "1e3");
    formats_as(5, GM_QUANTITY_MILLI, X, "5e-3");
    formats_as(12, 0, X, "12");
}

static void test_quantity_format_bad(void **state)
{
    char out[GM_QUANTITY_TEXT_MAX];
    memcpy(out, "keep", 5);
    assert_int_equal(gm_quantity_format(1, -1, GM_QUANTITY_DECIMAL_SI, out, sizeof(out)), -EINVAL);
    assert_int_equal(gm_quantity_format(1, 10, GM_QUANTITY_DECIMAL_SI, out, sizeof(out)), -EINVAL);
    assert_int_equal(gm_quantity_format(1, 0, GM_QUANTITY_FORMAT_MAX, out, sizeof(out)), -EINVAL);
    assert_int_equal(gm_quantity_format(1500, 3, GM_QUANTITY_DECIMAL_SI, out, 5), -E2BIG);
    assert_string_equal(out, "keep");
    assert_int_equal(gm_quantity_format(1500, 3, GM_QUANTITY_DECIMAL_SI, out, 6), 0);
    assert_string_equal(out, "1500m");
    assert_int_equal(gm_quantity_format(0, 0, GM_QUANTITY_DECIMAL_SI, out, 0), -E2BIG);
    /* The longest texts fit in GM_QUANTITY_TEXT_MAX. */
    assert_int_equal(
        gm_quantity_format(INT64_MIN, 9, GM_QUANTITY_DECIMAL_EXPONENT, out, sizeof(out)), 0);
    assert_string_equal(out, "-9223372036854775808e-9");
    assert_int_equal(gm_quantity_format(INT64_MIN + 1, 9, GM_QUANTITY_DECIMAL_SI, out, sizeof(out)),
                     0);
    assert_string_equal(out, "-9223372036854775807n");
}

static void test_round_trip(void **state)
{
    static const char *const texts[] = {"500m", "1536Mi", "2k", "1500M", "1Gi", "100m", "3", "1e3"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        int64_t v;
        enum gm_quantity_format f;
        assert_int_equal(gm_quantity_parse(texts[i], GM_QUANTITY_MILLI, &v, &f), 0);
        char out[GM_QUANTITY_TEXT_MAX];
        assert_int_equal(gm_quantity_format(v, GM_QUANTITY_MILLI, f, out, sizeof(out)), 0);
        assert_string_equal(out, texts[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_bytes_bad),
        cmocka_unit_test(test_bytes_json),
        cmocka_unit_test(test_quantity_parse),
        cmocka_unit_test(test_quantity_bad),
        cmocka_unit_test(test_quantity_format),
        cmocka_unit_test(test_quantity_format_bad),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
