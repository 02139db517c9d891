/* NULL-terminated arrays of owned strings (argv, environments), built with a capped size. */
#pragma once

#include <stddef.h>

struct strv {
    char **v; /* NULL-terminated when non-NULL */
    size_t n;
    size_t cap;
};

/** Append a copy of @s. Returns 0 or -ENOMEM. */
int strv_push(struct strv *sv, const char *s);

/** Append a formatted string. */
int strv_pushf(struct strv *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Set NAME=value in an environment: replaces an existing NAME, else appends. */
int strv_setenv(struct strv *sv, const char *name, const char *value);

/** The value of NAME in an environment array, or NULL. */
const char *strv_getenv(char *const *env, const char *name);

/** Append copies of every string of a NULL-terminated array (NULL appends nothing). */
int strv_extend(struct strv *sv, const char *const *src);

/** The array, NULL-terminated even when empty (never NULL unless out of memory). */
char **strv_get(struct strv *sv);

/** Take the array out (caller frees with strv_free_array); @sv is empty afterwards. */
char **strv_steal(struct strv *sv);

/** Free the strings and the array. */
void strv_free(struct strv *sv);

/** Free a NULL-terminated array of owned strings (accepts NULL). */
void strv_free_array(char **v);

/** Deep copy of a NULL-terminated array (NULL gives an empty array). NULL if out of memory. */
char **strv_dup_array(const char *const *v);
