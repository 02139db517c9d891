/* Randomness for secrets and identifiers, from the kernel (getrandom), never from rand(). */
#pragma once

#include <stddef.h>

/** Fill @buf with @n random bytes. Returns 0 or -errno. */
int random_bytes(void *buf, size_t n);

/** Write 2*@n lowercase hex characters of @n random bytes plus a NUL to @out. */
int random_hex(char *out, size_t n);

/** A uuid4 in hex without dashes (32 characters + NUL), as Python's uuid.uuid4().hex. */
int random_uuid_hex(char out[33]);

/** @n random characters from [A-Za-z0-9] plus a NUL, as oauthlib's generate_token. */
int random_alnum(char *out, size_t n);

/** Lowercase hex encoding of @n bytes into @out (2*@n + 1 bytes). */
void hex_encode(const void *in, size_t n, char *out);

/** Decode an even-length hex string into at most @cap bytes. Returns the number of bytes or
 * -EINVAL. */
long hex_decode(const char *in, void *out, size_t cap);
