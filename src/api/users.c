/* /hub/api/user and /hub/api/users[/{name}[/activity]] (JupyterHub's apihandlers/users.py). */
#include "api/api.h"
#include "auth/crypt.h"
#include "auth/login.h"
#include "auth/rbac.h"
#include "auth/usernames.h"
#include "core/hub.h"
#include "spawn/spawn.h"
#include "util/str.h"
#include "util/time.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_LIST ((size_t)128 << 20) /* bytes of one response */

/* GET /hub/api/user: whoami for any valid credential. */
int api_self_get(struct http_request *req)
{
    const struct auth_identity *id = api_caller(req);
    if (!id)
        return 0;
    struct hub_store *s = &req->hub->store;
    /* The caller may always identify themselves (the identify scopes). */
    struct api_view v;
    api_view_init(&v, req);
    if (id->user)
        v.identify_user = id->user->name;
    else
        v.identify_service = id->service->name;
    struct gm_buf b;
    gm_buf_init(&b, MAX_LIST);
    gm_buf_grow(&b, 4096);
    int r =
        id->user ? api_write_user(&v, &b, id->user, NULL) : api_write_service(&v, &b, id->service);
    if (r != 0 || b.len < 2) {
        gm_buf_free(&b);
        return -ENOMEM;
    }
    b.len--; /* reopen the object */
    gm_buf_puts(&b, ",\"session_id\":");
    if (id->session_id)
        gm_buf_json_string(&b, id->session_id);
    else
        gm_buf_puts(&b, "null");
    if (id->token)
        gm_buf_printf(&b, ",\"token_id\":\"a%lld\"", (long long)id->token->id);
    else
        gm_buf_puts(&b, ",\"token_id\":null");
    gm_buf_puts(&b, ",\"scopes\":");
    scope_set_write_json(id->scopes, s->scopes, &b);
    if (gm_buf_putc(&b, '}') < 0) {
        gm_buf_free(&b);
        return -ENOMEM;
    }
    return api_respond_buf(req, 200, &b);
}

/* Listing. */

enum list_state {
    LIST_ALL,
    LIST_ACTIVE,
    LIST_READY,
    LIST_INACTIVE,
    LIST_STATE_MAX,
};

/* JupyterHub's state filter: active = any server pending or ready; ready = any ready. */
static bool user_active(const struct hub_user *u)
{
    for (size_t i = 0; i < u->spawners.n; i++)
        if (spawn_state(u->spawners.v[i]) != SPAWN_IDLE)
            return true;
    return false;
}

static bool user_ready(const struct hub_user *u)
{
    for (size_t i = 0; i < u->spawners.n; i++)
        if (spawn_ready(u->spawners.v[i]))
            return true;
    return false;
}

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0)
            return true;
    return n == 0;
}

struct sort_ctx {
    bool desc;
};

