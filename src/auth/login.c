/* The login pipeline (JupyterHub's Authenticator.get_authenticated_user and
 * BaseHandler.auth_to_user). */
#include "auth/login.h"
#include "auth/authenticator.h"
#include "auth/crypt.h"
#include "auth/oauth2.h"
#include "auth/rbac.h"
#include "auth/usernames.h"
#include "core/hub.h"
#include "util/str.h"
#include "util/time.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdlib.h>
#include <string.h>

struct auth_login {
    struct hub *hub;
    auth_login_cb cb;
    void *cb_data;
    bool cancelled;
};

static bool in_list(char *const *list, const char *name)
{
    for (char *const *p = list; p && *p; p++)
        if (strcmp(*p, name) == 0)
            return true;
    return false;
}

int auth_login_allowed(struct hub *hub, const char *name, int plugin_allowed)
{
    const struct auth_config *c = hub->auth;
    bool has_allowed = hub->allowed_names && hub->allowed_names[0];
    bool allow_all = json_is_boolean(c->allow_all)
                         ? json_is_true(c->allow_all)
                         : (hub->authenticator->allow_all_by_default && !has_allowed);
    /* OAuthenticator's default is a flat False. */
    bool allow_existing = json_is_boolean(c->allow_existing_users)
                              ? json_is_true(c->allow_existing_users)
                              : has_allowed && !hub->authenticator->oauth2;
    /* Admins are allowed whenever an allowed_users list exists (JupyterHub's init_users). */
    if (allow_all || in_list(hub->allowed_names, name) || plugin_allowed > 0 ||
        (has_allowed && in_list(hub->admin_names, name)))
        return 1;
    return allow_existing && store_user_find(&hub->store, name) ? 1 : 0;
}

json_t *auth_state_load(struct hub *hub, struct hub_user *u)
{
    void *blob = NULL;
    size_t len = 0;
    if (!auth_crypt_available(hub->crypt) ||
        store_user_auth_state(&hub->store, u, &blob, &len) < 0 || !blob)
        return NULL;
    json_t *v = NULL;
    int r = auth_crypt_decrypt(hub->crypt, blob, len, &v);
    free(blob);
    if (r < 0) {
        gm_log_warn("Failed to decrypt auth_state for user '%s'", u->name);
        return NULL;
    }
    return v;
}

char *auth_state_text(struct hub *hub, struct hub_user *u)
{
    json_t *v = auth_state_load(hub, u);
    if (!v)
        return NULL;
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    return text;
}

int auth_state_save(struct hub *hub, struct hub_user *u, const json_t *state)
{
    if (!state || json_is_null(state))
        return store_user_set_auth_state(&hub->store, u, NULL, 0);
    char *token = NULL;
    size_t len = 0;
    int r = auth_crypt_encrypt(hub->crypt, state, &token, &len);
    if (r < 0)
        return r;
    r = store_user_set_auth_state(&hub->store, u, token, len);
    free(token);
    return r;
}

/* Make the user's groups exactly @names (manage_groups), creating missing groups. */
static int sync_groups(struct hub *hub, struct hub_user *u, const json_t *names)
{
    struct hub_store *s = &hub->store;
    for (size_t i = u->groups.n; i-- > 0;) {
        struct hub_group *g = u->groups.v[i];
        bool keep = false;
        size_t j;
        json_t *n;
        json_array_foreach(names, j, n)
        {
            keep = keep || (json_is_string(n) && strcmp(json_string_value(n), g->name) == 0);
        }
        if (!keep) {
            int r = store_group_remove_user(s, g, u);
            if (r < 0)
                return r;
        }
    }
    size_t j;
    json_t *n;
    json_array_foreach(names, j, n)
    {
        const char *name = json_string_value(n);
        if (!name || !name[0] || strlen(name) > 255)
            continue;
        struct hub_group *g = store_group_find(s, name);
        int r = 0;
        if (!g)
            r = store_group_create(s, name, &g);
        if (r == 0)
            r = store_group_add_user(s, g, u);
        if (r < 0)
            return r;
    }
    return 0;
}

int auth_user_apply(struct hub *hub, struct hub_user *u, const json_t *result)
{
    json_t *admin = json_object_get(result, "admin");
    int r = json_is_boolean(admin) ? store_user_set_admin(&hub->store, u, json_is_true(admin)) : 0;
    json_t *groups = json_object_get(result, "groups");
    if (r == 0 && hub->auth->manage_groups && json_is_array(groups))
        r = sync_groups(hub, u, groups);
    json_t *state = json_object_get(result, "auth_state");
    if (r == 0 && hub->auth->enable_auth_state && state && !json_is_null(state))
        r = auth_state_save(hub, u, state);
    return r;
}

