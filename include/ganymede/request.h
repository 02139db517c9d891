/* A browser request to one of an authenticator's own routes (struct gm_auth_route in
 * <ganymede/authenticator.h>), such as an LTI launch or a provider's callback. The handler
 * reads the request with the getters and answers it with exactly one of gm_request_respond,
 * gm_request_redirect, gm_request_error or gm_request_login, whose return value it returns.
 * Everything the getters return lives as long as the request. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

struct gm_request;

/** "GET", "POST", ... */
const char *gm_request_method(const struct gm_request *r);

/** A query parameter, else a field of a urlencoded form body, decoded; NULL when absent. */
const char *gm_request_param(const struct gm_request *r, const char *name);

/** Every query parameter and form field as a JSON object of strings; a repeated name keeps
 * its first value, the query's before the form's (as tornado's request.arguments). A new
 * reference, NULL without memory. */
json_t *gm_request_params(const struct gm_request *r);

/** A request header (case-insensitive name), or NULL. */
const char *gm_request_header(const struct gm_request *r, const char *name);

/** A cookie's value, or NULL. */
const char *gm_request_cookie(const struct gm_request *r, const char *name);

/** The URL the browser asked for, as it would be signed: scheme, Host header, path, and no
 * query ("https://hub.example.org/hub/lti/launch"). NULL when the Host header is not a host. */
const char *gm_request_url(const struct gm_request *r);

/** Set a cookie on the response: HttpOnly, SameSite=Lax, path the hub's prefix, Secure over
 * https; @max_age in seconds, or -1 to clear it. Returns 0 or a negative errno. */
int gm_request_set_cookie(struct gm_request *r, const char *name, const char *value, long max_age);

/** The same for a cookie that must come back with a request another site's page makes (an LTI
 * platform's form_post, a launch inside the platform's iframe): over https SameSite=None,
 * Secure and Partitioned (kept per top-level site, so third-party cookie blocking leaves it
 * alone); over http SameSite=Lax, as browsers drop SameSite=None without Secure (then only
 * same-site pages bring it back). Returns 0 or a negative errno. */
int gm_request_set_cross_site_cookie(struct gm_request *r, const char *name, const char *value,
                                     long max_age);

/** Whether the browser reached the hub over https (directly or per X-Forwarded-Proto). */
bool gm_request_is_https(const struct gm_request *r);

/** Answer with @status, @content_type and @body (copied). */
int gm_request_respond(struct gm_request *r, int status, const char *content_type,
                       const char *body);

/** Answer with a 302 to @url (absolute, or a path on this hub). */
int gm_request_redirect(struct gm_request *r, const char *url);

/** Answer with the hub's error page (or JSON for a client that asks for it): @status and a
 * message for the user. */
int gm_request_error(struct gm_request *r, int status, const char *message);

/** Call @fn(@data, name, value) for every query parameter, then every form field, in order,
 * repeated names included (what an OAuth 1.0 signature covers). */
void gm_request_each_param(const struct gm_request *r,
                           void (*fn)(void *data, const char *name, const char *value), void *data);

/** Log in with @data (copied): the hub calls the authenticator's `authenticate` with it, then
 * runs JupyterHub's pipeline (normalisation, blocked and allowed users, admin, groups,
 * auth_state), starts the session and redirects to @next when it stays on this hub (else to
 * the default page). A refusal or failure answers with the error page: 403 for -EACCES, 400
 * for -EINVAL (a request that is not what it must be), 504 for -ETIMEDOUT, else 500. */
int gm_request_login(struct gm_request *r, const json_t *data, const char *next);

/** Log in a user the plugin has checked itself (a signed launch): @result (copied) is what
 * `authenticate` would return, {"name", "admin"?, "groups"?, "auth_state"?}; the hub's
 * pipeline, session and redirect follow as for gm_request_login. */
int gm_request_login_as(struct gm_request *r, const json_t *result, const char *next);
