/* /hub/api/groups[/{name}[/users|/properties]] (JupyterHub's apihandlers/groups.py). */
#include "api/api.h"
#include "auth/usernames.h"
#include "core/hub.h"

#include <errno.h>
#include <ganymede/log.h>
#include <stdlib.h>
#include <string.h>

#define GROUP_NAME_MAX 255

/* Group request bodies: keys among name, users, roles. */
static int check_group_model(struct http_request *req, json_t *body)
{
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        bool ok;
        if (strcmp(k, "name") == 0)
            ok = json_is_string(v);
        else if (strcmp(k, "users") == 0 || strcmp(k, "roles") == 0)
            ok = json_is_array(v);
        else {
            http_error(req, 400, "Invalid JSON keys: '%s' is not a field of a group", k);
            return -EINVAL;
        }
        if (!ok) {
            http_error(req, 400, "group.%s must be %s", k,
                       strcmp(k, "name") == 0 ? "a string" : "a list");
            return -EINVAL;
        }
    }
    return 0;
}

/* Users named in a body, normalised and found; 400 for any that does not exist. */
static int users_of(struct http_request *req, json_t *names, struct ptrvec *out)
{
    struct hub *hub = req->hub;
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
    {
        char name[4 * AUTH_USERNAME_MAX + 4];
        const char *raw = json_string_value(v);
        if (!raw) {
            http_error(req, 400, "usernames must be strings");
            return -EINVAL;
        }
        struct hub_user *u = NULL;
        if (auth_username_normalize(hub->usernames, raw, name, sizeof(name)) == 0)
            u = store_user_find(&hub->store, name);
        if (!u) {
            http_error(req, 400, "No such user: %s", raw);
            return -EINVAL;
        }
        if (ptrvec_push(out, u) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int respond_group(struct http_request *req, int status, struct hub_group *g)
{
    struct api_view v;
    api_view_init(&v, req);
    struct gm_buf b;
    gm_buf_init(&b, (size_t)64 << 20);
    if (api_write_group(&v, &b, g) != 0) {
        gm_buf_free(&b);
        return http_error(req, 404, "No such group: %s", g->name);
    }
    return api_respond_buf(req, status, &b);
}

static struct hub_group *find_group(struct http_request *req)
{
    struct hub_group *g = store_group_find(&req->hub->store, req->params[0]);
    if (!g)
        http_error(req, 404, "No such group: %s", req->params[0]);
    return g;
}

static bool valid_group_name(const char *name)
{
    return name[0] && strlen(name) <= GROUP_NAME_MAX;
}

int api_groups_get(struct http_request *req)
{
    if (api_need(req, SCOPE_KIND_NONE, NULL, true, API_IDS(SCOPE_LIST_GROUPS)) < 0)
        return 0;
    const struct auth_identity *id = auth_identify(req);
    const struct scope_grant *list = id->scopes->g[SCOPE_LIST_GROUPS];
    if (!list->all && (list->v[SCOPE_KIND_USER].n || list->v[SCOPE_KIND_SERVER].n ||
                       list->v[SCOPE_KIND_SERVICE].n)) {
        gm_log_warn("Invalid filter on list:groups for '%s'", id->name);
        return http_error(req, 403, "Forbidden");
    }
    struct api_page page;
    if (api_pagination(req, &page) < 0)
        return 0;
    struct hub_store *s = &req->hub->store;
    struct api_view v;
    api_view_init(&v, req);
    struct gm_buf items;
    gm_buf_init(&items, (size_t)128 << 20);
    gm_buf_putc(&items, '[');
    size_t total = 0, written = 0;
    for (size_t i = 0; i < s->groups.n; i++) {
        struct hub_group *g = s->groups.v[i];
        if (!list->all && !strset_has(&list->v[SCOPE_KIND_GROUP], g->name))
            continue;
        total++;
        if ((int64_t)total <= page.offset || (int64_t)written >= page.limit)
            continue;
        size_t mark = items.len;
        if (written)
            gm_buf_putc(&items, ',');
        if (api_write_group(&v, &items, g) != 0) {
            items.len = mark;
            continue;
        }
        written++;
    }
    return api_respond_page(req, &page, &items, total);
}

int api_groups_post(struct http_request *req)
{
    if (API_NEED(req, SCOPE_KIND_NONE, NULL, SCOPE_ADMIN_GROUPS) < 0)
        return 0;
    json_t *body = NULL;
    if (api_body_object(req, &body, false, "Must specify at least one group to create") < 0)
        return 0;
    json_t *names = json_incref(json_object_get(body, "groups"));
    struct ptrvec users = {0};
    int r = 0;
    if (!body || !json_is_array(names) || !json_array_size(names)) {
        r = http_error(req, 400, "Must specify at least one group to create");
        goto out;
    }
    json_object_del(body, "groups");
    if (check_group_model(req, body) < 0)
        goto out;
    struct hub_store *s = &req->hub->store;
    size_t i;
    json_t *v;
    /* Check everything first, so that a conflict creates nothing. */
    json_array_foreach(names, i, v)
    {
        const char *name = json_string_value(v);
        if (!name || !valid_group_name(name)) {
            r = http_error(req, 400, "Group names must be strings of 1 to %d characters",
                           GROUP_NAME_MAX);
            goto out;
        }
        if (store_group_find(s, name)) {
            r = http_error(req, 409, "Group %s already exists", name);
            goto out;
        }
    }
    if (users_of(req, json_object_get(body, "users"), &users) < 0)
        goto out;
    struct api_view view;
    api_view_init(&view, req);
    struct gm_buf b;
    gm_buf_init(&b, (size_t)64 << 20);
    gm_buf_putc(&b, '[');
    json_array_foreach(names, i, v)
    {
        const char *name = json_string_value(v);
        struct hub_group *g;
        if (store_group_find(s, name))
            continue; /* listed twice */
        if ((r = store_group_create(s, name, &g)) < 0) {
            gm_buf_free(&b);
            goto out;
        }
        for (size_t k = 0; k < users.n; k++)
            if ((r = store_group_add_user(s, g, users.v[k])) < 0) {
                gm_buf_free(&b);
                goto out;
            }
        gm_log_info("Creating new group %s with %zu users", name, users.n);
        if (b.len > 1)
            gm_buf_putc(&b, ',');
        api_write_group(&view, &b, g);
    }
    gm_buf_putc(&b, ']');
    r = api_respond_buf(req, 201, &b);
out:
    ptrvec_free(&users);
    json_decref(names);
    json_decref(body);
    return r;
}

int api_group_get(struct http_request *req)
{
    if (API_NEED(req, SCOPE_KIND_GROUP, req->params[0], SCOPE_READ_GROUPS, SCOPE_READ_GROUPS_NAME,
                 SCOPE_READ_ROLES_GROUPS) < 0)
        return 0;
    struct hub_group *g = find_group(req);
    return g ? respond_group(req, 200, g) : 0;
}

int api_group_post(struct http_request *req)
{
    const char *name = req->params[0];
    if (API_NEED(req, SCOPE_KIND_GROUP, name, SCOPE_ADMIN_GROUPS) < 0)
        return 0;
    json_t *body = NULL;
    if (api_body_object(req, &body, false, "Invalid JSON data: a group must be a dict") < 0)
        return 0;
    struct hub_store *s = &req->hub->store;
    struct ptrvec users = {0};
    int r = 0;
    if (body && check_group_model(req, body) < 0)
        goto out;
    if (store_group_find(s, name)) {
        r = http_error(req, 409, "Group %s already exists", name);
        goto out;
    }
    if (!valid_group_name(name)) {
        r = http_error(req, 400, "Group names must be 1 to %d characters", GROUP_NAME_MAX);
        goto out;
    }
    if (users_of(req, json_object_get(body, "users"), &users) < 0)
        goto out;
    struct hub_group *g;
    if ((r = store_group_create(s, name, &g)) < 0)
        goto out;
    for (size_t k = 0; k < users.n; k++)
        if ((r = store_group_add_user(s, g, users.v[k])) < 0)
            goto out;
    gm_log_info("Creating new group %s with %zu users", name, users.n);
    r = respond_group(req, 201, g);
out:
    ptrvec_free(&users);
    json_decref(body);
    return r;
}

int api_group_delete(struct http_request *req)
{
    if (API_NEED(req, SCOPE_KIND_GROUP, req->params[0], SCOPE_DELETE_GROUPS) < 0)
        return 0;
    struct hub_group *g = find_group(req);
    if (!g)
        return 0;
    gm_log_info("Deleting group %s", g->name);
    int r = store_group_delete(&req->hub->store, g);
    return r < 0 ? r : http_respond_empty(req, 204);
}

static int change_members(struct http_request *req, bool add)
{
    if (API_NEED(req, SCOPE_KIND_GROUP, req->params[0], SCOPE_GROUPS) < 0)
        return 0;
    struct hub_group *g = find_group(req);
    if (!g)
        return 0;
    json_t *body = NULL;
    if (api_body_object(req, &body, true, "Invalid JSON data: expected {\"users\": [...]}") < 0)
        return 0;
    struct ptrvec users = {0};
    int r = 0;
    if (check_group_model(req, body) < 0)
        goto out;
    if (!json_object_get(body, "users")) {
        r = http_error(req, 400, "Must specify users to %s", add ? "add" : "delete");
        goto out;
    }
    if (users_of(req, json_object_get(body, "users"), &users) < 0)
        goto out;
    struct hub_store *s = &req->hub->store;
    gm_log_info("%s %zu users %s group %s", add ? "Adding" : "Removing", users.n,
                add ? "to" : "from", g->name);
    for (size_t k = 0; k < users.n; k++) {
        r = add ? store_group_add_user(s, g, users.v[k])
                : store_group_remove_user(s, g, users.v[k]);
        if (r < 0)
            goto out;
    }
    r = respond_group(req, 200, g);
out:
    ptrvec_free(&users);
    json_decref(body);
    return r;
}

int api_group_users_post(struct http_request *req)
{
    return change_members(req, true);
}

int api_group_users_delete(struct http_request *req)
{
    return change_members(req, false);
}

int api_group_properties_put(struct http_request *req)
{
    if (API_NEED(req, SCOPE_KIND_GROUP, req->params[0], SCOPE_GROUPS) < 0)
        return 0;
    struct hub_group *g = find_group(req);
    if (!g)
        return 0;
    json_t *body = NULL;
    if (api_body_object(req, &body, true, "Must specify properties") < 0)
        return 0;
    gm_log_info("Updating properties of group %s", g->name);
    int r = store_group_set_properties(&req->hub->store, g, body);
    return r < 0 ? r : respond_group(req, 200, g);
}
