/* The plugin toolkit's templates (include/ganymede/template.h): escapism and KubeSpawner's
 * slugs (kubespawner/slugs.py, transcribed rule for rule so that names equal KubeSpawner's),
 * Python's str.format over a JSON object, and the Jinja subset of batchspawner's scripts,
 * parsed into a small tree and rendered with Python's notion of values (str(), truthiness,
 * and/or returning an operand). Nothing here logs or touches the loop. */
#include <ganymede/template.h>
#include <ganymede/buf.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH      32
#define MAX_ITERATIONS 100000
#define SLUG_MAX_LEN   48 /* KubeSpawner's _slug_max_length */
#define HASH_LEN       8

const char *const gm_slug_scheme_names[GM_SLUG_SCHEME_MAX] = {
    [GM_SLUG_NONE] = "none",
    [GM_SLUG_ESCAPE] = "escape",
    [GM_SLUG_SAFE] = "safe",
};

/* Hand the text over (caller frees) or the buffer's first error; the buffer is empty
 * afterwards either way. */
static int out_finish(struct gm_buf *o, char **ret)
{
    if (o->error) {
        gm_buf_free(o);
        return o->error;
    }
    char *s = gm_buf_steal(o);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

static void set_error(struct gm_template_error *err, const char *text, size_t at, const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));

static void set_error(struct gm_template_error *err, const char *text, size_t at, const char *fmt,
                      ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    err->offset = at;
    err->line = 1;
    err->column = 1;
    for (size_t i = 0; text && i < at && text[i]; i++) {
        if (text[i] == '\n') {
            err->line++;
            err->column = 1;
        } else {
            err->column++;
        }
    }
}

/* Escapism and slugs. */

int gm_escape(const char *text, const char *safe, char escape_char, char **ret)
{
    static const char hex[] = "0123456789ABCDEF";
    if (strlen(text) > GM_SLUG_INPUT_MAX)
        return -ENAMETOOLONG;
    struct gm_buf o;
    gm_buf_init(&o, 3 * GM_SLUG_INPUT_MAX + 1);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        bool ok = *p != (unsigned char)escape_char && *p < 0x80 &&
                  (safe ? strchr(safe, *p) != NULL
                        : ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                           (*p >= '0' && *p <= '9')));
        if (ok) {
            gm_buf_putc(&o, (char)*p);
            continue;
        }
        /* escapism writes f"{byte:X}": one digit below 0x10. */
        gm_buf_putc(&o, escape_char);
        if (*p >= 0x10)
            gm_buf_putc(&o, hex[*p >> 4]);
        gm_buf_putc(&o, hex[*p & 15]);
    }
    return out_finish(&o, ret);
}

int gm_slug_escape(const char *text, char **ret)
{
    char *s;
    int r = gm_escape(text, "abcdefghijklmnopqrstuvwxyz0123456789", '-', &s);
    if (r < 0)
        return r;
    for (char *p = s; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    *ret = s;
    return 0;
}

static bool is_lower_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(unsigned char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* Python's len(): code points of UTF-8 text. */
static size_t code_points(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xc0) != 0x80)
            n++;
    return n;
}

