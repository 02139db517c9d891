/* Log lines in JupyterHub's format, written whole so that lines from the hub and its children
 * never interleave mid-line. While the loop runs, lines are gathered and written once per loop
 * iteration (log_flush from a uv_prepare handle) instead of one write(2) per line: an access-log
 * line per request would otherwise cost a system call per request. Warnings and worse are
 * written at once. The level, fd and buffer are set up at start-up; this file-level state is the
 * one global the hub keeps outside its context, so that every file can log without being
 * handed the hub. */
#include "core/log.h"
#include "util/str.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_BUFFER   (64 << 10)
#define LOG_LINE_MAX (16 << 10) /* a failure message ends with 4 KiB of a server's output */

static struct {
    enum gm_log_level level;
    int fd;
    bool buffered;
    size_t len;
    time_t stamp_sec; /* the second whose local time is in stamp */
    char stamp[64];   /* "YYYY-MM-DD HH:MM:SS" */
    char buf[LOG_BUFFER];
} log_state = {.level = GM_LOG_INFO, .fd = 2, .stamp_sec = -1};

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

static void write_all(const char *p, size_t len)
{
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

void log_flush(void)
{
    if (log_state.len) {
        write_all(log_state.buf, log_state.len);
        log_state.len = 0;
    }
}

void log_set_buffered(bool on)
{
    if (!on)
        log_flush();
    log_state.buffered = on;
}

const char *gm_log_safe(const char *s, char *buf, size_t len)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < len; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    if (len)
        buf[i] = '\0';
    return buf;
}

void gm_log_write(enum gm_log_level level, const char *file, int line, const char *fmt, ...)
{
    if (level < log_state.level)
        return;
    char out[LOG_LINE_MAX];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    if (tv.tv_sec != log_state.stamp_sec) {
        struct tm tm;
        localtime_r(&tv.tv_sec, &tm);
        snprintf(log_state.stamp, sizeof(log_state.stamp), "%04d-%02d-%02d %02d:%02d:%02d",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        log_state.stamp_sec = tv.tv_sec;
    }
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t blen = strcspn(base, ".");
    int n = snprintf(out, sizeof(out), "[%c %s.%03ld ganymede %.*s:%d] ", "DIWEC"[level],
                     log_state.stamp, (long)(tv.tv_usec / 1000), (int)blen, base, line);
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
    if (!log_state.buffered || level >= GM_LOG_WARNING) {
        log_flush();
        write_all(out, len);
        return;
    }
    if (log_state.len + len > sizeof(log_state.buf))
        log_flush();
    memcpy(log_state.buf + log_state.len, out, len);
    log_state.len += len;
}

void log_write_output(const char *text, size_t len)
{
    if (!log_state.buffered || len > sizeof(log_state.buf)) {
        log_flush();
        write_all(text, len);
        return;
    }
    if (log_state.len + len > sizeof(log_state.buf))
        log_flush();
    memcpy(log_state.buf + log_state.len, text, len);
    log_state.len += len;
}
