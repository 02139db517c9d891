/* Capped growable buffers (include/ganymede/buf.h): the one place that grows memory for text
 * the hub and its plugins build or receive. */
#include <ganymede/buf.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gm_buf_init(struct gm_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->error = 0;
}

void gm_buf_free(struct gm_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void gm_buf_reset(struct gm_buf *b)
{
    b->len = 0;
    b->error = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Remember the first failure, so that a sequence of appends can be checked once. */
static int failed(struct gm_buf *b, int error)
{
    if (!b->error)
        b->error = error;
    return error;
}

static int reserve(struct gm_buf *b, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return failed(b, -E2BIG);
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = realloc(b->data, cap);
    if (!p)
        return failed(b, -ENOMEM);
    b->data = p;
    b->cap = cap;
    return 0;
}

int gm_buf_grow(struct gm_buf *b, size_t n)
{
    return reserve(b, n);
}

int gm_buf_append(struct gm_buf *b, const void *p, size_t n)
{
    int r = reserve(b, n);
    if (r < 0)
        return r;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int gm_buf_puts(struct gm_buf *b, const char *s)
{
    return gm_buf_append(b, s, strlen(s));
}

int gm_buf_putc(struct gm_buf *b, char c)
{
    return gm_buf_append(b, &c, 1);
}

int gm_buf_vprintf(struct gm_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return failed(b, -EINVAL);
    int r = reserve(b, (size_t)n);
    if (r < 0)
        return r;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int gm_buf_printf(struct gm_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = gm_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return r;
}

int gm_buf_json_string(struct gm_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    int r = gm_buf_putc(b, '"');
    const unsigned char *p = (const unsigned char *)s;
    while (r == 0 && *p) {
        const unsigned char *run = p;
        while (*p >= 0x20 && *p != '"' && *p != '\\')
            p++;
        if (p > run)
            r = gm_buf_append(b, run, (size_t)(p - run));
        if (r < 0 || !*p)
            break;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (*p) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            n = 6;
        }
        r = gm_buf_append(b, esc, n);
        p++;
    }
    return r < 0 ? r : gm_buf_putc(b, '"');
}

int gm_buf_html_escape(struct gm_buf *b, const char *s)
{
    int r = 0;
    const char *p = s;
    while (r == 0 && *p) {
        size_t n = strcspn(p, "&<>\"'");
        if (n)
            r = gm_buf_append(b, p, n);
        p += n;
        if (r < 0 || !*p)
            break;
        switch (*p) {
        case '&':
            r = gm_buf_puts(b, "&amp;");
            break;
        case '<':
            r = gm_buf_puts(b, "&lt;");
            break;
        case '>':
            r = gm_buf_puts(b, "&gt;");
            break;
        case '"':
            r = gm_buf_puts(b, "&quot;");
            break;
        default:
            r = gm_buf_puts(b, "&#39;");
        }
        p++;
    }
    return r;
}

char *gm_buf_steal(struct gm_buf *b)
{
    char *p = b->data;
    if (!p)
        p = calloc(1, 1);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
