/* Request-lifetime memory (like nginx's pools): many small allocations, one free at the end.
 * The first block lives inside the owner's struct, so most requests never call malloc. */
#pragma once

#include <stddef.h>

struct arena_block;

struct arena {
    struct arena_block *blocks; /* extra blocks, freed by arena_free */
    char *pos;
    char *end;
    size_t used; /* total bytes handed out, for the cap */
    size_t max;
};

/** Start an arena that first hands out @n bytes of @initial (may be NULL/0) and never more than
 * @max bytes in total. */
void arena_init(struct arena *a, void *initial, size_t n, size_t max);

/** Allocate @n bytes aligned for any type; NULL when out of memory or over the cap. */
void *arena_alloc(struct arena *a, size_t n);

/** Zeroed allocation. */
void *arena_calloc(struct arena *a, size_t n);

/** Copy a string (NULL gives NULL). */
char *arena_strdup(struct arena *a, const char *s);

/** Copy @n bytes of @s and NUL-terminate. */
char *arena_strndup(struct arena *a, const char *s, size_t n);

/** printf into arena memory. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Free every block; the arena may be initialised again afterwards. */
void arena_free(struct arena *a);
