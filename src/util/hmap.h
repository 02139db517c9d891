/* A string-keyed hash map of pointers (open addressing, FNV-1a). Keys are borrowed: they must
 * stay valid while in the map (usually the name inside the object stored). */
#pragma once

#include <stddef.h>

struct hmap_slot {
    const char *key; /* NULL = empty; HMAP_TOMBSTONE = deleted */
    void *value;
};

struct hmap {
    struct hmap_slot *slots;
    size_t cap;  /* power of two */
    size_t n;    /* live entries */
    size_t used; /* live + tombstones */
};

/** The value stored under @key, or NULL. */
void *hmap_get(const struct hmap *m, const char *key);

/** Store @value under @key, replacing any previous value. Returns 0 or -ENOMEM. */
int hmap_put(struct hmap *m, const char *key, void *value);

/** Remove @key; returns the value it had, or NULL. */
void *hmap_del(struct hmap *m, const char *key);

/** Call @fn for every entry (the map must not change meanwhile). */
void hmap_each(const struct hmap *m, void (*fn)(const char *key, void *value, void *ctx),
               void *ctx);

/** Free the table (not keys or values). */
void hmap_free(struct hmap *m);