/* is_valid_object_name: ^[a-z0-9-]+$, a letter first, a letter or digit last, 1..63. */
static bool valid_object(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 63 || !(s[0] >= 'a' && s[0] <= 'z') ||
        !is_lower_alnum((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_alnum((unsigned char)s[i]) && s[i] != '-')
            return false;
    return true;
}

/* is_valid_label: "" or ^[a-z0-9._-]+$ with re.IGNORECASE, an ASCII letter or digit at both
 * ends, at most 63 characters. Under IGNORECASE Python's [a-z] also matches U+0130, U+0131,
 * U+017F and U+212A, so those pass in the middle as they do in KubeSpawner. */
static bool valid_label(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return true;
    if (code_points(s) > 63 || !is_alnum((unsigned char)s[0]) || !is_alnum((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 0; i < n;) {
        const unsigned char *p = (const unsigned char *)s + i;
        if (is_alnum(*p) || *p == '.' || *p == '-' || *p == '_') {
            i++;
        } else if ((p[0] == 0xc4 && (p[1] == 0xb0 || p[1] == 0xb1)) ||
                   (p[0] == 0xc5 && p[1] == 0xbf)) {
            i += 2;
        } else if (p[0] == 0xe2 && p[1] == 0x84 && p[2] == 0xaa) {
            i += 3;
        } else {
            return false;
        }
    }
    return true;
}

/* _extract_safe_name(name, max_length) into @out (room for max_length + 1 bytes). */
static void extract_safe_name(const char *name, size_t max_length, char *out)
{
    /* name.lower(), then runs of anything but [a-z0-9] as one '-'. Only two non-ASCII
     * characters lower-case to ASCII letters: U+212A KELVIN SIGN ("k") and U+0130 ("i" and a
     * combining dot, which is then a non-alphanumeric). */
    size_t cap = strlen(name) + 1;
    char *low = malloc(cap);
    size_t n = 0;
    if (!low) {
        snprintf(out, max_length + 1, "x");
        return;
    }
    for (const unsigned char *p = (const unsigned char *)name; *p;) {
        char c;
        size_t step = 1;
        if (*p >= 'A' && *p <= 'Z') {
            c = (char)(*p - 'A' + 'a');
        } else if (is_lower_alnum(*p)) {
            c = (char)*p;
        } else if (p[0] == 0xe2 && p[1] == 0x84 && p[2] == 0xaa) {
            c = 'k';
            step = 3;
        } else if (p[0] == 0xc4 && p[1] == 0xb0) {
            low[n++] = 'i';
            c = '-';
            step = 2;
        } else {
            c = '-';
        }
        p += step;
        if (c == '-' && n && low[n - 1] == '-')
            continue;
        low[n++] = c;
    }
    low[n] = '\0';
    /* lstrip("-")[:max_length].rstrip("-") */
    const char *s = low;
    while (*s == '-')
        s++;
    size_t len = strlen(s);
    if (len > max_length)
        len = max_length;
    while (len && s[len - 1] == '-')
        len--;
    if (len && !(s[0] >= 'a' && s[0] <= 'z')) {
        /* "x-" + safe_name[: max_length - 2], which may end in '-' as KubeSpawner's does. */
        size_t keep = len < max_length - 2 ? len : max_length - 2;
        snprintf(out, max_length + 1, "x-%.*s", (int)keep, s);
    } else if (len) {
        memcpy(out, s, len);
        out[len] = '\0';
    } else {
        snprintf(out, max_length + 1, "x");
    }
    free(low);
}

static int sha256_hex(const char *const *parts, size_t n, char hex[HASH_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (size_t i = 0; ok && i < n; i++) {
        /* multi_slug separates the names with a 0xFF byte, which UTF-8 never has. */
        if (i > 0)
            ok = EVP_DigestUpdate(ctx, "\xff", 1);
        if (ok)
            ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]));
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -ENOMEM;
    for (int i = 0; i < HASH_LEN / 2; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static int strip_and_hash(const char *name, size_t max_length, char **ret)
{
    if (max_length < HASH_LEN + 4)
        return -EINVAL;
    char hash[HASH_LEN + 1];
    int r = sha256_hex(&name, 1, hash);
    char *safe = malloc(max_length + 1);
    char *s = malloc(max_length + 1);
    if (r < 0 || !safe || !s) {
        free(safe);
        free(s);
        return -ENOMEM;
    }
    extract_safe_name(name, max_length - (HASH_LEN + 3), safe);
    snprintf(s, max_length + 1, "%s---%s", safe, hash);
    free(safe);
    *ret = s;
    return 0;
}

int gm_slug_safe(const char *text, enum gm_slug_rule rule, size_t max_length, char **ret)
{
    if (strlen(text) > GM_SLUG_INPUT_MAX)
        return -ENAMETOOLONG;
    if (rule < 0 || rule >= GM_SLUG_RULE_MAX)
        return -EINVAL;
    bool valid = rule == GM_SLUG_LABEL ? valid_label(text) : valid_object(text);
    if (!strstr(text, "--") && valid && (max_length == 0 || code_points(text) <= max_length)) {
        char *s = strdup(text);
        if (!s)
            return -ENOMEM;
        *ret = s;
        return 0;
    }
    return strip_and_hash(text, max_length ? max_length : 32, ret);
}

int gm_slug_multi(const char *const *names, size_t n, size_t max_length, char **ret)
{
    if (n == 0 || max_length < HASH_LEN + 1)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) > GM_SLUG_INPUT_MAX)
            return -ENAMETOOLONG;
    size_t per_name = (max_length - (HASH_LEN + 1)) / n;
    if (per_name < 4)
        return -EINVAL;
    size_t name_max = per_name - 2;
    char hash[HASH_LEN + 1];
    if (sha256_hex(names, n, hash) < 0)
        return -ENOMEM;
    char *part = malloc(name_max + 1);
    if (!part)
        return -ENOMEM;
    struct gm_buf o;
    gm_buf_init(&o, (size_t)-1 / 2);
    for (size_t i = 0; i < n; i++) {
        extract_safe_name(names[i], name_max, part);
        if (i)
            gm_buf_puts(&o, "--");
        gm_buf_puts(&o, part);
    }
    gm_buf_puts(&o, "---");
    gm_buf_puts(&o, hash);
    free(part);
    return out_finish(&o, ret);
}

int gm_slug(const char *text, enum gm_slug_scheme scheme, char **ret)
{
    char *s;
    switch (scheme) {
    case GM_SLUG_NONE:
        if (strlen(text) > GM_SLUG_INPUT_MAX)
            return -ENAMETOOLONG;
        s = strdup(text);
        if (!s)
            return -ENOMEM;
        *ret = s;
        return 0;
    case GM_SLUG_ESCAPE:
        return gm_slug_escape(text, ret);
    case GM_SLUG_SAFE:
        /* KubeSpawner keeps an empty servername empty rather than "x---<hash>". */
        if (!text[0])
            return gm_slug(text, GM_SLUG_NONE, ret);
        return gm_slug_safe(text, GM_SLUG_OBJECT, SLUG_MAX_LEN, ret);
    default:
        return -EINVAL;
    }
}

int gm_slug_user_server(const char *user, const char *server, enum gm_slug_scheme scheme,
                        char **ret)
{
    char *u = NULL, *s = NULL;
    int r = gm_slug(user, scheme, &u);
    if (r == 0)
        r = gm_slug(server, scheme, &s);
    if (r < 0) {
        free(u);
        return r;
    }
    if (scheme == GM_SLUG_SAFE && strlen(u) + strlen(s) + 2 > SLUG_MAX_LEN) {
        const char *names[] = {user, server};
        r = gm_slug_multi(names, 2, SLUG_MAX_LEN, ret);
    } else {
        struct gm_buf o;
        gm_buf_init(&o, 2 * (3 * GM_SLUG_INPUT_MAX) + 3);
        gm_buf_puts(&o, u);
        if (server[0]) {
            gm_buf_puts(&o, "--");
            gm_buf_puts(&o, s);
        }
        r = out_finish(&o, ret);
    }
    free(u);
    free(s);
    return r;
}

/* Python's str() and repr() of JSON values. */

static int put_float(struct gm_buf *o, double x)
{
    if (isnan(x))
        return gm_buf_puts(o, "nan");
    if (isinf(x))
        return gm_buf_puts(o, x < 0 ? "-inf" : "inf");
    /* repr(float): the shortest digits that read back, fixed notation for exponents -4..15. */
    char buf[64];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*e", prec - 1, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    char digits[32];
    size_t nd = 0;
    const char *p = buf;
    bool neg = *p == '-';
    if (neg)
        p++;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    int e = (int)strtol(p + 1, NULL, 10);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    char res[64];
    size_t k = 0;
    if (neg)
        res[k++] = '-';
    if (e >= -4 && e < 16) {
        if (e < 0) {
            res[k++] = '0';
            res[k++] = '.';
            for (int i = -1; i > e; i--)
                res[k++] = '0';
            memcpy(res + k, digits, nd);
            k += nd;
        } else {
            for (int i = 0; i <= e; i++)
                res[k++] = (size_t)i < nd ? digits[i] : '0';
            res[k++] = '.';
            if ((size_t)e + 1 < nd) {
                memcpy(res + k, digits + e + 1, nd - (size_t)e - 1);
                k += nd - (size_t)e - 1;
            } else {
                res[k++] = '0';
            }
        }
        res[k] = '\0';
    } else {
        res[k++] = digits[0];
        if (nd > 1) {
            res[k++] = '.';
            memcpy(res + k, digits + 1, nd - 1);
            k += nd - 1;
        }
        snprintf(res + k, sizeof(res) - k, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    }
    return gm_buf_puts(o, res);
}

static int put_repr_string(struct gm_buf *o, const char *s)
{
    char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
    gm_buf_putc(o, q);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '\\' || *p == (unsigned char)q) {
            esc[0] = '\\';
            esc[1] = (char)*p;
            gm_buf_append(o, esc, 2);
        } else if (*p == '\n') {
            gm_buf_puts(o, "\\n");
        } else if (*p == '\r') {
            gm_buf_puts(o, "\\r");
        } else if (*p == '\t') {
            gm_buf_puts(o, "\\t");
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof(esc), "\\x%02x", *p);
            gm_buf_puts(o, esc);
        } else {
            gm_buf_putc(o, (char)*p);
        }
    }
    return gm_buf_putc(o, q);
}

static int put_value(struct gm_buf *o, const json_t *v, bool repr, int depth)
{
    char num[32];
    if (depth > MAX_DEPTH)
        return o->error = -E2BIG;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return repr ? put_repr_string(o, json_string_value(v))
                    : gm_buf_puts(o, json_string_value(v));
    case JSON_INTEGER:
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return gm_buf_puts(o, num);
    case JSON_REAL:
        return put_float(o, json_real_value(v));
    case JSON_TRUE:
        return gm_buf_puts(o, "True");
    case JSON_FALSE:
        return gm_buf_puts(o, "False");
    case JSON_NULL:
        return gm_buf_puts(o, "None");
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        gm_buf_putc(o, '[');
        json_array_foreach(v, i, x)
        {
            if (i)
                gm_buf_puts(o, ", ");
            put_value(o, x, true, depth + 1);
        }
        return gm_buf_putc(o, ']');
    }
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        bool first = true;
        gm_buf_putc(o, '{');
        json_object_foreach((json_t *)v, k, x)
        {
            if (!first)
                gm_buf_puts(o, ", ");
            first = false;
            put_repr_string(o, k);
            gm_buf_puts(o, ": ");
            put_value(o, x, true, depth + 1);
        }
        return gm_buf_putc(o, '}');
    }
    }
    return 0;
}

static bool truthy(const json_t *v)
{
    if (!v)
        return false;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return json_object_size(v) > 0;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0;
    case JSON_TRUE:
        return true;
    default:
        return false;
    }
}

static const char *type_name(const json_t *v)
{
    if (!v)
        return "Undefined";
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "dict";
    case JSON_ARRAY:
        return "list";
    case JSON_STRING:
        return "str";
    case JSON_INTEGER:
        return "int";
    case JSON_REAL:
        return "float";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    default:
        return "NoneType";
    }
}

