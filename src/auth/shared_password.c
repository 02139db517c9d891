/* SharedPasswordAuthenticator ("shared-password", JupyterHub 5.3+): users log in with one shared
 * password; the users in admin_users only with a separate admin password, which makes them
 * admins. Passwords are compared in constant time.
 *
 *     c.JupyterHub.authenticator_class = "shared-password"
 *     c.SharedPasswordAuthenticator.user_password = "at-least-8-characters"
 *     c.SharedPasswordAuthenticator.admin_password = "at-least-32-characters-long-secret!"
 *     c.Authenticator.admin_users = {"admin"}
 *     c.Authenticator.allow_all = True
 */
#include "auth/authenticators.h"
#include "util/str.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USER_PASSWORD_MIN  8
#define ADMIN_PASSWORD_MIN 32

struct shared_conf {
    char *user_password;
    char *admin_password;
    json_t *password_groups;
};

static int check_password_groups(const json_t *v, const char **why)
{
    *why = "a dict of {password: [group names]}";
    if (!json_is_object(v))
        return -EINVAL;
    const char *k;
    json_t *groups;
    json_object_foreach((json_t *)v, k, groups)
    {
        if (!json_is_array(groups))
            return -EINVAL;
        size_t i;
        json_t *g;
        json_array_foreach(groups, i, g)
        {
            if (!json_is_string(g))
                return -EINVAL;
        }
    }
    return 0;
}

static const struct gm_option shared_options[] = {
    GM_OPTION("user_password", GM_OPTION_STRING, offsetof(struct shared_conf, user_password),
              "\"\"", "The password of every non-admin user (8 characters or more)."),
    GM_OPTION("admin_password", GM_OPTION_STRING, offsetof(struct shared_conf, admin_password),
              "\"\"",
              "The password of the users in admin_users (32 characters or more, unlike "
              "user_password)."),
    GM_OPTION_X("password_groups", GM_OPTION_JSON, offsetof(struct shared_conf, password_groups),
                "{}",
                "Extra passwords that put users in groups: {password: [groups]} (needs "
                "manage_groups).",
                .check = check_password_groups),
    GM_OPTION_END,
};

const struct gm_option_class auth_shared_password_class = {
    .name = "SharedPasswordAuthenticator",
    .parent = "Authenticator",
    .help = "Users log in with a shared password (authenticator_class = \"shared-password\").",
    .options = shared_options,
};

struct shared {
    const struct gm_host *host;
    const struct gm_authenticator_base *base;
    const struct shared_conf *conf;
};

struct shared_call {
    gm_authenticate_cb cb;
    void *data;
    json_t *result;
};

static void finish(void *p)
{
    struct shared_call *c = p;
    c->cb(c->data, 0, c->result, NULL);
    free(c);
}

static int shared_init(const struct gm_host *host, const struct gm_authenticator_base *base,
                       void *conf, void **state, char *err, size_t errlen)
{
    const struct shared_conf *c = conf;
    size_t un = strlen(c->user_password), an = strlen(c->admin_password);
    if (un && un < USER_PASSWORD_MIN) {
        snprintf(err, errlen,
                 "SharedPasswordAuthenticator.user_password must be at least %d characters long, "
                 "got %zu characters",
                 USER_PASSWORD_MIN, un);
        return -EINVAL;
    }
    if (an && an < ADMIN_PASSWORD_MIN) {
        snprintf(err, errlen,
                 "SharedPasswordAuthenticator.admin_password must be at least %d characters, not "
                 "%zu.",
                 ADMIN_PASSWORD_MIN, an);
        return -EINVAL;
    }
    if (an && un && strcmp(c->user_password, c->admin_password) == 0) {
        snprintf(err, errlen,
                 "SharedPasswordAuthenticator.user_password and "
                 "SharedPasswordAuthenticator.admin_password cannot be the same");
        return -EINVAL;
    }
    if (json_object_size(c->password_groups) && !base->manage_groups) {
        snprintf(err, errlen,
                 "SharedPasswordAuthenticator.password_groups is set, but "
                 "SharedPasswordAuthenticator.manage_groups is not set. Explicitly "
                 "set SharedPasswordAuthenticator.manage_groups to True");
        return -EINVAL;
    }
    bool has_admins = base->admin_users && base->admin_users[0];
    if (an && !has_admins)
        gm_log_warn("SharedPasswordAuthenticator.admin_password set, but "
                    "SharedPasswordAuthenticator.admin_users is not. No admin users will be able "
                    "to login.");
    if (has_admins && !an)
        gm_log_warn("SharedPasswordAuthenticator.admin_users set, but "
                    "SharedPasswordAuthenticator.admin_password is not. No admin users will be "
                    "able to login.");
    if (!un && !an)
        gm_log_error("Neither SharedPasswordAuthenticator.admin_password nor "
                     "SharedPasswordAuthenticator.user_password is set. Nobody will be able to "
                     "login!");
    struct shared *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->host = host;
    s->base = base;
    s->conf = c;
    *state = s;
    return 0;
}

static void shared_destroy(void *state)
{
    free(state);
}

static bool same(const char *a, const char *b)
{
    return a && b[0] && str_ct_eq(a, strlen(a), b, strlen(b));
}

static bool is_admin_name(const struct shared *s, const char *name)
{
    for (char *const *a = s->base->admin_users; a && *a; a++)
        if (strcmp(*a, name) == 0)
            return true;
    return false;
}

static int shared_authenticate(void *state, const json_t *data, gm_authenticate_cb cb,
                               void *cb_data)
{
    struct shared *s = state;
    const char *user = json_string_value(json_object_get(data, "username"));
    const char *password = json_string_value(json_object_get(data, "password"));
    struct shared_call *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->cb = cb;
    c->data = cb_data;
    if (user && is_admin_name(s, user)) {
        if (same(password, s->conf->admin_password))
            c->result = json_pack("{s:s,s:b,s:[]}", "name", user, "admin", 1, "groups");
    } else if (user) {
        if (same(password, s->conf->user_password)) {
            c->result = json_pack("{s:s,s:b,s:[]}", "name", user, "admin", 0, "groups");
        } else {
            const char *pw;
            json_t *groups;
            json_object_foreach(s->conf->password_groups, pw, groups)
            {
                if (same(password, pw)) {
                    c->result = json_pack("{s:s,s:O}", "name", user, "groups", groups);
                    break;
                }
            }
        }
    }
    int r = s->host->defer(s->host, finish, c);
    if (r < 0) {
        json_decref(c->result);
        free(c);
    }
    return r;
}

static const char *const shared_aliases[] = {
    "jupyterhub.authenticators.shared.SharedPasswordAuthenticator", "SharedPasswordAuthenticator",
    NULL};

const struct gm_authenticator auth_shared_password = {
    .abi = GM_ABI_VERSION,
    .name = "shared-password",
    .aliases = shared_aliases,
    .options = &auth_shared_password_class,
    .conf_size = sizeof(struct shared_conf),
    .init = shared_init,
    .destroy = shared_destroy,
    .authenticate = shared_authenticate,
};
