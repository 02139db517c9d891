/* Looking values up in JSON documents by a dotted path, as OAuthenticator reads
 * auth_state_groups_key ("oauth_user.groups") and auth_state_env values, and as a module reads
 * a claim nested in a provider's answer ("realm_access.roles", "orgs.0.name"). Implemented
 * once, in src/util/json.c.
 *
 *     const json_t *roles = gm_json_at(user_info, "realm_access.roles");
 *     if (json_is_array(roles)) ...
 *
 * Results are borrowed from the document: valid as long as it is and unchanged. */
#pragma once

#include <jansson.h>
#include <stdint.h>

/** The longest path accepted, in bytes; a longer one is -ENAMETOOLONG. */
#define GM_JSON_PATH_MAX 1024

/** Point *@ret at the value at @path in @root. The path's parts are separated by '.': on an
 * object a part is a key, on a list a part made only of ASCII digits is an index from 0
 * ("items.0.name"); "" is @root itself. Returns 0, -ENOENT (a key the object does not have, an
 * index past the end or not a number, a part under a value that is neither an object nor a
 * list, @root NULL), -EINVAL (@path NULL or with an empty part: ".a", "a.", "a..b") or
 * -ENAMETOOLONG. *@ret is written only on success. Keys that themselves contain '.' cannot be
 * reached. */
int gm_json_path(const json_t *root, const char *path, const json_t **ret);

/** gm_json_path's value, or NULL whatever the reason (what most callers want). */
const json_t *gm_json_at(const json_t *root, const char *path);

/** Merge @src into the object @dst recursively: where both have an object under a key the two
 * merge, anything else from @src replaces (a copy) what @dst had, as docker-py's and
 * zero-to-jupyterhub's dictionary merges do. Returns 0 or -ENOMEM. */
int gm_json_merge(json_t *dst, const json_t *src);

/** A user or group id at @path in @root (a uid from an identity provider's answer kept in
 * auth_state: "oauth_user.id"): a JSON integer, or a string of 1 to 10 ASCII digits, from 0 to
 * 2147483647. Returns 0 and *@ret, -ENOENT (nothing there), -EINVAL (another type, or a string
 * that is not digits) or -ERANGE (out of range), as gm_json_path for a bad @path. */
int gm_json_id_at(const json_t *root, const char *path, int64_t *ret);
