/* Roles and effective scopes (JupyterHub's roles.py, app.py init_role_*, get_scopes_for). */
#include "auth/rbac.h"
#include "util/str.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool membership_cb(void *ctx, const char *name, const struct strset *groups)
{
    const struct hub_user *u = store_user_find(ctx, name);
    return u && store_user_in_any_group(u, groups);
}

struct scope_membership rbac_membership(const struct hub_store *s)
{
    struct scope_membership m = {.user_in_any = membership_cb, .ctx = (void *)s};
    return m;
}

static const struct {
    const char *name;
    const char *description;
    const char *scopes; /* JSON */
} default_roles[] = {
    {"user", "Standard user privileges", "[\"self\"]"},
    {"admin", "Elevated privileges (can do anything)",
     "[\"admin-ui\",\"admin:users\",\"admin:servers\",\"admin:services\",\"tokens\","
     "\"admin:groups\",\"list:services\",\"read:services\",\"read:hub\",\"proxy\",\"shutdown\","
     "\"access:services\",\"access:servers\",\"read:roles\",\"read:metrics\",\"shares\"]"},
    {"server", "Post activity only", "[\"users:activity!user\",\"access:servers!server\"]"},
    {"token", "Token with same permissions as its owner", "[\"inherit\"]"},
};

#define N_DEFAULT_ROLES (sizeof(default_roles) / sizeof(*default_roles))

bool rbac_is_default_role(const char *name)
{
    for (size_t i = 0; i < N_DEFAULT_ROLES; i++)
        if (strcmp(default_roles[i].name, name) == 0)
            return true;
    return false;
}

/* Effective scopes. */

static int expand_roles(struct hub_store *s, const struct ptrvec *roles,
                        const struct scope_owner *owner, struct scope_set *out)
{
    for (size_t i = 0; i < roles->n; i++) {
        const struct hub_role *r = roles->v[i];
        int e = scope_expand_json(s->scopes, r->scopes, owner, out);
        if (e < 0)
            return e;
    }
    return 0;
}

const struct scope_set *rbac_user_scopes(struct hub_store *s, struct hub_user *u)
{
    if (u->scopes && u->scopes_gen == s->rbac_gen)
        return u->scopes;
    struct scope_set *set = scope_set_new(s->scopes);
    struct scope_owner owner = {.kind = SCOPE_OWNER_USER, .name = u->name};
    int r = set ? expand_roles(s, &u->roles, &owner, set) : -ENOMEM;
    for (size_t i = 0; r == 0 && i < u->groups.n; i++)
        r = expand_roles(s, &((struct hub_group *)u->groups.v[i])->roles, &owner, set);
    if (r < 0) {
        scope_set_free(set);
        return NULL;
    }
    scope_set_free(u->scopes);
    u->scopes = set;
    u->scopes_gen = s->rbac_gen;
    return set;
}

const struct scope_set *rbac_service_scopes(struct hub_store *s, struct hub_service *svc)
{
    if (svc->scopes && svc->scopes_gen == s->rbac_gen)
        return svc->scopes;
    struct scope_set *set = scope_set_new(s->scopes);
    struct scope_owner owner = {.kind = SCOPE_OWNER_SERVICE, .name = svc->name};
    if (!set || expand_roles(s, &svc->roles, &owner, set) < 0) {
        scope_set_free(set);
        return NULL;
    }
    scope_set_free(svc->scopes);
    svc->scopes = set;
    svc->scopes_gen = s->rbac_gen;
    return set;
}

static bool has_inherit(const json_t *raw)
{
    size_t i;
    json_t *v;
    json_array_foreach(raw, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), "inherit") == 0)
            return true;
    }
    return false;
}

/* What an OAuth client grants access to: its server ("user/name") or its service. */
static void client_target(struct hub_store *s, const char *client_id, char *server, size_t n,
                          const char **service)
{
    server[0] = '\0';
    *service = NULL;
    for (size_t i = 0; i < s->services.n; i++) {
        struct hub_service *svc = s->services.v[i];
        if (svc->oauth_client_id && strcmp(svc->oauth_client_id, client_id) == 0) {
            *service = svc->name;
            return;
        }
    }
    for (size_t i = 0; i < s->users.n; i++) {
        struct hub_user *u = s->users.v[i];
        for (size_t j = 0; j < u->spawners.n; j++) {
            struct hub_spawner *sp = u->spawners.v[j];
            if (sp->oauth_client_id && strcmp(sp->oauth_client_id, client_id) == 0) {
                snprintf(server, n, "%s/%s", u->name, sp->name);
                return;
            }
        }
    }
}

