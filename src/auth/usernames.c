/* Username normalisation and validation (Authenticator.normalize_username/validate_username). */
#include "auth/usernames.h"
#include "util/str.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

int auth_usernames_init(struct auth_usernames *u, const char *pattern, json_t *map, char *err,
                        size_t errlen)
{
    memset(u, 0, sizeof(*u));
    u->map = map;
    if (pattern && *pattern) {
        char msg[200];
        int r = gm_regex_compile(pattern, &u->pattern, msg, sizeof(msg));
        if (r < 0) {
            snprintf(err, errlen,
                     "Authenticator.username_pattern '%.200s' is not a valid regular "
                     "expression: %s",
                     pattern, msg);
            return r;
        }
    }
    return 0;
}

void auth_usernames_release(struct auth_usernames *u)
{
    if (u) {
        gm_regex_free(u->pattern);
        u->pattern = NULL;
    }
}

/* Lower-case UTF-8 @in into @out with the C.UTF-8 locale's case mapping. */
static int lower_utf8(const char *in, char *out, size_t outlen)
{
    locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    locale_t old = loc ? uselocale(loc) : (locale_t)0;
    mbstate_t in_state, out_state;
    memset(&in_state, 0, sizeof(in_state));
    memset(&out_state, 0, sizeof(out_state));
    size_t o = 0;
    int r = 0;
    const char *p = in;
    size_t left = strlen(in);
    while (left > 0) {
        wchar_t wc;
        size_t n = loc ? mbrtowc(&wc, p, left, &in_state) : 1;
        if (!loc)
            wc = (unsigned char)*p;
        if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
            r = -EINVAL;
            break;
        }
        char buf[MB_LEN_MAX];
        size_t m;
        if (loc) {
            m = wcrtomb(buf, (wchar_t)towlower((wint_t)wc), &out_state);
        } else {
            buf[0] = (char)tolower((unsigned char)wc);
            m = 1;
        }
        if (m == (size_t)-1 || o + m >= outlen) {
            r = -EINVAL;
            break;
        }
        memcpy(out + o, buf, m);
        o += m;
        p += n;
        left -= n;
    }
    if (loc) {
        uselocale(old);
        freelocale(loc);
    }
    if (r < 0)
        return r;
    out[o] = '\0';
    return 0;
}

int auth_username_normalize(const struct auth_usernames *u, const char *in, char *out,
                            size_t outlen)
{
    char lower[4 * AUTH_USERNAME_MAX + 4];
    if (strlen(in) >= sizeof(lower) || lower_utf8(in, lower, sizeof(lower)) < 0)
        return -EINVAL;
    const char *mapped = u ? json_string_value(json_object_get(u->map, lower)) : NULL;
    return str_copy(out, outlen, mapped ? mapped : lower) < 0 ? -EINVAL : 0;
}

bool auth_username_valid(const struct auth_usernames *u, const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > AUTH_USERNAME_MAX || strchr(name, '/'))
        return false;
    if (isspace((unsigned char)name[0]) || isspace((unsigned char)name[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return false; /* control characters never make sense in a name */
    if (u && u->pattern)
        return gm_regex_match(u->pattern, name, NULL, 0) == 1;
    return true;
}
