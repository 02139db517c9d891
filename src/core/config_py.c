/* A recursive-descent reader for the literal subset of Python used in jupyterhub_config.py.
 * It tokenizes Python's way (brackets continue lines, adjacent strings concatenate, escapes and
 * raw strings), builds JSON values, and rejects everything that would need Python to run. */
#include "core/config_py.h"
#include <ganymede/buf.h>
#include "util/str.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PY_MAX_DEPTH  64
#define PY_MAX_STRING (1 << 20)

enum tok {
    TOK_EOF,
    TOK_NEWLINE,
    TOK_NAME,
    TOK_NUMBER,
    TOK_STRING,
    TOK_OP,
    TOK_MAX,
};

struct py {
    const char *src, *p, *end;
    const char *filename;
    int line;  /* line of the current token */
    int nest;  /* bracket depth: newlines inside brackets are not statement ends */
    int depth; /* value nesting, capped */
    enum tok tok;
    char op[3];        /* operator text for TOK_OP */
    const char *start; /* token text */
    size_t len;
    json_t *value; /* TOK_NUMBER / TOK_STRING value (owned) */
    char *err;
    size_t errlen;
    bool failed;
};

static int fail(struct py *py, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct py *py, const char *fmt, ...)
{
    if (py->failed)
        return -EINVAL;
    py->failed = true;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (py->filename)
        snprintf(py->err, py->errlen, "%s:%d: %s", py->filename, py->line, msg);
    else
        snprintf(py->err, py->errlen, "%s", msg);
    return -EINVAL;
}

static int read_string(struct py *py, bool raw)
{
    char q = *py->p;
    bool triple = py->end - py->p >= 3 && py->p[1] == q && py->p[2] == q;
    py->p += triple ? 3 : 1;
    struct gm_buf b;
    gm_buf_init(&b, PY_MAX_STRING);
    int r = 0;
    for (;;) {
        if (py->p >= py->end) {
            gm_buf_free(&b);
            return fail(py, "a string is not closed");
        }
        char c = *py->p;
        if (c == q && (!triple || (py->end - py->p >= 3 && py->p[1] == q && py->p[2] == q))) {
            py->p += triple ? 3 : 1;
            break;
        }
        if (c == '\n') {
            if (!triple) {
                gm_buf_free(&b);
                return fail(py, "a string is not closed at the end of the line");
            }
            py->line++;
        }
        if (c == '\\' && py->p + 1 < py->end) {
            char e = py->p[1];
            if (raw) {
                r = gm_buf_append(&b, py->p, 2);
                if (e == '\n')
                    py->line++;
                py->p += 2;
                continue;
            }
            py->p += 2;
            switch (e) {
            case '\n':
                py->line++;
                continue;
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case 'r':
                c = '\r';
                break;
            case '0':
                gm_buf_free(&b);
                return fail(py, "NUL characters are not allowed in strings");
            case '\\':
            case '\'':
            case '"':
                c = e;
                break;
            case 'x':
            case 'u':
            case 'U': {
                int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                if (py->end - py->p < n) {
                    gm_buf_free(&b);
                    return fail(py, "a \\%c escape is cut short", e);
                }
                unsigned long cp = 0;
                for (int i = 0; i < n; i++) {
                    char h = py->p[i];
                    if (!isxdigit((unsigned char)h)) {
                        gm_buf_free(&b);
                        return fail(py, "a \\%c escape has a non-hex digit", e);
                    }
                    cp = cp * 16 + (unsigned long)(isdigit((unsigned char)h)
                                                       ? h - '0'
                                                       : tolower((unsigned char)h) - 'a' + 10);
                }
                py->p += n;
                if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
                    gm_buf_free(&b);
                    return fail(py, "a \\%c escape is not a valid character", e);
                }
                char u[4];
                size_t un;
                if (cp < 0x80) {
                    u[0] = (char)cp;
                    un = 1;
                } else if (cp < 0x800) {
                    u[0] = (char)(0xc0 | cp >> 6);
                    u[1] = (char)(0x80 | (cp & 0x3f));
                    un = 2;
                } else if (cp < 0x10000) {
                    u[0] = (char)(0xe0 | cp >> 12);
                    u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                    u[2] = (char)(0x80 | (cp & 0x3f));
                    un = 3;
                } else {
                    u[0] = (char)(0xf0 | cp >> 18);
                    u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
                    u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
                    u[3] = (char)(0x80 | (cp & 0x3f));
                    un = 4;
                }
                r = gm_buf_append(&b, u, un);
                if (r < 0)
                    break;
                continue;
            }
            default:
                /* Python keeps unknown escapes as they are. */
                r = gm_buf_putc(&b, '\\');
                c = e;
            }
            if (r == 0)
                r = gm_buf_putc(&b, c);
        } else {
            r = gm_buf_putc(&b, c);
            py->p++;
        }
        if (r < 0) {
            gm_buf_free(&b);
            return fail(py, "a string is too long");
        }
    }
    py->value = json_stringn(b.data ? b.data : "", b.len);
    gm_buf_free(&b);
    if (!py->value)
        return fail(py, "a string is not valid UTF-8");
    return 0;
}

