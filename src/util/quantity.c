/* The toolkit's sizes and quantities (include/ganymede/quantity.h), in exact integer arithmetic:
 * a number is read as its digits and a power of ten, so "0.1K" and "1.5Gi" come out as Python
 * and Kubernetes compute them, with no floating-point rounding on the way. */
#include <ganymede/quantity.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128; /* GCC and Clang on 64-bit targets */

#define U128_MAX   (~(u128)0)
#define MAX_DIGITS 36 /* significant digits kept exactly (10^36 < 2^128) */

/* A number's digits (leading zeros dropped, so any count of them is fine) and how many of
 * them came after the point. */
struct number {
    u128 digits;
    int frac;
    bool negative;
};

/* Read [+-]?digits[.digits] from *@p (a sign only with @sign). Returns 0, -EINVAL (no digit)
 * or -ERANGE (more significant digits than are kept exactly). */
static int read_number(const char **p, bool sign, struct number *n)
{
    const char *s = *p;
    memset(n, 0, sizeof(*n));
    if (sign && (*s == '+' || *s == '-'))
        n->negative = *s++ == '-';
    int count = 0, significant = 0;
    bool point = false;
    for (;; s++) {
        if (*s == '.' && !point) {
            point = true;
            continue;
        }
        if (*s < '0' || *s > '9')
            break;
        count++;
        if (n->digits == 0 && *s == '0') {
            if (point)
                n->frac++;
            continue;
        }
        if (significant == MAX_DIGITS)
            return -ERANGE; /* more digits than anyone writes: refused, not rounded */
        significant++;
        n->digits = n->digits * 10 + (u128)(*s - '0');
        if (point)
            n->frac++;
    }
    if (count == 0)
        return -EINVAL;
    *p = s;
    return 0;
}

/* @v * 10^@e, or false when it does not fit. */
static bool mul_pow10(u128 *v, int e)
{
    for (; e > 0 && *v; e--) {
        if (*v > U128_MAX / 10)
            return false;
        *v *= 10;
    }
    return true;
}

/* @v / 10^@e, rounded up when @up, else down. */
static u128 div_pow10(u128 v, int e, bool up)
{
    bool rest = false;
    for (; e > 0 && v; e--) {
        rest |= v % 10 != 0;
        v /= 10;
    }
    if (e > 0 && v == 0)
        return up && rest ? 1 : 0;
    return v + (up && rest);
}

/* @n * 2^@bin * 10^@dec, rounded as asked, into an int64_t. */
static int scaled(const struct number *n, int bin, int dec, bool up, int64_t *ret)
{
    u128 v = n->digits;
    for (; bin > 0 && v; bin--) {
        if (v > U128_MAX / 2)
            return -ERANGE;
        v *= 2;
    }
    if (dec >= 0) {
        if (!mul_pow10(&v, dec))
            return -ERANGE;
    } else {
        v = div_pow10(v, -dec, up);
    }
    if (n->negative) {
        if (v > (u128)INT64_MAX + 1)
            return -ERANGE;
        *ret = v == (u128)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (u128)INT64_MAX)
            return -ERANGE;
        *ret = (int64_t)v;
    }
    return 0;
}

int gm_bytes_parse(const char *s, int64_t *ret)
{
    if (!s || strnlen(s, GM_QUANTITY_INPUT_MAX + 1) > GM_QUANTITY_INPUT_MAX)
        return -EINVAL;
    const char *p = s;
    struct number n;
    int r = read_number(&p, false, &n);
    if (r < 0)
        return r;
    int bin = 0;
    if (*p) {
        static const char units[] = "KMGT";
        const char *u = strchr(units, *p);
        if (!u || p[1])
            return -EINVAL;
        bin = 10 * (int)(u - units + 1);
    } else if (n.frac || strchr(s, '.')) {
        return -EINVAL; /* a string without a suffix is a whole number of bytes */
    }
    return scaled(&n, bin, -n.frac, false, ret);
}

int gm_bytes_json(const json_t *v, int64_t *ret)
{
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return -EINVAL;
        *ret = json_integer_value(v);
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d >= 0))
            return -EINVAL;
        if (d >= 9223372036854775808.0)
            return -ERANGE;
        *ret = (int64_t)d;
        return 0;
    }
    if (json_is_string(v))
        return gm_bytes_parse(json_string_value(v), ret);
    return -EINVAL;
}

