/* SQL for groups and user_group_map. */
#include "db/rows.h"

static const char sql_each[] = "SELECT id, name, properties FROM groups ORDER BY id";
static const char sql_members[] =
    "SELECT user_id, group_id FROM user_group_map ORDER BY user_id, group_id";
static const char sql_insert[] = "INSERT INTO groups (id, name, properties) VALUES (?, ?, '{}')";
static const char sql_delete[] = "DELETE FROM groups WHERE id = ?";
static const char sql_props[] = "UPDATE groups SET properties = ? WHERE id = ?";
static const char sql_add[] =
    "INSERT INTO user_group_map (user_id, group_id) VALUES (?, ?) ON CONFLICT DO NOTHING";
static const char sql_remove[] = "DELETE FROM user_group_map WHERE user_id = ? AND group_id = ?";

DB_EACH(db_groups_each, struct db_group_row)
{
    struct db_rows *rows = NULL;
    int r = db_query(db, sql_each, NULL, 0, &rows);
    while (r == 0 && db_rows_next(rows)) {
        struct db_group_row row = {
            .id = db_rows_int(rows, 0),
            .name = db_rows_text(rows, 1),
            .properties = db_rows_text(rows, 2),
        };
        if (row.name)
            r = cb(ctx, &row);
    }
    int e = db_rows_close(rows);
    return r ? r : e;
}

DB_EACH(db_group_members_each, struct db_pair_row)
{
    struct db_rows *rows = NULL;
    int r = db_query(db, sql_members, NULL, 0, &rows);
    while (r == 0 && db_rows_next(rows)) {
        struct db_pair_row row = {.a = db_rows_int(rows, 0), .b = db_rows_int(rows, 1)};
        r = cb(ctx, &row);
    }
    int e = db_rows_close(rows);
    return r ? r : e;
}

int db_group_insert(struct db *db, const char *name, int64_t *ret_id)
{
    int64_t id;
    int r = db_next_id(db, "groups", &id);
    if (r == 0)
        r = db_write(db, sql_insert, DB_ARGS(DB_INT(id), DB_TEXT(name)));
    if (r == 0)
        *ret_id = id;
    return r;
}

int db_group_delete(struct db *db, int64_t id)
{
    return db_write(db, sql_delete, DB_ARGS(DB_INT(id)));
}

int db_group_set_properties(struct db *db, int64_t id, const char *json)
{
    return db_write(db, sql_props, DB_ARGS(DB_TEXT(json), DB_INT(id)));
}

int db_group_member_add(struct db *db, int64_t group_id, int64_t user_id)
{
    return db_write(db, sql_add, DB_ARGS(DB_INT(user_id), DB_INT(group_id)));
}

int db_group_member_remove(struct db *db, int64_t group_id, int64_t user_id)
{
    return db_write(db, sql_remove, DB_ARGS(DB_INT(user_id), DB_INT(group_id)));
}
