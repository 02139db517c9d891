/* Log lines in JupyterHub's format, each written with a single write(2) so that lines from the
 * hub and its children never interleave mid-line. The level and fd are set once at start-up,
 * before the loop runs: this file-level state is the one global the hub keeps outside its
 * context, so that every file can log without being handed the hub. */
#include "core/log.h"
#include "util/str.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct {
    enum gm_log_level level;
    int fd;
} log_state = {GM_LOG_INFO, 2};

static const char *const level_names[GM_LOG_LEVEL_MAX] = {
    [GM_LOG_DEBUG] = "DEBUG", [GM_LOG_INFO] = "INFO",         [GM_LOG_WARNING] = "WARNING",
    [GM_LOG_ERROR] = "ERROR", [GM_LOG_CRITICAL] = "CRITICAL",
};

const char *log_level_name(enum gm_log_level level)
{
    return level < GM_LOG_LEVEL_MAX ? level_names[level] : "?";
}

int log_level_parse(const char *s, enum gm_log_level *ret)
{
    int64_t n;
    if (str_to_int64(s, &n) == 0) {
        if (n <= 10)
            *ret = GM_LOG_DEBUG;
        else if (n <= 20)
            *ret = GM_LOG_INFO;
        else if (n <= 30)
            *ret = GM_LOG_WARNING;
        else if (n <= 40)
            *ret = GM_LOG_ERROR;
        else
            *ret = GM_LOG_CRITICAL;
        return 0;
    }
    if (str_eq_ci(s, "WARN")) {
        *ret = GM_LOG_WARNING;
        return 0;
    }
    for (int i = 0; i < GM_LOG_LEVEL_MAX; i++)
        if (str_eq_ci(s, level_names[i])) {
            *ret = (enum gm_log_level)i;
            return 0;
        }
    return -EINVAL;
}

void log_set_level(enum gm_log_level level)
{
    log_state.level = level;
}

void log_set_fd(int fd)
{
    log_state.fd = fd;
}

bool gm_log_enabled(enum gm_log_level level)
{
    return level >= log_state.level;
}

void gm_log_write(enum gm_log_level level, const char *file, int line, const char *fmt, ...)
{
    if (level < log_state.level)
        return;
    char out[4096];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t blen = strcspn(base, ".");
    int n = snprintf(out, sizeof(out), "[%c %04d-%02d-%02d %02d:%02d:%02d.%03ld ganymede %.*s:%d] ",
                     "DIWEC"[level], tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000), (int)blen, base, line);
    if (n < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(out + n, sizeof(out) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(out) - 2)
        len = sizeof(out) - 2; /* truncated: keep the line whole */
    out[len++] = '\n';
    const char *p = out;
    while (len > 0) {
        ssize_t w = write(log_state.fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        len -= (size_t)w;
    }
}
