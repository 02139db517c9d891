/* Bump allocator with a size cap for request-lifetime memory. */
#include "util/arena.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
    struct arena_block *next;
    max_align_t data[];
};

#define ARENA_ALIGN _Alignof(max_align_t)
#define ARENA_BLOCK 8192

void arena_init(struct arena *a, void *initial, size_t n, size_t max)
{
    a->blocks = NULL;
    a->pos = initial;
    a->end = initial ? (char *)initial + n : NULL;
    a->used = 0;
    a->max = max;
}

void *arena_alloc(struct arena *a, size_t n)
{
    size_t need = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    if (need < n || a->used + need > a->max)
        return NULL;
    uintptr_t p = ((uintptr_t)a->pos + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1);
    if (!a->pos || p + need > (uintptr_t)a->end) {
        /* A large allocation gets a block of its own; small ones start a fresh shared block. */
        bool dedicated = need > ARENA_BLOCK / 2;
        struct arena_block *b = malloc(sizeof(*b) + (dedicated ? need : ARENA_BLOCK));
        if (!b)
            return NULL;
        b->next = a->blocks;
        a->blocks = b;
        if (dedicated) {
            a->used += need;
            return b->data;
        }
        a->pos = (char *)b->data;
        a->end = a->pos + ARENA_BLOCK;
        p = (uintptr_t)a->pos;
    }
    a->pos = (char *)(p + need);
    a->used += need;
    return (void *)p;
}

void *arena_calloc(struct arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = arena_alloc(a, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void arena_free(struct arena *a)
{
    struct arena_block *b = a->blocks;
    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->blocks = NULL;
    a->pos = a->end = NULL;
    a->used = 0;
}
