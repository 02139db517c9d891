/* <ganymede/seen.h>: a ring of entries in the order they were added (the oldest is the next
 * one overwritten) and a hash map from key to entry. */
#include "util/hmap.h"

#include <errno.h>
#include <ganymede/seen.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    int64_t added;
    char key[GM_SEEN_KEY_MAX + 1]; /* "" for a free slot */
};

struct gm_seen {
    struct entry *ring;
    size_t max;
    size_t next; /* the slot the next key goes to: the oldest when the ring is full */
    size_t count;
    int64_t ttl;
    struct hmap index; /* key -> entry (keys are the entries' own) */
};

int gm_seen_new(size_t max, int64_t ttl_s, struct gm_seen **ret)
{
    if (max == 0 || ttl_s <= 0)
        return -EINVAL;
    struct gm_seen *s = calloc(1, sizeof(*s));
    if (!s || !(s->ring = calloc(max, sizeof(*s->ring)))) {
        free(s);
        return -ENOMEM;
    }
    s->max = max;
    s->ttl = ttl_s;
    *ret = s;
    return 0;
}

void gm_seen_free(struct gm_seen *s)
{
    if (!s)
        return;
    hmap_free(&s->index);
    free(s->ring);
    free(s);
}

/* Forget the entry in @slot, if any. */
static void drop(struct gm_seen *s, struct entry *e)
{
    if (!e->key[0])
        return;
    hmap_del(&s->index, e->key);
    e->key[0] = '\0';
    s->count--;
}

int gm_seen_check_add(struct gm_seen *s, const char *key, int64_t now)
{
    size_t n = strlen(key);
    if (n == 0)
        return -EINVAL;
    if (n > GM_SEEN_KEY_MAX)
        return -E2BIG;
    struct entry *e = hmap_get(&s->index, key);
    if (e && now - e->added < s->ttl)
        return 1;
    if (e)
        drop(s, e); /* expired: remembered again below, as new */
    struct entry *slot = &s->ring[s->next];
    drop(s, slot);
    slot->added = now;
    memcpy(slot->key, key, n + 1);
    if (hmap_put(&s->index, slot->key, slot) < 0) {
        slot->key[0] = '\0';
        return -ENOMEM;
    }
    s->count++;
    s->next = (s->next + 1) % s->max;
    return 0;
}

size_t gm_seen_count(const struct gm_seen *s)
{
    return s->count;
}
