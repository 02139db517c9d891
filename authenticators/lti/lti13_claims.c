/* What an LTI 1.3 launch must say once its signature, issuer, audience, times and nonce are
 * checked (lti13.c): ltiauthenticator 1.6's validate_id_token (LTI 1.3 §5.3, the required
 * message claims), then who the user is and what their roles make them. */
#include "lti.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define RESOURCE_LINK "LtiResourceLinkRequest"
#define DEEP_LINKING  "LtiDeepLinkingRequest"

static const json_t *claim(const json_t *claims, const char *name)
{
    char key[128];
    snprintf(key, sizeof(key), LTI13_CLAIM "%s", name);
    return json_object_get(claims, key);
}

int lti13_check_claims(const struct lti13_rules *r, const json_t *claims, int64_t now, char *why,
                       size_t whylen)
{
    static const char *const required[] = {"version", "deployment_id", "target_link_uri",
                                           "roles",   "message_type",  NULL};
    for (const char *const *n = required; *n; n++)
        if (!claim(claims, *n)) {
            snprintf(why, whylen, "the launch has no %s claim (" LTI13_CLAIM "%s)", *n, *n);
            return -EACCES;
        }
    const char *version = json_string_value(claim(claims, "version"));
    if (!version || strcmp(version, "1.3.0") != 0) {
        snprintf(why, whylen, "the launch's LTI version is %.40s, not 1.3.0",
                 version ? version : "not a string");
        return -EACCES;
    }
    const json_t *context = claim(claims, "context");
    const json_t *label = json_object_get(context, "label");
    if (json_is_string(label) && !json_string_value(label)[0]) {
        snprintf(why, whylen, "the launch's context claim has an empty label");
        return -EACCES;
    }
    const char *type = json_string_value(claim(claims, "message_type"));
    if (!type || (strcmp(type, RESOURCE_LINK) != 0 && strcmp(type, DEEP_LINKING) != 0)) {
        snprintf(why, whylen,
                 "the launch's message_type is %.60s, not " RESOURCE_LINK " or " DEEP_LINKING,
                 type ? type : "not a string");
        return -EACCES;
    }
    const json_t *iat = json_object_get(claims, "iat");
    if (!json_is_number(iat) || json_number_value(iat) < (double)(now - r->max_age - r->leeway)) {
        snprintf(why, whylen, "the launch was issued more than %lld s ago (iat)",
                 (long long)r->max_age);
        return -EACCES;
    }
    if (strcmp(type, RESOURCE_LINK) == 0) {
        const char *id = json_string_value(json_object_get(claim(claims, "resource_link"), "id"));
        if (!id || !id[0]) {
            snprintf(why, whylen, "the launch has no resource_link id");
            return -EACCES;
        }
    }
    const json_t *deployment = claim(claims, "deployment_id");
    if (!json_is_string(deployment) || !json_string_value(deployment)[0]) {
        snprintf(why, whylen, "the launch's deployment_id is empty");
        return -EACCES;
    }
    return 0;
}

int lti13_username(const struct lti13_rules *r, const json_t *claims, char *out, size_t outlen,
                   char *why, size_t whylen)
{
    const char *key = r->username_key[0] ? r->username_key : "sub";
    const json_t *from = claims;
    if (strncmp(key, "custom_", 7) == 0) {
        from = claim(claims, "custom");
        key += 7;
    }
    const char *name = json_string_value(json_object_get(from, key));
    if (!name || !name[0]) /* ltiauthenticator: sub when the key gives nothing */
        name = json_string_value(json_object_get(claims, "sub"));
    if (!name || !name[0]) {
        snprintf(why, whylen, "the launch gives no user name (%s, nor sub)", r->username_key);
        return -EACCES;
    }
    if (strlen(name) >= outlen) {
        snprintf(why, whylen, "the launch's user name is longer than %zu bytes", outlen - 1);
        return -EACCES;
    }
    snprintf(out, outlen, "%s", name);
    return 0;
}

/* Whether the launch's role @role is @want: the same URI, or @want is a bare name
 * ("Instructor") and @role ends with "#" + it. */
static bool role_is(const char *role, const char *want)
{
    if (strcmp(role, want) == 0)
        return true;
    const char *hash = strrchr(role, '#');
    return !strstr(want, "://") && hash && strcmp(hash + 1, want) == 0;
}

bool lti13_is_admin(const struct lti13_rules *r, const json_t *claims)
{
    size_t i;
    const json_t *v;
    json_array_foreach(claim(claims, "roles"), i, v)
    {
        const char *role = json_string_value(v);
        for (const char *const *a = r->admin_roles; role && a && *a; a++)
            if (role_is(role, *a))
                return true;
    }
    return false;
}

json_t *lti13_groups(const struct lti13_rules *r, const json_t *claims)
{
    json_t *groups = json_array();
    size_t i;
    const json_t *v;
    json_array_foreach(claim(claims, "roles"), i, v)
    {
        const char *role = json_string_value(v), *k;
        const json_t *g;
        json_object_foreach((json_t *)r->role_groups, k, g)
        {
            if (!groups || !role || !role_is(role, k))
                continue;
            bool have = false;
            size_t j;
            const json_t *x;
            json_array_foreach(groups, j, x) have |= json_equal(x, g);
            if (!have && json_array_append(groups, (json_t *)g) < 0) {
                json_decref(groups);
                return NULL;
            }
        }
    }
    return groups;
}

/* Whether @s is a path on this hub ("/..." but not "//host" nor "/\host"). */
static bool local_path(const char *s)
{
    return s[0] == '/' && s[1] != '/' && s[1] != '\\' && !strpbrk(s, "\r\n");
}

void lti13_next(const char *next, const char *target_link_uri, const char *origin,
                const char *lti_prefix, char *out, size_t outlen)
{
    out[0] = '\0';
    if (next && next[0]) {
        if (local_path(next) && strlen(next) < outlen)
            snprintf(out, outlen, "%s", next);
        return;
    }
    size_t olen = strlen(origin);
    if (!target_link_uri || strncmp(target_link_uri, origin, olen) != 0)
        return;
    const char *path = target_link_uri + olen;
    if (!local_path(path) || strncmp(path, lti_prefix, strlen(lti_prefix)) == 0 ||
        strlen(path) >= outlen)
        return;
    snprintf(out, outlen, "%s", path);
}
