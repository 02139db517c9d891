/* The SQLite backend: one connection in WAL mode with foreign keys on, a cache of prepared
 * statements keyed by their (static) SQL text, and writes that complete before they return. */
#include "db/backend.h"
#include "util/time.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SQLITE_STMT_CACHE 256

struct sqlite_cached {
    const char *sql;
    sqlite3_stmt *stmt;
};

struct sqlite_db {
    sqlite3 *handle;
    struct sqlite_cached cache[SQLITE_STMT_CACHE];
};

struct sqlite_rows {
    struct db_rows base;
    sqlite3_stmt *st;
    int rc;
};

static struct sqlite_db *impl(struct db *db)
{
    return db->impl;
}

/* An SQLite result code as a negative errno (constraint → -EEXIST, busy → -EBUSY, ...). */
static int sqlite_errno(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return 0;
    case SQLITE_CONSTRAINT:
        return -EEXIST;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_READONLY:
    case SQLITE_PERM:
        return -EACCES;
    case SQLITE_CANTOPEN:
        return -ENOENT;
    case SQLITE_FULL:
        return -ENOSPC;
    default:
        return -EIO;
    }
}

/* A prepared statement for @sql, reset and with bindings cleared; NULL on error. */
static sqlite3_stmt *cached_stmt(struct sqlite_db *s, const char *sql)
{
    size_t h = ((uintptr_t)sql >> 4) % SQLITE_STMT_CACHE;
    for (size_t i = 0; i < SQLITE_STMT_CACHE; i++) {
        struct sqlite_cached *c = &s->cache[(h + i) % SQLITE_STMT_CACHE];
        if (c->sql == sql) {
            sqlite3_reset(c->stmt);
            sqlite3_clear_bindings(c->stmt);
            return c->stmt;
        }
        if (!c->sql) {
            if (sqlite3_prepare_v3(s->handle, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->stmt, NULL) !=
                SQLITE_OK)
                return NULL;
            c->sql = sql;
            return c->stmt;
        }
    }
    return NULL; /* more distinct statements than the cache holds: raise SQLITE_STMT_CACHE */
}

static void bind(sqlite3_stmt *st, const struct db_arg *args, size_t nargs)
{
    for (size_t i = 0; i < nargs; i++) {
        int col = (int)i + 1;
        const struct db_arg *a = &args[i];
        switch (a->type) {
        case DB_ARG_INT:
            sqlite3_bind_int64(st, col, a->i);
            break;
        case DB_ARG_BOOL:
            sqlite3_bind_int(st, col, a->i != 0);
            break;
        case DB_ARG_TEXT:
            if (a->s)
                sqlite3_bind_text(st, col, a->s, -1, SQLITE_TRANSIENT);
            else
                sqlite3_bind_null(st, col);
            break;
        case DB_ARG_TIME:
            if (a->i) {
                char text[32];
                time_format_db(a->i, text);
                sqlite3_bind_text(st, col, text, -1, SQLITE_TRANSIENT);
            } else {
                sqlite3_bind_null(st, col);
            }
            break;
        case DB_ARG_BLOB:
            if (a->blob)
                sqlite3_bind_blob(st, col, a->blob, (int)a->len, SQLITE_TRANSIENT);
            else
                sqlite3_bind_null(st, col);
            break;
        case DB_ARG_NULL:
            sqlite3_bind_null(st, col);
            break;
        }
    }
}

static int sqlite_write(struct db *db, const char *sql, const struct db_arg *args, size_t nargs)
{
    sqlite3_stmt *st = cached_stmt(impl(db), sql);
    if (!st)
        return -EIO;
    bind(st, args, nargs);
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sqlite_errno(rc);
    sqlite3_reset(st);
    if (r == 0 && !db->in_group)
        db->durable = ++db->issued;
    return r;
}