/* str.format. */

int gm_format(const char *tmpl, const json_t *fields, const struct gm_format_options *opts,
              char **ret, struct gm_template_error *err)
{
    const struct gm_format_options none = {0};
    if (!opts)
        opts = &none;
    size_t tlen = strlen(tmpl);
    if (tlen > GM_TEMPLATE_MAX) {
        set_error(err, NULL, 0, "the template is longer than %d bytes", GM_TEMPLATE_MAX);
        return -E2BIG;
    }
    struct gm_buf o;
    gm_buf_init(&o, opts->max_len ? opts->max_len : GM_TEMPLATE_MAX);
    int r = 0;
    const char *p = tmpl;
    while (*p && r == 0) {
        size_t at = (size_t)(p - tmpl);
        if (p[0] == '{' && p[1] == '{') {
            gm_buf_putc(&o, '{');
            p += 2;
            continue;
        }
        if (p[0] == '}') {
            if (p[1] != '}') {
                set_error(err, tmpl, at,
                          "Single '}' encountered in format string (write }} for a brace)");
                r = -EINVAL;
                break;
            }
            gm_buf_putc(&o, '}');
            p += 2;
            continue;
        }
        if (p[0] != '{') {
            size_t n = strcspn(p, "{}");
            gm_buf_append(&o, p, n);
            p += n;
            continue;
        }
        /* A field: up to the matching '}' (nested braces belong to a format spec). */
        const char *start = p + 1, *end = start;
        int level = 1;
        for (; *end; end++) {
            if (*end == '{')
                level++;
            else if (*end == '}' && --level == 0)
                break;
        }
        if (!*end) {
            set_error(err, tmpl, at,
                      *start ? "expected '}' before end of string"
                             : "Single '{' encountered in format string (write {{ for a brace)");
            r = -EINVAL;
            break;
        }
        size_t name_len = strcspn(start, "!:}");
        if (start + name_len > end)
            name_len = (size_t)(end - start);
        const char *conv = start + name_len;
        char conversion = 's';
        if (*conv == '!') {
            conversion = conv[1];
            if ((conversion != 's' && conversion != 'r') || (conv[2] != ':' && conv + 2 != end)) {
                set_error(err, tmpl, at,
                          "the conversion in %.*s is not supported (only !s and !r are)",
                          (int)(end - p + 1), p);
                r = -EINVAL;
                break;
            }
            conv += 2;
        }
        if (*conv == ':' && conv + 1 != end) {
            set_error(err, tmpl, at, "format specs such as %.*s are not supported",
                      (int)(end - p + 1), p);
            r = -EINVAL;
            break;
        }
        /* The field name: the first part, then .attr and [key] parts. */
        size_t first = strcspn(start, ".[");
        if (first > name_len)
            first = name_len;
        if (first == 0 || strspn(start, "0123456789") >= first) {
            set_error(err, tmpl, at,
                      "%.*s is a positional field: name it, e.g. {username} (IndexError: "
                      "Replacement index out of range)",
                      (int)(end - p + 1), p);
            r = -EINVAL;
            break;
        }
        char key[256];
        snprintf(key, sizeof(key), "%.*s", (int)first, start);
        const json_t *v = fields ? json_object_get(fields, key) : NULL;
        if (!v) {
            set_error(err, tmpl, at, "unknown field %.*s (KeyError: '%s')", (int)(end - p + 1), p,
                      key);
            r = -ENOENT;
            break;
        }
        const char *q = start + first;
        while (q < start + name_len && r == 0) {
            if (*q == '.') {
                size_t n = strcspn(q + 1, ".[!:}");
                set_error(err, tmpl, at,
                          "%.*s: Python's format looks up attributes with '.', and a %s has no "
                          "attribute '%.*s' (use [%.*s])",
                          (int)(end - p + 1), p, type_name(v), (int)n, q + 1, (int)n, q + 1);
                r = -EINVAL;
                break;
            }
            const char *close = memchr(q, ']', (size_t)(start + name_len - q));
            if (*q != '[' || !close || close == q + 1) {
                set_error(err, tmpl, at, "Missing ']' in format string");
                r = -EINVAL;
                break;
            }
            size_t n = (size_t)(close - q - 1);
            snprintf(key, sizeof(key), "%.*s", (int)n, q + 1);
            const json_t *next = NULL;
            if (json_is_object(v)) {
                next = json_object_get(v, key);
            } else if (json_is_array(v) && strspn(key, "0123456789") == n) {
                size_t idx = (size_t)strtoull(key, NULL, 10);
                next = json_array_get(v, idx);
            } else {
                set_error(err, tmpl, at, "%.*s: a %s cannot be indexed by '%s'", (int)(end - p + 1),
                          p, type_name(v), key);
                r = -EINVAL;
                break;
            }
            if (!next) {
                set_error(err, tmpl, at, "%.*s: there is no '%s' (KeyError)", (int)(end - p + 1), p,
                          key);
                r = -ENOENT;
                break;
            }
            v = next;
            q = close + 1;
            if (q < start + name_len && *q != '.' && *q != '[') {
                set_error(err, tmpl, at,
                          "Only '.' or '[' may follow ']' in format field specifier");
                r = -EINVAL;
            }
        }
        if (r < 0)
            break;
        struct gm_buf text;
        gm_buf_init(&text, o.max);
        put_value(&text, v, conversion == 'r', 0);
        char *s = NULL;
        r = out_finish(&text, &s);
        if (r == 0 && opts->slug != GM_SLUG_NONE) {
            char *slug = NULL;
            r = gm_slug(s, opts->slug, &slug);
            free(s);
            s = slug;
            if (r == -ENAMETOOLONG)
                set_error(err, tmpl, at, "the value of %.*s is too long to make a name of",
                          (int)(end - p + 1), p);
        }
        if (r == 0)
            gm_buf_puts(&o, s);
        free(s);
        p = end + 1;
    }
    if (r == 0 && opts->strip_dashes && !(tlen && tmpl[tlen - 1] == '-') && o.data && !o.error) {
        while (o.len && o.data[o.len - 1] == '-')
            o.data[--o.len] = '\0';
    }
    if (r == 0 && o.error == -E2BIG)
        set_error(err, tmpl, 0, "the result is longer than %zu bytes", o.max);
    if (r < 0) {
        gm_buf_free(&o);
        return r;
    }
    return out_finish(&o, ret);
}

/* Jinja: the source, tokens inside tags, the tree, the renderer. */

enum tok_type { T_EOF, T_END, T_NAME, T_STRING, T_INT, T_FLOAT, T_OP };

struct tok {
    enum tok_type type;
    size_t at, len;
    long long ival;
    double fval;
    char *sval; /* T_STRING, unescaped, owned by the parser's pool */
};

enum expr_kind { E_NAME, E_LIT, E_ATTR, E_ITEM, E_NOT, E_AND, E_OR, E_CMP, E_IN, E_CONCAT, E_TEST };
enum cmp_op { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE };

struct expr {
    enum expr_kind kind;
    size_t at;
    const char *name;  /* E_NAME, E_ATTR, E_TEST */
    const json_t *lit; /* E_LIT, borrowed from the parser's literals */
    struct expr *a, *b;
    enum cmp_op op;
    bool negate; /* E_IN: not in; E_TEST: is not */
};

enum node_kind { N_TEXT, N_OUT, N_IF, N_FOR };

