/* The database front: the URL, the backend chosen by it, the hub-given ids, and the calls every
 * table file makes, passed on to db/sqlite.c or db/pg.c. */
#include "db/backend.h"
#include "db/pg.h"
#include "db/url.h"
#include "util/str.h"
#include "util/time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

const char *const db_id_tables[DB_ID_TABLES] = {
    "users", "groups", "roles", "services", "oauth_clients", "api_tokens", "spawners", "servers",
};

int db_parse_url(const char *url, const char *password, struct db_location *ret, char *err,
                 size_t errlen)
{
    if (db_url_is_postgres(url))
        return db_url_parse_postgres(url, password, ret, err, errlen);
    return db_url_parse_sqlite(url, ret, err, errlen);
}

int db_open(const struct db_location *loc, uv_loop_t *loop, struct db **ret, char *err,
            size_t errlen)
{
    struct db *db = calloc(1, sizeof(*db));
    if (!db)
        return -ENOMEM;
    db->loc = *loc;
    db->available = true;
    db_lease_defaults(&db->loc);
    int r = loc->kind == DB_POSTGRES ? db_pg_open(db, loop, err, errlen)
                                     : db_sqlite_open(db, err, errlen);
    if (r < 0) {
        free(db);
        return r;
    }
    *ret = db;
    return 0;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    db->be->close(db);
    free(db);
}

void db_lease_defaults(struct db_location *loc)
{
    /* Host and pid say who it is; the random part tells apart two processes with the same name
     * and pid (containers with a fixed host name). It is the same for the whole process, so
     * that the standby's probe and the hub's open are one holder. */
    static unsigned nonce;
    if (!nonce && (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce) || !nonce))
        nonce = (unsigned)time_mono_us() | 1u;
    if (!loc->holder[0]) {
        char host[64] = "";
        gethostname(host, sizeof(host) - 1);
        snprintf(loc->holder, sizeof(loc->holder), "%s:%d:%08x", host[0] ? host : "localhost",
                 (int)getpid(), nonce);
    }
    if (!loc->lease_ms)
        loc->lease_ms = DB_LEASE_MS_DEFAULT;
}

int db_renew_lease(struct db *db)
{
    return db->loc.kind == DB_POSTGRES ? db_pg_renew(db) : 0;
}

enum db_kind db_kind(const struct db *db)
{
    return db->loc.kind;
}

const char *db_path(const struct db *db)
{
    return db->loc.kind == DB_SQLITE && !db->loc.memory ? db->loc.path : "";
}

const char *db_display(const struct db *db)
{
    return db->loc.display;
}

int db_write(struct db *db, const char *sql, const struct db_arg *args, size_t nargs)
{
    return db->be->write(db, sql, args, nargs);
}

int db_begin(struct db *db)
{
    if (db->in_group)
        return -EINVAL;
    int r = db->be->begin(db);
    if (r == 0)
        db->in_group = true;
    return r;
}

int db_commit(struct db *db)
{
    if (!db->in_group)
        return -EINVAL;
    int r = db->be->commit(db);
    if (r == 0)
        db->in_group = false;
    return r;
}

void db_rollback(struct db *db)
{
    if (!db->in_group)
        return;
    db->be->rollback(db);
    db->in_group = false;
}

/* The counters start past the largest id in each table, read once. */
int db_load_ids(struct db *db)
{
    for (size_t i = 0; i < DB_ID_TABLES; i++) {
        char sql[96];
        snprintf(sql, sizeof(sql), "SELECT COALESCE(MAX(id), 0) FROM %s", db_id_tables[i]);
        struct db_rows *rows = NULL;
        int r = db->be->query(db, sql, NULL, 0, &rows);
        if (r < 0)
            return r;
        int64_t max = db_rows_next(rows) ? db_rows_int(rows, 0) : 0;
        r = db_rows_close(rows);
        if (r < 0)
            return r;
        db->next_id[i] = max + 1;
    }
    if (db->loc.kind == DB_POSTGRES)
        db_pg_set_sequences(db);
    db->ids_loaded = true;
    return 0;
}

