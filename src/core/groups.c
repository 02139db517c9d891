/* Groups and their members, in memory and in the database. */
#include "core/store_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct hub_group *store_group_find(const struct hub_store *s, const char *name)
{
    return hmap_get(&s->group_index, name);
}

int store_group_create(struct hub_store *s, const char *name, struct hub_group **ret)
{
    if (store_group_find(s, name))
        return -EEXIST;
    struct hub_group *g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    g->name = strdup(name);
    g->properties = json_object();
    if (!g->name || !g->properties) {
        store_group_free(g);
        return -ENOMEM;
    }
    int r = db_group_insert(s->db, name, &g->id);
    if (r == 0 && ptrvec_push(&s->groups, g) < 0)
        r = -ENOMEM;
    if (r == 0 && hmap_put(&s->group_index, g->name, g) < 0) {
        s->groups.n--;
        r = -ENOMEM;
    }
    if (r < 0) {
        if (g->id)
            db_group_delete(s->db, g->id);
        store_group_free(g);
        return r;
    }
    *ret = g;
    return 0;
}

int store_group_delete(struct hub_store *s, struct hub_group *g)
{
    int r = db_group_delete(s->db, g->id);
    if (r < 0)
        return r;
    for (size_t i = 0; i < g->users.n; i++)
        ptrvec_remove(&((struct hub_user *)g->users.v[i])->groups, g);
    hmap_del(&s->group_index, g->name);
    ptrvec_remove(&s->groups, g);
    store_group_free(g);
    store_rbac_changed(s);
    return 0;
}

int store_group_add_user(struct hub_store *s, struct hub_group *g, struct hub_user *u)
{
    if (ptrvec_contains(&g->users, u))
        return 0;
    int r = db_group_member_add(s->db, g->id, u->id);
    if (r < 0)
        return r;
    if (ptrvec_push(&g->users, u) < 0 || ptrvec_push(&u->groups, g) < 0) {
        ptrvec_remove(&g->users, u);
        db_group_member_remove(s->db, g->id, u->id);
        return -ENOMEM;
    }
    store_rbac_changed(s);
    return 0;
}

int store_group_remove_user(struct hub_store *s, struct hub_group *g, struct hub_user *u)
{
    if (!ptrvec_contains(&g->users, u))
        return 0;
    int r = db_group_member_remove(s->db, g->id, u->id);
    if (r < 0)
        return r;
    ptrvec_remove(&g->users, u);
    ptrvec_remove(&u->groups, g);
    store_rbac_changed(s);
    return 0;
}

int store_group_set_properties(struct hub_store *s, struct hub_group *g, json_t *props)
{
    char *text = store_json_text(props, "{}");
    if (!text) {
        json_decref(props);
        return -ENOMEM;
    }
    int r = db_group_set_properties(s->db, g->id, text);
    free(text);
    if (r < 0) {
        json_decref(props);
        return r;
    }
    json_decref(g->properties);
    g->properties = props;
    return 0;
}
