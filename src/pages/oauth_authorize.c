/* /hub/api/oauth2/authorize: a page, though under /hub/api (the browser is sent here by a
 * server or service that wants to know who it is): the confirmation and the redirect with the
 * code, as JupyterHub's apihandlers/auth.py. The token endpoint is api/oauth.c. */
#include "auth/oauth_provider.h"
#include "auth/scopes.h"
#include "auth/session.h"
#include "core/hub.h"
#include "pages/pages.h"
#include <ganymede/buf.h>
#include <ganymede/encode.h>
#include "util/str.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A redirect to the client with an OAuth error (the redirect_uri was verified). */
static int redirect_error(struct http_request *req, const struct oauth_request *o,
                          const char *error)
{
    struct gm_buf b;
    gm_buf_init(&b, 16384);
    gm_buf_puts(&b, o->redirect_uri);
    gm_buf_putc(&b, strchr(o->redirect_uri, '?') ? '&' : '?');
    gm_buf_puts(&b, "error=");
    gm_url_encode(&b, error, "");
    if (o->state) {
        gm_buf_puts(&b, "&state=");
        gm_url_encode(&b, o->state, "");
    }
    int r = http_redirect(req, 302, b.data ? b.data : "/");
    gm_buf_free(&b);
    return r;
}

static int check(struct http_request *req, struct hub_user *u, struct oauth_request *o)
{
    char err[512];
    int r = oauth_authorize_check(req->hub, u, http_query(req, "client_id"),
                                  http_query(req, "redirect_uri"), http_query(req, "response_type"),
                                  http_query(req, "scope"), http_query(req, "state"), o, err,
                                  sizeof(err));
    if (r == -ENOENT || r == -EINVAL)
        http_error(req, 400, "%s", err);
    else if (r == -EPROTO)
        redirect_error(req, o, err);
    else if (r == -EACCES)
        http_error(req, 403, "%s", err);
    else if (r < 0)
        http_error_errno(req, r);
    return r;
}

static int grant(struct http_request *req, struct hub_user *u, const struct oauth_request *o,
                 const json_t *scopes)
{
    char *location = NULL;
    int r = oauth_issue_code(req->hub, u, o, scopes, auth_session_id(req), &location);
    if (r < 0)
        return http_error(req, 500, "Cannot issue an authorization code: %s", strerror(-r));
    gm_log_info("OAuth: %s authorized %s", u->name, o->client->identifier);
    r = http_redirect(req, 302, location);
    free(location);
    return r;
}

/* The confirmation page, for clients that are not the user's own server. */
static int confirm_page(struct http_request *req, struct hub_user *u, const struct oauth_request *o)
{
    json_t *ctx = page_context(req, u);
    if (!ctx)
        return -ENOMEM;
    const struct scope_registry *reg = req->hub->store.scopes;
    json_t *list = json_array();
    size_t i;
    json_t *x;
    bool more = false;
    json_array_foreach(o->scopes, i, x)
    {
        const char *s = json_string_value(x);
        char base[256];
        size_t n = strcspn(s, "!");
        snprintf(base, sizeof(base), "%.*s", (int)(n < 255 ? n : 255), s);
        int id = scope_lookup(reg, base);
        bool identify = str_has_prefix(s, "read:users:name!user") ||
                        str_has_prefix(s, "read:users:groups!user");
        bool required = identify || strcmp(s, o->access) == 0;
        more = more || !required;
        json_array_append_new(list, json_pack("{s:s,s:s,s:s?,s:b}", "scope", s, "description",
                                              id >= 0 ? reg->descriptions[id] : s, "filter",
                                              s[n] ? s + n + 1 : NULL, "required", required));
    }
    json_object_set_new(ctx, "scope_descriptions", list);
    json_object_set_new(ctx, "has_more", json_boolean(more));
    json_object_set_new(
        ctx, "oauth_client_description",
        json_string(o->client->description[0] ? o->client->description : o->client->identifier));
    json_object_set_new(ctx, "oauth_client_redirect_uri", json_string(o->redirect_uri));
    json_object_set_new(ctx, "title", json_string("Authorize access"));
    return page_respond(req, 200, "oauth.html", ctx);
}

int page_oauth_authorize_get(struct http_request *req)
{
    struct hub_user *u = page_require_user(req);
    if (!u)
        return 0;
    struct oauth_request o;
    if (check(req, u, &o) < 0) {
        oauth_request_release(&o);
        return 0;
    }
    int r = o.own_client ? grant(req, u, &o, NULL) : confirm_page(req, u, &o);
    oauth_request_release(&o);
    return r;
}

int page_oauth_authorize_post(struct http_request *req)
{
    struct hub_user *u = page_user(req);
    if (!u)
        return http_error(req, 403, "You are not logged in");
    const char *why = NULL;
    if (!auth_xsrf_check(req, u, &why))
        return http_error(req, 403, "%s", why);
    struct oauth_request o;
    if (check(req, u, &o) < 0) {
        oauth_request_release(&o);
        return 0;
    }
    /* The scopes the user left checked, of those requested; identity and access always. */
    json_t *chosen = json_array();
    http_form(req, "scopes"); /* parses the form */
    size_t i;
    json_t *x;
    json_array_foreach(o.scopes, i, x)
    {
        const char *s = json_string_value(x);
        bool keep = strcmp(s, o.access) == 0 || str_has_prefix(s, "read:users:name!user") ||
                    str_has_prefix(s, "read:users:groups!user");
        for (struct http_query_param *p = req->form_params; p && !keep; p = p->next)
            keep = strcmp(p->name, "scopes") == 0 && strcmp(p->value, s) == 0;
        if (keep)
            json_array_append(chosen, x);
    }
    int r = grant(req, u, &o, chosen);
    json_decref(chosen);
    oauth_request_release(&o);
    return r;
}
