/* Bringing the hub's objects up to date with its configuration at start, in JupyterHub's order
 * (app.py init_users, init_groups, init_services, init_role_creation, init_role_assignment,
 * init_api_tokens): admins and allowed users, groups, services, roles, config tokens. */
#include "app/app.h"
#include "auth/authenticator.h"
#include "auth/rbac.h"
#include "auth/usernames.h"
#include "core/options.h"
#include "services/services.h"
#include "util/str.h"
#include "util/time.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct gm_option_class hub_jupyterhub_class;

/* Normalise and validate a configured list of names into a new NULL-terminated list. */
static int normalize_list(struct hub *hub, char *const *in, const char *what, char ***ret,
                          char *err, size_t errlen)
{
    size_t n = 0;
    while (in && in[n])
        n++;
    char **out = calloc(n + 1, sizeof(*out));
    if (!out)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char name[4 * AUTH_USERNAME_MAX + 4];
        if (auth_username_normalize(hub->usernames, in[i], name, sizeof(name)) < 0 ||
            !auth_username_valid(hub->usernames, name)) {
            snprintf(err, errlen, "%s: username '%s' is not valid", what, in[i]);
            goto fail;
        }
        bool dup = false;
        for (size_t j = 0; j < k; j++)
            dup = dup || strcmp(out[j], name) == 0;
        if (dup)
            continue;
        out[k] = strdup(name);
        if (!out[k])
            goto fail;
        k++;
    }
    *ret = out;
    return 0;
fail:
    for (size_t j = 0; j < k; j++)
        free(out[j]);
    free(out);
    return -EINVAL;
}

static void free_list(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}

/* The create_user callback of rbac_init: normalise, validate, find or create. */
static int ensure_user(void *ctx, const char *raw, struct hub_user **ret)
{
    struct hub *hub = ctx;
    char name[4 * AUTH_USERNAME_MAX + 4];
    if (auth_username_normalize(hub->usernames, raw, name, sizeof(name)) < 0 ||
        !auth_username_valid(hub->usernames, name))
        return -EINVAL;
    struct hub_user *u = store_user_find(&hub->store, name);
    if (u) {
        *ret = u;
        return 0;
    }
    int r = store_user_create(&hub->store, name, false, &u);
    if (r < 0)
        return r;
    gm_log_info("Creating user %s", name);
    *ret = u;
    return 0;
}

static int init_groups(struct hub *hub, char *err, size_t errlen)
{
    struct hub_store *s = &hub->store;
    const char *name;
    json_t *spec;
    json_object_foreach(hub->conf.load_groups, name, spec)
    {
        struct hub_group *g = store_group_find(s, name);
        int r = 0;
        if (!g) {
            gm_log_info("Creating group %s", name);
            r = store_group_create(s, name, &g);
        }
        json_t *users = json_is_array(spec) ? spec : json_object_get(spec, "users");
        if (json_is_array(spec))
            gm_log_warn("group config `'groupname': [usernames]` is deprecated since JupyterHub "
                        "3.2; use `'groupname': {'users': [usernames]}`");
        size_t i;
        json_t *u;
        json_array_foreach(users, i, u)
        {
            struct hub_user *user = NULL;
            if (r == 0 && ensure_user(hub, json_string_value(u), &user) < 0) {
                snprintf(err, errlen,
                         "JupyterHub.load_groups: user '%s' of group %s is not a "
                         "valid user name",
                         json_string_value(u), name);
                return -EINVAL;
            }
            if (r == 0 && !user->roles.n)
                r = rbac_assign_default_roles(s, user, NULL);
            if (r == 0)
                r = store_group_add_user(s, g, user);
        }
        json_t *props = json_is_object(spec) ? json_object_get(spec, "properties") : NULL;
        if (r == 0 && props && !json_equal(props, g->properties))
            r = store_group_set_properties(s, g, json_deep_copy(props));
        if (r < 0) {
            snprintf(err, errlen, "cannot load group %s: %s", name, strerror(-r));
            return r;
        }
    }
    return 0;
}

int hub_state_init(struct hub *hub, char *err, size_t errlen)
{
    struct hub_store *s = &hub->store;
    int r = scope_registry_init(hub->scopes, hub->conf.custom_scopes, err, errlen);
    if (r < 0)
        return r;
    r = auth_usernames_init(hub->usernames, hub->auth->username_pattern, hub->auth->username_map,
                            err, errlen);
    if (r < 0)
        return r;
    r = store_load(s, hub->db, hub->scopes, err, errlen);
    if (r < 0)
        return r;
    s->activity_resolution_us = (int64_t)(hub->conf.activity_resolution * 1e6);
    /* The hub's own OAuth client: tokens it issues belong to it (secret "": unusable). */
    if (!store_client_find(s, "jupyterhub") &&
        (r = store_client_put(s, "jupyterhub", "JupyterHub", "", "", NULL, NULL)) < 0) {
        snprintf(err, errlen, "cannot create the jupyterhub OAuth client: %s", strerror(-r));
        return r;
    }
    char **admins = NULL, **allowed = NULL, **blocked = NULL;
    char *const *admin_src = hub->auth->admin_users;
    if ((!admin_src || !admin_src[0]) && hub->conf.admin_users && hub->conf.admin_users[0]) {
        gm_log_warn("JupyterHub.admin_users is deprecated since version 0.7.2. Use "
                    "Authenticator.admin_users instead.");
        admin_src = hub->conf.admin_users;
    }
    r = normalize_list(hub, admin_src, "Authenticator.admin_users", &admins, err, errlen);
    if (r == 0)
        r = normalize_list(hub, hub->auth->allowed_users, "Authenticator.allowed_users", &allowed,
                           err, errlen);
    if (r == 0)
        r = normalize_list(hub, hub->auth->blocked_users, "Authenticator.blocked_users", &blocked,
                           err, errlen);
    hub->admin_names = admins;
    hub->allowed_names = allowed;
    hub->blocked_names = blocked;
    if (r == 0)
        r = init_groups(hub, err, errlen);
    if (r == 0)
        r = services_init(hub, err, errlen);
    if (r == 0) {
        struct rbac_config rc = {
            .load_roles = hub->conf.load_roles, .admin_users = admins, .allowed_users = allowed};
        r = rbac_init(s, &rc, ensure_user, hub, err, errlen);
    }
    /* Admins from the config have the default roles too. */
    for (char **a = admins; r == 0 && a && *a; a++) {
        struct hub_user *u = store_user_find(s, *a);
        if (u)
            r = rbac_assign_default_roles(s, u, NULL);
    }
    if (r == 0)
        r = services_add_config_tokens(hub, hub->conf.api_tokens, false, err, errlen);
    if (r == 0)
        r = services_add_config_tokens(hub, hub->conf.service_tokens, true, err, errlen);
    if (r < 0)
        return r;
    int purged = store_tokens_purge_expired(s, time_now_us());
    if (purged)
        gm_log_info("Purged %d expired API tokens", purged);
    gm_log_info("Loaded %zu users, %zu groups, %zu roles, %zu services and %zu tokens", s->users.n,
                s->groups.n, s->roles.n, s->services.n, s->n_tokens);
    return 0;
}

void hub_state_release(struct hub *hub)
{
    free_list(hub->admin_names);
    free_list(hub->allowed_names);
    free_list(hub->blocked_names);
    hub->admin_names = hub->allowed_names = hub->blocked_names = NULL;
    store_release(&hub->store);
    auth_usernames_release(hub->usernames);
    scope_registry_release(hub->scopes);
}