static int read_number(struct py *py)
{
    char text[64];
    size_t n = 0;
    bool is_float = false;
    const char *s = py->p;
    if (s[0] == '0' && py->end - s > 1 &&
        (s[1] == 'x' || s[1] == 'X' || s[1] == 'o' || s[1] == 'O' || s[1] == 'b' || s[1] == 'B')) {
        int base = tolower((unsigned char)s[1]) == 'x'   ? 16
                   : tolower((unsigned char)s[1]) == 'o' ? 8
                                                         : 2;
        py->p += 2;
        long long v = 0;
        const char *digits_start = py->p;
        while (py->p < py->end && (isxdigit((unsigned char)*py->p) || *py->p == '_')) {
            if (*py->p != '_') {
                int d = isdigit((unsigned char)*py->p) ? *py->p - '0'
                                                       : tolower((unsigned char)*py->p) - 'a' + 10;
                if (d >= base)
                    return fail(py, "a number has a digit that does not fit its base");
                if (v > (LLONG_MAX - d) / base)
                    return fail(py, "a number is too large");
                v = v * base + d;
            }
            py->p++;
        }
        if (py->p == digits_start)
            return fail(py, "a number has no digits");
        py->value = json_integer(v);
        return 0;
    }
    while (py->p < py->end) {
        char c = *py->p;
        if (isdigit((unsigned char)c)) {
        } else if (c == '_') {
            py->p++;
            continue;
        } else if (c == '.' || c == 'e' || c == 'E') {
            is_float = true;
        } else if ((c == '+' || c == '-') && n > 0 && (text[n - 1] == 'e' || text[n - 1] == 'E')) {
        } else {
            break;
        }
        if (n >= sizeof(text) - 1)
            return fail(py, "a number is too long");
        text[n++] = c;
        py->p++;
    }
    text[n] = '\0';
    if (py->p < py->end && (isalpha((unsigned char)*py->p)))
        return fail(py, "'%.*s' is not a number", (int)(n + 1), s);
    if (is_float) {
        double d;
        if (str_to_double(text, &d) < 0)
            return fail(py, "'%s' is not a number", text);
        py->value = json_real(d);
    } else {
        int64_t v;
        if (str_to_int64(text, &v) < 0)
            return fail(py, "'%s' is not a number that fits in 64 bits", text);
        py->value = json_integer(v);
    }
    return 0;
}

