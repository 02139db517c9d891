/* NULL-terminated string arrays. */
#include "util/strv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct strv *sv, size_t more)
{
    if (sv->n + more + 1 <= sv->cap)
        return 0;
    size_t cap = sv->cap ? sv->cap * 2 : 16;
    while (cap < sv->n + more + 1)
        cap *= 2;
    char **v = realloc(sv->v, cap * sizeof(*v));
    if (!v)
        return -ENOMEM;
    sv->v = v;
    sv->cap = cap;
    return 0;
}

static int push_owned(struct strv *sv, char *s)
{
    if (!s || reserve(sv, 1) < 0) {
        free(s);
        return -ENOMEM;
    }
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
    return 0;
}

int strv_push(struct strv *sv, const char *s)
{
    return push_owned(sv, strdup(s));
}

int strv_pushf(struct strv *sv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return push_owned(sv, n < 0 ? NULL : s);
}

int strv_setenv(struct strv *sv, const char *name, const char *value)
{
    size_t n = strlen(name);
    char *s = NULL;
    if (asprintf(&s, "%s=%s", name, value) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < sv->n; i++) {
        if (strncmp(sv->v[i], name, n) == 0 && sv->v[i][n] == '=') {
            free(sv->v[i]);
            sv->v[i] = s;
            return 0;
        }
    }
    return push_owned(sv, s);
}

const char *strv_getenv(char *const *env, const char *name)
{
    size_t n = strlen(name);
    for (char *const *e = env; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

int strv_extend(struct strv *sv, const char *const *src)
{
    for (const char *const *s = src; s && *s; s++)
        if (strv_push(sv, *s) < 0)
            return -ENOMEM;
    return 0;
}

char **strv_get(struct strv *sv)
{
    if (!sv->v && reserve(sv, 0) < 0)
        return NULL;
    sv->v[sv->n] = NULL;
    return sv->v;
}

char **strv_steal(struct strv *sv)
{
    char **v = strv_get(sv);
    sv->v = NULL;
    sv->n = sv->cap = 0;
    return v;
}

void strv_free(struct strv *sv)
{
    strv_free_array(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

void strv_free_array(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

char **strv_dup_array(const char *const *v)
{
    struct strv sv = {0};
    if (strv_extend(&sv, v) < 0) {
        strv_free(&sv);
        return NULL;
    }
    return strv_steal(&sv);
}
