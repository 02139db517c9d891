/* The JSON models of the REST API (JupyterHub's apihandlers/base.py user_model, server_model,
 * group_model, service_model, token_model), written straight into a buffer and filtered by the
 * caller's scopes with the same access map as JupyterHub. */
#include "api/api.h"
#include "auth/rbac.h"
#include "core/hub.h"
#include "spawn/spawn.h"
#include "util/str.h"
#include "util/time.h"

#include <errno.h>
#include <ganymede/encode.h>
#include <string.h>

void api_view_init(struct api_view *v, struct http_request *req)
{
    const struct auth_identity *id = auth_identify(req);
    memset(v, 0, sizeof(*v));
    v->hub = req->hub;
    v->scopes = id ? id->scopes : NULL;
    v->membership = rbac_membership(&req->hub->store);
    const char *stopped = http_query(req, "include_stopped_servers");
    v->include_stopped = stopped && !str_eq_ci(stopped, "0") && !str_eq_ci(stopped, "false");
}

bool api_view_covers(const struct api_view *v, int id, enum scope_kind kind, const char *value)
{
    if (v->identify_user && kind == SCOPE_KIND_USER &&
        (id == SCOPE_READ_USERS_NAME || id == SCOPE_READ_USERS_GROUPS) &&
        strcmp(value, v->identify_user) == 0)
        return true;
    if (v->identify_service && kind == SCOPE_KIND_SERVICE && id == SCOPE_READ_SERVICES_NAME &&
        strcmp(value, v->identify_service) == 0)
        return true;
    if (!v->scopes || id < 0 || (size_t)id >= v->scopes->n)
        return false;
    return scope_grant_covers(v->scopes->g[id], kind, value, &v->membership);
}

int api_write_time(struct gm_buf *b, int64_t us)
{
    if (!us)
        return gm_buf_puts(b, "null");
    char text[32];
    time_format_iso(us, text);
    gm_buf_putc(b, '"');
    gm_buf_puts(b, text);
    return gm_buf_putc(b, '"');
}

static void key(struct gm_buf *b, bool *first, const char *name)
{
    if (!*first)
        gm_buf_putc(b, ',');
    *first = false;
    gm_buf_putc(b, '"');
    gm_buf_puts(b, name);
    gm_buf_puts(b, "\":");
}

static void write_role_names(struct gm_buf *b, const struct ptrvec *roles)
{
    gm_buf_putc(b, '[');
    for (size_t i = 0; i < roles->n; i++) {
        if (i)
            gm_buf_putc(b, ',');
        gm_buf_json_string(b, ((const struct hub_role *)roles->v[i])->name);
    }
    gm_buf_putc(b, ']');
}

static void write_json(struct gm_buf *b, const json_t *v, const char *fallback)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    gm_buf_puts(b, s ? s : fallback);
    free(s);
}

int api_server_url(struct hub *hub, struct gm_buf *b, const char *user, const char *server)
{
    gm_buf_puts(b, hub->base_url);
    gm_buf_puts(b, "user/");
    gm_url_encode(b, user, "@~");
    gm_buf_putc(b, '/');
    if (server && server[0]) {
        gm_url_encode(b, server, "@~");
        gm_buf_putc(b, '/');
    }
    return 0;
}

static void write_progress_url(struct hub *hub, struct gm_buf *b, const char *user,
                               const char *server)
{
    gm_buf_putc(b, '"');
    gm_buf_puts(b, hub->hub_prefix);
    gm_buf_puts(b, "api/users/");
    gm_url_encode(b, user, "@~");
    if (server && server[0]) {
        gm_buf_puts(b, "/servers/");
        gm_url_encode(b, server, "@~");
        gm_buf_puts(b, "/progress\"");
    } else {
        gm_buf_puts(b, "/server/progress\"");
    }
}

/* The server model of one spawner row (JupyterHub's server_model). */
static void write_server(const struct api_view *v, struct gm_buf *b, struct hub_spawner *sp)
{
    struct hub *hub = v->hub;
    bool active = spawn_state(sp) != SPAWN_IDLE;
    const char *pending = spawn_pending(sp);
    gm_buf_puts(b, "{\"name\":");
    gm_buf_json_string(b, sp->name);
    char full_name[1024];
    snprintf(full_name, sizeof(full_name), "%s/%s", sp->user->name, sp->name);
    gm_buf_puts(b, ",\"full_name\":");
    gm_buf_json_string(b, full_name);
    gm_buf_puts(b, ",\"last_activity\":");
    api_write_time(b, sp->last_activity);
    gm_buf_puts(b, ",\"started\":");
    api_write_time(b, sp->started);
    gm_buf_puts(b, ",\"pending\":");
    if (pending)
        gm_buf_json_string(b, pending);
    else
        gm_buf_puts(b, "null");
    gm_buf_printf(b, ",\"ready\":%s,\"stopped\":%s", spawn_ready(sp) ? "true" : "false",
                  active ? "false" : "true");
    gm_buf_puts(b, ",\"url\":\"");
    api_server_url(hub, b, sp->user->name, sp->name);
    gm_buf_puts(b, "\",\"user_options\":");
    write_json(b, sp->user_options, "{}");
    gm_buf_puts(b, ",\"progress_url\":");
    write_progress_url(hub, b, sp->user->name, sp->name);
    gm_buf_puts(b, ",\"full_url\":null,\"full_progress_url\":null");
    if (api_view_covers(v, SCOPE_ADMIN_SERVER_STATE, SCOPE_KIND_SERVER, full_name)) {
        gm_buf_puts(b, ",\"state\":");
        write_json(b, sp->state, "{}");
    }
    gm_buf_putc(b, '}');
}