/* Advance to the next token. */
static int next(struct py *py)
{
    json_decref(py->value);
    py->value = NULL;
    for (;;) {
        while (py->p < py->end &&
               (*py->p == ' ' || *py->p == '\t' || *py->p == '\r' || *py->p == '\f'))
            py->p++;
        if (py->p < py->end && *py->p == '#') {
            while (py->p < py->end && *py->p != '\n')
                py->p++;
        }
        if (py->p < py->end && *py->p == '\\' && py->p + 1 < py->end && py->p[1] == '\n') {
            py->p += 2;
            py->line++;
            continue;
        }
        if (py->p < py->end && *py->p == '\n') {
            py->p++;
            if (py->nest > 0) {
                py->line++;
                continue;
            }
            py->tok = TOK_NEWLINE;
            py->start = py->p - 1;
            py->len = 1;
            return 0;
        }
        break;
    }
    py->start = py->p;
    if (py->p >= py->end) {
        py->tok = TOK_EOF;
        py->len = 0;
        return 0;
    }
    char c = *py->p;
    if (isalpha((unsigned char)c) || c == '_') {
        while (py->p < py->end && (isalnum((unsigned char)*py->p) || *py->p == '_'))
            py->p++;
        py->len = (size_t)(py->p - py->start);
        /* String prefixes: r'', u'', b'', f'' and combinations. */
        if (py->p < py->end && (*py->p == '\'' || *py->p == '"') && py->len <= 2) {
            bool raw = false;
            for (size_t i = 0; i < py->len; i++) {
                char pc = (char)tolower((unsigned char)py->start[i]);
                if (pc == 'f')
                    return fail(py, "f-strings are not supported: Ganymede does not run Python; "
                                    "write the string out");
                if (pc == 'b')
                    return fail(py, "bytes literals are not supported; use a plain string");
                if (pc == 'r')
                    raw = true;
                else if (pc != 'u')
                    return fail(py, "'%.*s' before a string is not understood", (int)py->len,
                                py->start);
            }
            py->tok = TOK_STRING;
            return read_string(py, raw);
        }
        py->tok = TOK_NAME;
        return 0;
    }
    if (c == '\'' || c == '"') {
        py->tok = TOK_STRING;
        return read_string(py, false);
    }
    if (isdigit((unsigned char)c) ||
        (c == '.' && py->p + 1 < py->end && isdigit((unsigned char)py->p[1]))) {
        py->tok = TOK_NUMBER;
        return read_number(py);
    }
    static const char *const ops2[] = {"//", "**", "==", "+=", "-=", "*=", "|=", "->", NULL};
    for (const char *const *o = ops2; *o; o++)
        if (py->end - py->p >= 2 && py->p[0] == (*o)[0] && py->p[1] == (*o)[1]) {
            py->tok = TOK_OP;
            memcpy(py->op, *o, 3);
            py->p += 2;
            py->len = 2;
            return 0;
        }
    if (strchr("()[]{},:=.+-*/%|&<>@~^;", c)) {
        py->tok = TOK_OP;
        py->op[0] = c;
        py->op[1] = '\0';
        py->p++;
        py->len = 1;
        if (strchr("([{", c))
            py->nest++;
        else if (strchr(")]}", c) && py->nest > 0)
            py->nest--;
        return 0;
    }
    return fail(py, "the character '%c' is not understood", c);
}

static bool is_op(const struct py *py, const char *op)
{
    return py->tok == TOK_OP && strcmp(py->op, op) == 0;
}

static bool is_name(const struct py *py, const char *name)
{
    return py->tok == TOK_NAME && py->len == strlen(name) && memcmp(py->start, name, py->len) == 0;
}

static int expect_op(struct py *py, const char *op, const char *what)
{
    if (!is_op(py, op))
        return fail(py, "expected '%s' %s", op, what);
    return next(py);
}

static int parse_expr(struct py *py, json_t **ret);

/* Items of a list, tuple or set up to the closing bracket (already past the opening one). */
static int parse_items(struct py *py, const char *close, json_t *arr, bool *had_comma)
{
    *had_comma = false;
    while (!is_op(py, close)) {
        json_t *v = NULL;
        int r = parse_expr(py, &v);
        if (r < 0)
            return r;
        json_array_append_new(arr, v);
        if (is_op(py, ",")) {
            *had_comma = true;
            if ((r = next(py)) < 0)
                return r;
        } else if (!is_op(py, close)) {
            return fail(py, "expected ',' or '%s' in a list", close);
        }
    }
    return next(py);
}

