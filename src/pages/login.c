/* /hub/login and /hub/logout (JupyterHub's handlers/login.py). The login POST suspends the
 * request while the authenticator works (PAM runs on the thread pool) and answers with a
 * redirect and the session cookies, or the form again with the reason. */
#include "auth/hooks.h"
#include "auth/authenticator.h"
#include "auth/login.h"
#include "auth/oauth2.h"
#include "auth/session.h"
#include "core/hub.h"
#include "pages/pages.h"
#include <ganymede/buf.h>
#include <ganymede/encode.h>
#include "spawn/spawn.h"
#include "util/str.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOGIN_FORM_MAX   (64 << 10)
#define LOGIN_TIMEOUT_MS 60000

static int render_login(struct http_request *req, int status, const char *error,
                        const char *username)
{
    struct hub *hub = req->hub;
    json_t *ctx = page_context(req, NULL);
    if (!ctx)
        return -ENOMEM;
    const char *next = page_valid_next(req, http_query(req, "next"));
    if (!next)
        next = page_valid_next(req, http_form(req, "next"));
    struct gm_buf action;
    gm_buf_init(&action, 16384);
    gm_buf_printf(&action, "%slogin", hub->hub_prefix);
    if (next) {
        gm_buf_puts(&action, "?next=");
        gm_url_encode(&action, next, "/");
    }
    const struct gm_authenticator *a = hub->authenticator;
    const char *service = hub->oauth2 ? oauth2_login_service(hub->oauth2) : a->login_service;
    if (service) {
        json_object_set_new(ctx, "login_service", json_string(service));
        const char *url = hub->oauth2 ? page_oauth_login_url(req, next) : "";
        json_object_set_new(ctx, "authenticator_login_url", json_string(url ? url : ""));
        if (a->login_message)
            json_object_set_new(ctx, "login_message", json_string(a->login_message));
    } else {
        json_object_set_new(ctx, "authenticator_login_url",
                            json_string(action.data ? action.data : ""));
    }
    gm_buf_free(&action);
    json_object_set_new(ctx, "next", json_string(next ? next : ""));
    json_object_set_new(ctx, "username", json_string(username ? username : ""));
    if (error)
        json_object_set_new(ctx, "login_error", json_string(error));
    json_object_set_new(ctx, "title", json_string("Sign in"));
    json_object_set_new(ctx, "show_login", json_false());
    const char *announcement =
        json_string_value(json_object_get(hub->conf.template_vars, "announcement_login"));
    if (announcement)
        json_object_set_new(ctx, "announcement", json_string(announcement));
    return page_respond(req, status, "login.html", ctx);
}

int page_login_get(struct http_request *req)
{
    struct hub *hub = req->hub;
    struct hub_user *u = page_user(req);
    if (u) {
        /* Already logged in: refresh the cookies and go on. */
        auth_session_start(req, u);
        return http_redirect(req, 302, page_next_url(req, u, NULL));
    }
    if (hub->oauth2 && hub->auth->auto_login) {
        const char *url = page_oauth_login_url(req, page_valid_next(req, http_query(req, "next")));
        return url ? http_redirect(req, 302, url) : -ENOMEM;
    }
    return render_login(req, 200, NULL, NULL);
}

/* The login in progress for a suspended request. */
struct pending_login {
    struct http_request *req;
    struct auth_login *login;
    const char *next; /* in request memory, or NULL */
    page_login_error_fn on_error;
};

static void login_detach(struct http_request *req)
{
    struct pending_login *p = req->wait_data;
    if (p && p->login) {
        auth_login_cancel(p->login);
        p->login = NULL;
    }
}

static void login_timeout(struct http_request *req)
{
    struct pending_login *p = req->wait_data;
    p->on_error(req, -ETIMEDOUT, "The login service did not answer in time; try again.");
}

static void login_done(void *data, int status, struct hub_user *u, const char *message)
{
    struct pending_login *p = data;
    struct http_request *req = p->req;
    p->login = NULL;
    req->detach = NULL;
    if (status == 0) {
        req->user = u->name;
        if (auth_session_start(req, u) < 0)
            http_error(req, 500, "Out of memory");
        else
            http_redirect(req, 302, page_next_url(req, u, page_valid_next(req, p->next)));
    } else {
        p->on_error(req, status, message ? message : "The login failed; try again.");
    }
    http_resume(req);
}