enum user_field {
    UF_KIND = 1 << 0,
    UF_NAME = 1 << 1,
    UF_ADMIN = 1 << 2,
    UF_ROLES = 1 << 3,
    UF_GROUPS = 1 << 4,
    UF_SERVER = 1 << 5,
    UF_PENDING = 1 << 6,
    UF_CREATED = 1 << 7,
    UF_ACTIVITY = 1 << 8,
    UF_SERVERS = 1 << 9,
    UF_AUTH_STATE = 1 << 10,
};

int api_write_user(const struct api_view *v, struct gm_buf *b, struct hub_user *u,
                   const char *auth_state)
{
    static const struct {
        int scope;
        unsigned fields;
    } access[] = {
        {SCOPE_READ_USERS, UF_KIND | UF_NAME | UF_ADMIN | UF_ROLES | UF_GROUPS | UF_SERVER |
                               UF_PENDING | UF_CREATED | UF_ACTIVITY},
        {SCOPE_READ_USERS_NAME, UF_KIND | UF_NAME | UF_ADMIN},
        {SCOPE_READ_USERS_GROUPS, UF_KIND | UF_NAME | UF_GROUPS},
        {SCOPE_READ_USERS_ACTIVITY, UF_KIND | UF_NAME | UF_ACTIVITY},
        {SCOPE_READ_SERVERS, UF_KIND | UF_NAME | UF_SERVERS},
        {SCOPE_READ_ROLES_USERS, UF_KIND | UF_NAME | UF_ROLES | UF_ADMIN},
        {SCOPE_ADMIN_AUTH_STATE, UF_KIND | UF_NAME | UF_AUTH_STATE},
    };
    unsigned f = 0;
    for (size_t i = 0; i < sizeof(access) / sizeof(*access); i++)
        if (api_view_covers(v, access[i].scope, SCOPE_KIND_USER, u->name))
            f |= access[i].fields;
    if (!f)
        return 1;
    struct hub_spawner *def = store_spawner_find(u, "");
    bool running = def && spawn_ready(def);
    const char *pending = def ? spawn_pending(def) : NULL;
    bool first = true;
    gm_buf_putc(b, '{');
    if (f & UF_KIND) {
        key(b, &first, "kind");
        gm_buf_puts(b, "\"user\"");
    }
    if (f & UF_NAME) {
        key(b, &first, "name");
        gm_buf_json_string(b, u->name);
    }
    if (f & UF_ADMIN) {
        key(b, &first, "admin");
        gm_buf_puts(b, u->admin ? "true" : "false");
    }
    if (f & UF_ROLES) {
        key(b, &first, "roles");
        write_role_names(b, &u->roles);
    }
    if (f & UF_GROUPS) {
        key(b, &first, "groups");
        gm_buf_putc(b, '[');
        for (size_t i = 0; i < u->groups.n; i++) {
            if (i)
                gm_buf_putc(b, ',');
            gm_buf_json_string(b, ((struct hub_group *)u->groups.v[i])->name);
        }
        gm_buf_putc(b, ']');
    }
    if (f & UF_SERVER) {
        key(b, &first, "server");
        if (running) {
            gm_buf_putc(b, '"');
            api_server_url(v->hub, b, u->name, "");
            gm_buf_putc(b, '"');
        } else {
            gm_buf_puts(b, "null");
        }
    }
    if (f & UF_PENDING) {
        key(b, &first, "pending");
        if (pending)
            gm_buf_json_string(b, pending);
        else
            gm_buf_puts(b, "null");
    }
    if (f & UF_CREATED) {
        key(b, &first, "created");
        api_write_time(b, u->created);
    }
    if (f & UF_ACTIVITY) {
        key(b, &first, "last_activity");
        api_write_time(b, u->last_activity);
    }
    if (f & UF_AUTH_STATE) {
        key(b, &first, "auth_state");
        gm_buf_puts(b, auth_state ? auth_state : "null");
    }
    /* Servers the caller may read: active ones, or all with include_stopped_servers. */
    bool any = false;
    for (size_t i = 0; i < u->spawners.n; i++) {
        struct hub_spawner *sp = u->spawners.v[i];
        if (spawn_state(sp) == SPAWN_IDLE && !v->include_stopped)
            continue;
        char server[1024];
        snprintf(server, sizeof(server), "%s/%s", u->name, sp->name);
        if (!api_view_covers(v, SCOPE_READ_SERVERS, SCOPE_KIND_SERVER, server))
            continue;
        if (!any) {
            key(b, &first, "servers");
            gm_buf_putc(b, '{');
        } else {
            gm_buf_putc(b, ',');
        }
        any = true;
        gm_buf_json_string(b, sp->name);
        gm_buf_putc(b, ':');
        write_server(v, b, sp);
    }
    if (any)
        gm_buf_putc(b, '}');
    else if (f & UF_SERVERS) {
        key(b, &first, "servers");
        gm_buf_puts(b, "{}");
    }
    return gm_buf_putc(b, '}');
}