static int parse_dict_or_set(struct py *py, json_t **ret)
{
    int r = next(py); /* past '{' */
    if (r < 0)
        return r;
    if (is_op(py, "}")) {
        *ret = json_object();
        return next(py);
    }
    json_t *first = NULL;
    if ((r = parse_expr(py, &first)) < 0)
        return r;
    if (!is_op(py, ":")) {
        /* A set: stored as a list, which is what traitlets' Set traits accept from JSON. */
        json_t *arr = json_array();
        json_array_append_new(arr, first);
        bool comma;
        if (is_op(py, ",")) {
            if ((r = next(py)) < 0 || (r = parse_items(py, "}", arr, &comma)) < 0) {
                json_decref(arr);
                return r;
            }
        } else if ((r = expect_op(py, "}", "to close a set")) < 0) {
            json_decref(arr);
            return r;
        }
        *ret = arr;
        return 0;
    }
    json_t *obj = json_object();
    json_t *key = first;
    for (;;) {
        if (!json_is_string(key)) {
            json_decref(key);
            json_decref(obj);
            return fail(py, "dict keys must be strings");
        }
        json_t *v = NULL;
        if ((r = expect_op(py, ":", "after a dict key")) < 0 || (r = parse_expr(py, &v)) < 0) {
            json_decref(key);
            json_decref(obj);
            return r;
        }
        json_object_set_new(obj, json_string_value(key), v);
        json_decref(key);
        key = NULL;
        if (is_op(py, ",")) {
            if ((r = next(py)) < 0) {
                json_decref(obj);
                return r;
            }
        } else if (!is_op(py, "}")) {
            json_decref(obj);
            return fail(py, "expected ',' or '}' in a dict");
        }
        if (is_op(py, "}"))
            break;
        if ((r = parse_expr(py, &key)) < 0) {
            json_decref(obj);
            return r;
        }
    }
    *ret = obj;
    return next(py);
}

/* set(), set([..]), list(..), tuple(..), dict(), dict(k=v, ...). */
static int parse_call(struct py *py, json_t **ret, char *name)
{
    int r = next(py); /* past '(' */
    if (r < 0)
        return r;
    if (strcmp(name, "dict") == 0) {
        json_t *obj = json_object();
        while (!is_op(py, ")")) {
            if (py->tok != TOK_NAME) {
                json_decref(obj);
                return fail(py, "dict(...) takes only key=value arguments here");
            }
            char key[128];
            snprintf(key, sizeof(key), "%.*s", (int)py->len, py->start);
            json_t *v = NULL;
            if ((r = next(py)) < 0 || (r = expect_op(py, "=", "in dict(key=value)")) < 0 ||
                (r = parse_expr(py, &v)) < 0) {
                json_decref(obj);
                return r;
            }
            json_object_set_new(obj, key, v);
            if (is_op(py, ",")) {
                if ((r = next(py)) < 0) {
                    json_decref(obj);
                    return r;
                }
            } else if (!is_op(py, ")")) {
                json_decref(obj);
                return fail(py, "expected ',' or ')' in dict(...)");
            }
        }
        *ret = obj;
        return next(py);
    }
    json_t *v = NULL;
    if (is_op(py, ")")) {
        *ret = json_array();
        return next(py);
    }
    if ((r = parse_expr(py, &v)) < 0)
        return r;
    if (!json_is_array(v)) {
        json_decref(v);
        return fail(py, "%s(...) takes a list, tuple or set here", name);
    }
    if ((r = expect_op(py, ")", "to close the call")) < 0) {
        json_decref(v);
        return r;
    }
    *ret = v;
    return 0;
}

