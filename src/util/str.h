/* Small string helpers used everywhere: strict number parsing (instead of atoi), bounded copies,
 * constant-time comparison. None of them allocate unless they say so. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Parse a whole string as a base-10 integer. Returns 0, or -EINVAL (not a number, trailing
 * characters, empty) or -ERANGE. @ret is written only on success. */
int str_to_int64(const char *s, int64_t *ret);

/** Parse a whole string as a finite floating-point number. Same contract as str_to_int64. */
int str_to_double(const char *s, double *ret);

/** Copy @src (NULL: "") into @dst of @size bytes, always NUL-terminating. Returns -E2BIG if
 * truncated. */
int str_copy(char *dst, size_t size, const char *src);

/** strdup that returns NULL for NULL. */
char *str_dup(const char *s);

/** Duplicate at most @n bytes of @s (NUL-terminated result). */
char *str_ndup(const char *s, size_t n);

/** True if @s starts with @prefix. */
bool str_has_prefix(const char *s, const char *prefix);

/** True if @s ends with @suffix. */
bool str_has_suffix(const char *s, const char *suffix);

/** ASCII case-insensitive equality. */
bool str_eq_ci(const char *a, const char *b);

/** Equality that accepts NULL on either side (two NULLs are equal). */
bool str_eq(const char *a, const char *b);

/** Compare two byte strings in time independent of where they differ. */
bool str_ct_eq(const void *a, size_t alen, const void *b, size_t blen);

/** Levenshtein distance between two short strings (capped at 64 characters each, beyond which
 * the result is a large number). Used to suggest the closest config key. */
unsigned str_distance(const char *a, const char *b);

/** Lower-case ASCII letters in place. */
void str_lower(char *s);
