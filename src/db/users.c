/* SQL for the users table. */
#include "db/rows.h"

static const char sql_each[] = "SELECT id, name, admin, created, last_activity, cookie_id, "
                               "encrypted_auth_state FROM users ORDER BY id";
static const char sql_insert[] =
    "INSERT INTO users (id, name, admin, created, last_activity, cookie_id, state) "
    "VALUES (?, ?, ?, ?, NULL, ?, '{}')";
static const char sql_name[] = "UPDATE users SET name = ? WHERE id = ?";
static const char sql_admin[] = "UPDATE users SET admin = ? WHERE id = ?";
static const char sql_activity[] = "UPDATE users SET last_activity = ? WHERE id = ?";
static const char sql_delete[] = "DELETE FROM users WHERE id = ?";
static const char sql_set_state[] = "UPDATE users SET encrypted_auth_state = ? WHERE id = ?";

DB_EACH(db_users_each, struct db_user_row)
{
    struct db_rows *rows = NULL;
    int r = db_query(db, sql_each, NULL, 0, &rows);
    while (r == 0 && db_rows_next(rows)) {
        struct db_user_row row = {
            .id = db_rows_int(rows, 0),
            .name = db_rows_text(rows, 1),
            .admin = db_rows_bool(rows, 2),
            .created = db_rows_time(rows, 3),
            .last_activity = db_rows_time(rows, 4),
            .cookie_id = db_rows_text(rows, 5),
        };
        row.auth_state = db_rows_blob(rows, 6, &row.auth_state_len);
        if (row.name)
            r = cb(ctx, &row);
    }
    int e = db_rows_close(rows);
    return r ? r : e;
}

int db_user_insert(struct db *db, const char *name, bool admin, int64_t created,
                   const char *cookie_id, int64_t *ret_id)
{
    int64_t id;
    int r = db_next_id(db, "users", &id);
    if (r == 0)
        r = db_write(db, sql_insert,
                     DB_ARGS(DB_INT(id), DB_TEXT(name), DB_BOOL(admin), DB_TIME(created),
                             DB_TEXT(cookie_id)));
    if (r == 0)
        *ret_id = id;
    return r;
}

int db_user_set_name(struct db *db, int64_t id, const char *name)
{
    return db_write(db, sql_name, DB_ARGS(DB_TEXT(name), DB_INT(id)));
}

int db_user_set_admin(struct db *db, int64_t id, bool admin)
{
    return db_write(db, sql_admin, DB_ARGS(DB_BOOL(admin), DB_INT(id)));
}

int db_user_set_last_activity(struct db *db, int64_t id, int64_t when)
{
    return db_write(db, sql_activity, DB_ARGS(DB_TIME(when), DB_INT(id)));
}

int db_user_delete(struct db *db, int64_t id)
{
    return db_write(db, sql_delete, DB_ARGS(DB_INT(id)));
}

int db_user_set_auth_state(struct db *db, int64_t id, const void *blob, size_t len)
{
    return db_write(db, sql_set_state, DB_ARGS(DB_BLOB(blob, len), DB_INT(id)));
}
