/* Loading, generating and storing the cookie secret. */
#include "auth/cookie_secret.h"
#include "util/str.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ganymede/encode.h>
#include <ganymede/log.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_hex(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s))
            return false;
    return true;
}

static int from_hex(const char *text, const char *what, struct auth_cookie_secret *ret, char *err,
                    size_t errlen)
{
    long n = gm_hex_decode(text, strlen(text), ret->bytes, sizeof(ret->bytes));
    if (n <= 0) {
        snprintf(err, errlen,
                 "%s is not a hex-encoded secret of at most %d bytes (make one with "
                 "`openssl rand -hex 32`)",
                 what, AUTH_COOKIE_SECRET_MAX);
        return -EINVAL;
    }
    ret->len = (size_t)n;
    return 0;
}

static int read_secret_file(const char *path, struct auth_cookie_secret *ret, char *err,
                            size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot read cookie_secret_file %s: %s", path, strerror(errno));
        return -errno;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 07)) {
        close(fd);
        snprintf(err, errlen,
                 "refusing to use cookie_secret_file %s: it can be read or written "
                 "by anybody; run `chmod 600 %s`",
                 path, path);
        return -EACCES;
    }
    char text[512];
    ssize_t n = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "cannot read cookie_secret_file %s: %s", path, strerror(errno));
        return -EIO;
    }
    text[n] = '\0';
    while (n > 0 && isspace((unsigned char)text[n - 1]))
        text[--n] = '\0';
    if (is_hex(text) && n % 2 == 0) {
        char what[600];
        snprintf(what, sizeof(what), "cookie_secret_file %s", path);
        return from_hex(text, what, ret, err, errlen);
    }
    /* Secrets written by JupyterHub < 0.8 are base64. */
    unsigned char raw[512];
    long m = gm_base64_decode(text, (size_t)n, raw, sizeof(raw));
    if (m <= 0) {
        snprintf(err, errlen, "cookie_secret_file %s holds neither hex nor base64", path);
        return -EINVAL;
    }
    ret->len = (size_t)m < sizeof(ret->bytes) ? (size_t)m : sizeof(ret->bytes);
    memcpy(ret->bytes, raw, ret->len);
    gm_log_warn("Old base64 cookie secret in %s; JupyterHub >= 0.8 and Ganymede expect 32 hex "
                "bytes. Make a new one with: openssl rand -hex 32 > \"%s\"",
                path, path);
    return 0;
}

static int write_secret_file(const char *path, const struct auth_cookie_secret *s, char *err,
                             size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write cookie_secret_file %s: %s", path, strerror(errno));
        return -errno;
    }
    char hex[2 * AUTH_COOKIE_SECRET_MAX + 2];
    if (gm_hex_encode(s->bytes, s->len, hex, sizeof(hex) - 1) < 0) {
        close(fd);
        return -E2BIG;
    }
    size_t n = strlen(hex);
    hex[n++] = '\n';
    ssize_t w = write(fd, hex, n);
    int e = errno;
    if (fchmod(fd, 0600) < 0)
        gm_log_warn("Failed to set permissions on %s", path);
    close(fd);
    if (w != (ssize_t)n) {
        snprintf(err, errlen, "cannot write cookie_secret_file %s: %s", path, strerror(e));
        unlink(path);
        return -EIO;
    }
    return 0;
}

int auth_cookie_secret_load(const char *from_config, const char *file,
                            struct auth_cookie_secret *ret, char *err, size_t errlen)
{
    struct auth_cookie_secret s = {.len = 0};
    int r;
    const char *env = getenv("JPY_COOKIE_SECRET");
    if (from_config && *from_config) {
        r = from_hex(from_config, "JupyterHub.cookie_secret", &s, err, errlen);
    } else if (env && *env) {
        gm_log_info("Loading cookie_secret from env[JPY_COOKIE_SECRET]");
        r = from_hex(env, "JPY_COOKIE_SECRET", &s, err, errlen);
    } else if (file && *file && access(file, F_OK) == 0) {
        gm_log_info("Loading cookie_secret from %s", file);
        r = read_secret_file(file, &s, err, errlen);
    } else {
        s.len = 32;
        r = gm_random_bytes(s.bytes, s.len);
        if (r < 0) {
            snprintf(err, errlen, "cannot generate a cookie secret: %s", strerror(-r));
        } else if (file && *file) {
            gm_log_info("Writing cookie_secret to %s", file);
            r = write_secret_file(file, &s, err, errlen);
        }
    }
    if (r < 0)
        return r;
    *ret = s;
    return 0;
}
