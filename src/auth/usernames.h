/* User names as JupyterHub's Authenticator treats them: normalised (lower-cased, then
 * username_map) and validated (not empty, no '/', no surrounding spaces, username_pattern).
 * Ganymede also caps names at 255 bytes, the width of users.name. */
#pragma once

#include <ganymede/regex.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define AUTH_USERNAME_MAX 255

struct auth_usernames {
    json_t *map;              /* Authenticator.username_map (borrowed) */
    struct gm_regex *pattern; /* Authenticator.username_pattern (re.match: anchored at the
                                 start), or NULL */
};

/** Compile the rules. Returns 0 or -EINVAL with a message for a bad pattern. */
int auth_usernames_init(struct auth_usernames *u, const char *pattern, json_t *map, char *err,
                        size_t errlen);

void auth_usernames_release(struct auth_usernames *u);

/** Normalise @in into @out: lower-case (Unicode, as Python's str.lower for the common cases),
 * then username_map. Returns 0 or -EINVAL (not UTF-8, too long). */
int auth_username_normalize(const struct auth_usernames *u, const char *in, char *out,
                            size_t outlen);

/** Whether a normalised name is acceptable. */
bool auth_username_valid(const struct auth_usernames *u, const char *name);