static int cmp_activity_asc(const void *a, const void *b)
{
    const struct hub_user *x = *(const struct hub_user *const *)a;
    const struct hub_user *y = *(const struct hub_user *const *)b;
    /* NULL first in ascending order, as JupyterHub orders by (IS NOT NULL, column). */
    if (!x->last_activity != !y->last_activity)
        return x->last_activity ? 1 : -1;
    if (x->last_activity != y->last_activity)
        return x->last_activity < y->last_activity ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_activity_desc(const void *a, const void *b)
{
    const struct hub_user *x = *(const struct hub_user *const *)a;
    const struct hub_user *y = *(const struct hub_user *const *)b;
    if (!x->last_activity != !y->last_activity)
        return x->last_activity ? -1 : 1;
    if (x->last_activity != y->last_activity)
        return x->last_activity > y->last_activity ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int api_users_get(struct http_request *req)
{
    struct hub *hub = req->hub;
    struct hub_store *s = &hub->store;
    if (api_need(req, SCOPE_KIND_NONE, NULL, true, API_IDS(SCOPE_LIST_USERS)) < 0)
        return 0;
    const struct auth_identity *id = auth_identify(req);
    const struct scope_grant *list = id->scopes->g[SCOPE_LIST_USERS];
    if (!list->all && (list->v[SCOPE_KIND_SERVER].n || list->v[SCOPE_KIND_SERVICE].n)) {
        gm_log_warn("Invalid filter on list:users for '%s'", id->name);
        return http_error(req, 403, "Forbidden");
    }
    const char *state_arg = http_query(req, "state");
    enum list_state state = LIST_ALL;
    if (state_arg && state_arg[0]) {
        if (strcmp(state_arg, "active") == 0)
            state = LIST_ACTIVE;
        else if (strcmp(state_arg, "ready") == 0)
            state = LIST_READY;
        else if (strcmp(state_arg, "inactive") == 0)
            state = LIST_INACTIVE;
        else
            return http_error(req, 400, "Unrecognized state filter: '%s'", state_arg);
    }
    const char *sort = http_query(req, "sort");
    const char *sort_by = sort && sort[0] ? sort : "id";
    bool desc = sort_by[0] == '-';
    const char *column = desc ? sort_by + 1 : sort_by;
    if (strcmp(column, "id") != 0 && strcmp(column, "name") != 0 &&
        strcmp(column, "last_activity") != 0)
        return http_error(req, 400, "sort must be 'id', 'name', or 'last_activity', not '%s'",
                          sort_by);
    struct api_page page;
    if (api_pagination(req, &page) < 0)
        return 0;
    const char *name_filter = http_query(req, "name_filter");

    /* The users in order; last_activity needs a sort, id and name orders are kept. */
    const struct ptrvec *order = strcmp(column, "name") == 0 ? &s->users_by_name : &s->users;
    struct hub_user **sorted = NULL;
    if (strcmp(column, "last_activity") == 0) {
        sorted = malloc((s->users.n ? s->users.n : 1) * sizeof(*sorted));
        if (!sorted)
            return -ENOMEM;
        memcpy(sorted, s->users.v, s->users.n * sizeof(*sorted));
        qsort(sorted, s->users.n, sizeof(*sorted), desc ? cmp_activity_desc : cmp_activity_asc);
        desc = false;
    }
    struct api_view v;
    api_view_init(&v, req);
    struct scope_membership m = rbac_membership(s);
    struct gm_buf items;
    gm_buf_init(&items, MAX_LIST);
    /* About 300 bytes a model: one allocation instead of a dozen reallocations. */
    gm_buf_grow(&items, (size_t)(page.limit < 4096 ? page.limit : 4096) * 320);
    gm_buf_putc(&items, '[');
    size_t total = 0, written = 0;
    size_t n = s->users.n;
    /* Without filters the total is known and only the page needs visiting. */
    bool unfiltered = list->all && !(name_filter && name_filter[0]) && state == LIST_ALL;
    size_t first = 0;
    if (unfiltered) {
        total = n;
        first = (size_t)page.offset < n ? (size_t)page.offset : n;
    }
    for (size_t k = first; k < n; k++) {
        size_t i = desc ? n - 1 - k : k;
        struct hub_user *u = sorted ? sorted[i] : order->v[i];
        if (unfiltered) {
            if ((int64_t)written >= page.limit)
                break;
        } else {
            if (!list->all && !scope_grant_covers(list, SCOPE_KIND_USER, u->name, &m))
                continue;
            if (name_filter && name_filter[0] && !contains_ci(u->name, name_filter))
                continue;
            if ((state == LIST_ACTIVE && !user_active(u)) ||
                (state == LIST_READY && !user_ready(u)) ||
                (state == LIST_INACTIVE && user_active(u)))
                continue;
            total++;
            if ((int64_t)total <= page.offset || (int64_t)written >= page.limit)
                continue;
        }
        size_t mark = items.len;
        if (written)
            gm_buf_putc(&items, ',');
        int r = api_write_user(&v, &items, u, NULL);
        if (r == 1) {
            items.len = mark;
            if (unfiltered)
                total--; /* nothing the caller may see: not counted */
            continue;
        }
        if (r < 0) {
            free(sorted);
            gm_buf_free(&items);
            return http_error(req, 500,
                              "The user list is too large for one response; use "
                              "pagination");
        }
        written++;
    }
    free(sorted);
    if (!page.envelope && page.offset == 0 && total > written)
        gm_log_warn("Truncated user list in request that does not expect pagination. Replying "
                    "with %zu of %zu total users.",
                    written, total);
    return api_respond_page(req, &page, &items, total);
}

/* Request bodies for users: keys among name, admin, groups, roles, auth_state. */
static int check_user_model(struct http_request *req, json_t *body)
{
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        bool ok;
        if (strcmp(k, "name") == 0)
            ok = json_is_string(v);
        else if (strcmp(k, "admin") == 0)
            ok = json_is_boolean(v);
        else if (strcmp(k, "groups") == 0 || strcmp(k, "roles") == 0)
            ok = json_is_array(v);
        else if (strcmp(k, "auth_state") == 0)
            ok = json_is_object(v);
        else {
            http_error(req, 400, "Invalid JSON keys: '%s' is not a field of a user", k);
            return -EINVAL;
        }
        if (!ok) {
            static const struct {
                const char *key, *type;
            } types[] = {{"name", "a string"},
                         {"admin", "a boolean"},
                         {"groups", "a list"},
                         {"roles", "a list"},
                         {"auth_state", "a dict"}};
            const char *type = "";
            for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++)
                if (strcmp(types[i].key, k) == 0)
                    type = types[i].type;
            http_error(req, 400, "user.%s must be %s", k, type);
            return -EINVAL;
        }
    }
    return 0;
}