struct node {
    enum node_kind kind;
    size_t at;
    const char *text; /* N_TEXT, into the source */
    size_t len;
    struct expr *e; /* N_OUT value, N_IF condition, N_FOR list */
    struct node *body;
    struct node *alt; /* N_IF: the elif/else chain; N_FOR: the else body */
    const char *var;  /* N_FOR */
    bool elif;        /* N_IF: alt is the N_IF of an elif rather than an else body */
    struct node *next;
};

struct parser {
    char *src; /* newlines normalised, the trailing one dropped (Jinja's defaults) */
    size_t len, pos;
    bool in_var; /* inside {{ }} rather than {% %} */
    bool lstrip; /* the previous tag ended with '-' */
    int depth;
    void **pool;
    size_t npool, cappool;
    json_t *lits;
    struct gm_template_error *err;
    int error;
};

static int fail(struct parser *P, size_t at, int error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct parser *P, size_t at, int error, const char *fmt, ...)
{
    if (P->error)
        return P->error;
    char msg[sizeof(P->err->message)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    set_error(P->err, P->src, at, "%s", msg);
    if (P->err) {
        size_t n = strlen(P->err->message);
        snprintf(P->err->message + n, sizeof(P->err->message) - n, " (line %u, column %u)",
                 P->err->line, P->err->column);
    }
    return P->error = error;
}

static void *palloc(struct parser *P, size_t n)
{
    if (P->npool == P->cappool) {
        size_t cap = P->cappool ? 2 * P->cappool : 64;
        void **pool = realloc(P->pool, cap * sizeof(*pool));
        if (!pool)
            return NULL;
        P->pool = pool;
        P->cappool = cap;
    }
    void *p = calloc(1, n);
    if (p)
        P->pool[P->npool++] = p;
    else
        fail(P, P->pos, -ENOMEM, "out of memory");
    return p;
}

static void parser_free(struct parser *P)
{
    for (size_t i = 0; i < P->npool; i++)
        free(P->pool[i]);
    free(P->pool);
    free(P->src);
    json_decref(P->lits);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Unescape a Python string literal (the common escapes; others stay as written). */
static char *unescape(struct parser *P, const char *s, size_t n)
{
    char *r = palloc(P, n + 1);
    if (!r)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 == n) {
            r[k++] = s[i];
            continue;
        }
        char c = s[++i];
        switch (c) {
        case 'n':
            r[k++] = '\n';
            break;
        case 't':
            r[k++] = '\t';
            break;
        case 'r':
            r[k++] = '\r';
            break;
        case '\\':
        case '\'':
        case '"':
            r[k++] = c;
            break;
        case '\n':
            break;
        default:
            r[k++] = '\\';
            r[k++] = c;
        }
    }
    r[k] = '\0';
    return r;
}

/* The token at the current position inside a tag (the position is not moved). */
static int lex_tok(struct parser *P, struct tok *t)
{
    const char *s = P->src;
    while (P->pos < P->len && is_space(s[P->pos]))
        P->pos++;
    memset(t, 0, sizeof(*t));
    t->at = P->pos;
    const char *p = s + P->pos;
    if (P->pos >= P->len) {
        t->type = T_EOF;
        return 0;
    }
    const char *close = P->in_var ? "}}" : "%}";
    if ((p[0] == '-' || p[0] == '+') && strncmp(p + 1, close, 2) == 0) {
        t->type = T_END;
        t->len = 3;
        return 0;
    }
    if (strncmp(p, close, 2) == 0) {
        t->type = T_END;
        t->len = 2;
        return 0;
    }
    if (is_name_start(*p)) {
        size_t n = 1;
        while (is_name_char(p[n]))
            n++;
        t->type = T_NAME;
        t->len = n;
        return 0;
    }
    if (*p >= '0' && *p <= '9') {
        char *end;
        errno = 0;
        double f = strtod(p, &end);
        size_t n = strspn(p, "0123456789");
        if (p[n] == '.' && p[n + 1] >= '0' && p[n + 1] <= '9') {
            t->type = T_FLOAT;
            t->fval = f;
            t->len = (size_t)(end - p);
            return 0;
        }
        errno = 0;
        long long v = strtoll(p, NULL, 10);
        if (errno)
            return fail(P, t->at, -EINVAL, "the number %.*s is too large", (int)n, p);
        t->type = T_INT;
        t->ival = v;
        t->len = n;
        return 0;
    }
    if (*p == '\'' || *p == '"') {
        size_t n = 1;
        while (p[n] && p[n] != *p) {
            if (p[n] == '\\' && p[n + 1])
                n++;
            n++;
        }
        if (!p[n])
            return fail(P, t->at, -EINVAL, "a string is not closed");
        t->type = T_STRING;
        t->len = n + 1;
        t->sval = unescape(P, p + 1, n - 1);
        return t->sval ? 0 : P->error;
    }
    static const char *const ops[] = {"==", "!=", "<=", ">=", "<", ">", "(", ")", "[",
                                      "]",  ".",  ",",  "~",  "|", "+", "-", "*", "/",
                                      "%",  "{",  "}",  ":",  "=", "!", NULL};
    for (const char *const *o = ops; *o; o++) {
        size_t n = strlen(*o);
        if (strncmp(p, *o, n) == 0) {
            t->type = T_OP;
            t->len = n;
            return 0;
        }
    }
    return fail(P, t->at, -EINVAL, "unexpected character '%c'", *p);
}

/* The next token inside the current tag. */
static int next_tok(struct parser *P, struct tok *t)
{
    int r = lex_tok(P, t);
    if (r == 0)
        P->pos = t->at + t->len;
    return r;
}

static bool tok_is(const struct parser *P, const struct tok *t, enum tok_type type, const char *s)
{
    return t->type == type && strlen(s) == t->len && memcmp(P->src + t->at, s, t->len) == 0;
}

static int peek(struct parser *P, struct tok *t)
{
    size_t save = P->pos;
    int r = next_tok(P, t);
    P->pos = save;
    return r;
}

static const char *pstrndup(struct parser *P, const char *s, size_t n)
{
    char *r = palloc(P, n + 1);
    if (r)
        memcpy(r, s, n);
    return r;
}

static struct expr *new_expr(struct parser *P, enum expr_kind kind, size_t at)
{
    struct expr *e = palloc(P, sizeof(*e));
    if (e) {
        e->kind = kind;
        e->at = at;
    }
    return e;
}

static struct expr *parse_expr(struct parser *P);

static struct expr *literal(struct parser *P, size_t at, json_t *v)
{
    struct expr *e = new_expr(P, E_LIT, at);
    if (!e || !v || json_array_append_new(P->lits, v) < 0) {
        fail(P, at, -ENOMEM, "out of memory");
        return NULL;
    }
    e->lit = v;
    return e;
}

