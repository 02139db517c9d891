/* The LTI module's parts and how they talk to each other. Nothing outside authenticators/lti/
 * includes this file except its unit tests.
 *
 *   lti11.c        LTI11Authenticator: OAuth 1.0a signed launch forms (oauth1.c signs)
 *   lti13.c        LTI13Authenticator: the OpenID Connect launch (login initiation, the
 *                  platform's form_post, the tool's JSON configuration)
 *   lti13_claims.c what an LTI 1.3 id_token must say, the user it names, its roles
 *   lti_url.c      the URLs the platform sees (scheme behind proxies, host, path) */
#pragma once

#include <ganymede/request.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* lti_url.c */

/** The scheme the platform used to reach the hub: @uri_scheme when it is "https" or "http";
 * with "auto", X-Scheme's then X-Forwarded-Proto's first value when it is one of those, else
 * "http" (ltiauthenticator's get_browser_protocol). */
void lti_scheme(const char *uri_scheme, struct gm_request *req, char out[8]);

/** That scheme, this request's host and @path (NULL: this request's path) in @out; NULL when
 * the Host header is not a host name or @out is too small. */
const char *lti_url(const char *uri_scheme, struct gm_request *req, const char *path, char *out,
                    size_t outlen);

/* lti13_claims.c */

#define LTI13_CLAIM "https://purl.imsglobal.org/spec/lti/claim/"

struct lti13_rules {
    const char *username_key;       /* "email"; "custom_x" reads x of the custom claim */
    int64_t max_age;                /* seconds an id_token may be old (its iat) */
    int64_t leeway;                 /* seconds of clock skew */
    const char *const *admin_roles; /* role URIs (or their names after '#') making admins */
    const json_t *role_groups;      /* {role: group} */
};

/** The LTI claims ltiauthenticator checks in a verified launch: version 1.3.0, message type
 * LtiResourceLinkRequest (with a resource link id) or LtiDeepLinkingRequest, deployment_id,
 * target_link_uri and roles present, a context label not empty when there is a context, iat
 * not older than max_age. Returns 0 or -EACCES with the reason in @why. */
int lti13_check_claims(const struct lti13_rules *r, const json_t *claims, int64_t now, char *why,
                       size_t whylen);

/** The user name the launch gives (username_key, else sub), into @out. Returns 0, or -EACCES
 * with @why (no name at all, or longer than @outlen). */
int lti13_username(const struct lti13_rules *r, const json_t *claims, char *out, size_t outlen,
                   char *why, size_t whylen);

/** Whether the launch's roles hold one of admin_roles. */
bool lti13_is_admin(const struct lti13_rules *r, const json_t *claims);

/** The groups role_groups gives the launch's roles: a new array (possibly empty), NULL
 * without memory. */
json_t *lti13_groups(const struct lti13_rules *r, const json_t *claims);

/** Where the browser goes after the launch, as a path on this hub, into @out ("" for the
 * hub's default page): @next when it is a path, else @target_link_uri when it is on
 * @origin (scheme://host) and not one of the launch's own pages (under @lti_prefix). */
void lti13_next(const char *next, const char *target_link_uri, const char *origin,
                const char *lti_prefix, char *out, size_t outlen);