static int parse_atom(struct py *py, json_t **ret)
{
    int r;
    if (++py->depth > PY_MAX_DEPTH)
        return fail(py, "values are nested more than %d deep", PY_MAX_DEPTH);
    switch (py->tok) {
    case TOK_STRING: {
        /* Adjacent string literals concatenate, as in Python. */
        struct gm_buf b;
        gm_buf_init(&b, PY_MAX_STRING);
        while (py->tok == TOK_STRING) {
            if (gm_buf_append(&b, json_string_value(py->value), json_string_length(py->value)) <
                0) {
                gm_buf_free(&b);
                return fail(py, "a string is too long");
            }
            if ((r = next(py)) < 0) {
                gm_buf_free(&b);
                return r;
            }
        }
        *ret = json_stringn(b.data ? b.data : "", b.len);
        gm_buf_free(&b);
        break;
    }
    case TOK_NUMBER:
        *ret = json_incref(py->value);
        if ((r = next(py)) < 0) {
            json_decref(*ret);
            return r;
        }
        break;
    case TOK_NAME: {
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)py->len, py->start);
        if (strcmp(name, "True") == 0)
            *ret = json_true();
        else if (strcmp(name, "False") == 0)
            *ret = json_false();
        else if (strcmp(name, "None") == 0)
            *ret = json_null();
        else {
            if ((r = next(py)) < 0)
                return r;
            if (is_op(py, "(") && (strcmp(name, "set") == 0 || strcmp(name, "list") == 0 ||
                                   strcmp(name, "tuple") == 0 || strcmp(name, "dict") == 0 ||
                                   strcmp(name, "frozenset") == 0)) {
                r = parse_call(py, ret, name);
                py->depth--;
                return r;
            }
            return fail(py,
                        "'%s' is not a literal: Ganymede does not run Python, so values "
                        "must be written out (strings, numbers, True/False/None, lists, "
                        "dicts)",
                        name);
        }
        if ((r = next(py)) < 0) {
            json_decref(*ret);
            return r;
        }
        break;
    }
    case TOK_OP:
        if (is_op(py, "[") || is_op(py, "(")) {
            const char *close = is_op(py, "[") ? "]" : ")";
            bool paren = is_op(py, "(");
            if ((r = next(py)) < 0)
                return r;
            json_t *arr = json_array();
            bool comma;
            if (paren && !is_op(py, ")")) {
                /* (x) is x; (x,) and (x, y) are tuples. */
                json_t *first = NULL;
                if ((r = parse_expr(py, &first)) < 0) {
                    json_decref(arr);
                    return r;
                }
                if (is_op(py, ")")) {
                    json_decref(arr);
                    if ((r = next(py)) < 0) {
                        json_decref(first);
                        return r;
                    }
                    *ret = first;
                    break;
                }
                json_array_append_new(arr, first);
                if ((r = expect_op(py, ",", "in a tuple")) < 0) {
                    json_decref(arr);
                    return r;
                }
            }
            if ((r = parse_items(py, close, arr, &comma)) < 0) {
                json_decref(arr);
                return r;
            }
            *ret = arr;
            break;
        }
        if (is_op(py, "{")) {
            if ((r = parse_dict_or_set(py, ret)) < 0)
                return r;
            break;
        }
        if (is_op(py, "-") || is_op(py, "+")) {
            bool neg = is_op(py, "-");
            json_t *v = NULL;
            if ((r = next(py)) < 0 || (r = parse_atom(py, &v)) < 0)
                return r;
            if (!json_is_number(v)) {
                json_decref(v);
                return fail(py, "a sign can only go before a number");
            }
            if (neg) {
                json_t *n = json_is_integer(v) ? json_integer(-json_integer_value(v))
                                               : json_real(-json_real_value(v));
                json_decref(v);
                v = n;
            }
            *ret = v;
            py->depth--;
            return 0;
        }
        return fail(py, "'%s' cannot start a value", py->op);
    case TOK_NEWLINE:
    case TOK_EOF:
        return fail(py, "a value is missing");
    default:
        return fail(py, "unexpected input");
    }
    py->depth--;
    if (is_op(py, ".") || is_op(py, "[") || is_op(py, "(")) {
        json_decref(*ret);
        return fail(py, "'%s' after a value is not supported: Ganymede reads literal values only",
                    py->op);
    }
    return 0;
}

static json_t *arith(json_t *a, json_t *b, char op, const char **why)
{
    bool ints = json_is_integer(a) && json_is_integer(b);
    double x = json_number_value(a), y = json_number_value(b);
    if (ints && op != '/') {
        long long i = json_integer_value(a), j = json_integer_value(b), k;
        switch (op) {
        case '+':
            if (__builtin_add_overflow(i, j, &k))
                break;
            return json_integer(k);
        case '-':
            if (__builtin_sub_overflow(i, j, &k))
                break;
            return json_integer(k);
        case '*':
            if (__builtin_mul_overflow(i, j, &k))
                break;
            return json_integer(k);
        case 'f':
            if (j == 0) {
                *why = "division by zero";
                return NULL;
            }
            k = i / j;
            if ((i % j != 0) && ((i < 0) != (j < 0)))
                k--;
            return json_integer(k);
        }
        *why = "a number is too large";
        return NULL;
    }
    double z;
    switch (op) {
    case '+':
        z = x + y;
        break;
    case '-':
        z = x - y;
        break;
    case '*':
        z = x * y;
        break;
    default:
        if (y == 0) {
            *why = "division by zero";
            return NULL;
        }
        z = op == 'f' ? floor(x / y) : x / y;
    }
    if (!isfinite(z)) {
        *why = "a number is too large";
        return NULL;
    }
    return json_real(z);
}

