/* SQL for roles and user_role_map, group_role_map, service_role_map. */
#include "db/rows.h"

#include <errno.h>

static const char sql_each[] =
    "SELECT id, name, description, scopes, managed_by_auth FROM roles ORDER BY id";
static const char sql_insert[] =
    "INSERT INTO roles (name, description, scopes, managed_by_auth) VALUES (?, ?, ?, ?)";
static const char sql_update[] =
    "UPDATE roles SET description = ?, scopes = ?, managed_by_auth = ? WHERE id = ?";
static const char sql_delete[] = "DELETE FROM roles WHERE id = ?";

static const char *const sql_map_each[DB_ROLE_MAP_MAX] = {
    "SELECT user_id, role_id, managed_by_auth FROM user_role_map ORDER BY rowid",
    "SELECT group_id, role_id, managed_by_auth FROM group_role_map ORDER BY rowid",
    "SELECT service_id, role_id, managed_by_auth FROM service_role_map ORDER BY rowid",
};
static const char *const sql_map_add[DB_ROLE_MAP_MAX] = {
    "INSERT OR IGNORE INTO user_role_map (user_id, role_id, managed_by_auth) VALUES (?, ?, 0)",
    "INSERT OR IGNORE INTO group_role_map (group_id, role_id, managed_by_auth) VALUES (?, ?, 0)",
    "INSERT OR IGNORE INTO service_role_map (service_id, role_id, managed_by_auth) "
    "VALUES (?, ?, 0)",
};
static const char *const sql_map_remove[DB_ROLE_MAP_MAX] = {
    "DELETE FROM user_role_map WHERE user_id = ? AND role_id = ?",
    "DELETE FROM group_role_map WHERE group_id = ? AND role_id = ?",
    "DELETE FROM service_role_map WHERE service_id = ? AND role_id = ?",
};

DB_EACH(db_roles_each, struct db_role_row)
{
    sqlite3_stmt *st = db_stmt(db, sql_each);
    if (!st)
        return -EIO;
    int rc, r = 0;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_role_row row = {
            .id = sqlite3_column_int64(st, 0),
            .name = (const char *)sqlite3_column_text(st, 1),
            .description = (const char *)sqlite3_column_text(st, 2),
            .scopes = (const char *)sqlite3_column_text(st, 3),
            .managed_by_auth = sqlite3_column_int(st, 4) != 0,
        };
        if (row.name)
            r = cb(ctx, &row);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = db_errno(rc);
    sqlite3_reset(st);
    return r;
}

int db_role_map_each(struct db *db, enum db_role_map map,
                     int (*cb)(void *ctx, const struct db_pair_row *row), void *ctx)
{
    sqlite3_stmt *st = db_stmt(db, sql_map_each[map]);
    if (!st)
        return -EIO;
    int rc, r = 0;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_pair_row row = {.a = sqlite3_column_int64(st, 0),
                                  .b = sqlite3_column_int64(st, 1),
                                  .managed_by_auth = sqlite3_column_int(st, 2) != 0};
        r = cb(ctx, &row);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = db_errno(rc);
    sqlite3_reset(st);
    return r;
}

int db_role_insert(struct db *db, const char *name, const char *description, const char *scopes,
                   bool managed_by_auth, int64_t *ret_id)
{
    sqlite3_stmt *st = db_stmt(db, sql_insert);
    if (!st)
        return -EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    db_bind_text_or_null(st, 2, description);
    sqlite3_bind_text(st, 3, scopes, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, managed_by_auth);
    int r = db_step_done(st);
    if (r == 0)
        *ret_id = sqlite3_last_insert_rowid(db_handle(db));
    return r;
}

int db_role_update(struct db *db, int64_t id, const char *description, const char *scopes,
                   bool managed_by_auth)
{
    sqlite3_stmt *st = db_stmt(db, sql_update);
    if (!st)
        return -EIO;
    db_bind_text_or_null(st, 1, description);
    sqlite3_bind_text(st, 2, scopes, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 3, managed_by_auth);
    sqlite3_bind_int64(st, 4, id);
    return db_step_done(st);
}

int db_role_delete(struct db *db, int64_t id)
{
    sqlite3_stmt *st = db_stmt(db, sql_delete);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    return db_step_done(st);
}

static int map_write(struct db *db, const char *sql, int64_t bearer_id, int64_t role_id)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, bearer_id);
    sqlite3_bind_int64(st, 2, role_id);
    return db_step_done(st);
}

int db_role_map_add(struct db *db, enum db_role_map map, int64_t bearer_id, int64_t role_id)
{
    return map_write(db, sql_map_add[map], bearer_id, role_id);
}

int db_role_map_remove(struct db *db, enum db_role_map map, int64_t bearer_id, int64_t role_id)
{
    return map_write(db, sql_map_remove[map], bearer_id, role_id);
}
