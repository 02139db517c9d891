/* SQL for groups and user_group_map. */
#include "db/rows.h"

#include <errno.h>

static const char sql_each[] = "SELECT id, name, properties FROM groups ORDER BY id";
static const char sql_members[] = "SELECT user_id, group_id FROM user_group_map ORDER BY rowid";
static const char sql_insert[] = "INSERT INTO groups (name, properties) VALUES (?, '{}')";
static const char sql_delete[] = "DELETE FROM groups WHERE id = ?";
static const char sql_props[] = "UPDATE groups SET properties = ? WHERE id = ?";
static const char sql_add[] =
    "INSERT OR IGNORE INTO user_group_map (user_id, group_id) VALUES (?, ?)";
static const char sql_remove[] = "DELETE FROM user_group_map WHERE user_id = ? AND group_id = ?";

DB_EACH(db_groups_each, struct db_group_row)
{
    sqlite3_stmt *st = db_stmt(db, sql_each);
    if (!st)
        return -EIO;
    int rc, r = 0;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_group_row row = {
            .id = sqlite3_column_int64(st, 0),
            .name = (const char *)sqlite3_column_text(st, 1),
            .properties = (const char *)sqlite3_column_text(st, 2),
        };
        if (row.name)
            r = cb(ctx, &row);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = db_errno(rc);
    sqlite3_reset(st);
    return r;
}

DB_EACH(db_group_members_each, struct db_pair_row)
{
    sqlite3_stmt *st = db_stmt(db, sql_members);
    if (!st)
        return -EIO;
    int rc, r = 0;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_pair_row row = {.a = sqlite3_column_int64(st, 0),
                                  .b = sqlite3_column_int64(st, 1)};
        r = cb(ctx, &row);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = db_errno(rc);
    sqlite3_reset(st);
    return r;
}

int db_group_insert(struct db *db, const char *name, int64_t *ret_id)
{
    sqlite3_stmt *st = db_stmt(db, sql_insert);
    if (!st)
        return -EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int r = db_step_done(st);
    if (r == 0)
        *ret_id = sqlite3_last_insert_rowid(db_handle(db));
    return r;
}

int db_group_delete(struct db *db, int64_t id)
{
    sqlite3_stmt *st = db_stmt(db, sql_delete);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    return db_step_done(st);
}

int db_group_set_properties(struct db *db, int64_t id, const char *json)
{
    sqlite3_stmt *st = db_stmt(db, sql_props);
    if (!st)
        return -EIO;
    sqlite3_bind_text(st, 1, json, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, id);
    return db_step_done(st);
}

int db_group_member_add(struct db *db, int64_t group_id, int64_t user_id)
{
    sqlite3_stmt *st = db_stmt(db, sql_add);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int64(st, 2, group_id);
    return db_step_done(st);
}

int db_group_member_remove(struct db *db, int64_t group_id, int64_t user_id)
{
    sqlite3_stmt *st = db_stmt(db, sql_remove);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int64(st, 2, group_id);
    return db_step_done(st);
}
