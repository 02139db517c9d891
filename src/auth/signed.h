/* Tornado's signed values (version 2), which JupyterHub uses for its cookies:
 *     2|1:0|10:<timestamp>|<len>:<name>|<len>:<base64 value>|<hex HMAC-SHA256>
 * so that a hub and a Python hub sharing a cookie secret read each other's cookies. */
#pragma once

#include <ganymede/buf.h>

#include <stddef.h>
#include <stdint.h>

/** Append the signed form of (@name, @value) at @now (seconds) to @out. */
int auth_signed_create(const unsigned char *secret, size_t secret_len, const char *name,
                       const char *value, int64_t now, struct gm_buf *out);

/** Verify @signed_value for @name, no older than @max_age seconds; on success write the value
 * (NUL-terminated) into @out. Returns 0 or -EINVAL (bad signature, name, age or format). */
int auth_signed_verify(const unsigned char *secret, size_t secret_len, const char *name,
                       const char *signed_value, int64_t now, int64_t max_age, char *out,
                       size_t outlen);
