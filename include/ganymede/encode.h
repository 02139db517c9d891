/* Encodings and random tokens for the hub and its plugins: base64 in both alphabets (RFC 4648
 * §4 and §5, as JWTs, PKCE, Fernet, signed cookies and OAuth 1.0 signatures use them), URL
 * percent-encoding as Python's urllib.parse.quote / quote_plus / unquote write and read it,
 * hex, and secrets from the kernel (getrandom(2), never rand()). Implemented once, in
 * src/util/encode.c (base64, hex, random) and src/util/url.c (percent-encoding).
 *
 *     struct gm_buf path;
 *     gm_buf_init(&path, 2048);
 *     gm_buf_puts(&path, "/images/create?fromImage=");
 *     gm_url_encode(&path, repo, NULL);             ("jupyter/base-notebook" →
 * "jupyter%2Fbase-notebook")
 *
 *     char state[33];
 *     int r = gm_random_uuid_hex(state);            (uuid.uuid4().hex)
 *
 * Functions that append do so to a struct gm_buf (<ganymede/buf.h>) and return 0, -E2BIG (over
 * the buffer's cap, or input over GM_ENCODE_MAX) or -ENOMEM; what they append on failure is
 * unspecified (check the buffer's error or the result). Functions that decode write at most @cap
 * bytes at @out and return the number of bytes, or -EINVAL (not valid input) or -E2BIG (does
 * not fit); @out is unspecified on failure. Every pointer parameter is borrowed. */
#pragma once

#include <ganymede/buf.h>
#include <stdbool.h>
#include <stddef.h>

/** The longest input the base64 functions accept (256 MiB): longer is -E2BIG. */
#define GM_ENCODE_MAX ((size_t)1 << 28)

/** The most random bytes gm_random_hex and gm_random_token take in one call. */
#define GM_RANDOM_HEX_MAX   64
#define GM_RANDOM_TOKEN_MAX 256

/* Base64. */

/** Append the standard base64 (RFC 4648 §4: "+/", '=' padding) of @n bytes at @in to @out, as
 * Python's base64.b64encode. */
int gm_base64_encode(struct gm_buf *out, const void *in, size_t n);

/** Append the URL-safe base64 (RFC 4648 §5: "-_") of @n bytes at @in to @out, with '='
 * padding when @pad (base64.urlsafe_b64encode) or without (JWTs, PKCE). */
int gm_base64url_encode(struct gm_buf *out, const void *in, size_t n, bool pad);

/** Decode @n characters of standard base64 at @in into at most @cap bytes at @out. Padding is
 * optional and trailing spaces, CR and LF are ignored; any other character outside the
 * alphabet ('-' and '_' included), '=' before the end, or a length that no encoding has
 * (n % 4 == 1) is -EINVAL. Returns the number of bytes. */
long gm_base64_decode(const char *in, size_t n, void *out, size_t cap);

/** gm_base64_decode for the URL-safe alphabet; the standard one is accepted as well, so a
 * value written by either encoder decodes (Python's urlsafe_b64decode accepts both too). */
long gm_base64url_decode(const char *in, size_t n, void *out, size_t cap);

/* Hex. */

/** Write the lowercase hex of @n bytes at @in and a NUL into @out of @outlen bytes (at least
 * 2*@n + 1). Returns 0 or -E2BIG (nothing written then). */
int gm_hex_encode(const void *in, size_t n, char *out, size_t outlen);

/** Decode @n hex digits (either case; @n even) at @in into at most @cap bytes at @out.
 * Returns the number of bytes, -EINVAL (odd length, a character that is not a hex digit) or
 * -E2BIG. */
long gm_hex_decode(const char *in, size_t n, void *out, size_t cap);

/* URL percent-encoding. */

/** Append @s percent-encoded as urllib.parse.quote(@s, safe=@safe): ASCII letters, digits and
 * "_.-~" are always kept, so are the ASCII characters in @safe (NULL: none, where quote's
 * default is "/"); every other byte becomes "%XX" in upper-case hex. With @safe NULL or "" this
 * is RFC 3986's (and OAuth 1.0's) encoding of a component. */
int gm_url_encode(struct gm_buf *out, const char *s, const char *safe);

/** The same as urllib.parse.quote_plus: a space becomes '+' (HTML forms,
 * application/x-www-form-urlencoded bodies), everything else as gm_url_encode. */
int gm_url_encode_plus(struct gm_buf *out, const char *s, const char *safe);

/** Percent-decode @n bytes at @s into @out of @outlen bytes, NUL-terminated (@n + 1 bytes
 * always suffice). With @plus, '+' becomes a space (query strings and forms,
 * urllib.parse.unquote_plus); without, it is kept (paths). Returns the decoded length,
 * -EINVAL (a '%' not followed by two hex digits, or an encoded NUL, which C strings cannot
 * carry) or -E2BIG (@outlen too small). Bytes are not checked to be UTF-8. */
long gm_url_decode(const char *s, size_t n, char *out, size_t outlen, bool plus);

/* Random values. Each returns 0 or a negative errno from getrandom(2) (-ENOSYS, -EFAULT). */

/** Fill @out with @n random bytes. */
int gm_random_bytes(void *out, size_t n);

/** Write 2*@n lowercase hex characters of @n random bytes and a NUL to @out (2*@n + 1 bytes),
 * as secrets.token_hex(@n). -EINVAL when @n is over GM_RANDOM_HEX_MAX. */
int gm_random_hex(char *out, size_t n);

/** A random (version 4) UUID as 32 lowercase hex characters and a NUL, as uuid.uuid4().hex. */
int gm_random_uuid_hex(char out[33]);

/** Write @n characters drawn evenly from [A-Za-z0-9] and a NUL to @out (@n + 1 bytes), as
 * oauthlib's generate_token (OAuth codes and tokens). */
int gm_random_alnum(char *out, size_t n);

/** Append the unpadded URL-safe base64 of @n random bytes to @out, as
 * secrets.token_urlsafe(@n) (about 1.3 characters a byte). Returns 0, -E2BIG (@n over
 * GM_RANDOM_TOKEN_MAX, or over the buffer's cap), -ENOMEM or getrandom's error. */
int gm_random_token(struct gm_buf *out, size_t n);
