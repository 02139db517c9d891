/* gm_shell_quote and gm_shell_join (include/ganymede/shell.h), as Python's shlex does them. */
#include <errno.h>
#include <ganymede/shell.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool shell_safe(const char *word)
{
    if (!*word)
        return false;
    for (const char *p = word; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr("@%+=:,./-_", c);
        if (!ok)
            return false;
    }
    return true;
}

/* The length of @word quoted, or SIZE_MAX over GM_SHELL_MAX. */
static size_t quoted_len(const char *word)
{
    size_t n = strlen(word);
    if (n > GM_SHELL_MAX)
        return SIZE_MAX;
    if (shell_safe(word))
        return n;
    size_t len = 2;
    for (const char *p = word; *p; p++)
        len += *p == '\'' ? 5 : 1;
    return len > GM_SHELL_MAX ? SIZE_MAX : len;
}

static char *put_quoted(char *out, const char *word)
{
    if (shell_safe(word)) {
        size_t n = strlen(word);
        memcpy(out, word, n);
        return out + n;
    }
    *out++ = '\'';
    for (const char *p = word; *p; p++) {
        if (*p == '\'') {
            memcpy(out, "'\"'\"'", 5);
            out += 5;
        } else {
            *out++ = *p;
        }
    }
    *out++ = '\'';
    return out;
}

int gm_shell_quote(const char *word, char **ret)
{
    const char *argv[] = {word, NULL};
    return gm_shell_join(argv, ret);
}

int gm_shell_join(const char *const *argv, char **ret)
{
    if (!argv)
        return -EINVAL;
    size_t total = 0;
    for (size_t i = 0; argv[i]; i++) {
        size_t n = quoted_len(argv[i]);
        if (n == SIZE_MAX || total + n + 1 > GM_SHELL_MAX)
            return -E2BIG;
        total += n + (i ? 1 : 0);
    }
    char *s = malloc(total + 1);
    if (!s)
        return -ENOMEM;
    char *out = s;
    for (size_t i = 0; argv[i]; i++) {
        if (i)
            *out++ = ' ';
        out = put_quoted(out, argv[i]);
    }
    *out = '\0';
    *ret = s;
    return 0;
}