static bool caller_is_admin(const struct auth_identity *id)
{
    return id->user ? id->user->admin : id->service->admin;
}

static int create_user(struct http_request *req, const char *name, bool admin,
                       struct hub_user **ret)
{
    struct hub_store *s = &req->hub->store;
    struct hub_user *u;
    int r = store_user_create(s, name, admin, &u);
    if (r == 0)
        r = rbac_assign_default_roles(s, u, NULL);
    if (r < 0) {
        http_error(req, r == -EEXIST ? 409 : 500, "Failed to create user %s: %s", name,
                   strerror(-r));
        return r;
    }
    gm_log_info("Created user '%s'%s", name, admin ? " (admin)" : "");
    *ret = u;
    return 0;
}

int api_users_post(struct http_request *req)
{
    if (API_NEED(req, SCOPE_KIND_NONE, NULL, SCOPE_ADMIN_USERS) < 0)
        return 0;
    const struct auth_identity *caller = auth_identify(req);
    json_t *body = NULL;
    if (api_body_object(req, &body, false, "Must specify at least one user to create") < 0)
        return 0;
    json_t *names = json_object_get(body, "usernames");
    if (!body || !json_is_array(names) || json_array_size(names) == 0) {
        json_decref(body);
        return http_error(req, 400, "Must specify at least one user to create");
    }
    json_incref(names);
    json_object_del(body, "usernames");
    if (check_user_model(req, body) < 0) {
        json_decref(body);
        json_decref(names);
        return 0;
    }
    bool admin = json_is_true(json_object_get(body, "admin"));
    json_decref(body);
    if (admin && !caller_is_admin(caller)) {
        json_decref(names);
        return http_error(req, 403, "Only admins can grant admin permissions");
    }
    struct hub *hub = req->hub;
    struct ptrvec to_create = {0};
    struct gm_buf invalid;
    gm_buf_init(&invalid, 64 << 10);
    size_t n_invalid = 0, i;
    json_t *item;
    int r = 0;
    json_array_foreach(names, i, item)
    {
        char name[4 * AUTH_USERNAME_MAX + 4];
        const char *raw = json_string_value(item);
        if (!raw) {
            r = http_error(req, 400, "usernames must be a list of strings");
            goto out;
        }
        if (auth_username_normalize(hub->usernames, raw, name, sizeof(name)) < 0 ||
            !auth_username_valid(hub->usernames, name)) {
            gm_buf_printf(&invalid, "%s%s", n_invalid++ ? ", " : "", raw);
            continue;
        }
        if (store_user_find(&hub->store, name)) {
            gm_log_warn("User %s already exists", name);
            continue;
        }
        bool dup = false;
        for (size_t k = 0; k < to_create.n; k++)
            dup = dup || strcmp(to_create.v[k], name) == 0;
        if (!dup)
            ptrvec_push(&to_create, strdup(name));
    }
    if (n_invalid) {
        r = http_error(req, 400, "Invalid username%s: %s", n_invalid > 1 ? "s" : "", invalid.data);
        goto out;
    }
    if (!to_create.n) {
        r = http_error(req, 409, "All %zu users already exist", json_array_size(names));
        goto out;
    }
    struct api_view v;
    api_view_init(&v, req);
    struct gm_buf b;
    gm_buf_init(&b, MAX_LIST);
    gm_buf_putc(&b, '[');
    for (size_t k = 0; k < to_create.n; k++) {
        struct hub_user *u;
        if (create_user(req, to_create.v[k], admin, &u) < 0) {
            gm_buf_free(&b);
            goto out;
        }
        if (k)
            gm_buf_putc(&b, ',');
        api_write_user(&v, &b, u, NULL); /* admin:users sees every user */
    }
    gm_buf_putc(&b, ']');
    r = api_respond_buf(req, 201, &b);
out:
    for (size_t k = 0; k < to_create.n; k++)
        free(to_create.v[k]);
    ptrvec_free(&to_create);
    gm_buf_free(&invalid);
    json_decref(names);
    return r;
}

