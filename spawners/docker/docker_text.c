/* The Docker spawner's own text helpers: escapism's escape for container names as DockerSpawner
 * chooses it (the toolkit's, <ganymede/template.h>), shlex-style command splitting
 * (post_start_cmd, a string command) and the tail of a container's log for failure messages.
 * Buffers and URL encoding are the toolkit's (<ganymede/buf.h>, <ganymede/encode.h>). */
#include "docker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
    struct gm_buf w;
    gm_buf_init(&w, strlen(line) + 1);
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
                gm_buf_append(&w, ++p, 1);
            } else {
                gm_buf_append(&w, p, 1);
            }
            continue;
        }
        if (!c || c == ' ' || c == '\t' || c == '\n') {
            if (in_word) {
                if (w.error || json_array_append_new(words, json_string(w.data ? w.data : "")) < 0)
                    goto bad;
                gm_buf_reset(&w);
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
            gm_buf_append(&w, ++p, 1);
        } else {
            gm_buf_append(&w, p, 1);
        }
    }
    gm_buf_free(&w);
    if (!words)
        return -ENOMEM;
    *ret = words;
    return 0;
bad:
    gm_buf_free(&w);
    json_decref(words);
    return -EINVAL;
}

/* Append @n bytes of log text to @out, one character at a time: newlines kept, tabs as spaces,
 * other control characters (terminal escapes) as '?'. */
static void add_log_text(struct gm_buf *out, const char *s, size_t n)
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
        gm_buf_putc(out, (char)c);
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
    struct gm_buf text;
    gm_buf_init(&text, len + 2);
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
    if (text.error) {
        gm_buf_free(&text);
        return 0;
    }
    const char *t = text.data ? text.data : "";
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
        gm_buf_free(&text);
        return 3 + n;
    }
    memcpy(out, t + start, end - start);
    out[end - start] = '\0';
    gm_buf_free(&text);
    return end - start;
}