/* term := atom (('*' | '/' | '//') atom)* ; expr := term (('+' | '-') term)* on numbers. */
static int parse_term(struct py *py, json_t **ret)
{
    json_t *a = NULL;
    int r = parse_atom(py, &a);
    while (r == 0 && (is_op(py, "*") || is_op(py, "/") || is_op(py, "//"))) {
        char op = is_op(py, "//") ? 'f' : py->op[0];
        json_t *b = NULL;
        if ((r = next(py)) < 0 || (r = parse_atom(py, &b)) < 0)
            break;
        if (!json_is_number(a) || !json_is_number(b)) {
            json_decref(b);
            r = fail(py, "'%s' works on numbers only here", op == 'f' ? "//" : (char[]){op, 0});
            break;
        }
        const char *why = NULL;
        json_t *c = arith(a, b, op, &why);
        json_decref(a);
        json_decref(b);
        a = c;
        if (!c)
            r = fail(py, "%s", why);
    }
    if (r < 0) {
        json_decref(a);
        return r;
    }
    *ret = a;
    return 0;
}

static int parse_expr(struct py *py, json_t **ret)
{
    json_t *a = NULL;
    int r = parse_term(py, &a);
    while (r == 0 && (is_op(py, "+") || is_op(py, "-"))) {
        char op = py->op[0];
        json_t *b = NULL;
        if ((r = next(py)) < 0 || (r = parse_term(py, &b)) < 0)
            break;
        if (json_is_string(a) && json_is_string(b) && op == '+') {
            struct gm_buf s;
            gm_buf_init(&s, PY_MAX_STRING);
            int e = gm_buf_append(&s, json_string_value(a), json_string_length(a));
            if (e == 0)
                e = gm_buf_append(&s, json_string_value(b), json_string_length(b));
            json_decref(a);
            json_decref(b);
            a = e == 0 ? json_stringn(s.data ? s.data : "", s.len) : NULL;
            gm_buf_free(&s);
            if (!a)
                r = fail(py, "a string is too long");
            continue;
        }
        if (!json_is_number(a) || !json_is_number(b)) {
            json_decref(b);
            r = fail(py, "'%c' works on numbers and strings only here", op);
            break;
        }
        const char *why = NULL;
        json_t *c = arith(a, b, op, &why);
        json_decref(a);
        json_decref(b);
        a = c;
        if (!c)
            r = fail(py, "%s", why);
    }
    if (r < 0) {
        json_decref(a);
        return r;
    }
    *ret = a;
    return 0;
}

static const char json_hint[] =
    "Ganymede reads only `c.Class.trait = <literal>` lines and never runs Python; write this "
    "setting as a literal, or use a JSON config file: {\"Class\": {\"trait\": value}}";