/* After the authenticator answered: the rest of the pipeline, then the callback. */
static void finish(struct auth_login *l, json_t *result, const char *message)
{
    struct hub *hub = l->hub;
    struct hub_store *s = &hub->store;
    const char *raw = json_string_value(json_object_get(result, "name"));
    char name[4 * AUTH_USERNAME_MAX + 4];
    struct hub_user *u = NULL;
    int status = -EACCES;
    const char *why = message ? message : "Invalid username or password";
    if (!result || !raw) {
        if (result)
            gm_log_warn("The authenticator returned a result without a name");
        goto out;
    }
    if (auth_username_normalize(hub->usernames, raw, name, sizeof(name)) < 0 ||
        !auth_username_valid(hub->usernames, name)) {
        gm_log_warn("Disallowing invalid username '%s'.", raw);
        goto out;
    }
    if (in_list(hub->blocked_names, name)) {
        gm_log_warn("User '%s' blocked. Stop authentication", name);
        why = "You are not allowed to log in to this hub.";
        goto out;
    }
    json_t *allowed_v = json_object_get(result, "allowed");
    if (!auth_login_allowed(hub, name, json_is_true(allowed_v) ? 1 : 0)) {
        gm_log_warn("User '%s' not allowed.", name);
        why = hub->oauth2 ? oauth2_refused_message(hub->oauth2)
                          : "You are not allowed to log in to this hub.";
        goto out;
    }
    json_t *admin = json_object_get(result, "admin");
    bool listed = in_list(hub->admin_names, name);
    u = store_user_find(s, name);
    int r = 0;
    if (!u) {
        r = store_user_create(s, name, json_is_boolean(admin) ? json_is_true(admin) : listed, &u);
        if (r == 0)
            gm_log_info("Creating user '%s' at first login", name);
    } else if (!json_is_boolean(admin) && listed) {
        r = store_user_set_admin(s, u, true);
    }
    if (r == 0)
        r = rbac_assign_default_roles(s, u, NULL);
    if (r == 0)
        r = auth_user_apply(hub, u, result);
    if (r < 0) {
        status = r;
        why = "The hub could not record the login; try again.";
        gm_log_error("Login of '%s' failed: %s", name, strerror(-r));
        u = NULL;
        goto out;
    }
    status = 0;
    why = NULL;
    u->auth_stale = false;
    u->auth_refreshed_us = time_now_us();
    gm_log_info("User logged in: %s", name);
out:
    json_decref(result);
    l->cb(l->cb_data, status, status == 0 ? u : NULL, why);
    free(l);
}

static void on_authenticated(void *data, int status, json_t *result, const char *message)
{
    struct auth_login *l = data;
    if (l->cancelled) {
        json_decref(result);
        free(l);
        return;
    }
    if (status < 0) {
        json_decref(result);
        gm_log_error("The authenticator failed: %s", strerror(-status));
        l->cb(l->cb_data, status, NULL,
              message ? message : "The login service failed; try again later.");
        free(l);
        return;
    }
    finish(l, result, message);
}

int auth_login_start(struct hub *hub, const json_t *data, auth_login_cb cb, void *cb_data,
                     struct auth_login **ret)
{
    const struct gm_authenticator *a = hub->authenticator;
    if (!a->authenticate && !hub->oauth2)
        return -ENOTSUP;
    struct auth_login *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->hub = hub;
    l->cb = cb;
    l->cb_data = cb_data;
    int r = hub->oauth2 ? oauth2_authenticate(hub->oauth2, data, on_authenticated, l)
                        : a->authenticate(hub->authenticator_state, data, on_authenticated, l);
    if (r < 0) {
        free(l);
        return r;
    }
    if (ret)
        *ret = l;
    return 0;
}

struct accepted {
    struct auth_login *login;
    json_t *result;
};

static void on_accepted(void *data)
{
    struct accepted *a = data;
    on_authenticated(a->login, 0, a->result, NULL);
    free(a);
}

int auth_login_accept(struct hub *hub, const json_t *result, auth_login_cb cb, void *cb_data,
                      struct auth_login **ret)
{
    struct auth_login *l = calloc(1, sizeof(*l));
    struct accepted *a = calloc(1, sizeof(*a));
    json_t *copy = json_deep_copy(result);
    int r = l && a && copy ? 0 : -ENOMEM;
    if (r == 0) {
        l->hub = hub;
        l->cb = cb;
        l->cb_data = cb_data;
        a->login = l;
        a->result = copy;
        r = hub->host.defer(&hub->host, on_accepted, a);
    }
    if (r < 0) {
        json_decref(copy);
        free(a);
        free(l);
        return r;
    }
    if (ret)
        *ret = l;
    return 0;
}

void auth_login_cancel(struct auth_login *login)
{
    if (login)
        login->cancelled = true;
}