int db_next_id(struct db *db, const char *table, int64_t *ret)
{
    if (!db->ids_loaded) {
        int r = db_load_ids(db);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < DB_ID_TABLES; i++)
        if (strcmp(db_id_tables[i], table) == 0) {
            *ret = db->next_id[i]++;
            return 0;
        }
    return -ENOENT;
}

int db_query(struct db *db, const char *sql, const struct db_arg *args, size_t nargs,
             struct db_rows **ret)
{
    return db->be->query(db, sql, args, nargs, ret);
}

bool db_rows_next(struct db_rows *rows)
{
    return rows->ops->next(rows);
}

bool db_rows_null(struct db_rows *rows, int col)
{
    return rows->ops->null(rows, col);
}

int64_t db_rows_int(struct db_rows *rows, int col)
{
    return rows->ops->integer(rows, col);
}

bool db_rows_bool(struct db_rows *rows, int col)
{
    return rows->ops->boolean(rows, col);
}

const char *db_rows_text(struct db_rows *rows, int col)
{
    return rows->ops->text(rows, col);
}

int64_t db_rows_time(struct db_rows *rows, int col)
{
    const char *text = rows->ops->text(rows, col);
    int64_t us = 0;
    if (text && time_parse(text, &us) == 0)
        return us;
    return 0;
}

const void *db_rows_blob(struct db_rows *rows, int col, size_t *len)
{
    return rows->ops->blob(rows, col, len);
}

int db_rows_close(struct db_rows *rows)
{
    return rows ? rows->ops->close(rows) : 0;
}

int db_exec_script(struct db *db, const char *sql, char *err, size_t errlen)
{
    return db->be->exec_script(db, sql, err, errlen);
}

const char *db_errmsg(struct db *db)
{
    return db->be->errmsg(db);
}

uint64_t db_issued_seq(const struct db *db)
{
    return db->issued;
}

uint64_t db_durable_seq(const struct db *db)
{
    return db->durable;
}

void db_note_failed(struct db *db, uint64_t seq)
{
    db->failed[db->failed_n++ % DB_FAILED_KEPT] = seq;
}

bool db_failed_between(const struct db *db, uint64_t lo, uint64_t hi)
{
    size_t n = db->failed_n < DB_FAILED_KEPT ? db->failed_n : DB_FAILED_KEPT;
    for (size_t i = 0; i < n; i++)
        if (db->failed[i] > lo && db->failed[i] <= hi)
            return true;
    return false;
}

bool db_superseded(const struct db *db)
{
    return db->superseded;
}

bool db_available(const struct db *db)
{
    return db->available && (!db->lease_until_us || time_mono_us() < db->lease_until_us);
}

int db_serve(struct db *db)
{
    return db->be->serve ? db->be->serve(db) : 0;
}

void db_on_settled(struct db *db, void (*cb)(void *ctx), void *ctx)
{
    db->on_settled = cb;
    db->on_settled_ctx = ctx;
}

void db_settled(struct db *db)
{
    if (db->on_settled)
        db->on_settled(db->on_settled_ctx);
}

int db_flush(struct db *db, uint64_t timeout_ms)
{
    return db->be->flush(db, timeout_ms);
}

char *db_sql_numbered(const char *sql)
{
    size_t n = 0;
    for (const char *p = sql; *p; p++)
        n += *p == '?';
    size_t len = strlen(sql) + n * 4 + 1;
    char *out = malloc(len);
    if (!out)
        return NULL;
    char *o = out;
    int k = 0;
    for (const char *p = sql; *p; p++) {
        if (*p == '?')
            o += snprintf(o, len - (size_t)(o - out), "$%d", ++k);
        else
            *o++ = *p;
    }
    *o = '\0';
    return out;
}
