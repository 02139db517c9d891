/* The cookie secret that signs the hub's cookies, found as JupyterHub finds it: the config
 * (JupyterHub.cookie_secret, hex), then the JPY_COOKIE_SECRET environment variable (hex), then
 * JupyterHub.cookie_secret_file (64 hex characters; refused when anybody may read it), and
 * otherwise generated and written to that file with mode 0600. */
#pragma once

#include <stddef.h>

#define AUTH_COOKIE_SECRET_MAX 64

struct auth_cookie_secret {
    unsigned char bytes[AUTH_COOKIE_SECRET_MAX];
    size_t len;
};

/** Find or make the secret. Returns 0, or a negative errno with a message in @err (which never
 * contains the secret). */
int auth_cookie_secret_load(const char *from_config, const char *file,
                            struct auth_cookie_secret *ret, char *err, size_t errlen);
