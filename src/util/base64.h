/* Base64 in its URL-safe alphabet (RFC 4648 §5), as JWTs, PKCE, Fernet tokens and signed
 * cookies use it. Decoding also accepts the standard alphabet and missing padding. */
#pragma once

#include <ganymede/buf.h>

#include <stdbool.h>
#include <stddef.h>

/** Append the URL-safe base64 of @n bytes at @in to @out, with '=' padding if @pad. Returns 0
 * or -ENOMEM. */
int b64url_encode(struct gm_buf *out, const void *in, size_t n, bool pad);

/** Decode @n characters of base64 (URL-safe or standard, padding optional, trailing
 * whitespace ignored) into at most @cap bytes at @out. Returns the number of bytes, or -1 when
 * the text is not base64 or does not fit. */
long b64url_decode(const char *in, size_t n, void *out, size_t cap);
