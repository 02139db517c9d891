/* The authenticator's hooks beyond login: the plugin's own, else the hub's OAuth client. */
#include "auth/hooks.h"
#include "auth/authenticator.h"
#include "auth/login.h"
#include "auth/oauth2.h"
#include "core/hub.h"
#include <ganymede/buf.h>
#include <ganymede/strv.h>
#include "util/time.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdlib.h>
#include <string.h>

#define LOGOUT_URL_MAX 8192

struct auth_refresh {
    gm_refresh_cb cb;
    void *data;
    struct oauth2_refresh *oauth; /* the OAuth client's refresh, or NULL for a plugin's */
    bool cancelled;               /* a plugin's: its callback still comes, and frees this (the
                                     OAuth client's never comes once cancelled) */
};

bool auth_hooks_refresh_pre_spawn(const struct hub *hub)
{
    bool can = hub->authenticator->refresh_user || hub->oauth2;
    const json_t *v = hub->auth->refresh_pre_spawn;
    if (json_is_boolean(v))
        return can && json_is_true(v);
    return hub->oauth2 && hub->auth->enable_auth_state;
}

static void on_refreshed(void *data, int status, const json_t *result, const char *message)
{
    struct auth_refresh *r = data;
    if (!r->cancelled)
        r->cb(r->data, status, result, message);
    free(r);
}

int auth_hooks_refresh(struct hub *hub, const char *name, const json_t *auth_state,
                       gm_refresh_cb cb, void *data, struct auth_refresh **ret)
{
    const struct gm_authenticator *a = hub->authenticator;
    if (!a->refresh_user && !(hub->oauth2 && auth_state))
        return -ENOENT;
    struct auth_refresh *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->cb = cb;
    r->data = data;
    int err = a->refresh_user
                  ? a->refresh_user(hub->authenticator_state, name, auth_state, on_refreshed, r)
                  : oauth2_refresh(hub->oauth2, name, auth_state, on_refreshed, r, &r->oauth);
    if (err < 0) {
        free(r);
        return err;
    }
    if (ret)
        *ret = r;
    return 0;
}

void auth_hooks_refresh_cancel(struct auth_refresh *r)
{
    if (!r)
        return;
    if (r->oauth) {
        oauth2_refresh_cancel(r->oauth);
        free(r);
    } else {
        r->cancelled = true;
    }
}

/* Refresh on use (Authenticator.auth_refresh_age). Unlike JupyterHub, the request that finds
 * the login old is not held up: the refresh runs beside it, and only a refusal (not an
 * outage) makes the user log in again, at the next request. */

struct background_refresh {
    struct hub *hub;
    char *name; /* the user may be renamed or deleted meanwhile */
};

static void on_background_refresh(void *data, int status, const json_t *result, const char *message)
{
    struct background_refresh *b = data;
    struct hub_user *u = store_user_find(&b->hub->store, b->name);
    if (u) {
        u->auth_refreshing = false;
        if (status == 0 && result && auth_user_apply(b->hub, u, result) < 0)
            gm_log_warn("Cannot store the refreshed login of '%s'", u->name);
        if (status == -EACCES) {
            u->auth_stale = true;
            gm_log_warn("User %s has stale auth info (%s). Login is required to refresh.", u->name,
                        message ? message : "refused");
        } else if (status < 0 && status != -ECANCELED) {
            gm_log_warn("Cannot refresh the login of '%s' now: %s", u->name,
                        message ? message : strerror(-status));
        }
    }
    free(b->name);
    free(b);
}

bool auth_hooks_check_freshness(struct hub *hub, struct hub_user *u)
{
    if (u->auth_stale)
        return false;
    if (!hub->authenticator->refresh_user && !(hub->oauth2 && hub->auth->enable_auth_state))
        return true; /* nothing can refresh a login */
    double age = hub->auth->auth_refresh_age;
    int64_t now = time_now_us();
    if (age <= 0 || u->auth_refreshing || now - u->auth_refreshed_us < (int64_t)(age * 1e6))
        return true;
    u->auth_refreshed_us = now; /* tried now, whatever comes of it: no retry storm */
    json_t *state = hub->auth->enable_auth_state ? auth_state_load(hub, u) : NULL;
    struct background_refresh *b = calloc(1, sizeof(*b));
    int r = b && (b->name = strdup(u->name)) ? 0 : -ENOMEM;
    if (r == 0) {
        b->hub = hub;
        r = auth_hooks_refresh(hub, u->name, state, on_background_refresh, b, NULL);
    }
    json_decref(state);
    if (r < 0) {
        if (b)
            free(b->name);
        free(b);
        return true; /* nothing to refresh, or no way to now */
    }
    u->auth_refreshing = true;
    return true;
}

int auth_hooks_spawn_env(struct hub *hub, const char *name, const json_t *auth_state,
                         struct gm_strv *env, char *err, size_t errlen)
{
    const struct gm_authenticator *a = hub->authenticator;
    if (hub->oauth2 && auth_state && oauth2_spawn_env(hub->oauth2, auth_state, env) < 0)
        goto oom;
    if (!a->pre_spawn_start)
        return 0;
    json_t *vars = json_object();
    if (!vars)
        goto oom;
    err[0] = '\0';
    int r = a->pre_spawn_start(hub->authenticator_state, name, auth_state, vars, err, errlen);
    const char *key;
    json_t *v;
    json_object_foreach(vars, key, v)
    {
        if (r == 0 && json_is_string(v) && gm_strv_setenv(env, key, json_string_value(v)) < 0)
            r = -ENOMEM;
    }
    json_decref(vars);
    if (r < 0 && !err[0])
        snprintf(err, errlen, "the authenticator's pre_spawn_start failed: %s", strerror(-r));
    return r;
oom:
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
}

int auth_hooks_logout_url(struct hub *hub, struct hub_user *u, struct gm_buf *out)
{
    const struct gm_authenticator *a = hub->authenticator;
    if (!a->logout_url && !hub->oauth2)
        return 0;
    json_t *state = u ? auth_state_load(hub, u) : NULL;
    int r = 0;
    if (a->logout_url) {
        char url[LOGOUT_URL_MAX];
        size_t n = a->logout_url(hub->authenticator_state, state, url, sizeof(url));
        if (n > 0 && n < sizeof(url))
            r = gm_buf_append(out, url, n);
    } else {
        r = oauth2_logout_url(hub->oauth2, json_string_value(json_object_get(state, "id_token")),
                              out);
    }
    json_decref(state);
    return r;
}