static struct expr *parse_primary(struct parser *P)
{
    struct tok t;
    if (next_tok(P, &t) < 0)
        return NULL;
    const char *s = P->src + t.at;
    switch (t.type) {
    case T_NAME:
        if (tok_is(P, &t, T_NAME, "true") || tok_is(P, &t, T_NAME, "True"))
            return literal(P, t.at, json_true());
        if (tok_is(P, &t, T_NAME, "false") || tok_is(P, &t, T_NAME, "False"))
            return literal(P, t.at, json_false());
        if (tok_is(P, &t, T_NAME, "none") || tok_is(P, &t, T_NAME, "None"))
            return literal(P, t.at, json_null());
        struct expr *e = new_expr(P, E_NAME, t.at);
        if (e && !(e->name = pstrndup(P, s, t.len)))
            return NULL;
        return e;
    case T_STRING: {
        /* Adjacent strings are one, as in Python. */
        struct tok u;
        char *all = t.sval;
        while (peek(P, &u) == 0 && u.type == T_STRING) {
            next_tok(P, &u);
            size_t n = strlen(all) + strlen(u.sval);
            char *j = palloc(P, n + 1);
            if (!j)
                return NULL;
            snprintf(j, n + 1, "%s%s", all, u.sval);
            all = j;
        }
        return literal(P, t.at, json_string(all));
    }
    case T_INT:
        return literal(P, t.at, json_integer(t.ival));
    case T_FLOAT:
        return literal(P, t.at, json_real(t.fval));
    case T_OP:
        if (tok_is(P, &t, T_OP, "(")) {
            if (++P->depth > MAX_DEPTH) {
                fail(P, t.at, -E2BIG, "the expression is nested too deeply");
                return NULL;
            }
            struct expr *inner = parse_expr(P);
            P->depth--;
            struct tok c;
            if (inner && (next_tok(P, &c) < 0 || !tok_is(P, &c, T_OP, ")"))) {
                fail(P, c.at, -EINVAL, "expected ')'");
                return NULL;
            }
            return inner;
        }
        if (tok_is(P, &t, T_OP, "-")) {
            struct tok n;
            if (next_tok(P, &n) == 0 && n.type == T_INT)
                return literal(P, t.at, json_integer(-n.ival));
            if (n.type == T_FLOAT)
                return literal(P, t.at, json_real(-n.fval));
            fail(P, t.at, -EINVAL, "arithmetic ('-') is not supported");
            return NULL;
        }
        if (tok_is(P, &t, T_OP, "["))
            fail(P, t.at, -EINVAL, "list literals are not supported");
        else
            fail(P, t.at, -EINVAL, "unexpected '%.*s'", (int)t.len, s);
        return NULL;
    case T_END:
    case T_EOF:
    default:
        fail(P, t.at, -EINVAL, "an expression is missing");
        return NULL;
    }
}

static struct expr *parse_unary(struct parser *P)
{
    struct expr *e = parse_primary(P);
    struct tok t;
    while (e && peek(P, &t) == 0) {
        if (tok_is(P, &t, T_OP, ".")) {
            next_tok(P, &t);
            struct tok n;
            if (next_tok(P, &n) < 0 || (n.type != T_NAME && n.type != T_INT)) {
                fail(P, n.at, -EINVAL, "expected a name after '.'");
                return NULL;
            }
            struct expr *a = new_expr(P, E_ATTR, t.at);
            if (!a || !(a->name = pstrndup(P, P->src + n.at, n.len)))
                return NULL;
            a->a = e;
            e = a;
        } else if (tok_is(P, &t, T_OP, "[")) {
            next_tok(P, &t);
            struct expr *a = new_expr(P, E_ITEM, t.at);
            if (!a || ++P->depth > MAX_DEPTH) {
                fail(P, t.at, -E2BIG, "the expression is nested too deeply");
                return NULL;
            }
            a->a = e;
            a->b = parse_expr(P);
            P->depth--;
            struct tok c;
            if (!a->b)
                return NULL;
            if (next_tok(P, &c) < 0 || !tok_is(P, &c, T_OP, "]")) {
                fail(P, c.at, -EINVAL, "expected ']'");
                return NULL;
            }
            e = a;
        } else if (tok_is(P, &t, T_OP, "(")) {
            fail(P, t.at, -EINVAL, "calls are not supported");
            return NULL;
        } else if (tok_is(P, &t, T_OP, "|")) {
            fail(P, t.at, -EINVAL, "filters ('|') are not supported");
            return NULL;
        } else {
            break;
        }
    }
    if (e && peek(P, &t) == 0 && tok_is(P, &t, T_NAME, "is")) {
        next_tok(P, &t);
        struct expr *x = new_expr(P, E_TEST, t.at);
        struct tok n;
        if (!x || next_tok(P, &n) < 0)
            return NULL;
        if (tok_is(P, &n, T_NAME, "not")) {
            x->negate = true;
            if (next_tok(P, &n) < 0)
                return NULL;
        }
        if (!tok_is(P, &n, T_NAME, "defined") && !tok_is(P, &n, T_NAME, "undefined") &&
            !tok_is(P, &n, T_NAME, "none")) {
            fail(P, n.at, -EINVAL, "only the tests defined, undefined and none are supported");
            return NULL;
        }
        x->name = pstrndup(P, P->src + n.at, n.len);
        x->a = e;
        e = x->name ? x : NULL;
    }
    return e;
}

static struct expr *parse_concat(struct parser *P)
{
    struct expr *e = parse_unary(P);
    struct tok t;
    while (e && peek(P, &t) == 0 && tok_is(P, &t, T_OP, "~")) {
        next_tok(P, &t);
        struct expr *c = new_expr(P, E_CONCAT, t.at);
        if (!c)
            return NULL;
        c->a = e;
        if (!(c->b = parse_unary(P)))
            return NULL;
        e = c;
    }
    if (e && peek(P, &t) == 0 && t.type == T_OP &&
        (tok_is(P, &t, T_OP, "+") || tok_is(P, &t, T_OP, "-") || tok_is(P, &t, T_OP, "*") ||
         tok_is(P, &t, T_OP, "/") || tok_is(P, &t, T_OP, "%"))) {
        fail(P, t.at, -EINVAL, "arithmetic ('%.*s') is not supported", (int)t.len, P->src + t.at);
        return NULL;
    }
    return e;
}

static struct expr *parse_compare(struct parser *P)
{
    struct expr *e = parse_concat(P);
    struct tok t;
    if (!e || peek(P, &t) < 0)
        return NULL;
    static const char *const names[] = {"==", "!=", "<", "<=", ">", ">="};
    for (int i = 0; i < 6; i++) {
        if (tok_is(P, &t, T_OP, names[i])) {
            next_tok(P, &t);
            struct expr *c = new_expr(P, E_CMP, t.at);
            if (!c)
                return NULL;
            c->op = (enum cmp_op)i;
            c->a = e;
            return (c->b = parse_concat(P)) ? c : NULL;
        }
    }
    bool not_in = false;
    if (tok_is(P, &t, T_NAME, "not")) {
        size_t save = P->pos;
        struct tok u;
        next_tok(P, &t);
        if (peek(P, &u) == 0 && tok_is(P, &u, T_NAME, "in")) {
            not_in = true;
            t = u;
        } else {
            P->pos = save;
            return e;
        }
    }
    if (tok_is(P, &t, T_NAME, "in")) {
        next_tok(P, &t);
        struct expr *c = new_expr(P, E_IN, t.at);
        if (!c)
            return NULL;
        c->negate = not_in;
        c->a = e;
        return (c->b = parse_concat(P)) ? c : NULL;
    }
    return e;
}

static struct expr *parse_not(struct parser *P)
{
    struct tok t;
    if (peek(P, &t) < 0)
        return NULL;
    if (tok_is(P, &t, T_NAME, "not")) {
        next_tok(P, &t);
        struct expr *e = new_expr(P, E_NOT, t.at);
        if (!e || ++P->depth > MAX_DEPTH) {
            fail(P, t.at, -E2BIG, "the expression is nested too deeply");
            return NULL;
        }
        e->a = parse_not(P);
        P->depth--;
        return e->a ? e : NULL;
    }
    return parse_compare(P);
}

static struct expr *parse_binary(struct parser *P, const char *op, enum expr_kind kind,
                                 struct expr *(*operand)(struct parser *))
{
    struct expr *e = operand(P);
    struct tok t;
    while (e && peek(P, &t) == 0 && tok_is(P, &t, T_NAME, op)) {
        next_tok(P, &t);
        struct expr *b = new_expr(P, kind, t.at);
        if (!b)
            return NULL;
        b->a = e;
        if (!(b->b = operand(P)))
            return NULL;
        e = b;
    }
    return e;
}