const struct scope_set *rbac_token_scopes(struct hub_store *s, struct hub_token *t)
{
    const struct scope_set *owner_scopes =
        t->user ? rbac_user_scopes(s, t->user) : rbac_service_scopes(s, t->service);
    if (!owner_scopes)
        return NULL;
    if (has_inherit(t->scopes))
        return owner_scopes;
    if (t->eff && t->eff_gen == s->rbac_gen)
        return t->eff;
    char server[1024] = "";
    const char *service = NULL;
    bool oauth = t->client_id && strcmp(t->client_id, "jupyterhub") != 0;
    if (oauth)
        client_target(s, t->client_id, server, sizeof(server), &service);
    struct scope_owner owner = {
        .kind = t->user ? SCOPE_OWNER_USER : SCOPE_OWNER_SERVICE,
        .name = t->user ? t->user->name : t->service->name,
        .oauth_server = server[0] ? server : NULL,
        .oauth_service = service,
    };
    struct scope_set *set = scope_set_new(s->scopes);
    int r = set ? scope_expand_json(s->scopes, t->scopes, &owner, set) : -ENOMEM;
    if (r == 0 && oauth) {
        if (server[0])
            r = scope_set_add(set, SCOPE_ACCESS_SERVERS, SCOPE_KIND_SERVER, server);
        else if (service)
            r = scope_set_add(set, SCOPE_ACCESS_SERVICES, SCOPE_KIND_SERVICE, service);
    }
    if (r == 0 && t->user) {
        r = scope_set_add(set, SCOPE_READ_USERS_NAME, SCOPE_KIND_USER, t->user->name);
        if (r == 0)
            r = scope_set_add(set, SCOPE_READ_USERS_GROUPS, SCOPE_KIND_USER, t->user->name);
    } else if (r == 0) {
        r = scope_set_add(set, SCOPE_READ_SERVICES_NAME, SCOPE_KIND_SERVICE, t->service->name);
    }
    struct scope_membership m = rbac_membership(s);
    struct scope_set *eff = r == 0 ? scope_intersect(set, owner_scopes, &m) : NULL;
    scope_set_free(set);
    if (!eff)
        return NULL;
    scope_set_free(t->eff);
    t->eff = eff;
    t->eff_gen = s->rbac_gen;
    return eff;
}

int rbac_assign_default_roles(struct hub_store *s, struct hub_user *u, struct hub_service *svc)
{
    struct hub_role *admin = store_role_find(s, "admin");
    struct hub_role *user = store_role_find(s, "user");
    enum store_bearer kind = u ? STORE_BEARER_USER : STORE_BEARER_SERVICE;
    void *bearer = u ? (void *)u : (void *)svc;
    bool is_admin = u ? u->admin : svc->admin;
    int r = 0;
    if (admin)
        r = is_admin ? store_role_grant(s, admin, kind, bearer)
                     : store_role_strip(s, admin, kind, bearer);
    if (r == 0 && u && user)
        r = store_role_grant(s, user, STORE_BEARER_USER, u);
    return r;
}

