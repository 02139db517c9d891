/* SQLite connection, statement cache and transactions. */
#include "db/db.h"
#include "db/rows.h"
#include "util/str.h"
#include "util/time.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DB_STMT_CACHE 256

struct db_cached {
    const char *sql;
    sqlite3_stmt *stmt;
};

struct db {
    sqlite3 *handle;
    struct db_location loc;
    struct db_cached cache[DB_STMT_CACHE];
};

int db_parse_url(const char *url, struct db_location *ret, char *err, size_t errlen)
{
    struct db_location loc = {.memory = false};
    if (!str_has_prefix(url, "sqlite://")) {
        size_t n = strcspn(url, ":");
        snprintf(err, errlen,
                 "JupyterHub.db_url: Ganymede supports sqlite:// databases for now, not %.*s://",
                 (int)(n < 32 ? n : 32), url);
        return -EINVAL;
    }
    const char *rest = url + strlen("sqlite://");
    if (*rest == '\0' || strcmp(rest, "/:memory:") == 0) {
        loc.memory = true;
        str_copy(loc.path, sizeof(loc.path), ":memory:");
    } else if (rest[0] != '/') {
        snprintf(err, errlen,
                 "JupyterHub.db_url: expected sqlite:///relative/path or "
                 "sqlite:////absolute/path");
        return -EINVAL;
    } else {
        const char *path = rest + 1; /* sqlite:///x → "x"; sqlite:////x → "/x" */
        size_t q = strcspn(path, "?");
        if (q == 0 || q >= sizeof(loc.path)) {
            snprintf(err, errlen, "JupyterHub.db_url: the database path is empty or too long");
            return -EINVAL;
        }
        memcpy(loc.path, path, q);
        loc.path[q] = '\0';
    }
    *ret = loc;
    return 0;
}

int db_errno(int rc)
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

int db_open(const struct db_location *loc, struct db **ret, char *err, size_t errlen)
{
    struct db *db = calloc(1, sizeof(*db));
    if (!db)
        return -ENOMEM;
    db->loc = *loc;
    if (!loc->memory) {
        /* Create it 0600 ourselves: the database holds token hashes and auth_state. */
        int fd = open(loc->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
            int e = errno;
            snprintf(err, errlen, "cannot open the database %s: %s", loc->path, strerror(e));
            free(db);
            return -e;
        }
        close(fd);
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(loc->path, &db->handle, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open the database %s: %s", loc->path,
                 db->handle ? sqlite3_errmsg(db->handle) : sqlite3_errstr(rc));
        db_close(db);
        return db_errno(rc);
    }
    sqlite3_extended_result_codes(db->handle, 1);
    /* The hub is meant to be the only writer; a short wait covers a concurrent upgrade-db. */
    sqlite3_busy_timeout(db->handle, 2000);
    /* Reads are served from the hub's memory, so SQLite's page cache only helps writes: a
     * small one (512 KiB instead of 2 MiB) keeps the hub's footprint small. */
    const char *setup = loc->memory ? "PRAGMA foreign_keys=ON;"
                                    : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                                      "PRAGMA foreign_keys=ON; PRAGMA cache_size=-512;";
    char *msg = NULL;
    rc = sqlite3_exec(db->handle, setup, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot use the database %s: %s", loc->path,
                 msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        db_close(db);
        return db_errno(rc) ? db_errno(rc) : -EIO;
    }
    *ret = db;
    return 0;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < DB_STMT_CACHE; i++)
        sqlite3_finalize(db->cache[i].stmt);
    sqlite3_close(db->handle);
    free(db);
}

sqlite3 *db_handle(struct db *db)
{
    return db->handle;
}

const char *db_path(const struct db *db)
{
    return db->loc.memory ? "" : db->loc.path;
}

sqlite3_stmt *db_stmt(struct db *db, const char *sql)
{
    size_t h = ((uintptr_t)sql >> 4) % DB_STMT_CACHE;
    for (size_t i = 0; i < DB_STMT_CACHE; i++) {
        struct db_cached *c = &db->cache[(h + i) % DB_STMT_CACHE];
        if (c->sql == sql) {
            sqlite3_reset(c->stmt);
            sqlite3_clear_bindings(c->stmt);
            return c->stmt;
        }
        if (!c->sql) {
            if (sqlite3_prepare_v3(db->handle, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->stmt,
                                   NULL) != SQLITE_OK)
                return NULL;
            c->sql = sql;
            return c->stmt;
        }
    }
    /* The cache is full (more distinct statements than expected): prepare without caching
     * would leak, so refuse; raise DB_STMT_CACHE. */
    return NULL;
}

int db_exec(struct db *db, const char *sql)
{
    return sqlite3_exec(db->handle, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

int db_begin(struct db *db)
{
    return db_exec(db, "BEGIN IMMEDIATE");
}

int db_commit(struct db *db)
{
    return db_exec(db, "COMMIT");
}

void db_rollback(struct db *db)
{
    sqlite3_exec(db->handle, "ROLLBACK", NULL, NULL, NULL);
}

const char *db_errmsg(struct db *db)
{
    return sqlite3_errmsg(db->handle);
}

/* Column helpers shared by the table files (declared in db/rows.h). */

int64_t db_column_time(sqlite3_stmt *st, int col)
{
    const unsigned char *text = sqlite3_column_text(st, col);
    int64_t us = 0;
    if (text && time_parse((const char *)text, &us) == 0)
        return us;
    return 0;
}

void db_bind_time(sqlite3_stmt *st, int col, int64_t us)
{
    if (!us) {
        sqlite3_bind_null(st, col);
        return;
    }
    char text[32];
    time_format_db(us, text);
    sqlite3_bind_text(st, col, text, -1, SQLITE_TRANSIENT);
}

void db_bind_text_or_null(sqlite3_stmt *st, int col, const char *s)
{
    if (s)
        sqlite3_bind_text(st, col, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, col);
}

int db_step_done(sqlite3_stmt *st)
{
    if (!st)
        return -EIO;
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_errno(rc);
    sqlite3_reset(st);
    return r;
}
