/* Logging for the hub and its plugins, in JupyterHub's line format:
 *
 *     [I 2026-11-23 10:00:00.123 ganymede users:42] message
 *
 * Never log a token, cookie, secret, password, auth_state or Authorization header; quote values
 * that come from users ('%s' in single quotes). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum gm_log_level {
    GM_LOG_DEBUG,
    GM_LOG_INFO,
    GM_LOG_WARNING,
    GM_LOG_ERROR,
    GM_LOG_CRITICAL,
    GM_LOG_LEVEL_MAX,
};

/** Write one line if @level is enabled. @file is __FILE__ (only its base name is printed). */
void gm_log_write(enum gm_log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** Whether lines at @level are written (to skip building expensive messages). */
bool gm_log_enabled(enum gm_log_level level);

/** @s made fit for a log line: at most @len - 1 bytes of it, control characters (a CR or LF
 * that would forge a line) as '?'. Returns @buf. For values a client sent. */
const char *gm_log_safe(const char *s, char *buf, size_t len);

#define gm_log_debug(...) gm_log_write(GM_LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)
#define gm_log_info(...)  gm_log_write(GM_LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define gm_log_warn(...)  gm_log_write(GM_LOG_WARNING, __FILE__, __LINE__, __VA_ARGS__)
#define gm_log_error(...) gm_log_write(GM_LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)
