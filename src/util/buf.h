/* Growable byte buffers with a hard size cap (in the spirit of curl's dynbuf): every buffer that
 * holds something a user sent or that grows with user data says how large it may become. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max; /* appends that would make len exceed this fail with -E2BIG */
};

/** Initialise an empty buffer that may grow to @max bytes. Allocates nothing. */
void buf_init(struct buf *b, size_t max);

/** Free the memory and return to the empty state; accepts a zeroed or freed buffer. */
void buf_free(struct buf *b);

/** Forget the contents but keep the memory. */
void buf_reset(struct buf *b);

/** Make room for @n more bytes now (a hint: fails only when out of memory or over the cap,
 * and then the buffer is unchanged). */
int buf_grow(struct buf *b, size_t n);

/** Append @n bytes. Returns 0, -E2BIG over the cap (nothing appended) or -ENOMEM. */
int buf_append(struct buf *b, const void *p, size_t n);

/** Append a NUL-terminated string. */
int buf_puts(struct buf *b, const char *s);

/** Append one byte. */
int buf_putc(struct buf *b, char c);

/** Append formatted text. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/** Append @s as the contents of a JSON string (quotes included). */
int buf_json_string(struct buf *b, const char *s);

/** Append @s with &, <, >, " and ' replaced by HTML entities. */
int buf_html_escape(struct buf *b, const char *s);

/** Take the data out of the buffer (caller frees; never NULL on success: an empty buffer gives
 * ""). The buffer is empty afterwards. Returns NULL only when out of memory. */
char *buf_steal(struct buf *b);
