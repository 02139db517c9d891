/* Browser sessions as JupyterHub keeps them: the signed jupyterhub-hub-login cookie (holding
 * the user's cookie_id, path /hub/), the plain jupyterhub-session-id cookie (path base_url), and
 * the _xsrf cookie (a signed "session_id:cookie_id", path /hub/) whose value forms and API calls
 * made with the cookie must repeat (JupyterHub 4.1+). */
#pragma once

#include <stdbool.h>

struct http_request;
struct hub_user;

#define AUTH_LOGIN_COOKIE   "jupyterhub-hub-login"
#define AUTH_SESSION_COOKIE "jupyterhub-session-id"
#define AUTH_XSRF_COOKIE    "_xsrf"

/** The user of the request's valid login cookie, or NULL (an invalid cookie is cleared). */
struct hub_user *auth_session_user(struct http_request *req);

/** The session id from the cookie, or NULL. */
const char *auth_session_id(struct http_request *req);

/** Log @u in: set the login cookie, keep or make the session id, and set a fresh _xsrf for
 * the new identity. Returns 0 or -ENOMEM. */
int auth_session_start(struct http_request *req, struct hub_user *u);

/** Log out: clear the login, session and _xsrf cookies. */
void auth_session_clear(struct http_request *req);

/** The XSRF token pages must embed for this request (logged in as @u or anonymous); sets the
 * _xsrf cookie when a navigation has none or a stale one. In request memory. */
const char *auth_xsrf_token(struct http_request *req, struct hub_user *u);

/** Whether a cookie-authenticated request must prove its XSRF token (JupyterHub's
 * _needs_check_xsrf: not for navigations that only read). */
bool auth_xsrf_needed(struct http_request *req);

/** Check the token in the _xsrf argument (query or form) or X-XSRFToken/X-CSRFToken header
 * against the expected one. On failure @why is JupyterHub's message. */
bool auth_xsrf_check(struct http_request *req, struct hub_user *u, const char **why);

/** The value of a form or query field of the request, or NULL (form bodies are parsed once). */
const char *auth_form_field(struct http_request *req, const char *name);

/** Whether the request looks cross-site to the browser (Origin or Sec-Fetch-Site say so). */
bool auth_request_cross_site(struct http_request *req);
