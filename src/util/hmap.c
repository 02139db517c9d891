/* Open-addressing string map with linear probing and tombstones. */
#include "util/hmap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char tombstone_mark;
#define HMAP_TOMBSTONE (&tombstone_mark)

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static struct hmap_slot *find(const struct hmap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    size_t i = hash(key) & (m->cap - 1);
    for (size_t probes = 0; probes < m->cap; probes++) {
        struct hmap_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->key != HMAP_TOMBSTONE && strcmp(s->key, key) == 0)
            return s;
        i = (i + 1) & (m->cap - 1);
    }
    return NULL;
}

void *hmap_get(const struct hmap *m, const char *key)
{
    struct hmap_slot *s = find(m, key);
    return s ? s->value : NULL;
}

static int resize(struct hmap *m, size_t cap)
{
    struct hmap_slot *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        struct hmap_slot *s = &m->slots[i];
        if (!s->key || s->key == HMAP_TOMBSTONE)
            continue;
        size_t j = hash(s->key) & (cap - 1);
        while (slots[j].key)
            j = (j + 1) & (cap - 1);
        slots[j] = *s;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    m->used = m->n;
    return 0;
}

int hmap_put(struct hmap *m, const char *key, void *value)
{
    struct hmap_slot *s = find(m, key);
    if (s) {
        s->value = value;
        s->key = key;
        return 0;
    }
    if ((m->used + 1) * 4 >= m->cap * 3) {
        size_t cap = m->cap ? m->cap : 16;
        while ((m->n + 1) * 2 >= cap)
            cap *= 2;
        if (resize(m, cap) < 0)
            return -ENOMEM;
    }
    size_t i = hash(key) & (m->cap - 1);
    while (m->slots[i].key && m->slots[i].key != HMAP_TOMBSTONE)
        i = (i + 1) & (m->cap - 1);
    if (!m->slots[i].key)
        m->used++;
    m->slots[i].key = key;
    m->slots[i].value = value;
    m->n++;
    return 0;
}

void *hmap_del(struct hmap *m, const char *key)
{
    struct hmap_slot *s = find(m, key);
    if (!s)
        return NULL;
    void *v = s->value;
    s->key = HMAP_TOMBSTONE;
    s->value = NULL;
    m->n--;
    return v;
}

void hmap_free(struct hmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = m->used = 0;
}

void hmap_each(const struct hmap *m, void (*fn)(const char *key, void *value, void *ctx), void *ctx)
{
    for (size_t i = 0; i < m->cap; i++) {
        const struct hmap_slot *s = &m->slots[i];
        if (s->key && s->key != HMAP_TOMBSTONE)
            fn(s->key, s->value, ctx);
    }
}
