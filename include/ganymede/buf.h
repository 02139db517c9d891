/* Growable byte buffers with a hard size cap (in the spirit of curl's dynbuf), for the hub and
 * for plugins: every buffer that holds something a user sent, or that grows with user data, says
 * how large it may become. Implemented once, in src/util/buf.c.
 *
 *     struct gm_buf b;
 *     gm_buf_init(&b, 4096);
 *     gm_buf_puts(&b, "/containers/");
 *     gm_url_encode(&b, id, NULL);                  (<ganymede/encode.h>)
 *     gm_buf_printf(&b, "/stop?t=%d", grace);
 *     if (b.error) {                                (-E2BIG or -ENOMEM, from the first failure)
 *         gm_buf_free(&b);
 *         return b.error;
 *     }
 *     ... use b.data (b.len bytes, NUL-terminated) ...
 *     gm_buf_free(&b);
 *
 * Every append returns 0, -E2BIG when the result would be longer than the cap (nothing is
 * appended then), or -ENOMEM (nothing appended). The first failure is also kept in @error, so a
 * sequence of appends may be checked once at its end. The struct is the caller's (a local or a
 * member); pointer parameters are borrowed unless a comment says otherwise. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

struct gm_buf {
    char *data; /* NUL-terminated when not NULL; NULL until something is appended */
    size_t len; /* bytes in @data, the NUL not counted */
    size_t cap; /* bytes allocated */
    size_t max; /* appends that would make len exceed this fail with -E2BIG */
    int error;  /* 0, or the first failed append's negative errno (reset by init and reset) */
};

/** Initialise an empty buffer that may grow to @max bytes (the NUL not counted). Allocates
 * nothing, so it cannot fail. */
void gm_buf_init(struct gm_buf *b, size_t max);

/** Free the memory and return to the empty state (the cap is kept); accepts NULL, a zeroed and
 * an already freed buffer. */
void gm_buf_free(struct gm_buf *b);

/** Forget the contents and any error but keep the memory. */
void gm_buf_reset(struct gm_buf *b);

/** Make room for @n more bytes now (a hint, to allocate once). Returns 0, -E2BIG (over the
 * cap) or -ENOMEM; the contents are unchanged either way. */
int gm_buf_grow(struct gm_buf *b, size_t n);

/** Append @n bytes at @p (which may hold NULs). Returns 0, -E2BIG or -ENOMEM. */
int gm_buf_append(struct gm_buf *b, const void *p, size_t n);

/** Append the NUL-terminated string @s. Returns 0, -E2BIG or -ENOMEM. */
int gm_buf_puts(struct gm_buf *b, const char *s);

/** Append the byte @c. Returns 0, -E2BIG or -ENOMEM. */
int gm_buf_putc(struct gm_buf *b, char c);

/** Append printf-formatted text. Returns 0, -E2BIG, -ENOMEM or -EINVAL (a format vsnprintf
 * refuses). */
int gm_buf_printf(struct gm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int gm_buf_vprintf(struct gm_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/** Append @s as a JSON string, quotes included (", \ and control characters escaped; other
 * bytes as they are). Returns 0, -E2BIG or -ENOMEM; on failure part of it may be appended. */
int gm_buf_json_string(struct gm_buf *b, const char *s);

/** Append @s with &, <, >, " and ' replaced by HTML entities (&amp; &lt; &gt; &quot; &#39;), for
 * text and attribute values. Returns 0, -E2BIG or -ENOMEM; on failure part of it may be
 * appended. */
int gm_buf_html_escape(struct gm_buf *b, const char *s);

/** Take the text out of the buffer: the caller frees it; never NULL on success (an empty buffer
 * gives ""). The buffer is empty afterwards, with its cap and its @error, which says whether the
 * text is whole: check it first. Returns NULL only when out of memory. */
char *gm_buf_steal(struct gm_buf *b);
