/* Sizes and amounts as configurations write them: JupyterHub's ByteSpecification
 * (Spawner.mem_limit = "2G") and Kubernetes resource quantities ("500m" CPU, "1.5Gi" memory),
 * parsed exactly (no floating point) and written back in Kubernetes' canonical form, so a
 * spawner that sends resources to an API writes what kubectl would show. Implemented once, in
 * src/util/quantity.c.
 *
 *     int64_t bytes, millicores;
 *     r = gm_bytes_json(conf->mem_limit, &bytes);               ("2G" → 2147483648)
 *     r = gm_quantity_parse("500m", GM_QUANTITY_MILLI, &millicores, NULL);     (→ 500)
 *     char text[GM_QUANTITY_TEXT_MAX];
 *     r = gm_quantity_format(bytes, 0, GM_QUANTITY_BINARY_SI, text, sizeof(text)); ("2Gi")
 *
 * Every function returns 0 or a negative errno: -EINVAL (text that is not a size or quantity),
 * -ERANGE (one that does not fit in an int64_t at the scale asked for) or -E2BIG (an output
 * buffer too small). Results are written only on success; pointer parameters are borrowed. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/** The longest text accepted by the parsers (bytes); longer is -EINVAL. */
#define GM_QUANTITY_INPUT_MAX 64

/** Room for any text gm_quantity_format writes, NUL included. */
#define GM_QUANTITY_TEXT_MAX 32

/* JupyterHub's ByteSpecification. */

/** Parse a size as JupyterHub's ByteSpecification does: a number (digits with an optional
 * fraction: "2", "1.5", ".5") followed by K, M, G or T, each 1024 times the one before ("512M"
 * is 536870912, "1.5G" 1610612736), the fraction truncated as Python's int() does; or plain
 * digits, a number of bytes ("1024"). Anything else is -EINVAL: lower-case suffixes, "KB",
 * signs, spaces, exponents, an empty string. -ERANGE over INT64_MAX bytes. */
int gm_bytes_parse(const char *s, int64_t *ret);

/** A ByteSpecification value from a configuration: a non-negative JSON integer (bytes), a
 * non-negative real (truncated, as int() does) or a string for gm_bytes_parse. Anything else
 * (null included: the caller decides what unset means) is -EINVAL. */
int gm_bytes_json(const json_t *v, int64_t *ret);

/* Kubernetes quantities (k8s.io/apimachinery resource.Quantity). */

/** How a quantity is written: the suffix family it was given in, which Kubernetes keeps. */
enum gm_quantity_format {
    GM_QUANTITY_DECIMAL_SI,       /* n u m "" k M G T P E (powers of 1000) */
    GM_QUANTITY_BINARY_SI,        /* Ki Mi Gi Ti Pi Ei (powers of 1024) */
    GM_QUANTITY_DECIMAL_EXPONENT, /* 1e3, 5E-3 */
    GM_QUANTITY_FORMAT_MAX,
};

/** The scales gm_quantity_parse and gm_quantity_format take: the result counts units, thousandths
 * (millicores) or billionths of the quantity. Any scale from 0 to 9 works. */
#define GM_QUANTITY_UNITS 0
#define GM_QUANTITY_MILLI 3
#define GM_QUANTITY_NANO  9

/** Parse a Kubernetes quantity: an optional sign, a number ("1", "1.5", ".5", "5."), then a
 * suffix: none; decimal n, u, m, k, M, G, T, P, E; binary Ki, Mi, Gi, Ti, Pi, Ei; or an
 * exponent e<int> / E<int> ("1e3"). *@ret is the quantity times 10^@scale, rounded up (away
 * from zero) when it has more digits than the scale keeps, as Quantity.Value() (@scale 0) and
 * MilliValue() (@scale 3) do: "500m" at GM_QUANTITY_MILLI is 500, at GM_QUANTITY_UNITS 1;
 * "1.5Gi" is 1610612736. *@format (may be NULL) receives the suffix family. -EINVAL for text
 * that is not a quantity ("1.5.2", "1K", "Gi", "1 Gi", "0x10", @scale outside 0..9), -ERANGE
 * when the result does not fit in an int64_t. */
int gm_quantity_parse(const char *s, int scale, int64_t *ret, enum gm_quantity_format *format);

/** Write @value / 10^@scale as Kubernetes canonicalises a quantity of @format: decimal as the
 * fewest digits with a suffix a multiple of 3 ("0.5" → "500m", 2000 → "2k", 1500000000 →
 * "1500M"); binary as the largest of Ki..Ei that divides the value exactly (1610612736 →
 * "1536Mi"), in decimal when the value is under 1024 or not a whole number (512 → "512",
 * 0.5 → "500m"); exponent as "1e3". Into @out of @outlen bytes (GM_QUANTITY_TEXT_MAX is
 * always enough). -EINVAL for a @scale outside 0..9 or an unknown @format, -E2BIG when @out is
 * too small (nothing written then). */
int gm_quantity_format(int64_t value, int scale, enum gm_quantity_format format, char *out,
                       size_t outlen);
