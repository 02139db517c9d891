/* Roles and who holds them, in memory and in the database. */
#include "core/store_impl.h"
#include "util/str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct hub_role *store_role_find(const struct hub_store *s, const char *name)
{
    return hmap_get(&s->role_index, name);
}

int store_role_put(struct hub_store *s, const char *name, const char *description,
                   const json_t *scopes, bool managed_by_auth, struct hub_role **ret)
{
    char *text = store_json_text(scopes, "[]");
    if (!text)
        return -ENOMEM;
    struct hub_role *r = store_role_find(s, name);
    int e;
    if (r) {
        e = db_role_update(s->db, r->id, description, text, managed_by_auth);
        free(text);
        if (e < 0)
            return e;
        char *desc = str_dup(description);
        json_t *copy = scopes ? json_deep_copy(scopes) : json_array();
        if ((description && !desc) || !copy) {
            free(desc);
            json_decref(copy);
            return -ENOMEM;
        }
        free(r->description);
        r->description = desc;
        json_decref(r->scopes);
        r->scopes = copy;
        r->managed_by_auth = managed_by_auth;
    } else {
        r = calloc(1, sizeof(*r));
        if (!r) {
            free(text);
            return -ENOMEM;
        }
        r->name = strdup(name);
        r->description = str_dup(description);
        r->scopes = scopes ? json_deep_copy(scopes) : json_array();
        r->managed_by_auth = managed_by_auth;
        e = (!r->name || !r->scopes || (description && !r->description)) ? -ENOMEM : 0;
        if (e == 0)
            e = db_role_insert(s->db, name, description, text, managed_by_auth, &r->id);
        free(text);
        if (e == 0 && ptrvec_push(&s->roles, r) < 0)
            e = -ENOMEM;
        if (e == 0 && hmap_put(&s->role_index, r->name, r) < 0) {
            s->roles.n--;
            e = -ENOMEM;
        }
        if (e < 0) {
            if (r->id)
                db_role_delete(s->db, r->id);
            store_role_free(r);
            return e;
        }
    }
    store_rbac_changed(s);
    if (ret)
        *ret = r;
    return 0;
}

void store_role_forget_bearers(struct hub_store *s, struct hub_role *r)
{
    for (size_t i = 0; i < s->users.n; i++)
        ptrvec_remove(&((struct hub_user *)s->users.v[i])->roles, r);
    for (size_t i = 0; i < s->groups.n; i++)
        ptrvec_remove(&((struct hub_group *)s->groups.v[i])->roles, r);
    for (size_t i = 0; i < s->services.n; i++)
        ptrvec_remove(&((struct hub_service *)s->services.v[i])->roles, r);
}

int store_role_delete(struct hub_store *s, struct hub_role *r)
{
    int e = db_role_delete(s->db, r->id);
    if (e < 0)
        return e;
    store_role_forget_bearers(s, r);
    hmap_del(&s->role_index, r->name);
    ptrvec_remove(&s->roles, r);
    store_role_free(r);
    store_rbac_changed(s);
    return 0;
}

static void bearer_info(enum store_bearer kind, void *bearer, struct ptrvec **roles, int64_t *id,
                        enum db_role_map *map)
{
    switch (kind) {
    case STORE_BEARER_USER:
        *roles = &((struct hub_user *)bearer)->roles;
        *id = ((struct hub_user *)bearer)->id;
        *map = DB_ROLE_MAP_USER;
        break;
    case STORE_BEARER_GROUP:
        *roles = &((struct hub_group *)bearer)->roles;
        *id = ((struct hub_group *)bearer)->id;
        *map = DB_ROLE_MAP_GROUP;
        break;
    default:
        *roles = &((struct hub_service *)bearer)->roles;
        *id = ((struct hub_service *)bearer)->id;
        *map = DB_ROLE_MAP_SERVICE;
    }
}

int store_role_grant(struct hub_store *s, struct hub_role *r, enum store_bearer kind, void *bearer)
{
    struct ptrvec *roles;
    int64_t id;
    enum db_role_map map;
    bearer_info(kind, bearer, &roles, &id, &map);
    if (ptrvec_contains(roles, r))
        return 0;
    int e = db_role_map_add(s->db, map, id, r->id);
    if (e < 0)
        return e;
    if (ptrvec_push(roles, r) < 0) {
        db_role_map_remove(s->db, map, id, r->id);
        return -ENOMEM;
    }
    store_rbac_changed(s);
    return 0;
}

int store_role_strip(struct hub_store *s, struct hub_role *r, enum store_bearer kind, void *bearer)
{
    struct ptrvec *roles;
    int64_t id;
    enum db_role_map map;
    bearer_info(kind, bearer, &roles, &id, &map);
    if (!ptrvec_contains(roles, r))
        return 0;
    int e = db_role_map_remove(s->db, map, id, r->id);
    if (e < 0)
        return e;
    ptrvec_remove(roles, r);
    store_rbac_changed(s);
    return 0;
}