static int respond_user(struct http_request *req, int status, struct hub_user *u,
                        bool with_auth_state)
{
    struct api_view v;
    api_view_init(&v, req);
    struct gm_buf b;
    gm_buf_init(&b, MAX_LIST);
    /* auth_state is decrypted only for one user and only for callers who may read it. */
    char *state = NULL;
    if (with_auth_state || api_view_covers(&v, SCOPE_ADMIN_AUTH_STATE, SCOPE_KIND_USER, u->name))
        state = auth_state_text(req->hub, u);
    int r = api_write_user(&v, &b, u, state);
    if (r < 0 || r == 1) {
        free(state);
        gm_buf_free(&b);
        return r < 0 ? -ENOMEM : http_error(req, 404, "Not Found");
    }
    if (with_auth_state && !strstr(b.data, "\"auth_state\":")) {
        b.len--;
        gm_buf_printf(&b, ",\"auth_state\":%s}", state ? state : "null");
    }
    free(state);
    return api_respond_buf(req, status, &b);
}

int api_user_get(struct http_request *req)
{
    const char *name = req->params[0];
    if (API_NEED(req, SCOPE_KIND_USER, name, SCOPE_READ_USERS, SCOPE_READ_USERS_NAME,
                 SCOPE_READ_SERVERS, SCOPE_READ_USERS_GROUPS, SCOPE_READ_USERS_ACTIVITY,
                 SCOPE_READ_ROLES_USERS) < 0)
        return 0;
    struct hub_user *u = store_user_find(&req->hub->store, name);
    if (!u)
        return http_error(req, 404, "Not Found");
    return respond_user(req, 200, u, false);
}

int api_user_post(struct http_request *req)
{
    const char *name = req->params[0];
    if (API_NEED(req, SCOPE_KIND_USER, name, SCOPE_ADMIN_USERS) < 0)
        return 0;
    struct hub *hub = req->hub;
    json_t *body = NULL;
    if (api_body_object(req, &body, false, "Invalid JSON data: a user must be a dict") < 0)
        return 0;
    if (store_user_find(&hub->store, name)) {
        json_decref(body);
        return http_error(req, 409, "User %s already exists", name);
    }
    if (body && check_user_model(req, body) < 0) {
        json_decref(body);
        return 0;
    }
    bool admin = json_is_true(json_object_get(body, "admin"));
    json_decref(body);
    if (admin && !caller_is_admin(auth_identify(req)))
        return http_error(req, 403, "Only admins can grant admin permissions");
    if (!auth_username_valid(hub->usernames, name))
        return http_error(req, 400, "Invalid username: %s", name);
    struct hub_user *u;
    if (create_user(req, name, admin, &u) < 0)
        return 0;
    return respond_user(req, 201, u, false);
}

