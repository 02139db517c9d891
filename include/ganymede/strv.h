/* NULL-terminated arrays of owned strings (argv, environments), for the hub and for plugins
 * that keep a server's command line or environment past the start call (struct
 * gm_server_spec is borrowed). Implemented in src/util/strv.c.
 *
 *     char **env = gm_strv_dup_array(spec->env);
 *     struct gm_strv sv = {0};
 *     gm_strv_extend(&sv, spec->env);
 *     gm_strv_setenv(&sv, "HOME", home);
 *     char **submit_env = gm_strv_steal(&sv);      (free with gm_strv_free_array)
 */
#pragma once

#include <stddef.h>

struct gm_strv {
    char **v; /* NULL-terminated when non-NULL */
    size_t n;
    size_t cap;
};

/** Append a copy of @s. Returns 0 or -ENOMEM. */
int gm_strv_push(struct gm_strv *sv, const char *s);

/** Append a formatted string. */
int gm_strv_pushf(struct gm_strv *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Set NAME=value in an environment: replaces an existing NAME, else appends. */
int gm_strv_setenv(struct gm_strv *sv, const char *name, const char *value);

/** The value of NAME in an environment array, or NULL. */
const char *gm_strv_getenv(char *const *env, const char *name);

/** Append copies of every string of a NULL-terminated array (NULL appends nothing). */
int gm_strv_extend(struct gm_strv *sv, const char *const *src);

/** The array, NULL-terminated even when empty (never NULL unless out of memory). */
char **gm_strv_get(struct gm_strv *sv);

/** Take the array out (caller frees with gm_strv_free_array); @sv is empty afterwards. */
char **gm_strv_steal(struct gm_strv *sv);

/** Free the strings and the array. */
void gm_strv_free(struct gm_strv *sv);

/** Free a NULL-terminated array of owned strings (accepts NULL). */
void gm_strv_free_array(char **v);

/** Deep copy of a NULL-terminated array (NULL gives an empty array). NULL if out of memory. */
char **gm_strv_dup_array(const char *const *v);
