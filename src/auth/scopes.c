/* Scope definitions and the scope algebra of JupyterHub 5.5 (jupyterhub/scopes.py). */
#include "auth/scopes.h"
#include "util/str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct known_scope {
    const char *name;
    const char *description;
    int subscopes[6];
};

#define END -1

/* The order of enum scope_id. */
static const struct known_scope known[SCOPE_KNOWN_MAX] = {
    [SCOPE_NO_SCOPE] = {"(no_scope)", "Identify the owner of the requesting entity.", {END}},
    [SCOPE_SELF] = {"self", "Your own resources", {END}},
    [SCOPE_INHERIT] = {"inherit", "Anything you have access to", {END}},
    [SCOPE_ADMIN_UI] = {"admin-ui", "Access the admin page.", {END}},
    [SCOPE_ADMIN_USERS] = {"admin:users",
                           "Read, modify, create, and delete users and their authentication "
                           "state, not including their servers or tokens. This is an extremely "
                           "privileged scope and should be considered tantamount to superuser.",
                           {SCOPE_ADMIN_AUTH_STATE, SCOPE_USERS, SCOPE_READ_ROLES_USERS,
                            SCOPE_DELETE_USERS, END}},
    [SCOPE_ADMIN_AUTH_STATE] = {"admin:auth_state", "Read a user’s authentication state.", {END}},
    [SCOPE_USERS] = {"users",
                     "Read and write permissions to user models (excluding servers, tokens and "
                     "authentication state).",
                     {SCOPE_READ_USERS, SCOPE_LIST_USERS, SCOPE_USERS_ACTIVITY, END}},
    [SCOPE_DELETE_USERS] = {"delete:users", "Delete users.", {END}},
    [SCOPE_LIST_USERS] = {"list:users",
                          "List users, including at least their names.",
                          {SCOPE_READ_USERS_NAME, END}},
    [SCOPE_READ_USERS] = {"read:users",
                          "Read user models (including the URL of the default server if it is "
                          "running).",
                          {SCOPE_READ_USERS_NAME, SCOPE_READ_USERS_GROUPS,
                           SCOPE_READ_USERS_ACTIVITY, END}},
    [SCOPE_READ_USERS_NAME] = {"read:users:name", "Read names of users.", {END}},
    [SCOPE_READ_USERS_GROUPS] = {"read:users:groups", "Read users’ group membership.", {END}},
    [SCOPE_READ_USERS_ACTIVITY] = {"read:users:activity",
                                   "Read time of last user activity.",
                                   {END}},
    [SCOPE_READ_ROLES] = {"read:roles",
                          "Read role assignments.",
                          {SCOPE_READ_ROLES_USERS, SCOPE_READ_ROLES_SERVICES,
                           SCOPE_READ_ROLES_GROUPS, END}},
    [SCOPE_READ_ROLES_USERS] = {"read:roles:users", "Read user role assignments.", {END}},
    [SCOPE_READ_ROLES_SERVICES] = {"read:roles:services", "Read service role assignments.", {END}},
    [SCOPE_READ_ROLES_GROUPS] = {"read:roles:groups", "Read group role assignments.", {END}},
    [SCOPE_USERS_ACTIVITY] = {"users:activity",
                              "Update time of last user activity.",
                              {SCOPE_READ_USERS_ACTIVITY, END}},
    [SCOPE_ADMIN_SERVERS] = {"admin:servers",
                             "Read, start, stop, create and delete user servers and their "
                             "state.",
                             {SCOPE_ADMIN_SERVER_STATE, SCOPE_SERVERS, END}},
    [SCOPE_ADMIN_SERVER_STATE] = {"admin:server_state",
                                  "Read and write users’ server state.",
                                  {END}},
    [SCOPE_SERVERS] = {"servers",
                       "Start and stop user servers.",
                       {SCOPE_READ_SERVERS, SCOPE_DELETE_SERVERS, END}},
    [SCOPE_READ_SERVERS] = {"read:servers",
                            "Read users’ names and their server models (excluding the server "
                            "state).",
                            {SCOPE_READ_USERS_NAME, END}},
    [SCOPE_DELETE_SERVERS] = {"delete:servers", "Stop and delete users' servers.", {END}},
    [SCOPE_TOKENS] = {"tokens",
                      "Read, write, create and delete user tokens.",
                      {SCOPE_READ_TOKENS, END}},
    [SCOPE_READ_TOKENS] = {"read:tokens", "Read user tokens.", {END}},
    [SCOPE_ADMIN_GROUPS] = {"admin:groups",
                            "Read and write group information, create and delete groups.",
                            {SCOPE_GROUPS, SCOPE_READ_ROLES_GROUPS, SCOPE_DELETE_GROUPS, END}},
    [SCOPE_GROUPS] = {"groups",
                      "Read and write group information, including adding/removing any users "
                      "to/from groups. Note: adding users to groups may affect permissions.",
                      {SCOPE_READ_GROUPS, SCOPE_LIST_GROUPS, END}},
    [SCOPE_LIST_GROUPS] = {"list:groups",
                           "List groups, including at least their names.",
                           {SCOPE_READ_GROUPS_NAME, END}},
    [SCOPE_READ_GROUPS] = {"read:groups", "Read group models.", {SCOPE_READ_GROUPS_NAME, END}},
    [SCOPE_READ_GROUPS_NAME] = {"read:groups:name", "Read group names.", {END}},
    [SCOPE_DELETE_GROUPS] = {"delete:groups", "Delete groups.", {END}},
    [SCOPE_ADMIN_SERVICES] = {"admin:services",
                              "Create, read, update, delete services, not including services "
                              "defined from config files.",
                              {SCOPE_LIST_SERVICES, SCOPE_READ_SERVICES, SCOPE_READ_ROLES_SERVICES,
                               END}},
    [SCOPE_LIST_SERVICES] = {"list:services",
                             "List services, including at least their names.",
                             {SCOPE_READ_SERVICES_NAME, END}},
    [SCOPE_READ_SERVICES] = {"read:services",
                             "Read service models.",
                             {SCOPE_READ_SERVICES_NAME, END}},
    [SCOPE_READ_SERVICES_NAME] = {"read:services:name", "Read service names.", {END}},
    [SCOPE_READ_HUB] = {"read:hub", "Read detailed information about the Hub.", {END}},
    [SCOPE_ACCESS_SERVERS] = {"access:servers", "Access user servers via API or browser.", {END}},
    [SCOPE_ACCESS_SERVICES] = {"access:services", "Access services via API or browser.", {END}},
    [SCOPE_USERS_SHARES] = {"users:shares",
                            "Read and revoke a user's access to shared servers.",
                            {SCOPE_READ_USERS_SHARES, END}},
    [SCOPE_READ_USERS_SHARES] = {"read:users:shares", "Read servers shared with a user.", {END}},
    [SCOPE_GROUPS_SHARES] = {"groups:shares",
                             "Read and revoke a group's access to shared servers.",
                             {SCOPE_READ_GROUPS_SHARES, END}},
    [SCOPE_READ_GROUPS_SHARES] = {"read:groups:shares", "Read servers shared with a group.", {END}},
    [SCOPE_READ_SHARES] = {"read:shares",
                           "Read information about shared access to servers.",
                           {END}},
    [SCOPE_SHARES] = {"shares",
                      "Manage access to shared servers.",
                      {SCOPE_ACCESS_SERVERS, SCOPE_READ_SHARES, SCOPE_USERS_SHARES,
                       SCOPE_GROUPS_SHARES, END}},
    [SCOPE_PROXY] = {"proxy",
                     "Read information about the proxy’s routing table, sync the Hub with the "
                     "proxy and notify the Hub about a new proxy.",
                     {END}},
    [SCOPE_SHUTDOWN] = {"shutdown", "Shutdown the hub.", {END}},
    [SCOPE_READ_METRICS] = {"read:metrics", "Read prometheus metrics.", {END}},
};