int api_write_group(const struct api_view *v, struct gm_buf *b, struct hub_group *g)
{
    bool full = api_view_covers(v, SCOPE_READ_GROUPS, SCOPE_KIND_GROUP, g->name);
    bool name = full || api_view_covers(v, SCOPE_READ_GROUPS_NAME, SCOPE_KIND_GROUP, g->name);
    bool roles = api_view_covers(v, SCOPE_READ_ROLES_GROUPS, SCOPE_KIND_GROUP, g->name);
    if (!name && !roles)
        return 1;
    gm_buf_puts(b, "{\"kind\":\"group\",\"name\":");
    gm_buf_json_string(b, g->name);
    if (roles) {
        gm_buf_puts(b, ",\"roles\":");
        write_role_names(b, &g->roles);
    }
    if (full) {
        gm_buf_puts(b, ",\"users\":[");
        for (size_t i = 0; i < g->users.n; i++) {
            if (i)
                gm_buf_putc(b, ',');
            gm_buf_json_string(b, ((struct hub_user *)g->users.v[i])->name);
        }
        gm_buf_puts(b, "],\"properties\":");
        write_json(b, g->properties, "{}");
    }
    return gm_buf_putc(b, '}');
}

int api_write_service(const struct api_view *v, struct gm_buf *b, struct hub_service *svc)
{
    bool full = api_view_covers(v, SCOPE_READ_SERVICES, SCOPE_KIND_SERVICE, svc->name);
    bool name = full || api_view_covers(v, SCOPE_READ_SERVICES_NAME, SCOPE_KIND_SERVICE, svc->name);
    bool roles = api_view_covers(v, SCOPE_READ_ROLES_SERVICES, SCOPE_KIND_SERVICE, svc->name);
    if (!name && !roles)
        return 1;
    gm_buf_puts(b, "{\"kind\":\"service\",\"name\":");
    gm_buf_json_string(b, svc->name);
    gm_buf_printf(b, ",\"admin\":%s", svc->admin ? "true" : "false");
    if (roles) {
        gm_buf_puts(b, ",\"roles\":");
        write_role_names(b, &svc->roles);
    }
    if (full) {
        gm_buf_puts(b, ",\"url\":");
        gm_buf_json_string(b, svc->url);
        gm_buf_puts(b, ",\"prefix\":");
        if (svc->url[0]) {
            gm_buf_putc(b, '"');
            gm_buf_puts(b, v->hub->base_url);
            gm_buf_puts(b, "services/");
            gm_url_encode(b, svc->name, "@~");
            gm_buf_puts(b, "/\"");
        } else {
            gm_buf_puts(b, "\"\"");
        }
        gm_buf_puts(b, ",\"command\":");
        write_json(b, svc->command, "[]");
        gm_buf_printf(b, ",\"pid\":%d,\"info\":", svc->pid);
        write_json(b, svc->info, "{}");
        gm_buf_printf(b, ",\"display\":%s", svc->display ? "true" : "false");
    }
    return gm_buf_putc(b, '}');
}

int api_write_token(const struct api_view *v, struct gm_buf *b, struct hub_token *t)
{
    struct hub_store *s = &v->hub->store;
    gm_buf_putc(b, '{');
    gm_buf_puts(b, t->user ? "\"user\":" : "\"service\":");
    gm_buf_json_string(b, t->user ? t->user->name : t->service->name);
    gm_buf_printf(
        b, ",\"id\":\"a%lld\",\"kind\":\"api_token\",\"roles\":[],\"scopes\":", (long long)t->id);
    const struct scope_set *eff = rbac_token_scopes(s, t);
    if (eff)
        scope_set_write_json(eff, s->scopes, b);
    else
        gm_buf_puts(b, "[]");
    gm_buf_puts(b, ",\"created\":");
    api_write_time(b, t->created);
    gm_buf_puts(b, ",\"last_activity\":");
    api_write_time(b, t->last_activity);
    gm_buf_puts(b, ",\"expires_at\":");
    api_write_time(b, t->expires_at);
    gm_buf_puts(b, ",\"note\":");
    gm_buf_json_string(b, t->note);
    gm_buf_puts(b, ",\"session_id\":");
    if (t->session_id)
        gm_buf_json_string(b, t->session_id);
    else
        gm_buf_puts(b, "null");
    gm_buf_puts(b, ",\"oauth_client\":");
    const struct hub_oauth_client *c = t->client_id ? store_client_find(s, t->client_id) : NULL;
    if (c)
        gm_buf_json_string(b, c->description[0] ? c->description : c->identifier);
    else
        gm_buf_json_string(b, t->client_id ? t->client_id : "jupyterhub");
    return gm_buf_putc(b, '}');
}