static struct expr *parse_and(struct parser *P)
{
    return parse_binary(P, "and", E_AND, parse_not);
}

static struct expr *parse_expr(struct parser *P)
{
    return parse_binary(P, "or", E_OR, parse_and);
}

/* The end of the current tag: sets lstrip for the text after it. */
static int expect_end(struct parser *P)
{
    struct tok t;
    if (next_tok(P, &t) < 0)
        return P->error;
    if (t.type != T_END) {
        if (t.type == T_EOF)
            return fail(P, t.at, -EINVAL, "a tag is not closed (expected '%s')",
                        P->in_var ? "}}" : "%}");
        return fail(P, t.at, -EINVAL, "unexpected '%.*s' (expected '%s')", (int)t.len,
                    P->src + t.at, P->in_var ? "}}" : "%}");
    }
    P->lstrip = P->src[t.at] == '-';
    P->pos = t.at + t.len;
    return 0;
}

/* Where the next tag starts, or P->len. */
static size_t next_tag(const struct parser *P, size_t from)
{
    for (size_t i = from; i + 1 < P->len; i++)
        if (P->src[i] == '{' &&
            (P->src[i + 1] == '{' || P->src[i + 1] == '%' || P->src[i + 1] == '#'))
            return i;
    return P->len;
}

static int add_text(struct parser *P, struct node ***tail, size_t a, size_t b, bool rstrip)
{
    if (P->lstrip)
        while (a < b && is_space(P->src[a]))
            a++;
    P->lstrip = false;
    if (rstrip)
        while (b > a && is_space(P->src[b - 1]))
            b--;
    if (a == b)
        return 0;
    struct node *n = palloc(P, sizeof(*n));
    if (!n)
        return P->error;
    n->kind = N_TEXT;
    n->at = a;
    n->text = P->src + a;
    n->len = b - a;
    **tail = n;
    *tail = &n->next;
    return 0;
}

/* {% raw %}: the text up to {% endraw %}. */
static int parse_raw(struct parser *P, struct node ***tail, size_t at)
{
    if (expect_end(P) < 0)
        return P->error;
    for (size_t i = P->pos; (i = next_tag(P, i)) < P->len; i++) {
        if (P->src[i + 1] != '%')
            continue;
        size_t j = i + 2;
        bool strip = P->src[j] == '-';
        if (strip || P->src[j] == '+')
            j++;
        while (j < P->len && is_space(P->src[j]))
            j++;
        if (strncmp(P->src + j, "endraw", 6) != 0)
            continue;
        j += 6;
        while (j < P->len && is_space(P->src[j]))
            j++;
        bool lstrip = P->src[j] == '-' || P->src[j] == '+';
        if (lstrip)
            j++;
        if (strncmp(P->src + j, "%}", 2) != 0)
            continue;
        if (add_text(P, tail, P->pos, i, strip) < 0)
            return P->error;
        P->pos = j + 2;
        P->lstrip = lstrip && P->src[j - 1] == '-';
        return 0;
    }
    return fail(P, at, -EINVAL, "{%% raw %%} is not closed by {%% endraw %%}");
}

static int parse_body(struct parser *P, const char *const *stops, struct node **ret,
                      struct tok *stop);

static int parse_if(struct parser *P, size_t at, struct node **ret)
{
    struct node *n = palloc(P, sizeof(*n));
    if (!n)
        return P->error;
    n->kind = N_IF;
    n->at = at;
    if (!(n->e = parse_expr(P)) || expect_end(P) < 0)
        return P->error;
    static const char *const stops[] = {"elif", "else", "endif", NULL};
    struct tok stop;
    if (parse_body(P, stops, &n->body, &stop) < 0)
        return P->error;
    if (tok_is(P, &stop, T_NAME, "elif")) {
        n->elif = true;
        if (parse_if(P, stop.at, &n->alt) < 0)
            return P->error;
    } else if (tok_is(P, &stop, T_NAME, "else")) {
        static const char *const end[] = {"endif", NULL};
        if (expect_end(P) < 0 || parse_body(P, end, &n->alt, &stop) < 0 || expect_end(P) < 0)
            return P->error;
    } else if (expect_end(P) < 0) {
        return P->error;
    }
    *ret = n;
    return 0;
}

static int parse_for(struct parser *P, size_t at, struct node **ret)
{
    struct node *n = palloc(P, sizeof(*n));
    struct tok var, in;
    if (!n || next_tok(P, &var) < 0)
        return P->error;
    n->kind = N_FOR;
    n->at = at;
    if (var.type != T_NAME)
        return fail(P, var.at, -EINVAL, "expected a variable name after 'for'");
    if (next_tok(P, &in) < 0)
        return P->error;
    if (tok_is(P, &in, T_OP, ","))
        return fail(P, in.at, -EINVAL, "unpacking in for loops ('for a, b in') is not supported");
    if (!tok_is(P, &in, T_NAME, "in"))
        return fail(P, in.at, -EINVAL, "expected 'in' after 'for %.*s'", (int)var.len,
                    P->src + var.at);
    if (!(n->var = pstrndup(P, P->src + var.at, var.len)) || !(n->e = parse_expr(P)) ||
        expect_end(P) < 0)
        return P->error;
    static const char *const stops[] = {"else", "endfor", NULL};
    struct tok stop;
    if (parse_body(P, stops, &n->body, &stop) < 0 || expect_end(P) < 0)
        return P->error;
    if (tok_is(P, &stop, T_NAME, "else")) {
        static const char *const end[] = {"endfor", NULL};
        if (parse_body(P, end, &n->alt, &stop) < 0 || expect_end(P) < 0)
            return P->error;
    }
    *ret = n;
    return 0;
}

/* Nodes up to one of @stops (a block tag whose name is left in @stop, the position after
 * it), or to the end of the template when @stops is NULL. */
static int parse_body(struct parser *P, const char *const *stops, struct node **ret,
                      struct tok *stop)
{
    struct node *head = NULL, **tail = &head;
    size_t opened = P->pos;
    if (++P->depth > MAX_DEPTH)
        return fail(P, P->pos, -E2BIG, "blocks are nested more than %d deep", MAX_DEPTH);
    for (;;) {
        size_t tag = next_tag(P, P->pos);
        bool strip = tag + 2 < P->len && P->src[tag + 2] == '-';
        if (add_text(P, &tail, P->pos, tag, strip) < 0)
            return P->error;
        if (tag >= P->len) {
            if (stops) {
                const char *const *last = stops;
                while (last[1])
                    last++;
                return fail(P, opened, -EINVAL,
                            "the block is not closed: the template ended before {%% %s %%}", *last);
            }
            break;
        }
        char kind = P->src[tag + 1];
        P->pos = tag + 2 + (strip || (tag + 2 < P->len && P->src[tag + 2] == '+'));
        if (kind == '#') {
            const char *end = strstr(P->src + P->pos, "#}");
            if (!end)
                return fail(P, tag, -EINVAL, "a comment {# is not closed by #}");
            P->lstrip = end > P->src + P->pos && end[-1] == '-';
            P->pos = (size_t)(end - P->src) + 2;
            continue;
        }
        if (kind == '{') {
            P->in_var = true;
            struct node *n = palloc(P, sizeof(*n));
            if (!n)
                return P->error;
            n->kind = N_OUT;
            n->at = tag;
            if (!(n->e = parse_expr(P)) || expect_end(P) < 0)
                return P->error;
            P->in_var = false;
            *tail = n;
            tail = &n->next;
            continue;
        }
        struct tok name;
        if (next_tok(P, &name) < 0)
            return P->error;
        if (name.type != T_NAME)
            return fail(P, name.at, -EINVAL, "expected a tag name after '{%%'");
        for (const char *const *s = stops; s && *s; s++) {
            if (tok_is(P, &name, T_NAME, *s)) {
                *stop = name;
                *ret = head;
                P->depth--;
                return 0;
            }
        }
        struct node *n = NULL;
        if (tok_is(P, &name, T_NAME, "if")) {
            if (parse_if(P, tag, &n) < 0)
                return P->error;
        } else if (tok_is(P, &name, T_NAME, "for")) {
            if (parse_for(P, tag, &n) < 0)
                return P->error;
        } else if (tok_is(P, &name, T_NAME, "raw")) {
            if (parse_raw(P, &tail, tag) < 0)
                return P->error;
            continue;
        } else if (tok_is(P, &name, T_NAME, "elif") || tok_is(P, &name, T_NAME, "else") ||
                   tok_is(P, &name, T_NAME, "endif") || tok_is(P, &name, T_NAME, "endfor") ||
                   tok_is(P, &name, T_NAME, "endraw")) {
            if (stops) {
                const char *const *last = stops;
                while (last[1])
                    last++;
                return fail(P, tag, -EINVAL, "{%% %.*s %%} found where {%% %s %%} was expected",
                            (int)name.len, P->src + name.at, *last);
            }
            return fail(P, tag, -EINVAL, "{%% %.*s %%} without the block it belongs to",
                        (int)name.len, P->src + name.at);
        } else {
            return fail(P, tag, -EINVAL,
                        "the tag '%.*s' is not supported (if, elif, else, for, raw are)",
                        (int)name.len, P->src + name.at);
        }
        *tail = n;
        tail = &n->next;
    }
    *ret = head;
    P->depth--;
    return 0;
}