/* One statement: `c = get_config()` or `c.Class.trait = value`. */
static int parse_statement(struct py *py, json_t *tree, json_t *origins)
{
    int r;
    if (py->tok != TOK_NAME)
        return fail(py, "a line must start with `c.Class.trait = ...`. %s", json_hint);
    if (!is_name(py, "c")) {
        static const char *const keywords[] = {
            "import", "from",   "if",     "for",   "while",          "def",
            "class",  "with",   "try",    "print", "load_subconfig", "os",
            "lambda", "return", "assert", "del",   "global",         NULL};
        for (const char *const *k = keywords; *k; k++)
            if (is_name(py, *k))
                return fail(py, "`%s` is not supported. %s", *k, json_hint);
        return fail(py, "`%.*s` is not supported. %s", (int)py->len, py->start, json_hint);
    }
    int line = py->line;
    if ((r = next(py)) < 0)
        return r;
    if (is_op(py, "=")) {
        if ((r = next(py)) < 0)
            return r;
        if (!is_name(py, "get_config"))
            return fail(py, "only `c = get_config()` may assign c. %s", json_hint);
        if ((r = next(py)) < 0 || (r = expect_op(py, "(", "in get_config()")) < 0 ||
            (r = expect_op(py, ")", "in get_config()")) < 0)
            return r;
        return 0;
    }
    char cls[128], trait[128];
    if ((r = expect_op(py, ".", "after c")) < 0)
        return r;
    if (py->tok != TOK_NAME || py->len >= sizeof(cls))
        return fail(py, "expected a class name after `c.`");
    snprintf(cls, sizeof(cls), "%.*s", (int)py->len, py->start);
    if ((r = next(py)) < 0)
        return r;
    if (!is_op(py, "."))
        return fail(py, "expected `c.%s.trait = value`", cls);
    if ((r = next(py)) < 0)
        return r;
    if (py->tok != TOK_NAME || py->len >= sizeof(trait))
        return fail(py, "expected a setting name after `c.%s.`", cls);
    snprintf(trait, sizeof(trait), "%.*s", (int)py->len, py->start);
    if ((r = next(py)) < 0)
        return r;
    if (!is_op(py, "=")) {
        if (is_op(py, ".") || is_op(py, "["))
            return fail(py,
                        "changing part of c.%s.%s (`%s`) is not supported; assign the whole "
                        "value: c.%s.%s = ...",
                        cls, trait, py->op, cls, trait);
        if (py->tok == TOK_OP && py->op[1] == '=')
            return fail(py, "`%s` is not supported; assign the whole value: c.%s.%s = ...", py->op,
                        cls, trait);
        return fail(py, "expected '=' after c.%s.%s", cls, trait);
    }
    if ((r = next(py)) < 0)
        return r;
    json_t *value = NULL;
    if ((r = parse_expr(py, &value)) < 0)
        return r;
    json_t *section = json_object_get(tree, cls);
    if (!section) {
        section = json_object();
        json_object_set_new(tree, cls, section);
    }
    json_object_set_new(section, trait, value);
    if (origins) {
        json_t *os = json_object_get(origins, cls);
        if (!os) {
            os = json_object();
            json_object_set_new(origins, cls, os);
        }
        char where[512];
        snprintf(where, sizeof(where), "%s:%d", py->filename ? py->filename : "?", line);
        json_object_set_new(os, trait, json_string(where));
    }
    return 0;
}

static void py_init(struct py *py, const char *text, size_t len, const char *filename, char *err,
                    size_t errlen)
{
    memset(py, 0, sizeof(*py));
    py->src = py->p = text;
    py->end = text + len;
    py->filename = filename;
    py->line = 1;
    py->err = err;
    py->errlen = errlen;
    if (errlen)
        err[0] = '\0';
}

int config_py_parse(const char *text, size_t len, const char *filename, json_t *tree,
                    json_t *origins, char *err, size_t errlen)
{
    struct py py;
    py_init(&py, text, len, filename, err, errlen);
    if (memchr(text, '\0', len)) {
        return fail(&py, "the file contains a NUL byte");
    }
    int r = next(&py);
    while (r == 0 && py.tok != TOK_EOF) {
        if (py.tok == TOK_NEWLINE || is_op(&py, ";")) {
            if (py.tok == TOK_NEWLINE)
                py.line++;
            r = next(&py);
            continue;
        }
        /* Indented code means a block (if/for/def) that only Python could run. */
        const char *ls = py.start;
        while (ls > text && (ls[-1] == ' ' || ls[-1] == '\t'))
            ls--;
        if (ls < py.start && (ls == text || ls[-1] == '\n')) {
            r = fail(&py, "indented code is not supported. %s", json_hint);
            break;
        }
        r = parse_statement(&py, tree, origins);
        if (r == 0 && py.tok != TOK_NEWLINE && py.tok != TOK_EOF && !is_op(&py, ";"))
            r = fail(&py, "unexpected '%.*s' after the value", (int)(py.len ? py.len : 1),
                     py.start);
    }
    json_decref(py.value);
    return r;
}

int config_py_parse_literal(const char *text, json_t **ret, char *err, size_t errlen)
{
    struct py py;
    size_t len = strlen(text);
    py_init(&py, text, len, NULL, err, errlen);
    json_t *v = NULL;
    int r = next(&py);
    if (r == 0)
        r = parse_expr(&py, &v);
    if (r == 0 && py.tok != TOK_EOF && py.tok != TOK_NEWLINE)
        r = fail(&py, "unexpected text after the value");
    json_decref(py.value);
    if (r < 0) {
        json_decref(v);
        return r;
    }
    *ret = v;
    return 0;
}
