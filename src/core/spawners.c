/* Spawner rows (one per server of a user; "" is the default server) and the servers row of an
 * active one, kept in memory and written through. */
#include "core/store_impl.h"
#include "util/str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct hub_spawner *store_spawner_find(const struct hub_user *u, const char *name)
{
    for (size_t i = 0; i < u->spawners.n; i++) {
        struct hub_spawner *sp = u->spawners.v[i];
        if (strcmp(sp->name, name) == 0)
            return sp;
    }
    return NULL;
}

int store_spawner_ensure(struct hub_store *s, struct hub_user *u, const char *name,
                         struct hub_spawner **ret)
{
    struct hub_spawner *sp = store_spawner_find(u, name);
    if (sp) {
        *ret = sp;
        return 0;
    }
    sp = calloc(1, sizeof(*sp));
    if (!sp || !(sp->name = strdup(name))) {
        free(sp);
        return -ENOMEM;
    }
    sp->user = u;
    int r = ptrvec_push(&u->spawners, sp);
    if (r == 0) {
        r = db_spawner_insert(s->db, u->id, name, &sp->id);
        if (r < 0)
            ptrvec_remove(&u->spawners, sp);
    }
    if (r < 0) {
        store_spawner_free(sp);
        return r;
    }
    *ret = sp;
    return 0;
}

int store_spawner_delete(struct hub_store *s, struct hub_spawner *sp)
{
    if (sp->server || sp->run)
        return -EBUSY;
    int r = db_spawner_delete(s->db, sp->id);
    if (r < 0)
        return r;
    ptrvec_remove(&sp->user->spawners, sp);
    store_spawner_free(sp);
    return 0;
}

int store_spawner_touch(struct hub_store *s, struct hub_spawner *sp, int64_t when)
{
    if (when <= sp->last_activity)
        return 0;
    /* Activity is a hint: while the database is down it is not recorded (a read must not wait
     * for a write that cannot be made); the next activity after it is back is. */
    if (!db_available(s->db))
        return 0;
    int r = db_spawner_set_last_activity(s->db, sp->id, when);
    if (r == 0)
        sp->last_activity = when;
    return r;
}

static int write_row(struct hub_store *s, const struct hub_spawner *sp)
{
    char *state = sp->state ? store_json_text(sp->state, "{}") : NULL;
    char *options = sp->user_options ? store_json_text(sp->user_options, "{}") : NULL;
    struct db_spawner_row row = {
        .id = sp->id,
        .started = sp->started,
        .state = state,
        .user_options = options,
        .oauth_client_id = sp->oauth_client_id,
        .server_id = sp->server ? sp->server->id : 0,
    };
    int r = (sp->state && !state) || (sp->user_options && !options)
                ? -ENOMEM
                : db_spawner_update(s->db, &row);
    free(state);
    free(options);
    return r;
}

int store_spawner_save(struct hub_store *s, struct hub_spawner *sp)
{
    return write_row(s, sp);
}

static void free_addr(struct hub_server_addr *a)
{
    if (!a)
        return;
    free(a->proto);
    free(a->ip);
    free(a->base_url);
    free(a);
}

int store_server_set(struct hub_store *s, struct hub_spawner *sp, const char *proto, const char *ip,
                     int port, const char *base_url)
{
    if (sp->server) {
        char *p = strdup(proto), *i = strdup(ip);
        int r = p && i ? db_server_update(s->db, sp->server->id, proto, ip, port) : -ENOMEM;
        if (r < 0) {
            free(p);
            free(i);
            return r;
        }
        free(sp->server->proto);
        free(sp->server->ip);
        sp->server->proto = p;
        sp->server->ip = i;
        sp->server->port = port;
        return 0;
    }
    struct hub_server_addr *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    a->proto = strdup(proto);
    a->ip = strdup(ip);
    a->base_url = strdup(base_url);
    a->port = port;
    if (!a->proto || !a->ip || !a->base_url) {
        free_addr(a);
        return -ENOMEM;
    }
    int r = db_begin(s->db);
    if (r == 0)
        r = db_server_insert(s->db, proto, ip, port, base_url, NULL, &a->id);
    if (r == 0) {
        sp->server = a;
        r = write_row(s, sp);
        if (r < 0)
            sp->server = NULL;
    }
    if (r == 0)
        r = db_commit(s->db);
    if (r < 0) {
        db_rollback(s->db);
        free_addr(a);
    }
    return r;
}

int store_server_clear(struct hub_store *s, struct hub_spawner *sp)
{
    struct hub_server_addr *a = sp->server;
    int64_t started = sp->started;
    sp->server = NULL;
    sp->started = 0;
    int r = db_begin(s->db);
    if (r == 0)
        r = write_row(s, sp);
    if (r == 0 && a)
        r = db_server_delete(s->db, a->id);
    if (r == 0)
        r = db_commit(s->db);
    if (r < 0) {
        db_rollback(s->db);
        sp->server = a;
        sp->started = started;
        return r;
    }
    free_addr(a);
    return 0;
}
