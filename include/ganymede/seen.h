/* Replay checks: a bounded set of the keys (nonces) seen recently, each remembered for a
 * while, the oldest forgotten first when the set is full. An LTI launch's nonce, an id_token's
 * nonce: a second use within the window is a replay.
 *
 *     struct gm_seen *s;
 *     gm_seen_new(4096, 60, &s);
 *     if (gm_seen_check_add(s, nonce, time(NULL)) == 1)
 *         return refuse("this launch was used already");
 *
 * A full set forgets its oldest key even within the window: size it for the busiest window
 * (keys a second times the window's seconds). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/** The longest key kept, in bytes. */
#define GM_SEEN_KEY_MAX 255

struct gm_seen;

/** A set of at most @max keys, each remembered for @ttl_s seconds. Returns 0, -EINVAL (@max
 * or @ttl_s is 0 or negative) or -ENOMEM. */
int gm_seen_new(size_t max, int64_t ttl_s, struct gm_seen **ret);

/** Free the set; accepts NULL. */
void gm_seen_free(struct gm_seen *s);

/** Whether @key was added less than ttl seconds before @now (seconds, any epoch, never going
 * back): returns 1 (seen: a replay; the key keeps its first time), or 0 after remembering it,
 * or -EINVAL (an empty key), -E2BIG (longer than GM_SEEN_KEY_MAX: nothing remembered) or
 * -ENOMEM. */
int gm_seen_check_add(struct gm_seen *s, const char *key, int64_t now);

/** How many keys the set remembers now (expired ones included until they are dropped). */
size_t gm_seen_count(const struct gm_seen *s);
