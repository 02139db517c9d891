/* The OAuth provider's authorization codes: in memory, for the token exchange, and in the
 * database, so that a restarted (or standby) hub still knows them. */
#include "core/store_impl.h"
#include "util/str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Codes live minutes; more than this many unexchanged at once is someone flooding. */
#define OAUTH_CODES_MAX 20000

void store_oauth_code_free(struct hub_oauth_code *c)
{
    if (!c)
        return;
    free(c->client_id);
    if (c->code)
        explicit_bzero(c->code, strlen(c->code));
    free(c->code);
    free(c->redirect_uri);
    free(c->session_id);
    free(c->scopes);
    free(c);
}

int store_oauth_code_load(void *ctx, const struct db_oauth_code_row *row)
{
    struct hub_store *s = ctx;
    struct hub_oauth_code *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->client_id = strdup(row->client_id);
    c->code = strdup(row->code);
    c->expires_at = row->expires_at;
    c->redirect_uri = strdup(row->redirect_uri);
    c->session_id = str_dup(row->session_id);
    c->user_id = row->user_id;
    c->scopes = strdup(row->scopes ? row->scopes : "[]");
    if (!c->client_id || !c->code || !c->redirect_uri || (row->session_id && !c->session_id) ||
        !c->scopes) {
        store_oauth_code_free(c);
        return -ENOMEM;
    }
    store_oauth_code_free(hmap_del(&s->oauth_codes, c->code));
    int r = hmap_put(&s->oauth_codes, c->code, c);
    if (r < 0)
        store_oauth_code_free(c);
    return r;
}

int store_oauth_code_add(struct hub_store *s, const struct db_oauth_code_row *row, int64_t now_s)
{
    store_oauth_codes_purge(s, now_s);
    if (s->oauth_codes.n >= OAUTH_CODES_MAX)
        return -ENOBUFS;
    int r = db_oauth_code_insert(s->db, row);
    if (r == 0)
        r = store_oauth_code_load(s, row);
    return r;
}

struct hub_oauth_code *store_oauth_code_take(struct hub_store *s, const char *code)
{
    struct hub_oauth_code *c = hmap_del(&s->oauth_codes, code);
    if (c)
        db_oauth_code_delete(s->db, code);
    return c;
}

struct purge {
    int64_t now_s;
    bool all;
    struct ptrvec gone;
    int err;
};

static void collect(const char *key, void *value, void *ctx)
{
    (void)key;
    struct purge *p = ctx;
    struct hub_oauth_code *c = value;
    if ((p->all || c->expires_at < p->now_s) && ptrvec_push(&p->gone, c) < 0)
        p->err = -ENOMEM;
}

/* The map cannot change while it is walked: collect, then remove. */
static int drop(struct hub_store *s, struct purge *p)
{
    hmap_each(&s->oauth_codes, collect, p);
    for (size_t i = 0; i < p->gone.n; i++) {
        struct hub_oauth_code *c = p->gone.v[i];
        hmap_del(&s->oauth_codes, c->code);
        store_oauth_code_free(c);
    }
    ptrvec_free(&p->gone);
    return p->err;
}

int store_oauth_codes_purge(struct hub_store *s, int64_t now_s)
{
    struct purge p = {.now_s = now_s};
    int r = drop(s, &p);
    int w = db_oauth_codes_purge(s->db, now_s);
    return r ? r : w;
}

void store_oauth_codes_release(struct hub_store *s)
{
    struct purge p = {.all = true};
    drop(s, &p);
    hmap_free(&s->oauth_codes);
}