/* What `self` means for a user: these scopes filtered to the user (_expand_self_scope). */
static const int self_scopes[] = {
    SCOPE_READ_USERS,     SCOPE_READ_USERS_NAME,     SCOPE_READ_USERS_GROUPS,
    SCOPE_USERS_SHARES,   SCOPE_READ_USERS_SHARES,   SCOPE_READ_SHARES,
    SCOPE_USERS_ACTIVITY, SCOPE_READ_USERS_ACTIVITY, SCOPE_SERVERS,
    SCOPE_DELETE_SERVERS, SCOPE_READ_SERVERS,        SCOPE_TOKENS,
    SCOPE_READ_TOKENS,    SCOPE_ACCESS_SERVERS,
};

static const char *const kind_names[SCOPE_KIND_MAX] = {"user", "server", "group", "service"};

const char *scope_kind_name(enum scope_kind kind)
{
    return kind < SCOPE_KIND_MAX ? kind_names[kind] : "";
}

static enum scope_kind kind_lookup(const char *s, size_t n)
{
    for (int k = 0; k < SCOPE_KIND_MAX; k++)
        if (strlen(kind_names[k]) == n && memcmp(kind_names[k], s, n) == 0)
            return (enum scope_kind)k;
    return SCOPE_KIND_MAX;
}

