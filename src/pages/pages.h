/* HTML pages, redirects and static files under the hub's prefix; each handler is listed in
 * app/routes.c. Pages render web/templates with a JSON context (pages/template.h). */
#pragma once

#include "http/server.h"

#include <jansson.h>

struct hub;
struct hub_user;

/* pages/render.c */

/** The context given to every template (base_url, prefix, user, xsrf, login_url, ...) plus
 * JupyterHub.template_vars. A new reference. */
json_t *page_context(struct http_request *req, struct hub_user *u);

/** Render template @name into page.html with @ctx (stolen) and respond. */
int page_respond(struct http_request *req, int status, const char *name, json_t *ctx);

/** An error page (the render_error hook of the HTTP server); malloc'd HTML or NULL. */
char *page_render_error(struct http_request *req, int status, const char *message);

/** The logged-in user of a page request, or NULL. */
struct hub_user *page_user(struct http_request *req);

/** The logged-in user, or NULL after setting a redirect to the login page (with next). */
struct hub_user *page_require_user(struct http_request *req);

/** @next if it stays within the hub's origin (as a path), else NULL. */
const char *page_valid_next(struct http_request *req, const char *next);

/** Where to go after login or from /hub/: a valid ?next, @fallback, default_url, the user's
 * server (redirect_to_server) or the home page. */
const char *page_next_url(struct http_request *req, struct hub_user *u, const char *fallback);

/* pages/redirect.c */
int page_prefix_redirect(struct http_request *req);
int page_add_slash(struct http_request *req);
int page_not_found(struct http_request *req);
int page_root(struct http_request *req);

/* pages/login.c */

/** What a page does when a login fails: @err is -EACCES (refused), -ETIMEDOUT or another
 * negative errno, @message is for the user. Sets a response and returns 0. */
typedef int (*page_login_error_fn)(struct http_request *req, int err, const char *message);

/** Run the login pipeline with the authenticator's fields @data (copied), suspending @req; on
 * success start the session and redirect to @next (if valid) or the default page, else call
 * @on_error. Returns what a handler returns. */
int page_login_run(struct http_request *req, const json_t *data, const char *next,
                   page_login_error_fn on_error);

/** The same for a user the authenticator checked itself (its own pages): @result (copied) is
 * what `authenticate` would have returned. */
int page_login_accept(struct http_request *req, const json_t *result, const char *next,
                      page_login_error_fn on_error);

int page_login_get(struct http_request *req);
int page_login_post(struct http_request *req);
int page_logout(struct http_request *req);

/* pages/oauth_authorize.c: /hub/api/oauth2/authorize, the hub as an OAuth provider */
int page_oauth_authorize_get(struct http_request *req);
int page_oauth_authorize_post(struct http_request *req);

/* pages/oauth_login.c */
int page_oauth_login(struct http_request *req);
int page_oauth_callback(struct http_request *req);

/** Where the login page's "Sign in with ..." button leads (in request memory). */
const char *page_oauth_login_url(struct http_request *req, const char *next);

/* pages/auth_route.c */

/** The routes of the authenticator's own pages, to mount beside the hub's route @table: up to
 * @max written to @extra, their number to *@n_ret (the patterns are kept in the hub until
 * page_auth_routes_free). Returns 0 or a negative errno with a message (a bad path, one of the
 * hub's own). */
int page_auth_routes_build(struct hub *hub, const struct http_route *table,
                           struct http_route *extra, size_t max, size_t *n_ret, char *err,
                           size_t errlen);

/** Free the patterns page_auth_routes_build made (once the HTTP server is gone). */
void page_auth_routes_free(struct hub *hub);

/* pages/admin.c */
int page_admin(struct http_request *req);

/* pages/home.c */
int page_home(struct http_request *req);
int page_token(struct http_request *req);

/* pages/spawn.c */
int page_spawn(struct http_request *req);
int page_spawn_post(struct http_request *req);
int page_spawn_pending(struct http_request *req);
int page_user_url(struct http_request *req);
int page_user_redirect(struct http_request *req);
int page_proxy_error(struct http_request *req);

/* pages/static.c */
int page_static(struct http_request *req);
int page_logo(struct http_request *req);
/** A short hash of the embedded static files, for ?v= cache busting. */
void page_static_version(char out[17]);
