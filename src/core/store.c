/* Loading the store from the database at start (a handful of whole-table reads, no query per
 * object), freeing it, and the helpers the other store files share. */
#include "core/store_impl.h"
#include "auth/scopes.h"
#include "util/str.h"
#include "util/time.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *store_json_text(const json_t *v, const char *empty)
{
    if (!v)
        return strdup(empty);
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

json_t *store_json_parse(const char *text, const char *fallback)
{
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    if (!v && fallback)
        v = json_loads(fallback, JSON_DECODE_ANY, NULL);
    return v;
}

void *store_find_by_id(const struct ptrvec *pv, int64_t id, size_t id_offset)
{
    size_t lo = 0, hi = pv->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int64_t mid_id = *(const int64_t *)((const char *)pv->v[mid] + id_offset);
        if (mid_id == id)
            return pv->v[mid];
        if (mid_id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void store_rbac_changed(struct hub_store *s)
{
    s->rbac_gen++;
}

/* Loading. */

struct load {
    struct hub_store *s;
    int r;
};

static int load_role(void *ctx, const struct db_role_row *row)
{
    struct hub_store *s = ctx;
    struct hub_role *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->id = row->id;
    r->name = strdup(row->name);
    r->description = str_dup(row->description);
    r->scopes = store_json_parse(row->scopes, "[]");
    r->managed_by_auth = row->managed_by_auth;
    if (!r->name || !r->scopes || ptrvec_push(&s->roles, r) < 0) {
        store_role_free(r);
        return -ENOMEM;
    }
    return hmap_put(&s->role_index, r->name, r);
}

static int load_user(void *ctx, const struct db_user_row *row)
{
    struct hub_store *s = ctx;
    struct hub_user *u = calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    u->id = row->id;
    u->name = strdup(row->name);
    u->admin = row->admin;
    u->created = row->created;
    u->last_activity = row->last_activity;
    u->cookie_id = str_dup(row->cookie_id ? row->cookie_id : "");
    if (row->auth_state &&
        (u->auth_state = malloc(row->auth_state_len ? row->auth_state_len : 1))) {
        memcpy(u->auth_state, row->auth_state, row->auth_state_len);
        u->auth_state_len = row->auth_state_len;
    }
    if (!u->name || !u->cookie_id || (row->auth_state && !u->auth_state) ||
        ptrvec_push(&s->users, u) < 0) {
        store_user_free(u);
        return -ENOMEM;
    }
    if (u->cookie_id[0] && hmap_put(&s->cookie_index, u->cookie_id, u) < 0)
        return -ENOMEM;
    return hmap_put(&s->user_index, u->name, u);
}

static int load_group(void *ctx, const struct db_group_row *row)
{
    struct hub_store *s = ctx;
    struct hub_group *g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    g->id = row->id;
    g->name = strdup(row->name);
    g->properties = store_json_parse(row->properties, "{}");
    if (!json_is_object(g->properties)) {
        json_decref(g->properties);
        g->properties = json_object();
    }
    if (!g->name || !g->properties || ptrvec_push(&s->groups, g) < 0) {
        store_group_free(g);
        return -ENOMEM;
    }
    return hmap_put(&s->group_index, g->name, g);
}

static int load_member(void *ctx, const struct db_pair_row *row)
{
    struct hub_store *s = ctx;
    struct hub_user *u = store_find_by_id(&s->users, row->a, offsetof(struct hub_user, id));
    struct hub_group *g = store_find_by_id(&s->groups, row->b, offsetof(struct hub_group, id));
    if (!u || !g)
        return 0;
    if (ptrvec_push(&u->groups, g) < 0 || ptrvec_push(&g->users, u) < 0)
        return -ENOMEM;
    return 0;
}

struct map_load {
    struct hub_store *s;
    enum db_role_map map;
};

static int load_role_map(void *ctx, const struct db_pair_row *row)
{
    struct map_load *ml = ctx;
    struct hub_store *s = ml->s;
    struct hub_role *role = store_find_by_id(&s->roles, row->b, offsetof(struct hub_role, id));
    if (!role)
        return 0;
    struct ptrvec *roles = NULL;
    if (ml->map == DB_ROLE_MAP_USER) {
        struct hub_user *u = store_find_by_id(&s->users, row->a, offsetof(struct hub_user, id));
        roles = u ? &u->roles : NULL;
    } else if (ml->map == DB_ROLE_MAP_GROUP) {
        struct hub_group *g = store_find_by_id(&s->groups, row->a, offsetof(struct hub_group, id));
        roles = g ? &g->roles : NULL;
    } else {
        struct hub_service *svc =
            store_find_by_id(&s->services, row->a, offsetof(struct hub_service, id));
        roles = svc ? &svc->roles : NULL;
    }
    if (!roles || ptrvec_contains(roles, role))
        return 0;
    return ptrvec_push(roles, role);
}

static int load_service(void *ctx, const struct db_service_row *row)
{
    struct hub_store *s = ctx;
    struct hub_service *svc = calloc(1, sizeof(*svc));
    if (!svc)
        return -ENOMEM;
    svc->id = row->id;
    svc->name = strdup(row->name);
    svc->admin = row->admin;
    svc->url = str_dup(row->url ? row->url : "");
    svc->info = store_json_parse(row->info, "{}");
    svc->display = row->display;
    svc->oauth_no_confirm = row->oauth_no_confirm;
    svc->command = store_json_parse(row->command, "[]");
    svc->cwd = str_dup(row->cwd ? row->cwd : "");
    svc->environment = store_json_parse(row->environment, "{}");
    svc->user = str_dup(row->user ? row->user : "");
    svc->from_config = row->from_config;
    svc->oauth_client_allowed_scopes = store_json_parse(row->oauth_client_allowed_scopes, "[]");
    svc->oauth_client_id = str_dup(row->oauth_client_id);
    svc->oauth_redirect_uri = strdup("");
    svc->pid = row->pid;
    if (!svc->name || !svc->url || !svc->cwd || !svc->user || !svc->oauth_redirect_uri ||
        ptrvec_push(&s->services, svc) < 0) {
        store_service_free(svc);
        return -ENOMEM;
    }
    return hmap_put(&s->service_index, svc->name, svc);
}

static int load_client(void *ctx, const struct db_client_row *row)
{
    struct hub_store *s = ctx;
    struct hub_oauth_client *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->id = row->id;
    c->identifier = strdup(row->identifier);
    c->description = strdup(row->description ? row->description : "");
    c->secret = strdup(row->secret ? row->secret : "");
    c->redirect_uri = strdup(row->redirect_uri ? row->redirect_uri : "");
    c->allowed_scopes = store_json_parse(row->allowed_scopes, "[]");
    if (!c->identifier || !c->description || !c->secret || !c->redirect_uri ||
        ptrvec_push(&s->clients, c) < 0) {
        store_client_free(c);
        return -ENOMEM;
    }
    return hmap_put(&s->client_index, c->identifier, c);
}

static int load_token(void *ctx, const struct db_token_row *row)
{
    struct hub_store *s = ctx;
    struct hub_user *u =
        row->user_id ? store_find_by_id(&s->users, row->user_id, offsetof(struct hub_user, id))
                     : NULL;
    struct hub_service *svc = row->service_id ? store_find_by_id(&s->services, row->service_id,
                                                                 offsetof(struct hub_service, id))
                                              : NULL;
    if (!u && !svc)
        return 0; /* an orphan the database's cascades missed: ignore it */
    struct hub_token *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->id = row->id;
    t->user = u;
    t->service = u ? NULL : svc;
    t->hashed = strdup(row->hashed);
    str_copy(t->prefix, sizeof(t->prefix), row->prefix);
    t->client_id = str_dup(row->client_id);
    t->session_id = str_dup(row->session_id);
    t->created = row->created;
    t->expires_at = row->expires_at;
    t->last_activity = row->last_activity;
    t->note = str_dup(row->note ? row->note : "");
    t->scopes = store_json_parse(row->scopes, "[]");
    struct ptrvec *owner = u ? &u->tokens : &svc->tokens;
    if (!t->hashed || !t->note || !t->scopes || ptrvec_push(owner, t) < 0) {
        store_token_free(t);
        return -ENOMEM;
    }
    return store_token_index(s, t);
}

static int load_spawner(void *ctx, const struct db_spawner_row *row)
{
    struct hub_store *s = ctx;
    struct hub_user *u = store_find_by_id(&s->users, row->user_id, offsetof(struct hub_user, id));
    if (!u)
        return 0;
    struct hub_spawner *sp = calloc(1, sizeof(*sp));
    if (!sp)
        return -ENOMEM;
    sp->id = row->id;
    sp->user = u;
    sp->name = strdup(row->name);
    sp->started = row->started;
    sp->last_activity = row->last_activity;
    sp->state = store_json_parse(row->state, NULL);
    sp->user_options = store_json_parse(row->user_options, NULL);
    sp->oauth_client_id = str_dup(row->oauth_client_id);
    if (row->server_id) {
        sp->server = calloc(1, sizeof(*sp->server));
        if (sp->server) {
            sp->server->id = row->server_id;
            sp->server->proto = strdup(row->proto ? row->proto : "http");
            sp->server->ip = strdup(row->ip ? row->ip : "");
            sp->server->port = row->port;
            sp->server->base_url = strdup(row->base_url ? row->base_url : "");
        }
    }
    if (!sp->name || (row->server_id && !sp->server) || ptrvec_push(&u->spawners, sp) < 0) {
        store_spawner_free(sp);
        return -ENOMEM;
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    const struct hub_user *x = *(const struct hub_user *const *)a;
    const struct hub_user *y = *(const struct hub_user *const *)b;
    return strcmp(x->name, y->name);
}

int store_load(struct hub_store *s, struct db *db, const struct scope_registry *scopes, char *err,
               size_t errlen)
{
    s->db = db;
    s->scopes = scopes;
    s->rbac_gen = 1;
    int r = db_roles_each(db, load_role, s);
    if (r == 0)
        r = db_users_each(db, load_user, s);
    if (r == 0)
        r = db_groups_each(db, load_group, s);
    if (r == 0)
        r = db_group_members_each(db, load_member, s);
    if (r == 0)
        r = db_services_each(db, load_service, s);
    for (int m = 0; r == 0 && m < DB_ROLE_MAP_MAX; m++) {
        struct map_load ml = {.s = s, .map = (enum db_role_map)m};
        r = db_role_map_each(db, (enum db_role_map)m, load_role_map, &ml);
    }
    if (r == 0)
        r = db_clients_each(db, load_client, s);
    if (r == 0)
        r = db_tokens_each(db, load_token, s);
    if (r == 0)
        r = db_spawners_each(db, load_spawner, s);
    if (r == 0)
        r = db_oauth_codes_each(db, time_now_us() / 1000000, store_oauth_code_load, s);
    if (r == 0 && s->users.n) {
        s->users_by_name.v = malloc(s->users.n * sizeof(void *));
        if (!s->users_by_name.v) {
            r = -ENOMEM;
        } else {
            memcpy(s->users_by_name.v, s->users.v, s->users.n * sizeof(void *));
            s->users_by_name.n = s->users_by_name.cap = s->users.n;
            qsort(s->users_by_name.v, s->users_by_name.n, sizeof(void *), by_name);
        }
    }
    if (r < 0) {
        snprintf(err, errlen, "cannot load the database: %s",
                 r == -ENOMEM ? "out of memory" : db_errmsg(db));
        store_release(s);
    }
    return r;
}

/* Freeing. */

void store_spawner_free(struct hub_spawner *sp)
{
    if (!sp)
        return;
    free(sp->name);
    json_decref(sp->state);
    json_decref(sp->user_options);
    free(sp->oauth_client_id);
    if (sp->server) {
        free(sp->server->proto);
        free(sp->server->ip);
        free(sp->server->base_url);
        free(sp->server);
    }
    free(sp);
}

void store_token_free(struct hub_token *t)
{
    if (!t)
        return;
    free(t->hashed);
    free(t->client_id);
    free(t->session_id);
    free(t->note);
    json_decref(t->scopes);
    scope_set_free(t->eff);
    free(t);
}

void store_user_free(struct hub_user *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->spawners.n; i++)
        store_spawner_free(u->spawners.v[i]);
    for (size_t i = 0; i < u->tokens.n; i++)
        store_token_free(u->tokens.v[i]);
    ptrvec_free(&u->spawners);
    ptrvec_free(&u->tokens);
    ptrvec_free(&u->groups);
    ptrvec_free(&u->roles);
    scope_set_free(u->scopes);
    free(u->name);
    free(u->cookie_id);
    free(u->auth_state);
    free(u);
}

void store_group_free(struct hub_group *g)
{
    if (!g)
        return;
    ptrvec_free(&g->users);
    ptrvec_free(&g->roles);
    json_decref(g->properties);
    free(g->name);
    free(g);
}

void store_role_free(struct hub_role *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->description);
    json_decref(r->scopes);
    free(r);
}

void store_service_free(struct hub_service *svc)
{
    if (!svc)
        return;
    for (size_t i = 0; i < svc->tokens.n; i++)
        store_token_free(svc->tokens.v[i]);
    ptrvec_free(&svc->tokens);
    ptrvec_free(&svc->roles);
    scope_set_free(svc->scopes);
    free(svc->name);
    free(svc->url);
    json_decref(svc->info);
    json_decref(svc->command);
    free(svc->cwd);
    json_decref(svc->environment);
    free(svc->user);
    json_decref(svc->oauth_client_allowed_scopes);
    free(svc->oauth_client_id);
    free(svc->oauth_redirect_uri);
    if (svc->server) {
        free(svc->server->proto);
        free(svc->server->ip);
        free(svc->server->base_url);
        free(svc->server);
    }
    free(svc);
}

void store_client_free(struct hub_oauth_client *c)
{
    if (!c)
        return;
    free(c->identifier);
    free(c->description);
    free(c->secret);
    free(c->redirect_uri);
    json_decref(c->allowed_scopes);
    free(c);
}

void store_release(struct hub_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->users.n; i++)
        store_user_free(s->users.v[i]);
    for (size_t i = 0; i < s->groups.n; i++)
        store_group_free(s->groups.v[i]);
    for (size_t i = 0; i < s->roles.n; i++)
        store_role_free(s->roles.v[i]);
    for (size_t i = 0; i < s->services.n; i++)
        store_service_free(s->services.v[i]);
    for (size_t i = 0; i < s->clients.n; i++)
        store_client_free(s->clients.v[i]);
    ptrvec_free(&s->users);
    ptrvec_free(&s->users_by_name);
    ptrvec_free(&s->groups);
    ptrvec_free(&s->roles);
    ptrvec_free(&s->services);
    ptrvec_free(&s->clients);
    hmap_free(&s->user_index);
    hmap_free(&s->cookie_index);
    hmap_free(&s->group_index);
    hmap_free(&s->role_index);
    hmap_free(&s->service_index);
    hmap_free(&s->client_index);
    hmap_free(&s->token_prefix);
    store_oauth_codes_release(s);
    memset(s, 0, sizeof(*s));
}