static int exec(struct db *db, const char *sql)
{
    return sqlite3_exec(impl(db)->handle, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

static int sqlite_begin(struct db *db)
{
    return exec(db, "BEGIN IMMEDIATE");
}

static int sqlite_commit(struct db *db)
{
    int r = exec(db, "COMMIT");
    if (r == 0)
        db->durable = ++db->issued;
    return r;
}

static void sqlite_rollback(struct db *db)
{
    exec(db, "ROLLBACK");
}

/* Rows. */

static struct sqlite_rows *rows_of(struct db_rows *r)
{
    return (struct sqlite_rows *)r;
}

static bool rows_next(struct db_rows *r)
{
    struct sqlite_rows *sr = rows_of(r);
    if (sr->rc != SQLITE_ROW && sr->rc != SQLITE_OK)
        return false;
    sr->rc = sqlite3_step(sr->st);
    return sr->rc == SQLITE_ROW;
}

static bool rows_null(struct db_rows *r, int col)
{
    return sqlite3_column_type(rows_of(r)->st, col) == SQLITE_NULL;
}

static int64_t rows_int(struct db_rows *r, int col)
{
    return sqlite3_column_int64(rows_of(r)->st, col);
}

static bool rows_bool(struct db_rows *r, int col)
{
    return sqlite3_column_int(rows_of(r)->st, col) != 0;
}

static const char *rows_text(struct db_rows *r, int col)
{
    return (const char *)sqlite3_column_text(rows_of(r)->st, col);
}

static const void *rows_blob(struct db_rows *r, int col, size_t *len)
{
    sqlite3_stmt *st = rows_of(r)->st;
    const void *p = sqlite3_column_blob(st, col);
    *len = p ? (size_t)sqlite3_column_bytes(st, col) : 0;
    return p;
}

static int rows_close(struct db_rows *r)
{
    struct sqlite_rows *sr = rows_of(r);
    int e = sr->rc == SQLITE_DONE || sr->rc == SQLITE_ROW || sr->rc == SQLITE_OK
                ? 0
                : sqlite_errno(sr->rc);
    sqlite3_finalize(sr->st);
    free(sr);
    return e;
}

static const struct db_rows_ops sqlite_rows_ops = {
    .next = rows_next,
    .null = rows_null,
    .integer = rows_int,
    .boolean = rows_bool,
    .text = rows_text,
    .blob = rows_blob,
    .close = rows_close,
};

/* Queries run at start-up and in migrations, once each: prepared for the one use. */
static int sqlite_query(struct db *db, const char *sql, const struct db_arg *args, size_t nargs,
                        struct db_rows **ret)
{
    struct sqlite_rows *sr = calloc(1, sizeof(*sr));
    if (!sr)
        return -ENOMEM;
    sr->base.ops = &sqlite_rows_ops;
    sr->rc = SQLITE_OK;
    if (sqlite3_prepare_v2(impl(db)->handle, sql, -1, &sr->st, NULL) != SQLITE_OK) {
        free(sr);
        return -EIO;
    }
    bind(sr->st, args, nargs);
    *ret = &sr->base;
    return 0;
}

static int sqlite_exec_script(struct db *db, const char *sql, char *err, size_t errlen)
{
    sqlite3 *h = impl(db)->handle;
    char *msg = NULL;
    int rc = sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(h, "COMMIT", NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
        return -EIO;
    }
    return 0;
}

static const char *sqlite_errmsg(struct db *db)
{
    return sqlite3_errmsg(impl(db)->handle);
}

static int sqlite_flush(struct db *db, uint64_t timeout_ms)
{
    (void)db;
    (void)timeout_ms;
    return 0;
}

static void sqlite_close(struct db *db)
{
    struct sqlite_db *s = impl(db);
    if (!s)
        return;
    for (size_t i = 0; i < SQLITE_STMT_CACHE; i++)
        sqlite3_finalize(s->cache[i].stmt);
    sqlite3_close(s->handle);
    free(s);
    db->impl = NULL;
}

static const struct db_backend sqlite_backend = {
    .write = sqlite_write,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .query = sqlite_query,
    .exec_script = sqlite_exec_script,
    .errmsg = sqlite_errmsg,
    .flush = sqlite_flush,
    .close = sqlite_close,
};

int db_sqlite_open(struct db *db, char *err, size_t errlen)
{
    const struct db_location *loc = &db->loc;
    struct sqlite_db *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    db->impl = s;
    db->be = &sqlite_backend;
    if (!loc->memory) {
        /* Create it 0600 ourselves: the database holds token hashes and auth_state. */
        int fd = open(loc->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
            int e = errno;
            snprintf(err, errlen, "cannot open the database %s: %s", loc->path, strerror(e));
            sqlite_close(db);
            return -e;
        }
        close(fd);
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(loc->path, &s->handle, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open the database %s: %s", loc->path,
                 s->handle ? sqlite3_errmsg(s->handle) : sqlite3_errstr(rc));
        sqlite_close(db);
        return sqlite_errno(rc);
    }
    sqlite3_extended_result_codes(s->handle, 1);
    /* The hub is meant to be the only writer; a short wait covers a concurrent upgrade-db. */
    sqlite3_busy_timeout(s->handle, 2000);
    /* Reads are served from the hub's memory, so SQLite's page cache only helps writes: a
     * small one (512 KiB instead of 2 MiB) keeps the hub's footprint small. */
    const char *setup = loc->memory ? "PRAGMA foreign_keys=ON;"
                                    : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                                      "PRAGMA foreign_keys=ON; PRAGMA cache_size=-512;";
    char *msg = NULL;
    rc = sqlite3_exec(s->handle, setup, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot use the database %s: %s", loc->path,
                 msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        sqlite_close(db);
        return sqlite_errno(rc) ? sqlite_errno(rc) : -EIO;
    }
    return 0;
}

/* The backup copy migrate.c makes before an upgrade. */
int db_sqlite_backup(struct db *db, const char *dest, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(impl(db)->handle, "VACUUM INTO ?", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, dest, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s", sqlite_errmsg(db));
        return -EIO;
    }
    return 0;
}