/* Custom scope names: ^custom:[a-z0-9][a-z0-9_\-\*:]+[a-z0-9_\*]$ */
static bool valid_custom_name(const char *s)
{
    if (!str_has_prefix(s, "custom:"))
        return false;
    const char *p = s + strlen("custom:");
    size_t n = strlen(p);
    if (n < 3)
        return false;
    if (!((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= '0' && p[0] <= '9')))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '*';
        if (i < n - 1)
            ok = ok || c == '-' || c == ':';
        if (!ok)
            return false;
    }
    return true;
}

void scope_registry_release(struct scope_registry *reg)
{
    if (!reg || !reg->names)
        return;
    for (size_t i = 0; i < reg->n; i++) {
        free(reg->names[i]);
        free(reg->descriptions[i]);
        free(reg->subscopes[i]);
    }
    free(reg->names);
    free(reg->descriptions);
    free(reg->subscopes);
    memset(reg, 0, sizeof(*reg));
}

int scope_registry_init(struct scope_registry *reg, const json_t *custom, char *err, size_t errlen)
{
    size_t extra = json_is_object(custom) ? json_object_size(custom) : 0;
    size_t n = SCOPE_KNOWN_MAX + extra;
    memset(reg, 0, sizeof(*reg));
    reg->names = calloc(n, sizeof(char *));
    reg->descriptions = calloc(n, sizeof(char *));
    reg->subscopes = calloc(n, sizeof(int *));
    if (!reg->names || !reg->descriptions || !reg->subscopes)
        goto oom;
    reg->n = n;
    for (size_t i = 0; i < SCOPE_KNOWN_MAX; i++) {
        reg->names[i] = strdup(known[i].name);
        reg->descriptions[i] = strdup(known[i].description);
        size_t k = 0;
        while (known[i].subscopes[k] != END)
            k++;
        reg->subscopes[i] = malloc((k + 1) * sizeof(int));
        if (!reg->names[i] || !reg->descriptions[i] || !reg->subscopes[i])
            goto oom;
        memcpy(reg->subscopes[i], known[i].subscopes, (k + 1) * sizeof(int));
    }
    const char *name;
    json_t *def;
    size_t i = SCOPE_KNOWN_MAX;
    json_object_foreach((json_t *)custom, name, def)
    {
        if (!valid_custom_name(name)) {
            snprintf(err, errlen,
                     "JupyterHub.custom_scopes: invalid scope name '%s': custom "
                     "scopes must start with custom: and contain only lowercase "
                     "ASCII letters, numbers, -, _, : and *",
                     name);
            goto invalid;
        }
        const char *desc = json_string_value(json_object_get(def, "description"));
        if (!json_is_object(def) || !desc) {
            snprintf(err, errlen, "JupyterHub.custom_scopes: scope '%s' has no 'description'",
                     name);
            goto invalid;
        }
        reg->names[i] = strdup(name);
        reg->descriptions[i] = strdup(desc);
        if (!reg->names[i] || !reg->descriptions[i])
            goto oom;
        i++;
    }
    /* Subscopes of custom scopes may only name other custom scopes. */
    i = SCOPE_KNOWN_MAX;
    json_object_foreach((json_t *)custom, name, def)
    {
        json_t *subs = json_object_get(def, "subscopes");
        size_t k = json_is_array(subs) ? json_array_size(subs) : 0;
        if (subs && !json_is_array(subs)) {
            snprintf(err, errlen, "JupyterHub.custom_scopes: subscopes of '%s' must be a list",
                     name);
            goto invalid;
        }
        reg->subscopes[i] = malloc((k + 1) * sizeof(int));
        if (!reg->subscopes[i])
            goto oom;
        for (size_t j = 0; j < k; j++) {
            const char *sub = json_string_value(json_array_get(subs, j));
            int id = sub ? scope_lookup(reg, sub) : -1;
            if (id < SCOPE_KNOWN_MAX) {
                snprintf(err, errlen,
                         "JupyterHub.custom_scopes: subscope '%s' of '%s' is not a "
                         "custom scope defined here",
                         sub ? sub : "?", name);
                goto invalid;
            }
            reg->subscopes[i][j] = id;
        }
        reg->subscopes[i][k] = END;
        i++;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    scope_registry_release(reg);
    return -ENOMEM;
invalid:
    scope_registry_release(reg);
    return -EINVAL;
}

int scope_lookup(const struct scope_registry *reg, const char *name)
{
    for (size_t i = 0; i < reg->n; i++)
        if (reg->names[i] && strcmp(reg->names[i], name) == 0)
            return (int)i;
    return -1;
}

/* Split "base!kind=value" into its parts (pointers into @scope, lengths). */
struct scope_parts {
    char base[128];
    const char *filter; /* after '!', or NULL */
    const char *kind;
    size_t kind_len;
    const char *value; /* after '=', or NULL */
};

static bool split(const char *scope, struct scope_parts *p)
{
    const char *bang = strchr(scope, '!');
    size_t n = bang ? (size_t)(bang - scope) : strlen(scope);
    if (n >= sizeof(p->base))
        return false;
    memcpy(p->base, scope, n);
    p->base[n] = '\0';
    p->filter = bang ? bang + 1 : NULL;
    p->kind = p->filter;
    p->value = NULL;
    p->kind_len = 0;
    if (p->filter) {
        const char *eq = strchr(p->filter, '=');
        p->kind_len = eq ? (size_t)(eq - p->filter) : strlen(p->filter);
        p->value = eq ? eq + 1 : NULL;
    }
    return true;
}

bool scope_exists(const struct scope_registry *reg, const char *scope, const char *who_for,
                  char *err, size_t errlen)
{
    struct scope_parts p;
    const char *for_text = who_for ? who_for : "";
    if (!split(scope, &p) || scope_lookup(reg, p.base) < 0) {
        if (strcmp(p.base, "all") == 0)
            snprintf(err, errlen, "Draft scope 'all' is now called 'inherit'");
        else
            snprintf(err, errlen, "Scope '%s' %s does not exist", scope, for_text);
        return false;
    }
    if (!p.filter)
        return true;
    enum scope_kind k = kind_lookup(p.kind, p.kind_len);
    bool ok;
    if (p.value)
        ok = k < SCOPE_KIND_MAX && p.value[0];
    else
        ok = k == SCOPE_KIND_USER || k == SCOPE_KIND_SERVICE || k == SCOPE_KIND_SERVER;
    if (!ok)
        snprintf(err, errlen, "Scope filter %s '!%s' in scope '%s' %s does not exist", p.filter,
                 p.filter, scope, for_text);
    return ok;
}

struct scope_set *scope_set_new(const struct scope_registry *reg)
{
    struct scope_set *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->g = calloc(reg->n ? reg->n : 1, sizeof(*s->g));
    if (!s->g) {
        free(s);
        return NULL;
    }
    s->n = reg->n;
    return s;
}

static void grant_free(struct scope_grant *g)
{
    if (!g)
        return;
    for (int k = 0; k < SCOPE_KIND_MAX; k++)
        strset_free(&g->v[k]);
    free(g);
}

void scope_set_free(struct scope_set *s)
{
    if (!s)
        return;
    free(s->json);
    for (size_t i = 0; i < s->n; i++)
        grant_free(s->g[i]);
    free(s->g);
    free(s);
}

static struct scope_grant *grant_get(struct scope_set *s, int id)
{
    if (id < 0 || (size_t)id >= s->n)
        return NULL;
    free(s->json); /* about to change */
    s->json = NULL;
    if (!s->g[id])
        s->g[id] = calloc(1, sizeof(struct scope_grant));
    return s->g[id];
}

int scope_set_add_all(struct scope_set *s, int id)
{
    struct scope_grant *g = grant_get(s, id);
    if (!g)
        return -ENOMEM;
    if (!g->all) {
        /* Unfiltered access makes every filter redundant (reduce_scopes). */
        for (int k = 0; k < SCOPE_KIND_MAX; k++)
            strset_free(&g->v[k]);
        g->all = true;
    }
    return 0;
}

int scope_set_add(struct scope_set *s, int id, enum scope_kind kind, const char *value)
{
    if (kind >= SCOPE_KIND_MAX)
        return scope_set_add_all(s, id);
    struct scope_grant *g = grant_get(s, id);
    if (!g)
        return -ENOMEM;
    if (g->all)
        return 0;
    return strset_add(&g->v[kind], value);
}

static int merge_grant(struct scope_set *s, int id, const struct scope_grant *g)
{
    if (g->all)
        return scope_set_add_all(s, id);
    for (int k = 0; k < SCOPE_KIND_MAX; k++)
        for (size_t i = 0; i < g->v[k].n; i++) {
            int r = scope_set_add(s, id, (enum scope_kind)k, g->v[k].v[i]);
            if (r < 0)
                return r;
        }
    return 0;
}

int scope_set_merge(struct scope_set *s, const struct scope_set *other)
{
    for (size_t i = 0; i < other->n && i < s->n; i++) {
        if (!other->g[i])
            continue;
        int r = merge_grant(s, (int)i, other->g[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

static bool grant_empty(const struct scope_grant *g)
{
    if (!g)
        return true;
    if (g->all)
        return false;
    for (int k = 0; k < SCOPE_KIND_MAX; k++)
        if (g->v[k].n)
            return false;
    return true;
}

bool scope_set_holds(const struct scope_set *s, int id)
{
    return id >= 0 && (size_t)id < s->n && !grant_empty(s->g[id]);
}

bool scope_set_empty(const struct scope_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (!grant_empty(s->g[i]))
            return false;
    return true;
}

/* Add scope @id and its subscopes with one filter (kind/value, or everything). */
static int add_with_subscopes(const struct scope_registry *reg, struct scope_set *out, int id,
                              enum scope_kind kind, const char *value, int depth)
{
    if (depth > 16)
        return 0;
    /* A !server filter is not copied onto read:users* subscopes (see _expand_scope). */
    bool skip = kind == SCOPE_KIND_SERVER && str_has_prefix(reg->names[id], "read:user");
    if (!skip && id != SCOPE_SELF && id != SCOPE_INHERIT) {
        int r = scope_set_add(out, id, kind, value);
        if (r < 0)
            return r;
    }
    for (const int *sub = reg->subscopes[id]; *sub != END; sub++) {
        int r = add_with_subscopes(reg, out, *sub, kind, value, depth + 1);
        if (r < 0)
            return r;
    }
    return 0;
}

int scope_expand(const struct scope_registry *reg, const char *const *raw, size_t n,
                 const struct scope_owner *owner, struct scope_set *out)
{
    for (size_t i = 0; i < n; i++) {
        struct scope_parts p;
        if (!raw[i] || !split(raw[i], &p))
            continue;
        int id = scope_lookup(reg, p.base);
        if (id < 0)
            continue;
        enum scope_kind kind = SCOPE_KIND_NONE;
        const char *value = NULL;
        char resolved[512];
        if (p.filter) {
            kind = kind_lookup(p.kind, p.kind_len);
            if (kind >= SCOPE_KIND_MAX)
                continue;
            value = p.value;
            if (!value) {
                /* Owner-relative filters: !user, !service, !server. */
                value = NULL;
                if (kind == SCOPE_KIND_USER && owner && owner->kind == SCOPE_OWNER_USER)
                    value = owner->name;
                else if (kind == SCOPE_KIND_SERVICE && owner && owner->oauth_service)
                    value = owner->oauth_service;
                else if (kind == SCOPE_KIND_SERVICE && owner && owner->kind == SCOPE_OWNER_SERVICE)
                    value = owner->name;
                else if (kind == SCOPE_KIND_SERVER && owner && owner->oauth_server)
                    value = owner->oauth_server;
                if (!value)
                    continue; /* no target: the scope grants nothing */
                snprintf(resolved, sizeof(resolved), "%s", value);
                value = resolved;
            } else if (!value[0]) {
                continue;
            }
        }
        if (id == SCOPE_SELF) {
            if (owner && owner->kind == SCOPE_OWNER_USER)
                for (size_t k = 0; k < sizeof(self_scopes) / sizeof(*self_scopes); k++) {
                    int r = scope_set_add(out, self_scopes[k], SCOPE_KIND_USER, owner->name);
                    if (r < 0)
                        return r;
                }
            continue;
        }
        int r = add_with_subscopes(reg, out, id, kind, value, 0);
        if (r < 0)
            return r;
    }
    return 0;
}

int scope_expand_json(const struct scope_registry *reg, const json_t *raw,
                      const struct scope_owner *owner, struct scope_set *out)
{
    size_t n = json_array_size(raw);
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(raw, i));
        if (!s)
            continue;
        int r = scope_expand(reg, &s, 1, owner, out);
        if (r < 0)
            return r;
    }
    return 0;
}

/* "user/server" → whether its user is in @users. */
static bool server_user_in(const char *server, const struct strset *users)
{
    const char *slash = strchr(server, '/');
    char name[512];
    size_t n = slash ? (size_t)(slash - server) : strlen(server);
    if (n >= sizeof(name))
        return false;
    memcpy(name, server, n);
    name[n] = '\0';
    return strset_has(users, name);
}

static bool server_user_in_groups(const char *server, const struct strset *groups,
                                  const struct scope_membership *m)
{
    if (!m || !m->user_in_any || !groups->n)
        return false;
    const char *slash = strchr(server, '/');
    char name[512];
    size_t n = slash ? (size_t)(slash - server) : strlen(server);
    if (n >= sizeof(name))
        return false;
    memcpy(name, server, n);
    name[n] = '\0';
    return m->user_in_any(m->ctx, name, groups);
}

bool scope_grant_covers(const struct scope_grant *g, enum scope_kind kind, const char *value,
                        const struct scope_membership *m)
{
    if (!g)
        return false;
    if (g->all)
        return true;
    if (kind >= SCOPE_KIND_MAX)
        return false;
    if (strset_has(&g->v[kind], value))
        return true;
    if (kind == SCOPE_KIND_SERVER) {
        if (server_user_in(value, &g->v[SCOPE_KIND_USER]))
            return true;
        return server_user_in_groups(value, &g->v[SCOPE_KIND_GROUP], m);
    }
    if (kind == SCOPE_KIND_USER && g->v[SCOPE_KIND_GROUP].n && m && m->user_in_any)
        return m->user_in_any(m->ctx, value, &g->v[SCOPE_KIND_GROUP]);
    return false;
}

bool scope_has(const struct scope_set *s, int id, enum scope_kind kind, const char *value,
               bool post_filter, const struct scope_membership *m)
{
    if (id < 0 || (size_t)id >= s->n || grant_empty(s->g[id]))
        return false;
    const struct scope_grant *g = s->g[id];
    if (g->all)
        return true;
    if (kind >= SCOPE_KIND_MAX)
        return post_filter;
    return scope_grant_covers(g, kind, value, m);
}

/* Intersect one scope's grants (both filtered). */
static int intersect_filters(const struct scope_grant *a, const struct scope_grant *b,
                             struct scope_grant *out, const struct scope_membership *m)
{
    for (int k = 0; k < SCOPE_KIND_MAX; k++) {
        if (!a->v[k].n || !b->v[k].n)
            continue;
        for (size_t i = 0; i < a->v[k].n; i++)
            if (strset_has(&b->v[k], a->v[k].v[i]) && strset_add(&out->v[k], a->v[k].v[i]) < 0)
                return -ENOMEM;
    }
    /* Resolve the hierarchies both ways: a server is covered by its user's filter or a
     * group holding its user; a user by a group holding them. */
    const struct scope_grant *pairs[2][2] = {{a, b}, {b, a}};
    for (int d = 0; d < 2; d++) {
        const struct scope_grant *x = pairs[d][0], *y = pairs[d][1];
        const struct strset *xs = &x->v[SCOPE_KIND_SERVER];
        if (xs->n && !strset_equal(xs, &y->v[SCOPE_KIND_SERVER])) {
            for (size_t i = 0; i < xs->n; i++) {
                const char *srv = xs->v[i];
                if (strset_has(&out->v[SCOPE_KIND_SERVER], srv))
                    continue;
                if (server_user_in(srv, &y->v[SCOPE_KIND_USER]) ||
                    server_user_in_groups(srv, &y->v[SCOPE_KIND_GROUP], m))
                    if (strset_add(&out->v[SCOPE_KIND_SERVER], srv) < 0)
                        return -ENOMEM;
            }
        }
        const struct strset *xu = &x->v[SCOPE_KIND_USER];
        if (xu->n && y->v[SCOPE_KIND_GROUP].n && !strset_equal(xu, &y->v[SCOPE_KIND_USER]) && m &&
            m->user_in_any) {
            for (size_t i = 0; i < xu->n; i++) {
                if (strset_has(&out->v[SCOPE_KIND_USER], xu->v[i]))
                    continue;
                if (m->user_in_any(m->ctx, xu->v[i], &y->v[SCOPE_KIND_GROUP]) &&
                    strset_add(&out->v[SCOPE_KIND_USER], xu->v[i]) < 0)
                    return -ENOMEM;
            }
        }
    }
    return 0;
}

struct scope_set *scope_intersect(const struct scope_set *a, const struct scope_set *b,
                                  const struct scope_membership *m)
{
    struct scope_set *out = calloc(1, sizeof(*out));
    size_t n = a->n < b->n ? a->n : b->n;
    if (!out)
        return NULL;
    out->n = a->n;
    out->g = calloc(out->n ? out->n : 1, sizeof(*out->g));
    if (!out->g) {
        free(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const struct scope_grant *ga = a->g[i], *gb = b->g[i];
        if (grant_empty(ga) || grant_empty(gb))
            continue;
        int r;
        if (ga->all)
            r = merge_grant(out, (int)i, gb);
        else if (gb->all)
            r = merge_grant(out, (int)i, ga);
        else {
            struct scope_grant *g = grant_get(out, (int)i);
            r = g ? intersect_filters(ga, gb, g, m) : -ENOMEM;
        }
        if (r < 0) {
            scope_set_free(out);
            return NULL;
        }
        if (grant_empty(out->g[i])) {
            grant_free(out->g[i]);
            out->g[i] = NULL;
        }
    }
    return out;
}

int scope_set_strings(const struct scope_set *s, const struct scope_registry *reg,
                      struct strset *out)
{
    char text[1024];
    for (size_t i = 0; i < s->n && i < reg->n; i++) {
        const struct scope_grant *g = s->g[i];
        if (grant_empty(g))
            continue;
        if (g->all) {
            if (strset_add(out, reg->names[i]) < 0)
                return -ENOMEM;
            continue;
        }
        for (int k = 0; k < SCOPE_KIND_MAX; k++)
            for (size_t j = 0; j < g->v[k].n; j++) {
                snprintf(text, sizeof(text), "%s!%s=%s", reg->names[i], kind_names[k],
                         g->v[k].v[j]);
                if (strset_add(out, text) < 0)
                    return -ENOMEM;
            }
    }
    return 0;
}

int scope_set_write_json(const struct scope_set *s, const struct scope_registry *reg,
                         struct gm_buf *b)
{
    /* Sets are built once and then cached (a token's, a user's), and whoami writes them on
     * every call: the text is kept with the set. */
    if (s->json)
        return gm_buf_puts(b, s->json);
    struct strset all = {0};
    struct gm_buf text;
    gm_buf_init(&text, b->max);
    int r = scope_set_strings(s, reg, &all);
    if (r == 0)
        r = gm_buf_putc(&text, '[');
    for (size_t i = 0; r == 0 && i < all.n; i++) {
        if (i)
            r = gm_buf_putc(&text, ',');
        if (r == 0)
            r = gm_buf_json_string(&text, all.v[i]);
    }
    if (r == 0)
        r = gm_buf_putc(&text, ']');
    strset_free(&all);
    if (r == 0)
        r = gm_buf_append(b, text.data, text.len);
    if (r == 0)
        ((struct scope_set *)s)->json = gm_buf_steal(&text);
    gm_buf_free(&text);
    return r;
}
