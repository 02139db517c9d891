/* SQL for the users table. */
#include "db/rows.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char sql_each[] =
    "SELECT id, name, admin, created, last_activity, cookie_id FROM users ORDER BY id";
static const char sql_insert[] =
    "INSERT INTO users (name, admin, created, last_activity, cookie_id, state) "
    "VALUES (?, ?, ?, NULL, ?, '{}')";
static const char sql_name[] = "UPDATE users SET name = ? WHERE id = ?";
static const char sql_admin[] = "UPDATE users SET admin = ? WHERE id = ?";
static const char sql_activity[] = "UPDATE users SET last_activity = ? WHERE id = ?";
static const char sql_delete[] = "DELETE FROM users WHERE id = ?";
static const char sql_get_state[] = "SELECT encrypted_auth_state FROM users WHERE id = ?";
static const char sql_set_state[] = "UPDATE users SET encrypted_auth_state = ? WHERE id = ?";

DB_EACH(db_users_each, struct db_user_row)
{
    sqlite3_stmt *st = db_stmt(db, sql_each);
    if (!st)
        return -EIO;
    int rc, r = 0;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_user_row row = {
            .id = sqlite3_column_int64(st, 0),
            .name = (const char *)sqlite3_column_text(st, 1),
            .admin = sqlite3_column_int(st, 2) != 0,
            .created = db_column_time(st, 3),
            .last_activity = db_column_time(st, 4),
            .cookie_id = (const char *)sqlite3_column_text(st, 5),
        };
        if (row.name)
            r = cb(ctx, &row);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = db_errno(rc);
    sqlite3_reset(st);
    return r;
}

int db_user_insert(struct db *db, const char *name, bool admin, int64_t created,
                   const char *cookie_id, int64_t *ret_id)
{
    sqlite3_stmt *st = db_stmt(db, sql_insert);
    if (!st)
        return -EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, admin);
    db_bind_time(st, 3, created);
    sqlite3_bind_text(st, 4, cookie_id, -1, SQLITE_TRANSIENT);
    int r = db_step_done(st);
    if (r == 0)
        *ret_id = sqlite3_last_insert_rowid(db_handle(db));
    return r;
}

int db_user_set_name(struct db *db, int64_t id, const char *name)
{
    sqlite3_stmt *st = db_stmt(db, sql_name);
    if (!st)
        return -EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, id);
    return db_step_done(st);
}

int db_user_set_admin(struct db *db, int64_t id, bool admin)
{
    sqlite3_stmt *st = db_stmt(db, sql_admin);
    if (!st)
        return -EIO;
    sqlite3_bind_int(st, 1, admin);
    sqlite3_bind_int64(st, 2, id);
    return db_step_done(st);
}

int db_user_set_last_activity(struct db *db, int64_t id, int64_t when)
{
    sqlite3_stmt *st = db_stmt(db, sql_activity);
    if (!st)
        return -EIO;
    db_bind_time(st, 1, when);
    sqlite3_bind_int64(st, 2, id);
    return db_step_done(st);
}

int db_user_delete(struct db *db, int64_t id)
{
    sqlite3_stmt *st = db_stmt(db, sql_delete);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    return db_step_done(st);
}

int db_user_get_auth_state(struct db *db, int64_t id, void **ret, size_t *len)
{
    sqlite3_stmt *st = db_stmt(db, sql_get_state);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    int r = 0;
    *ret = NULL;
    *len = 0;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        int n = sqlite3_column_bytes(st, 0);
        const void *blob = sqlite3_column_blob(st, 0);
        if (n > 0 && blob) {
            *ret = malloc((size_t)n);
            if (*ret) {
                memcpy(*ret, blob, (size_t)n);
                *len = (size_t)n;
            } else {
                r = -ENOMEM;
            }
        }
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        r = db_errno(rc);
    }
    sqlite3_reset(st);
    return r;
}

int db_user_set_auth_state(struct db *db, int64_t id, const void *blob, size_t len)
{
    sqlite3_stmt *st = db_stmt(db, sql_set_state);
    if (!st)
        return -EIO;
    if (blob)
        sqlite3_bind_blob(st, 1, blob, (int)len, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_int64(st, 2, id);
    return db_step_done(st);
}
