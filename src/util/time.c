/* Timestamp formatting and parsing in JupyterHub's formats. */
#include "util/time.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t time_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t time_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Year, month, day from days since 1970-01-01 (Howard Hinnant's civil_from_days): the API
 * writes two timestamps per user model, and gmtime_r + strftime cost more than the rest of a
 * model. */
static void civil(int64_t days, int *y, int *m, int *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static char *two(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

/* "YYYY-MM-DD?HH:MM:SS" (19 characters) with @sep between date and time; returns the end. */
static char *format_seconds(int64_t us, char sep, char *out, long *frac)
{
    int64_t sec = us / 1000000;
    long f = (long)(us % 1000000);
    if (f < 0) {
        f += 1000000;
        sec -= 1;
    }
    int64_t days = sec / 86400, rem = sec % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    int y, m, d;
    civil(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999;
    char *p = two(two(out, y / 100), y % 100);
    *p++ = '-';
    p = two(p, m);
    *p++ = '-';
    p = two(p, d);
    *p++ = sep;
    p = two(p, (int)(rem / 3600));
    *p++ = ':';
    p = two(p, (int)(rem / 60 % 60));
    *p++ = ':';
    p = two(p, (int)(rem % 60));
    *frac = f;
    return p;
}

static char *six(char *p, long f)
{
    for (int i = 5; i >= 0; i--) {
        p[i] = (char)('0' + f % 10);
        f /= 10;
    }
    return p + 6;
}

void time_format_iso(int64_t us, char out[32])
{
    long frac;
    char *p = format_seconds(us, 'T', out, &frac);
    if (frac) {
        *p++ = '.';
        p = six(p, frac);
    }
    *p++ = 'Z';
    *p = '\0';
}

void time_format_db(int64_t us, char out[32])
{
    long frac;
    char *p = format_seconds(us, ' ', out, &frac);
    *p++ = '.';
    p = six(p, frac);
    *p = '\0';
}

static int digits(const char **p, int n, int *ret)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)**p))
            return -EINVAL;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *ret = v;
    return 0;
}

int time_parse(const char *s, int64_t *ret)
{
    const char *p = s;
    int Y, M, D, h, m, sec;
    if (digits(&p, 4, &Y) < 0 || *p++ != '-' || digits(&p, 2, &M) < 0 || *p++ != '-' ||
        digits(&p, 2, &D) < 0)
        return -EINVAL;
    h = m = sec = 0;
    long frac = 0;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &m) < 0)
            return -EINVAL;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &sec) < 0)
                return -EINVAL;
            if (*p == '.') {
                p++;
                int nd = 0;
                while (isdigit((unsigned char)*p)) {
                    if (nd < 6) {
                        frac = frac * 10 + (*p - '0');
                        nd++;
                    }
                    p++;
                }
                if (nd == 0)
                    return -EINVAL;
                for (; nd < 6; nd++)
                    frac *= 10;
            }
        }
    }
    long offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om = 0;
        p++;
        if (digits(&p, 2, &oh) < 0)
            return -EINVAL;
        if (*p == ':')
            p++;
        if (*p && digits(&p, 2, &om) < 0)
            return -EINVAL;
        offset = sign * (oh * 3600L + om * 60L);
    }
    if (*p != '\0')
        return -EINVAL;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return -EINVAL;
    struct tm tm = {.tm_year = Y - 1900,
                    .tm_mon = M - 1,
                    .tm_mday = D,
                    .tm_hour = h,
                    .tm_min = m,
                    .tm_sec = sec};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -EINVAL;
    *ret = ((int64_t)t - offset) * 1000000 + frac;
    return 0;
}
