/* Small text helpers of the Docker spawner: a capped buffer, escapism's escape for container
 * names (the toolkit's, <ganymede/template.h>), shlex-style command splitting (post_start_cmd, a
 * string command) and the tail of a container's log for failure messages. Plugins only see
 * include/ganymede/, so these few live here rather than in src/util/. */
#include "docker.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void docker_buf_init(struct docker_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

static bool reserve(struct docker_buf *b, size_t n)
{
    if (b->failed)
        return false;
    if (b->len + n + 1 > b->max) {
        b->failed = true;
        return false;
    }
    if (b->len + n + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1)
        cap *= 2;
    if (cap > b->max)
        cap = b->max;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void docker_buf_add(struct docker_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void docker_buf_puts(struct docker_buf *b, const char *s)
{
    docker_buf_add(b, s, strlen(s));
}

void docker_buf_printf(struct docker_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n)) {
        b->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *docker_buf_str(struct docker_buf *b)
{
    if (b->failed)
        return NULL;
    return b->data ? b->data : "";
}

char *docker_buf_steal(struct docker_buf *b)
{
    char *s = NULL;
    if (!b->failed)
        s = b->data ? b->data : strdup("");
    else
        free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

void docker_buf_free(struct docker_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void docker_buf_url_encode(struct docker_buf *b, const char *s, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p) || (keep && strchr(keep, *p))) {
            docker_buf_add(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            docker_buf_add(b, e, 3);
        }
    }
}

void docker_buf_html(struct docker_buf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&':
            docker_buf_puts(b, "&amp;");
            break;
        case '<':
            docker_buf_puts(b, "&lt;");
            break;
        case '>':
            docker_buf_puts(b, "&gt;");
            break;
        case '"':
            docker_buf_puts(b, "&quot;");
            break;
        case '\'':
            docker_buf_puts(b, "&#39;");
            break;
        default:
            docker_buf_add(b, p, 1);
        }
    }
}

char *docker_escape(const char *text, bool legacy)
{
    char *s = NULL;
    if (legacy)
        gm_escape(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-", '_', &s);
    else
        gm_slug_escape(text, &s);
    return s;
}

int docker_split_command(const char *line, json_t **ret)
{
    json_t *words = json_array();
    struct docker_buf w;
    docker_buf_init(&w, strlen(line) + 1);
    bool in_word = false;
    char quote = 0;
    for (const char *p = line;; p++) {
        char c = *p;
        if (quote) {
            if (!c)
                goto bad;
            if (c == quote) {
                quote = 0;
            } else if (quote == '"' && c == '\\' && p[1] && strchr("\"\\$`", p[1])) {
                docker_buf_add(&w, ++p, 1);
            } else {
                docker_buf_add(&w, p, 1);
            }
            continue;
        }
        if (!c || c == ' ' || c == '\t' || c == '\n') {
            if (in_word) {
                const char *s = docker_buf_str(&w);
                if (!s || json_array_append_new(words, json_string(s)) < 0)
                    goto bad;
                w.len = 0;
                if (w.data)
                    w.data[0] = '\0';
                in_word = false;
            }
            if (!c)
                break;
            continue;
        }
        in_word = true;
        if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '\\') {
            if (!p[1])
                goto bad;
            docker_buf_add(&w, ++p, 1);
        } else {
            docker_buf_add(&w, p, 1);
        }
    }
    docker_buf_free(&w);
    if (!words)
        return -ENOMEM;
    *ret = words;
    return 0;
bad:
    docker_buf_free(&w);
    json_decref(words);
    return -EINVAL;
}

/* Append @n bytes of log text to @out, one character at a time: newlines kept, tabs as spaces,
 * other control characters (terminal escapes) as '?'. */
static void add_log_text(struct docker_buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r')
            continue;
        if (c == '\t')
            c = ' ';
        else if (c < 0x20 && c != '\n')
            c = '?';
        else if (c == 0x7f)
            c = '?';
        docker_buf_add(out, (const char *)&c, 1);
    }
}

size_t docker_log_tail(const char *data, size_t len, int max_lines, char *out, size_t outlen)
{
    if (outlen < 8) {
        if (outlen)
            out[0] = '\0';
        return 0;
    }
    out[0] = '\0';
    struct docker_buf text;
    docker_buf_init(&text, len + 2);
    /* Without a TTY the Engine multiplexes stdout and stderr: frames of [stream, 0, 0, 0,
     * size (4 bytes, big-endian)] then the payload. A TTY gives the raw text. */
    const unsigned char *u = (const unsigned char *)data;
    bool framed = len >= 8 && u[0] <= 2 && u[1] == 0 && u[2] == 0 && u[3] == 0;
    if (framed) {
        size_t i = 0;
        while (i + 8 <= len) {
            size_t n = (size_t)u[i + 4] << 24 | (size_t)u[i + 5] << 16 | (size_t)u[i + 6] << 8 |
                       (size_t)u[i + 7];
            i += 8;
            if (n > len - i)
                n = len - i;
            add_log_text(&text, data + i, n);
            i += n;
        }
    } else {
        add_log_text(&text, data, len);
    }
    const char *t = docker_buf_str(&text);
    if (!t) {
        docker_buf_free(&text);
        return 0;
    }
    /* The last lines: drop trailing newlines, then walk back @max_lines line breaks, and keep
     * at most what fits (the end matters most: that is where the error is). */
    size_t end = text.len;
    while (end && (t[end - 1] == '\n' || t[end - 1] == ' '))
        end--;
    size_t start = end;
    int lines = 0;
    while (start > 0) {
        if (t[start - 1] == '\n' && ++lines >= max_lines)
            break;
        start--;
    }
    while (start < end && t[start] == '\n')
        start++;
    if (end - start >= outlen) {
        start = end - (outlen - 4);
        while (start < end && ((unsigned char)t[start] & 0xc0) == 0x80)
            start++; /* not in the middle of a UTF-8 character */
        size_t n = end - start;
        memcpy(out, "...", 3);
        memcpy(out + 3, t + start, n);
        out[3 + n] = '\0';
        docker_buf_free(&text);
        return 3 + n;
    }
    memcpy(out, t + start, end - start);
    out[end - start] = '\0';
    docker_buf_free(&text);
    return end - start;
}