static int parse(const char *tmpl, struct parser *P, struct node **ret,
                 struct gm_template_error *err)
{
    memset(P, 0, sizeof(*P));
    P->err = err;
    size_t n = strlen(tmpl);
    if (n > GM_TEMPLATE_MAX) {
        set_error(err, NULL, 0, "the template is longer than %d bytes", GM_TEMPLATE_MAX);
        return -E2BIG;
    }
    P->src = malloc(n + 1);
    P->lits = json_array();
    if (!P->src || !P->lits)
        return -ENOMEM;
    /* Jinja reads "\r\n" and "\r" as "\n" and drops one newline at the very end. */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (tmpl[i] == '\r') {
            P->src[k++] = '\n';
            if (tmpl[i + 1] == '\n')
                i++;
        } else {
            P->src[k++] = tmpl[i];
        }
    }
    if (k && P->src[k - 1] == '\n')
        k--;
    P->src[k] = '\0';
    P->len = k;
    return parse_body(P, NULL, ret, NULL);
}

/* Rendering. */

struct scope {
    const char *name;
    const json_t *value;
};

struct render {
    struct parser *P;
    const json_t *vars;
    struct scope scopes[2 * MAX_DEPTH];
    size_t nscopes;
    long iterations;
    struct gm_buf *o;
};

/* A value while evaluating: a reference (NULL when undefined; @undef names what was not). */
struct val {
    json_t *j;
    const char *undef;
};

static void val_clear(struct val *v)
{
    json_decref(v->j);
    v->j = NULL;
}

static int eval(struct render *R, const struct expr *e, struct val *ret);

static int need_defined(struct render *R, const struct expr *e, const struct val *v)
{
    if (v->j)
        return 0;
    return fail(R->P, e->at, -ENOENT, "'%s' is undefined", v->undef ? v->undef : "value");
}

static bool values_equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) || json_is_boolean(a)) {
        if (!json_is_number(b) && !json_is_boolean(b))
            return false;
        double x = json_is_boolean(a) ? json_is_true(a) : json_number_value(a);
        double y = json_is_boolean(b) ? json_is_true(b) : json_number_value(b);
        return x == y;
    }
    return json_equal(a, b);
}

static int eval_test(struct render *R, const struct expr *e, struct val *ret)
{
    struct val a = {0};
    if (eval(R, e->a, &a) < 0)
        return R->P->error;
    bool r;
    if (strcmp(e->name, "defined") == 0)
        r = a.j != NULL;
    else if (strcmp(e->name, "undefined") == 0)
        r = a.j == NULL;
    else
        r = json_is_null(a.j);
    val_clear(&a);
    ret->j = json_boolean(r != e->negate);
    return 0;
}

static int eval_compare(struct render *R, const struct expr *e, struct val *ret)
{
    struct val a = {0}, b = {0};
    int r = eval(R, e->a, &a);
    if (r == 0)
        r = eval(R, e->b, &b);
    bool result = false;
    if (r == 0 && e->kind == E_IN) {
        if ((r = need_defined(R, e->b, &b)) == 0 && (r = need_defined(R, e->a, &a)) == 0) {
            if (json_is_string(b.j) && json_is_string(a.j)) {
                result = strstr(json_string_value(b.j), json_string_value(a.j)) != NULL;
            } else if (json_is_array(b.j)) {
                size_t i;
                json_t *x;
                json_array_foreach(b.j, i, x) if (values_equal(a.j, x)) result = true;
            } else if (json_is_object(b.j) && json_is_string(a.j)) {
                result = json_object_get(b.j, json_string_value(a.j)) != NULL;
            } else {
                r = fail(R->P, e->at, -EINVAL, "'in <%s>' requires %s", type_name(b.j),
                         json_is_string(b.j) ? "a string on the left" : "a list, dict or string");
            }
            if (e->negate)
                result = !result;
        }
    } else if (r == 0 && (e->op == C_EQ || e->op == C_NE)) {
        bool eq = (!a.j && !b.j) || (a.j && b.j && values_equal(a.j, b.j));
        result = e->op == C_EQ ? eq : !eq;
    } else if (r == 0 && (r = need_defined(R, e->a, &a)) == 0 &&
               (r = need_defined(R, e->b, &b)) == 0) {
        int c = 0;
        bool num_a = json_is_number(a.j) || json_is_boolean(a.j);
        bool num_b = json_is_number(b.j) || json_is_boolean(b.j);
        if (num_a && num_b) {
            double x = json_is_boolean(a.j) ? json_is_true(a.j) : json_number_value(a.j);
            double y = json_is_boolean(b.j) ? json_is_true(b.j) : json_number_value(b.j);
            c = x < y ? -1 : x > y;
        } else if (json_is_string(a.j) && json_is_string(b.j)) {
            c = strcmp(json_string_value(a.j), json_string_value(b.j));
        } else {
            static const char *const sym[] = {"==", "!=", "<", "<=", ">", ">="};
            r = fail(R->P, e->at, -EINVAL, "'%s' not supported between instances of '%s' and '%s'",
                     sym[e->op], type_name(a.j), type_name(b.j));
        }
        result = e->op == C_LT ? c < 0 : e->op == C_LE ? c <= 0 : e->op == C_GT ? c > 0 : c >= 0;
    }
    val_clear(&a);
    val_clear(&b);
    if (r < 0)
        return r;
    ret->j = json_boolean(result);
    return 0;
}

