/* Pointer vectors and sorted string sets. */
#include "util/vec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int grow(void ***v, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 4;
    while (c < need)
        c *= 2;
    void **p = realloc(*v, c * sizeof(**v));
    if (!p)
        return -ENOMEM;
    *v = p;
    *cap = c;
    return 0;
}

int ptrvec_push(struct ptrvec *pv, void *p)
{
    if (grow(&pv->v, &pv->cap, pv->n + 1) < 0)
        return -ENOMEM;
    pv->v[pv->n++] = p;
    return 0;
}

int ptrvec_insert(struct ptrvec *pv, size_t i, void *p)
{
    if (grow(&pv->v, &pv->cap, pv->n + 1) < 0)
        return -ENOMEM;
    memmove(pv->v + i + 1, pv->v + i, (pv->n - i) * sizeof(*pv->v));
    pv->v[i] = p;
    pv->n++;
    return 0;
}

void ptrvec_remove_at(struct ptrvec *pv, size_t i)
{
    memmove(pv->v + i, pv->v + i + 1, (pv->n - i - 1) * sizeof(*pv->v));
    pv->n--;
}

long ptrvec_index(const struct ptrvec *pv, const void *p)
{
    for (size_t i = 0; i < pv->n; i++)
        if (pv->v[i] == p)
            return (long)i;
    return -1;
}

bool ptrvec_remove(struct ptrvec *pv, const void *p)
{
    long i = ptrvec_index(pv, p);
    if (i < 0)
        return false;
    ptrvec_remove_at(pv, (size_t)i);
    return true;
}

bool ptrvec_contains(const struct ptrvec *pv, const void *p)
{
    return ptrvec_index(pv, p) >= 0;
}

void ptrvec_free(struct ptrvec *pv)
{
    free(pv->v);
    pv->v = NULL;
    pv->n = pv->cap = 0;
}

/* Position where @str is or would go. */
static size_t lower_bound(const struct strset *s, const char *str, bool *found)
{
    size_t lo = 0, hi = s->n;
    *found = false;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s->v[mid], str);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int strset_add(struct strset *s, const char *str)
{
    bool found;
    size_t i = lower_bound(s, str, &found);
    if (found)
        return 0;
    if (grow((void ***)&s->v, &s->cap, s->n + 1) < 0)
        return -ENOMEM;
    char *copy = strdup(str);
    if (!copy)
        return -ENOMEM;
    memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof(*s->v));
    s->v[i] = copy;
    s->n++;
    return 0;
}

bool strset_has(const struct strset *s, const char *str)
{
    bool found;
    lower_bound(s, str, &found);
    return found;
}

bool strset_equal(const struct strset *a, const struct strset *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return false;
    return true;
}

void strset_free(struct strset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}
