/* Users in memory and in the database. */
#include "core/store_impl.h"
#include "util/str.h"
#include "util/time.h"

#include <errno.h>
#include <ganymede/encode.h>
#include <stdlib.h>
#include <string.h>

struct hub_user *store_user_find(const struct hub_store *s, const char *name)
{
    return hmap_get(&s->user_index, name);
}

struct hub_user *store_user_by_cookie_id(const struct hub_store *s, const char *cookie_id)
{
    return cookie_id[0] ? hmap_get(&s->cookie_index, cookie_id) : NULL;
}

/* Position of @name in the name-sorted vector (where it is or would go). */
static size_t name_slot(const struct hub_store *s, const char *name)
{
    size_t lo = 0, hi = s->users_by_name.n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const struct hub_user *u = s->users_by_name.v[mid];
        if (strcmp(u->name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int store_user_create(struct hub_store *s, const char *name, bool admin, struct hub_user **ret)
{
    if (store_user_find(s, name))
        return -EEXIST;
    struct hub_user *u = calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    char cookie_id[33];
    int r = gm_random_uuid_hex(cookie_id);
    if (r < 0) {
        free(u);
        return r;
    }
    u->name = strdup(name);
    u->cookie_id = strdup(cookie_id);
    u->admin = admin;
    u->created = time_now_us();
    if (!u->name || !u->cookie_id || ptrvec_push(&s->users, u) < 0) {
        store_user_free(u);
        return -ENOMEM;
    }
    r = db_user_insert(s->db, name, admin, u->created, u->cookie_id, &u->id);
    if (r == 0)
        r = ptrvec_insert(&s->users_by_name, name_slot(s, name), u);
    if (r == 0)
        r = hmap_put(&s->user_index, u->name, u);
    if (r == 0)
        r = hmap_put(&s->cookie_index, u->cookie_id, u);
    if (r < 0) {
        hmap_del(&s->user_index, u->name);
        ptrvec_remove(&s->users_by_name, u);
        s->users.n--;
        if (u->id)
            db_user_delete(s->db, u->id);
        store_user_free(u);
        return r;
    }
    *ret = u;
    return 0;
}

int store_user_rename(struct hub_store *s, struct hub_user *u, const char *name)
{
    if (strcmp(u->name, name) == 0)
        return 0;
    if (store_user_find(s, name))
        return -EEXIST;
    char *copy = strdup(name);
    if (!copy)
        return -ENOMEM;
    int r = db_user_set_name(s->db, u->id, name);
    if (r < 0) {
        free(copy);
        return r;
    }
    hmap_del(&s->user_index, u->name);
    ptrvec_remove(&s->users_by_name, u);
    free(u->name);
    u->name = copy;
    ptrvec_insert(&s->users_by_name, name_slot(s, name), u);
    hmap_put(&s->user_index, u->name, u);
    store_rbac_changed(s); /* scope filters name users */
    return 0;
}

int store_user_set_admin(struct hub_store *s, struct hub_user *u, bool admin)
{
    if (u->admin == admin)
        return 0;
    int r = db_user_set_admin(s->db, u->id, admin);
    if (r < 0)
        return r;
    u->admin = admin;
    store_rbac_changed(s);
    return 0;
}

int store_user_delete(struct hub_store *s, struct hub_user *u)
{
    /* The database cascades to tokens, spawners, memberships and role assignments. */
    int r = db_user_delete(s->db, u->id);
    if (r < 0)
        return r;
    for (size_t i = 0; i < u->groups.n; i++)
        ptrvec_remove(&((struct hub_group *)u->groups.v[i])->users, u);
    while (u->tokens.n)
        store_token_forget(s, u->tokens.v[u->tokens.n - 1]);
    hmap_del(&s->user_index, u->name);
    hmap_del(&s->cookie_index, u->cookie_id);
    ptrvec_remove(&s->users_by_name, u);
    ptrvec_remove(&s->users, u);
    store_user_free(u);
    store_rbac_changed(s);
    return 0;
}

int store_user_touch(struct hub_store *s, struct hub_user *u, int64_t when, bool force)
{
    if (when <= u->last_activity)
        return 0;
    bool write = force || !u->last_activity || when - u->last_activity > s->activity_resolution_us;
    if (!write)
        return 0;
    /* See store_spawner_touch. */
    if (!db_available(s->db))
        return 0;
    int r = db_user_set_last_activity(s->db, u->id, when);
    if (r == 0)
        u->last_activity = when;
    return r;
}

int store_user_auth_state(struct hub_store *s, const struct hub_user *u, void **ret, size_t *len)
{
    (void)s;
    *ret = NULL;
    *len = 0;
    if (!u->auth_state)
        return 0;
    *ret = malloc(u->auth_state_len);
    if (!*ret)
        return -ENOMEM;
    memcpy(*ret, u->auth_state, u->auth_state_len);
    *len = u->auth_state_len;
    return 0;
}

int store_user_set_auth_state(struct hub_store *s, struct hub_user *u, const void *blob, size_t len)
{
    void *copy = NULL;
    if (blob) {
        copy = malloc(len ? len : 1);
        if (!copy)
            return -ENOMEM;
        memcpy(copy, blob, len);
    }
    int r = db_user_set_auth_state(s->db, u->id, blob, len);
    if (r < 0) {
        free(copy);
        return r;
    }
    free(u->auth_state);
    u->auth_state = copy;
    u->auth_state_len = blob ? len : 0;
    return 0;
}

bool store_user_in_any_group(const struct hub_user *u, const struct strset *groups)
{
    for (size_t i = 0; i < u->groups.n; i++)
        if (strset_has(groups, ((const struct hub_group *)u->groups.v[i])->name))
            return true;
    return false;
}

const char **store_user_group_names(const struct hub_user *u)
{
    const char **names = calloc(u->groups.n + 1, sizeof(*names));
    for (size_t i = 0; names && i < u->groups.n; i++)
        names[i] = ((const struct hub_group *)u->groups.v[i])->name;
    return names;
}