static int eval(struct render *R, const struct expr *e, struct val *ret)
{
    struct val a = {0}, b = {0};
    int r = 0;
    ret->j = NULL;
    ret->undef = NULL;
    switch (e->kind) {
    case E_LIT:
        ret->j = json_incref((json_t *)e->lit);
        return 0;
    case E_NAME:
        for (size_t i = R->nscopes; i-- > 0;)
            if (strcmp(R->scopes[i].name, e->name) == 0) {
                ret->j = json_incref((json_t *)R->scopes[i].value);
                return 0;
            }
        ret->j = json_incref(json_object_get(R->vars, e->name));
        ret->undef = e->name;
        return 0;
    case E_ATTR:
    case E_ITEM:
        if ((r = eval(R, e->a, &a)) < 0 || (r = need_defined(R, e->a, &a)) < 0)
            break;
        if (e->kind == E_ITEM && (r = eval(R, e->b, &b)) < 0)
            break;
        if (e->kind == E_ITEM && (r = need_defined(R, e->b, &b)) < 0)
            break;
        {
            const char *key = e->kind == E_ATTR ? e->name : json_string_value(b.j);
            bool index =
                e->kind == E_ITEM ? json_is_integer(b.j) : strspn(key, "0123456789") == strlen(key);
            json_int_t idx = e->kind == E_ITEM && index ? json_integer_value(b.j)
                             : index                    ? strtoll(key, NULL, 10)
                                                        : 0;
            if (json_is_object(a.j) && key)
                ret->j = json_incref(json_object_get(a.j, key));
            else if (json_is_array(a.j) && index) {
                if (idx < 0)
                    idx += (json_int_t)json_array_size(a.j);
                ret->j = idx >= 0 ? json_incref(json_array_get(a.j, (size_t)idx)) : NULL;
            }
            ret->undef = key ? key : "item";
        }
        break;
    case E_NOT:
        if ((r = eval(R, e->a, &a)) == 0)
            ret->j = json_boolean(!truthy(a.j));
        break;
    case E_AND:
    case E_OR:
        if ((r = eval(R, e->a, &a)) < 0)
            break;
        if (truthy(a.j) == (e->kind == E_OR)) {
            *ret = a;
            return 0;
        }
        val_clear(&a);
        return eval(R, e->b, ret);
    case E_CMP:
    case E_IN:
        return eval_compare(R, e, ret);
    case E_TEST:
        return eval_test(R, e, ret);
    case E_CONCAT: {
        if ((r = eval(R, e->a, &a)) < 0 || (r = eval(R, e->b, &b)) < 0)
            break;
        struct gm_buf o;
        gm_buf_init(&o, R->o->max);
        if (a.j)
            put_value(&o, a.j, false, 0);
        if (b.j)
            put_value(&o, b.j, false, 0);
        char *s = NULL;
        if ((r = out_finish(&o, &s)) < 0) {
            r = fail(R->P, e->at, r, r == -E2BIG ? "the output is too large" : "out of memory");
            break;
        }
        ret->j = json_string(s);
        free(s);
        break;
    }
    }
    val_clear(&a);
    val_clear(&b);
    return r;
}

static int render_nodes(struct render *R, const struct node *n);

static int render_for(struct render *R, const struct node *n)
{
    struct val list = {0};
    if (eval(R, n->e, &list) < 0)
        return R->P->error;
    size_t count = 0;
    if (!list.j) {
        count = 0;
    } else if (json_is_array(list.j)) {
        count = json_array_size(list.j);
    } else if (json_is_object(list.j)) {
        count = json_object_size(list.j);
    } else if (json_is_string(list.j)) {
        count = code_points(json_string_value(list.j));
    } else {
        int r = fail(R->P, n->e->at, -EINVAL, "'%s' object is not iterable", type_name(list.j));
        val_clear(&list);
        return r;
    }
    int r = 0;
    if (count == 0) {
        val_clear(&list);
        return render_nodes(R, n->alt);
    }
    void *iter = json_is_object(list.j) ? json_object_iter(list.j) : NULL;
    const char *str = json_is_string(list.j) ? json_string_value(list.j) : NULL;
    for (size_t i = 0; i < count && r == 0; i++) {
        if (++R->iterations > MAX_ITERATIONS) {
            r = fail(R->P, n->at, -E2BIG, "loops ran more than %d times", MAX_ITERATIONS);
            break;
        }
        json_t *item;
        if (json_is_array(list.j)) {
            item = json_incref(json_array_get(list.j, i));
        } else if (iter) {
            item = json_string(json_object_iter_key(iter));
            iter = json_object_iter_next(list.j, iter);
        } else {
            size_t len = 1;
            while ((str[len] & 0xc0) == 0x80)
                len++;
            item = json_stringn(str, len);
            str += len;
        }
        json_t *loop =
            json_pack("{sI sI sI sI sb sb sI}", "index", (json_int_t)i + 1, "index0", (json_int_t)i,
                      "revindex", (json_int_t)(count - i), "revindex0", (json_int_t)(count - i - 1),
                      "first", i == 0, "last", i + 1 == count, "length", (json_int_t)count);
        if (!item || !loop) {
            json_decref(item);
            json_decref(loop);
            r = fail(R->P, n->at, -ENOMEM, "out of memory");
            break;
        }
        R->scopes[R->nscopes++] = (struct scope){.name = n->var, .value = item};
        R->scopes[R->nscopes++] = (struct scope){.name = "loop", .value = loop};
        r = render_nodes(R, n->body);
        R->nscopes -= 2;
        json_decref(item);
        json_decref(loop);
    }
    val_clear(&list);
    return r;
}

static int render_nodes(struct render *R, const struct node *n)
{
    for (; n; n = n->next) {
        int r = 0;
        switch (n->kind) {
        case N_TEXT:
            r = gm_buf_append(R->o, n->text, n->len);
            break;
        case N_OUT: {
            struct val v = {0};
            if (eval(R, n->e, &v) < 0)
                return R->P->error;
            if (v.j)
                r = put_value(R->o, v.j, false, 0);
            val_clear(&v);
            break;
        }
        case N_IF: {
            const struct node *branch = n;
            while (branch) {
                struct val v = {0};
                if (eval(R, branch->e, &v) < 0)
                    return R->P->error;
                bool yes = truthy(v.j);
                val_clear(&v);
                if (yes) {
                    r = render_nodes(R, branch->body);
                    branch = NULL;
                    break;
                }
                if (branch->elif) {
                    branch = branch->alt;
                } else {
                    r = render_nodes(R, branch->alt);
                    branch = NULL;
                }
            }
            break;
        }
        case N_FOR:
            r = render_for(R, n);
            break;
        }
        if (r < 0)
            return fail(R->P, n->at, r,
                        r == -E2BIG ? "the output is larger than %zu bytes" : "out of memory",
                        R->o->max);
        if (R->P->error)
            return R->P->error;
    }
    return 0;
}

int gm_render_check(const char *tmpl, struct gm_template_error *err)
{
    struct parser P;
    struct node *root = NULL;
    int r = parse(tmpl, &P, &root, err);
    parser_free(&P);
    return r;
}

int gm_render(const char *tmpl, const json_t *vars, size_t max, char **ret,
              struct gm_template_error *err)
{
    struct parser P;
    struct node *root = NULL;
    int r = parse(tmpl, &P, &root, err);
    struct gm_buf o;
    gm_buf_init(&o, max ? max : GM_TEMPLATE_MAX);
    if (r == 0) {
        struct render R = {.P = &P, .vars = vars, .o = &o};
        r = render_nodes(&R, root);
    }
    parser_free(&P);
    if (r < 0) {
        gm_buf_free(&o);
        return r;
    }
    return out_finish(&o, ret);
}

int gm_format_or_render(const char *tmpl, const json_t *vars, size_t max, char **ret,
                        struct gm_template_error *err)
{
    if (strstr(tmpl, "{{") || strstr(tmpl, "{%"))
        return gm_render(tmpl, vars, max, ret, err);
    const struct gm_format_options opts = {.max_len = max};
    return gm_format(tmpl, vars, &opts, ret, err);
}
