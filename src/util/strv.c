/* NULL-terminated string arrays. */
#include <ganymede/strv.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct gm_strv *sv, size_t more)
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

static int push_owned(struct gm_strv *sv, char *s)
{
    if (!s || reserve(sv, 1) < 0) {
        free(s);
        return -ENOMEM;
    }
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
    return 0;
}

int gm_strv_push(struct gm_strv *sv, const char *s)
{
    return push_owned(sv, strdup(s));
}

int gm_strv_pushf(struct gm_strv *sv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return push_owned(sv, n < 0 ? NULL : s);
}

int gm_strv_setenv(struct gm_strv *sv, const char *name, const char *value)
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

const char *gm_strv_getenv(char *const *env, const char *name)
{
    size_t n = strlen(name);
    for (char *const *e = env; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

int gm_strv_extend(struct gm_strv *sv, const char *const *src)
{
    for (const char *const *s = src; s && *s; s++)
        if (gm_strv_push(sv, *s) < 0)
            return -ENOMEM;
    return 0;
}

char **gm_strv_get(struct gm_strv *sv)
{
    if (!sv->v && reserve(sv, 0) < 0)
        return NULL;
    sv->v[sv->n] = NULL;
    return sv->v;
}

char **gm_strv_steal(struct gm_strv *sv)
{
    char **v = gm_strv_get(sv);
    sv->v = NULL;
    sv->n = sv->cap = 0;
    return v;
}

void gm_strv_free(struct gm_strv *sv)
{
    gm_strv_free_array(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

void gm_strv_free_array(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

char **gm_strv_dup_array(const char *const *v)
{
    struct gm_strv sv = {0};
    if (gm_strv_extend(&sv, v) < 0) {
        gm_strv_free(&sv);
        return NULL;
    }
    return gm_strv_steal(&sv);
}
