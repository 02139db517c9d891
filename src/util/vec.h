/* Growable arrays of pointers, and sorted sets of strings (small membership lists: a user's
 * groups, the users named in a scope filter). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct ptrvec {
    void **v;
    size_t n;
    size_t cap;
};

/** Append. Returns 0 or -ENOMEM. */
int ptrvec_push(struct ptrvec *pv, void *p);

/** Insert at @i (0 <= i <= n), shifting the rest. */
int ptrvec_insert(struct ptrvec *pv, size_t i, void *p);

/** Remove the element at @i, keeping order. */
void ptrvec_remove_at(struct ptrvec *pv, size_t i);

/** Remove the first occurrence of @p (order kept). Returns whether it was there. */
bool ptrvec_remove(struct ptrvec *pv, const void *p);

/** Index of @p, or -1. */
long ptrvec_index(const struct ptrvec *pv, const void *p);

/** Whether @p is in the vector. */
bool ptrvec_contains(const struct ptrvec *pv, const void *p);

/** Free the array (not the elements). */
void ptrvec_free(struct ptrvec *pv);

/* A sorted set of owned strings. */
struct strset {
    char **v;
    size_t n;
    size_t cap;
};

/** Add a copy of @s if absent. Returns 0 or -ENOMEM. */
int strset_add(struct strset *s, const char *str);

/** Membership by binary search. */
bool strset_has(const struct strset *s, const char *str);

/** Whether the two sets are equal. */
bool strset_equal(const struct strset *a, const struct strset *b);

/** Free every string and the array. */
void strset_free(struct strset *s);