int gm_quantity_parse(const char *s, int scale, int64_t *ret, enum gm_quantity_format *format)
{
    if (!s || scale < 0 || scale > 9 ||
        strnlen(s, GM_QUANTITY_INPUT_MAX + 1) > GM_QUANTITY_INPUT_MAX)
        return -EINVAL;
    const char *p = s;
    struct number n;
    int r = read_number(&p, true, &n);
    if (r < 0)
        return r;
    enum gm_quantity_format f = GM_QUANTITY_DECIMAL_SI;
    int bin = 0, dec = 0;
    if (*p && p[1] == 'i') {
        static const char units[] = "KMGTPE";
        const char *u = strchr(units, *p);
        if (!u || p[2])
            return -EINVAL;
        bin = 10 * (int)(u - units + 1);
        f = GM_QUANTITY_BINARY_SI;
    } else if ((*p == 'e' || *p == 'E') && p[1]) {
        /* An exponent ("1e3", "1E-3"); "1E" alone is exa. */
        const char *q = p + 1;
        bool neg = *q == '-';
        if (*q == '+' || *q == '-')
            q++;
        if (*q < '0' || *q > '9')
            return -EINVAL;
        int e = 0;
        for (; *q >= '0' && *q <= '9'; q++)
            if ((e = e * 10 + (*q - '0')) > 1000)
                return -ERANGE;
        if (*q)
            return -EINVAL;
        dec = neg ? -e : e;
        f = GM_QUANTITY_DECIMAL_EXPONENT;
    } else if (*p) {
        static const struct {
            char c;
            int e;
        } si[] = {{'n', -9}, {'u', -6}, {'m', -3}, {'k', 3}, {'M', 6},
                  {'G', 9},  {'T', 12}, {'P', 15}, {'E', 18}};
        size_t i = 0;
        while (i < sizeof(si) / sizeof(si[0]) && si[i].c != *p)
            i++;
        if (i == sizeof(si) / sizeof(si[0]) || p[1])
            return -EINVAL;
        dec = si[i].e;
    }
    int64_t v;
    r = scaled(&n, bin, dec - n.frac + scale, true, &v);
    if (r < 0)
        return r;
    *ret = v;
    if (format)
        *format = f;
    return 0;
}

/* Write the decimal digits of @v at @p (room for 40) and return their count. */
static size_t put_u128(char *p, u128 v)
{
    char tmp[40];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

int gm_quantity_format(int64_t value, int scale, enum gm_quantity_format format, char *out,
                       size_t outlen)
{
    if (scale < 0 || scale > 9 || (int)format < 0 || (int)format >= GM_QUANTITY_FORMAT_MAX)
        return -EINVAL;
    char text[GM_QUANTITY_TEXT_MAX + 16];
    size_t n = 0;
    u128 m = value < 0 ? (u128)(-(value + 1)) + 1 : (u128)value;
    if (value < 0)
        text[n++] = '-';
    u128 unit = 1;
    for (int i = 0; i < scale; i++)
        unit *= 10;
    if (format == GM_QUANTITY_BINARY_SI) {
        /* Kubernetes writes small and fractional binary quantities in decimal. */
        if (m % unit == 0 && m / unit >= 1024) {
            static const char *const suffix[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
            u128 whole = m / unit;
            int k = 0;
            while (k < 6 && whole % 1024 == 0) {
                whole /= 1024;
                k++;
            }
            n += put_u128(text + n, whole);
            size_t sl = strlen(suffix[k]);
            memcpy(text + n, suffix[k], sl);
            n += sl;
            goto done;
        }
        format = GM_QUANTITY_DECIMAL_SI;
    }
    /* Fewest digits, then an exponent that is a multiple of 3 (as low as nano). */
    int e = -scale;
    if (m == 0) {
        e = 0;
    } else {
        while (m % 10 == 0) {
            m /= 10;
            e++;
        }
        while (((e % 3) + 3) % 3 != 0) {
            m *= 10;
            e--;
        }
    }
    n += put_u128(text + n, m);
    if (format == GM_QUANTITY_DECIMAL_EXPONENT) {
        if (e != 0) {
            text[n++] = 'e';
            if (e < 0) {
                text[n++] = '-';
                e = -e;
            }
            n += put_u128(text + n, (u128)e);
        }
    } else if (e != 0) {
        static const char si[] = "num kMGTPE";
        text[n++] = si[(e + 9) / 3];
    }
done:
    if (n + 1 > outlen)
        return -E2BIG;
    memcpy(out, text, n);
    out[n] = '\0';
    return 0;
}
