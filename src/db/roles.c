/* SQL for roles and the user/group/service role maps. */
#include "db/rows.h"

static const char sql_each[] =
    "SELECT id, name, description, scopes, managed_by_auth FROM roles ORDER BY id";
static const char sql_insert[] = "INSERT INTO roles (id, name, description, scopes, "
                                 "managed_by_auth) VALUES (?, ?, ?, ?, ?)";
static const char sql_update[] =
    "UPDATE roles SET description = ?, scopes = ?, managed_by_auth = ? WHERE id = ?";
static const char sql_delete[] = "DELETE FROM roles WHERE id = ?";

static const char *const sql_map_each[DB_ROLE_MAP_MAX] = {
    "SELECT user_id, role_id, managed_by_auth FROM user_role_map ORDER BY user_id, role_id",
    "SELECT group_id, role_id, managed_by_auth FROM group_role_map ORDER BY group_id, role_id",
    "SELECT service_id, role_id, managed_by_auth FROM service_role_map "
    "ORDER BY service_id, role_id",
};
static const char *const sql_map_add[DB_ROLE_MAP_MAX] = {
    "INSERT INTO user_role_map (user_id, role_id, managed_by_auth) VALUES (?, ?, FALSE) "
    "ON CONFLICT DO NOTHING",
    "INSERT INTO group_role_map (group_id, role_id, managed_by_auth) VALUES (?, ?, FALSE) "
    "ON CONFLICT DO NOTHING",
    "INSERT INTO service_role_map (service_id, role_id, managed_by_auth) VALUES (?, ?, FALSE) "
    "ON CONFLICT DO NOTHING",
};
static const char *const sql_map_remove[DB_ROLE_MAP_MAX] = {
    "DELETE FROM user_role_map WHERE user_id = ? AND role_id = ?",
    "DELETE FROM group_role_map WHERE group_id = ? AND role_id = ?",
    "DELETE FROM service_role_map WHERE service_id = ? AND role_id = ?",
};

DB_EACH(db_roles_each, struct db_role_row)
{
    struct db_rows *rows = NULL;
    int r = db_query(db, sql_each, NULL, 0, &rows);
    while (r == 0 && db_rows_next(rows)) {
        struct db_role_row row = {
            .id = db_rows_int(rows, 0),
            .name = db_rows_text(rows, 1),
            .description = db_rows_text(rows, 2),
            .scopes = db_rows_text(rows, 3),
            .managed_by_auth = db_rows_bool(rows, 4),
        };
        if (row.name)
            r = cb(ctx, &row);
    }
    int e = db_rows_close(rows);
    return r ? r : e;
}

int db_role_map_each(struct db *db, enum db_role_map map,
                     int (*cb)(void *ctx, const struct db_pair_row *row), void *ctx)
{
    struct db_rows *rows = NULL;
    int r = db_query(db, sql_map_each[map], NULL, 0, &rows);
    while (r == 0 && db_rows_next(rows)) {
        struct db_pair_row row = {.a = db_rows_int(rows, 0),
                                  .b = db_rows_int(rows, 1),
                                  .managed_by_auth = db_rows_bool(rows, 2)};
        r = cb(ctx, &row);
    }
    int e = db_rows_close(rows);
    return r ? r : e;
}

int db_role_insert(struct db *db, const char *name, const char *description, const char *scopes,
                   bool managed_by_auth, int64_t *ret_id)
{
    int64_t id;
    int r = db_next_id(db, "roles", &id);
    if (r == 0)
        r = db_write(db, sql_insert,
                     DB_ARGS(DB_INT(id), DB_TEXT(name), DB_TEXT(description), DB_TEXT(scopes),
                             DB_BOOL(managed_by_auth)));
    if (r == 0)
        *ret_id = id;
    return r;
}

int db_role_update(struct db *db, int64_t id, const char *description, const char *scopes,
                   bool managed_by_auth)
{
    return db_write(
        db, sql_update,
        DB_ARGS(DB_TEXT(description), DB_TEXT(scopes), DB_BOOL(managed_by_auth), DB_INT(id)));
}

int db_role_delete(struct db *db, int64_t id)
{
    return db_write(db, sql_delete, DB_ARGS(DB_INT(id)));
}

int db_role_map_add(struct db *db, enum db_role_map map, int64_t bearer_id, int64_t role_id)
{
    return db_write(db, sql_map_add[map], DB_ARGS(DB_INT(bearer_id), DB_INT(role_id)));
}

int db_role_map_remove(struct db *db, enum db_role_map map, int64_t bearer_id, int64_t role_id)
{
    return db_write(db, sql_map_remove[map], DB_ARGS(DB_INT(bearer_id), DB_INT(role_id)));
}