int api_user_patch(struct http_request *req)
{
    const char *name = req->params[0];
    if (API_NEED(req, SCOPE_KIND_USER, name, SCOPE_ADMIN_USERS) < 0)
        return 0;
    struct hub *hub = req->hub;
    struct hub_store *s = &hub->store;
    struct hub_user *u = store_user_find(s, name);
    if (!u)
        return http_error(req, 404, "Not Found");
    json_t *body = NULL;
    if (api_body_object(req, &body, true, "Invalid JSON data: a user must be a dict") < 0)
        return 0;
    int r = 0;
    if (check_user_model(req, body) < 0)
        goto out;
    if (json_object_get(body, "groups") || json_object_get(body, "roles")) {
        r = http_error(req, 400,
                       "groups and roles cannot be set on a user; use "
                       "/hub/api/groups/{name}/users or JupyterHub.load_roles");
        goto out;
    }
    const char *new_name = json_string_value(json_object_get(body, "name"));
    if (new_name && strcmp(new_name, u->name) != 0) {
        if (store_user_find(s, new_name)) {
            r = http_error(req, 400, "User %s already exists, username must be unique", new_name);
            goto out;
        }
        if (!auth_username_valid(hub->usernames, new_name)) {
            r = http_error(req, 400, "Invalid username: %s", new_name);
            goto out;
        }
        /* A running server's URL, token and OAuth client carry the old name. */
        if (user_active(u)) {
            r = http_error(req, 400, "Stop %s's servers before renaming the user", u->name);
            goto out;
        }
    }
    const struct auth_identity *caller = auth_identify(req);
    json_t *admin = json_object_get(body, "admin");
    if (!caller_is_admin(caller)) {
        if (u->admin) {
            r = http_error(req, 403, "Only admins can modify other admins");
            goto out;
        }
        if (json_is_true(admin)) {
            r = http_error(req, 403, "Only admins can grant admin permissions");
            goto out;
        }
    }
    json_t *auth_state = json_object_get(body, "auth_state");
    if (auth_state && !auth_crypt_available(hub->crypt)) {
        r = http_error(req, 400,
                       "auth_state cannot be stored: set JUPYTERHUB_CRYPT_KEY (32 "
                       "bytes, hex) in the hub's environment first");
        goto out;
    }
    if (new_name && strcmp(new_name, u->name) != 0) {
        gm_log_info("%s renaming user '%s' to '%s'", caller->name, u->name, new_name);
        if ((r = store_user_rename(s, u, new_name)) < 0)
            goto out;
    }
    if (admin) {
        gm_log_info("%s setting admin=%s for '%s'", caller->name,
                    json_is_true(admin) ? "True" : "False", u->name);
        if ((r = store_user_set_admin(s, u, json_is_true(admin))) < 0 ||
            (r = rbac_assign_default_roles(s, u, NULL)) < 0)
            goto out;
    }
    if (auth_state) {
        gm_log_info("%s setting auth_state=... for '%s'", caller->name, u->name);
        if ((r = auth_state_save(hub, u, auth_state)) < 0)
            goto out;
    }
    r = respond_user(req, 200, u, true);
out:
    json_decref(body);
    return r;
}

/* DELETE: the user's servers are stopped first (the request waits, bounded), then the user
 * goes with everything it owns. */
#define DELETE_WAIT_MS 60000

struct delete_wait {
    struct http_request *req;
    struct hub_user *u;
    size_t pending;
    size_t n;
    struct spawn_listener *l;
};

static int delete_now(struct http_request *req, struct hub_user *u)
{
    struct hub *hub = req->hub;
    const struct auth_identity *caller = auth_identify(req);
    char name[512];
    snprintf(name, sizeof(name), "%s", u->name);
    spawn_release_user(hub, u);
    int r = store_user_delete(&hub->store, u);
    if (r < 0)
        return r;
    gm_log_info("%s deleted user '%s'", caller ? caller->name : "?", name);
    return http_respond_empty(req, 204);
}

static void delete_wait_drop(struct delete_wait *w)
{
    for (size_t i = 0; i < w->n; i++)
        spawn_unlisten(&w->l[i]);
}

static void on_delete_event(struct spawn_listener *l, enum spawn_event_kind kind,
                            const json_t *event)
{
    (void)event;
    struct delete_wait *w = l->data;
    if (kind != SPAWN_EVENT_STOPPED)
        return;
    spawn_unlisten(l);
    if (--w->pending > 0)
        return;
    struct http_request *req = w->req;
    req->detach = NULL;
    req->on_timeout = NULL;
    delete_wait_drop(w);
    int r = delete_now(req, w->u);
    if (r < 0)
        http_error_errno(req, r);
    http_resume(req);
}

static void on_delete_detach(struct http_request *req)
{
    delete_wait_drop(req->wait_data);
}

static void on_delete_timeout(struct http_request *req)
{
    http_error(req, 500, "The user's servers did not stop in time; the user was not deleted");
}