int rbac_check_token_scopes(struct hub_store *s, struct hub_user *u, struct hub_service *svc,
                            const json_t *raw, char *err, size_t errlen)
{
    size_t i;
    json_t *v;
    json_array_foreach(raw, i, v)
    {
        if (!json_is_string(v) ||
            !scope_exists(s->scopes, json_string_value(v), "for token", err, errlen))
            return -EINVAL;
    }
    if (has_inherit(raw) && json_array_size(raw) == 1)
        return 0;
    struct scope_owner owner = {.kind = u ? SCOPE_OWNER_USER : SCOPE_OWNER_SERVICE,
                                .name = u ? u->name : svc->name};
    const struct scope_set *have = u ? rbac_user_scopes(s, u) : rbac_service_scopes(s, svc);
    struct scope_set *want = scope_set_new(s->scopes);
    if (!have || !want || scope_expand_json(s->scopes, raw, &owner, want) < 0) {
        scope_set_free(want);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    struct scope_membership m = rbac_membership(s);
    struct scope_set *both = scope_intersect(want, have, &m);
    struct strset want_s = {0}, both_s = {0};
    int r = both ? 0 : -ENOMEM;
    if (r == 0)
        r = scope_set_strings(want, s->scopes, &want_s);
    if (r == 0)
        r = scope_set_strings(both, s->scopes, &both_s);
    if (r == 0) {
        char excess[1024] = "";
        size_t used = 0;
        for (size_t k = 0; k < want_s.n; k++) {
            if (strset_has(&both_s, want_s.v[k]))
                continue;
            int w = snprintf(excess + used, sizeof(excess) - used, "%s%s", used ? "," : "",
                             want_s.v[k]);
            if (w > 0 && (size_t)w < sizeof(excess) - used)
                used += (size_t)w;
        }
        if (used) {
            snprintf(err, errlen, "Not assigning requested scopes %s not held by %s %s", excess,
                     u ? "User" : "Service", u ? u->name : svc->name);
            r = -EINVAL;
        }
    } else {
        snprintf(err, errlen, "out of memory");
    }
    strset_free(&want_s);
    strset_free(&both_s);
    scope_set_free(want);
    scope_set_free(both);
    return r;
}

int rbac_roles_to_scopes(struct hub_store *s, const json_t *role_names, json_t **ret, char *err,
                         size_t errlen)
{
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(role_names, i, v)
    {
        const struct hub_role *r =
            json_is_string(v) ? store_role_find(s, json_string_value(v)) : NULL;
        if (!r) {
            snprintf(err, errlen, "No such role: %s",
                     json_is_string(v) ? json_string_value(v) : "?");
            json_decref(out);
            return -EINVAL;
        }
        size_t j;
        json_t *sc;
        json_array_foreach(r->scopes, j, sc)
        {
            bool dup = false;
            size_t k;
            json_t *have;
            json_array_foreach(out, k, have)
            {
                dup = dup || json_equal(have, sc);
            }
            if (!dup)
                json_array_append(out, sc);
        }
    }
    *ret = out;
    return 0;
}

/* Start-up: JupyterHub's init_role_creation and init_role_assignment. */

static bool valid_role_name(const char *name)
{
    size_t n = strlen(name);
    if (n < 3 || n > 255 || !(name[0] >= 'a' && name[0] <= 'z'))
        return false;
    char last = name[n - 1];
    if (!((last >= 'a' && last <= 'z') || (last >= '0' && last <= '9')))
        return false;
    for (size_t i = 1; i < n - 1; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-_~.", c)))
            return false;
    }
    return true;
}

static const char *spec_name(const json_t *spec)
{
    return json_string_value(json_object_get(spec, "name"));
}

static int check_specs(struct hub_store *s, const json_t *specs, char *err, size_t errlen)
{
    size_t i;
    json_t *spec;
    json_array_foreach(specs, i, spec)
    {
        const char *name = spec_name(spec);
        if (!json_is_object(spec) || !name) {
            snprintf(err, errlen, "JupyterHub.load_roles: every role needs a 'name'");
            return -EINVAL;
        }
        if (!valid_role_name(name)) {
            snprintf(err, errlen,
                     "JupyterHub.load_roles: invalid role name '%s': role names "
                     "are 3-255 lowercase letters, digits and -._~, starting with "
                     "a letter and ending with a letter or digit",
                     name);
            return -EINVAL;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(spec_name(json_array_get(specs, j)), name) == 0) {
                snprintf(err, errlen,
                         "Role %s multiply defined. Please check the `load_roles` "
                         "configuration",
                         name);
                return -EINVAL;
            }
        json_t *scopes = json_object_get(spec, "scopes");
        size_t k;
        json_t *sc;
        char who[300];
        snprintf(who, sizeof(who), "for role %s", name);
        json_array_foreach(scopes, k, sc)
        {
            if (!json_is_string(sc) ||
                !scope_exists(s->scopes, json_string_value(sc), who, err, errlen))
                return -EINVAL;
        }
        if (strcmp(name, "admin") == 0) {
            json_t *def = json_loads(default_roles[1].scopes, 0, NULL);
            bool same_scopes = !scopes || json_equal(scopes, def);
            json_decref(def);
            const char *desc = json_string_value(json_object_get(spec, "description"));
            if (!same_scopes || (desc && strcmp(desc, default_roles[1].description) != 0)) {
                snprintf(err, errlen, "Cannot override admin role admin.%s",
                         same_scopes ? "description" : "scopes");
                return -EINVAL;
            }
        }
    }
    return 0;
}

/* Create or update one role from its (possibly merged) spec. */
static int put_role(struct hub_store *s, const char *name, const json_t *spec)
{
    const char *desc = json_string_value(json_object_get(spec, "description"));
    json_t *scopes = json_object_get(spec, "scopes");
    if (!json_array_size(scopes))
        gm_log_warn("Role %s will have no scopes", name);
    return store_role_put(s, name, desc, scopes ? scopes : json_array(), false, NULL);
}

static int make_exact(struct hub_store *s, struct hub_role *role, enum store_bearer kind,
                      struct ptrvec *want)
{
    /* Strip whoever holds the role but is not listed, then grant the listed. */
    const struct ptrvec *all = kind == STORE_BEARER_USER    ? &s->users
                               : kind == STORE_BEARER_GROUP ? &s->groups
                                                            : &s->services;
    for (size_t i = 0; i < all->n; i++) {
        void *b = all->v[i];
        if (ptrvec_contains(want, b))
            continue;
        int r = store_role_strip(s, role, kind, b);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < want->n; i++) {
        int r = store_role_grant(s, role, kind, want->v[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

static int assign_from_spec(struct hub_store *s, const json_t *spec, const struct rbac_config *cfg,
                            int (*create_user)(void *, const char *, struct hub_user **), void *ctx,
                            bool *admin_users_listed, bool *admin_services_listed, char *err,
                            size_t errlen)
{
    const char *name = spec_name(spec);
    struct hub_role *role = store_role_find(s, name);
    if (!role)
        return 0;
    bool is_admin_role = strcmp(name, "admin") == 0;
    static const char *const kinds[] = {"users", "services", "groups"};
    static const enum store_bearer bearer[] = {STORE_BEARER_USER, STORE_BEARER_SERVICE,
                                               STORE_BEARER_GROUP};
    for (int k = 0; k < 3; k++) {
        json_t *list = json_object_get(spec, kinds[k]);
        struct ptrvec want = {0};
        int r = 0;
        if (!list) {
            /* Omitting a kind means nobody, except for users of the 'user' role, which the
             * authenticator may manage. */
            if (bearer[k] == STORE_BEARER_USER && strcmp(name, "user") == 0)
                continue;
        }
        if (is_admin_role && bearer[k] == STORE_BEARER_USER)
            *admin_users_listed = list != NULL;
        if (is_admin_role && bearer[k] == STORE_BEARER_SERVICE)
            *admin_services_listed = list != NULL;
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v)
        {
            const char *who = json_string_value(v);
            if (!who)
                continue;
            void *obj = NULL;
            if (bearer[k] == STORE_BEARER_USER) {
                struct hub_user *u = NULL;
                r = create_user(ctx, who, &u);
                if (r < 0) {
                    snprintf(err, errlen, "role %s: user '%s' is not a valid user name", name, who);
                    break;
                }
                if (is_admin_role && !u->admin)
                    r = store_user_set_admin(s, u, true);
                obj = u;
            } else if (bearer[k] == STORE_BEARER_GROUP) {
                struct hub_group *g = store_group_find(s, who);
                if (!g) {
                    gm_log_info("Creating group %s found in role: %s", who, name);
                    r = store_group_create(s, who, &g);
                }
                obj = g;
            } else {
                struct hub_service *svc = store_service_find(s, who);
                if (!svc) {
                    snprintf(err, errlen,
                             "Found undefined service %s in role %s. Define it "
                             "first in c.JupyterHub.services.",
                             who, name);
                    r = -EINVAL;
                } else if (is_admin_role && !svc->admin) {
                    svc->admin = true;
                    r = store_service_save(s, svc);
                }
                obj = svc;
            }
            if (r == 0 && obj && ptrvec_push(&want, obj) < 0)
                r = -ENOMEM;
            if (r < 0)
                break;
        }
        /* admin_users from the config join an admin role that lists users. */
        if (r == 0 && is_admin_role && bearer[k] == STORE_BEARER_USER && list) {
            for (char *const *a = cfg->admin_users; a && *a && r == 0; a++) {
                struct hub_user *u = store_user_find(s, *a);
                if (u && !ptrvec_contains(&want, u))
                    r = ptrvec_push(&want, u);
            }
        }
        if (r == 0)
            r = make_exact(s, role, bearer[k], &want);
        ptrvec_free(&want);
        if (r < 0) {
            if (!err[0])
                snprintf(err, errlen, "cannot assign role %s: %s", name, strerror(-r));
            return r;
        }
    }
    return 0;
}

int rbac_init(struct hub_store *s, const struct rbac_config *cfg,
              int (*create_user)(void *ctx, const char *name, struct hub_user **ret), void *ctx,
              char *err, size_t errlen)
{
    err[0] = '\0';
    const json_t *specs = cfg->load_roles;
    int r = check_specs(s, specs, err, errlen);
    if (r < 0)
        return r;
    bool upgrade = s->roles.n == 0 && s->users.n > 0;

    /* admin_users are admins; allowed_users exist. */
    for (char *const *a = cfg->admin_users; a && *a; a++) {
        struct hub_user *u = NULL;
        r = create_user(ctx, *a, &u);
        if (r == 0 && !u->admin)
            r = store_user_set_admin(s, u, true);
        if (r < 0) {
            snprintf(err, errlen, "Authenticator.admin_users: username '%s' is not valid", *a);
            return r;
        }
    }
    for (char *const *a = cfg->allowed_users; a && *a; a++) {
        struct hub_user *u = NULL;
        if (create_user(ctx, *a, &u) < 0) {
            snprintf(err, errlen, "Authenticator.allowed_users: username '%s' is not valid", *a);
            return -EINVAL;
        }
    }

    /* Roles: defaults (merged with overrides), then the configured ones. */
    for (size_t i = 0; i < N_DEFAULT_ROLES; i++) {
        json_t *spec = json_pack("{s:s,s:o}", "description", default_roles[i].description, "scopes",
                                 json_loads(default_roles[i].scopes, 0, NULL));
        size_t j;
        json_t *override;
        json_array_foreach(specs, j, override)
        {
            if (strcmp(spec_name(override), default_roles[i].name) == 0)
                json_object_update(spec, override);
        }
        r = put_role(s, default_roles[i].name, spec);
        json_decref(spec);
        if (r < 0)
            goto fail;
    }
    size_t i;
    json_t *spec;
    json_array_foreach(specs, i, spec)
    {
        if (rbac_is_default_role(spec_name(spec)))
            continue;
        if ((r = put_role(s, spec_name(spec), spec)) < 0)
            goto fail;
    }
    /* Roles that are no longer configured go (unless the authenticator manages them). */
    for (size_t k = s->roles.n; k-- > 0;) {
        struct hub_role *role = s->roles.v[k];
        if (role->managed_by_auth || rbac_is_default_role(role->name))
            continue;
        bool configured = false;
        json_array_foreach(specs, i, spec)
        {
            configured = configured || strcmp(spec_name(spec), role->name) == 0;
        }
        if (!configured) {
            gm_log_warn("Deleting role %s", role->name);
            if ((r = store_role_delete(s, role)) < 0)
                goto fail;
        }
    }

    /* Assignments from the config, made exact. */
    bool admin_users_listed = false, admin_services_listed = false;
    json_array_foreach(specs, i, spec)
    {
        r = assign_from_spec(s, spec, cfg, create_user, ctx, &admin_users_listed,
                             &admin_services_listed, err, errlen);
        if (r < 0)
            return r;
    }
    struct hub_role *user_role = store_role_find(s, "user");
    for (char *const *a = cfg->allowed_users; a && *a && user_role; a++) {
        struct hub_user *u = store_user_find(s, *a);
        if (u && (r = store_role_grant(s, user_role, STORE_BEARER_USER, u)) < 0)
            goto fail;
    }

    /* The admin flag and the admin role agree. */
    struct hub_role *admin = store_role_find(s, "admin");
    for (size_t k = 0; admin && k < s->users.n; k++) {
        struct hub_user *u = s->users.v[k];
        bool in_role = ptrvec_contains(&u->roles, admin);
        if (in_role && !u->admin) {
            gm_log_info("Setting admin=True on user '%s'", u->name);
            r = store_user_set_admin(s, u, true);
        } else if (!in_role && u->admin) {
            if (admin_users_listed) {
                gm_log_warn("Removing admin=True from user '%s'", u->name);
                r = store_user_set_admin(s, u, false);
            } else {
                r = store_role_grant(s, admin, STORE_BEARER_USER, u);
            }
        }
        if (r < 0)
            goto fail;
    }
    for (size_t k = 0; admin && k < s->services.n; k++) {
        struct hub_service *svc = s->services.v[k];
        bool in_role = ptrvec_contains(&svc->roles, admin);
        if (in_role && !svc->admin) {
            svc->admin = true;
            r = store_service_save(s, svc);
        } else if (!in_role && svc->admin) {
            if (admin_services_listed) {
                svc->admin = false;
                r = store_service_save(s, svc);
            } else {
                r = store_role_grant(s, admin, STORE_BEARER_SERVICE, svc);
            }
        }
        if (r < 0)
            goto fail;
    }
    if (upgrade) {
        gm_log_warn("No roles found; assuming a hub upgrade. Giving every user the default roles");
        for (size_t k = 0; k < s->users.n; k++) {
            struct hub_user *u = s->users.v[k];
            if (!u->roles.n && (r = rbac_assign_default_roles(s, u, NULL)) < 0)
                goto fail;
        }
    }
    return 0;
fail:
    if (!err[0])
        snprintf(err, errlen, "cannot set up roles: %s", strerror(-r));
    return r;
}