/* Both ways in: the authenticator checks @data, or @result is already checked (@accepted). */
static int run_login(struct http_request *req, const json_t *json, bool accepted, const char *next,
                     page_login_error_fn on_error)
{
    struct pending_login *p = arena_calloc(&req->arena, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->req = req;
    p->on_error = on_error;
    p->next = next ? arena_strdup(&req->arena, next) : NULL;
    int r = accepted ? auth_login_accept(req->hub, json, login_done, p, &p->login)
                     : auth_login_start(req->hub, json, login_done, p, &p->login);
    if (r < 0)
        return on_error(req, r, "The login could not be started; try again.");
    req->wait_data = p;
    req->detach = login_detach;
    req->on_timeout = login_timeout;
    r = http_suspend(req, LOGIN_TIMEOUT_MS);
    if (r < 0) {
        login_detach(req);
        req->detach = NULL;
        return http_error(req, 503, "The hub is shutting down");
    }
    return HTTP_SUSPENDED;
}

int page_login_run(struct http_request *req, const json_t *data, const char *next,
                   page_login_error_fn on_error)
{
    return run_login(req, data, false, next, on_error);
}

int page_login_accept(struct http_request *req, const json_t *result, const char *next,
                      page_login_error_fn on_error)
{
    return run_login(req, result, true, next, on_error);
}

static int form_error(struct http_request *req, int status, const char *message)
{
    return render_login(req,
                        status == -EACCES      ? 403
                        : status == -ETIMEDOUT ? 504
                                               : 500,
                        message, http_form(req, "username"));
}

int page_login_post(struct http_request *req)
{
    struct hub *hub = req->hub;
    const char *ct = http_header(req, "Content-Type");
    if (req->body.len > LOGIN_FORM_MAX)
        return http_error(req, 400, "The login form is too large");
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0)
        return http_error(req, 400,
                          "The login form must be sent as "
                          "application/x-www-form-urlencoded");
    /* The form carries the page's _xsrf token; a request without one is only accepted when it
     * does not come from another site (scripts and load tests post the form directly). */
    const char *why;
    const char *token = http_form(req, "_xsrf");
    if ((token && !auth_xsrf_check(req, NULL, &why)) || (!token && auth_request_cross_site(req)))
        return render_login(req, 403, "Login form invalid or expired. Try again.", NULL);
    if (hub->oauth2)
        return http_error(req, 404, "This hub signs in with %s: use the button on the login page",
                          oauth2_login_service(hub->oauth2));
    if (!hub->authenticator->authenticate)
        return http_error(req, 404, "This hub has no login form; use an API token");
    json_t *data = json_object();
    if (!data)
        return -ENOMEM;
    /* Every form field but _xsrf goes to the authenticator; the user name is stripped. */
    for (struct http_query_param *f = req->form_params; f; f = f->next) {
        if (strcmp(f->name, "_xsrf") == 0 || strcmp(f->name, "next") == 0)
            continue;
        const char *v = f->value;
        if (strcmp(f->name, "username") == 0) {
            while (*v == ' ' || *v == '\t')
                v++;
            char *copy = arena_strdup(&req->arena, v);
            size_t n = copy ? strlen(copy) : 0;
            while (n && (copy[n - 1] == ' ' || copy[n - 1] == '\t'))
                copy[--n] = '\0';
            v = copy ? copy : "";
        }
        json_t *s = json_string(v);
        if (!s) {
            json_decref(data);
            return http_error(req, 400, "The login form is not valid UTF-8");
        }
        json_object_set_new(data, f->name, s);
    }
    if (!json_object_get(data, "username"))
        json_object_set_new(data, "username", json_string(""));
    if (!json_object_get(data, "password"))
        json_object_set_new(data, "password", json_string(""));
    /* The form's own next (the login page carries it in its action URL). */
    int r = page_login_run(req, data, NULL, form_error);
    json_decref(data);
    return r;
}

/* Where the authenticator sends the browser after the hub's own logout (a provider's logout
 * page), for @u or nobody; NULL for the hub's own logout page. */
static const char *provider_logout_url(struct http_request *req, struct hub_user *u)
{
    struct gm_buf b;
    gm_buf_init(&b, 64 << 10);
    auth_hooks_logout_url(req->hub, u, &b);
    const char *url = b.len ? arena_strdup(&req->arena, b.data) : NULL;
    gm_buf_free(&b);
    return url;
}

int page_logout(struct http_request *req)
{
    struct hub *hub = req->hub;
    struct hub_user *u = page_user(req);
    /* As oauthenticator: to the provider's logout even without a session here. */
    const char *provider_logout = provider_logout_url(req, u);
    if (u) {
        /* Tokens issued to this browser session (OAuth logins to servers) end with it. */
        const char *session = auth_session_id(req);
        for (size_t i = u->tokens.n; session && i-- > 0;) {
            struct hub_token *t = u->tokens.v[i];
            if (t->session_id && strcmp(t->session_id, session) == 0)
                store_token_delete(&hub->store, t);
        }
        if (hub->conf.shutdown_on_logout)
            for (size_t i = 0; i < u->spawners.n; i++)
                if (spawn_state(u->spawners.v[i]) != SPAWN_IDLE)
                    spawn_stop(hub, u->spawners.v[i], false);
        gm_log_info("User logged out: %s", u->name);
    }
    auth_session_clear(req);
    if (provider_logout)
        return http_redirect(req, 302, provider_logout);
    if (hub->auth->auto_login) {
        json_t *ctx = page_context(req, NULL);
        if (!ctx)
            return -ENOMEM;
        json_object_set_new(ctx, "title", json_string("Logged out"));
        return page_respond(req, 200, "logout.html", ctx);
    }
    char *login = arena_printf(&req->arena, "%slogin", hub->hub_prefix);
    return http_redirect(req, 302, login ? login : "/");
}