int api_user_delete(struct http_request *req)
{
    const char *name = req->params[0];
    if (API_NEED(req, SCOPE_KIND_USER, name, SCOPE_DELETE_USERS) < 0)
        return 0;
    struct hub *hub = req->hub;
    struct hub_store *s = &hub->store;
    struct hub_user *u = store_user_find(s, name);
    if (!u)
        return http_error(req, 404, "Not Found");
    const struct auth_identity *caller = auth_identify(req);
    if (caller->user == u)
        return http_error(req, 400, "Cannot delete yourself!");
    size_t active = 0;
    for (size_t i = 0; i < u->spawners.n; i++) {
        enum spawn_state st = spawn_state(u->spawners.v[i]);
        if (st == SPAWN_STOPPING)
            return http_error(req, 400, "%s's server is in the process of stopping, please wait.",
                              name);
        active += st != SPAWN_IDLE;
    }
    if (!active)
        return delete_now(req, u);
    struct delete_wait *w = arena_calloc(&req->arena, sizeof(*w));
    struct spawn_listener *ls = arena_calloc(&req->arena, active * sizeof(*ls));
    if (!w || !ls)
        return -ENOMEM;
    w->req = req;
    w->u = u;
    w->l = ls;
    for (size_t i = 0; i < u->spawners.n; i++) {
        struct hub_spawner *sp = u->spawners.v[i];
        if (spawn_state(sp) == SPAWN_IDLE)
            continue;
        struct spawn_listener *l = &w->l[w->n++];
        l->on_event = on_delete_event;
        l->data = w;
        spawn_listen(sp, l);
        w->pending++;
        spawn_stop(hub, sp, false);
    }
    int r = http_suspend(req, DELETE_WAIT_MS);
    if (r < 0) {
        delete_wait_drop(w);
        return r;
    }
    req->wait_data = w;
    req->detach = on_delete_detach;
    req->on_timeout = on_delete_timeout;
    gm_log_info("Stopping %zu server(s) of '%s' before deleting the user", active, name);
    return HTTP_SUSPENDED;
}

/* POST /hub/api/users/{name}/activity */

static int parse_activity_time(struct http_request *req, json_t *v, int64_t *ret)
{
    int64_t t;
    if (!json_is_string(v) || time_parse(json_string_value(v), &t) < 0) {
        char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        http_error(req, 400, "Not a valid timestamp: %s", text ? text : "?");
        free(text);
        return -EINVAL;
    }
    if (t - time_now_us() > 59LL * 60 * 1000000) {
        char iso[32];
        time_format_iso(t, iso);
        http_error(req, 400, "Rejecting activity from more than an hour in the future: %s", iso);
        return -EINVAL;
    }
    *ret = t;
    return 0;
}

int api_user_activity_post(struct http_request *req)
{
    const char *name = req->params[0];
    if (API_NEED(req, SCOPE_KIND_USER, name, SCOPE_USERS_ACTIVITY) < 0)
        return 0;
    struct hub_store *s = &req->hub->store;
    struct hub_user *u = store_user_find(s, name);
    if (!u)
        return http_error(req, 404, "No such user: '%s'", name);
    json_t *body = NULL;
    if (api_body_object(req, &body, true, "body must be a json dict") < 0)
        return 0;
    static const char servers_msg[] =
        "servers must be a dict of the form {server_name: {last_activity: timestamp}}";
    json_t *last = json_object_get(body, "last_activity");
    json_t *servers = json_object_get(body, "servers");
    int r = 0;
    bool has_last =
        last && !json_is_null(last) && !(json_is_string(last) && !json_string_length(last));
    bool has_servers = servers && !(json_is_object(servers) && !json_object_size(servers)) &&
                       !json_is_null(servers);
    if (!has_last && !has_servers) {
        r = http_error(req, 400, "body must contain at least one of `last_activity` or `servers`");
        goto out;
    }
    int64_t user_time = 0;
    if (has_servers) {
        if (!json_is_object(servers)) {
            r = http_error(req, 400, "%s", servers_msg);
            goto out;
        }
        const char *sname;
        json_t *info;
        json_object_foreach(servers, sname, info)
        {
            if (!store_spawner_find(u, sname)) {
                r = http_error(req, 400, "No such server '%s' for user %s", sname, u->name);
                goto out;
            }
            int64_t t;
            if (!json_is_object(info) || !json_object_get(info, "last_activity")) {
                r = http_error(req, 400, "%s", servers_msg);
                goto out;
            }
            if (parse_activity_time(req, json_object_get(info, "last_activity"), &t) < 0)
                goto out;
        }
    }
    if (has_last && parse_activity_time(req, last, &user_time) < 0)
        goto out;
    if (has_last)
        store_user_touch(s, u, user_time, true);
    if (has_servers) {
        const char *sname;
        json_t *info;
        json_object_foreach(servers, sname, info)
        {
            struct hub_spawner *sp = store_spawner_find(u, sname);
            int64_t t;
            time_parse(json_string_value(json_object_get(info, "last_activity")), &t);
            store_spawner_touch(s, sp, t);
        }
    }
    r = http_respond_empty(req, 200);
out:
    json_decref(body);
    return r;
}
