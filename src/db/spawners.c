/* SQL for spawners (one row per server of a user) and servers (the address of an active one). */
#include "db/rows.h"

#include <errno.h>

static const char sql_each[] =
    "SELECT s.id, s.user_id, s.name, s.started, s.last_activity, s.state, s.user_options, "
    "s.oauth_client_id, sv.id, sv.proto, sv.ip, sv.port, sv.base_url FROM spawners s "
    "LEFT JOIN servers sv ON sv.id = s.server_id ORDER BY s.id";
static const char sql_insert[] = "INSERT INTO spawners (user_id, name) VALUES (?, ?)";
static const char sql_delete[] = "DELETE FROM spawners WHERE id = ?";
static const char sql_activity[] = "UPDATE spawners SET last_activity = ? WHERE id = ?";
static const char sql_update[] =
    "UPDATE spawners SET started = ?, state = ?, user_options = ?, oauth_client_id = ?, "
    "server_id = ? WHERE id = ?";
static const char sql_server_insert[] =
    "INSERT INTO servers (proto, ip, port, base_url, cookie_name) VALUES (?, ?, ?, ?, ?)";
static const char sql_server_update[] =
    "UPDATE servers SET proto = ?, ip = ?, port = ? WHERE id = ?";
static const char sql_server_delete[] = "DELETE FROM servers WHERE id = ?";

#define TEXT(col) ((const char *)sqlite3_column_text(st, (col)))

DB_EACH(db_spawners_each, struct db_spawner_row)
{
    sqlite3_stmt *st = db_stmt(db, sql_each);
    if (!st)
        return -EIO;
    int rc, r = 0;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_spawner_row row = {
            .id = sqlite3_column_int64(st, 0),
            .user_id = sqlite3_column_int64(st, 1),
            .name = TEXT(2) ? TEXT(2) : "",
            .started = db_column_time(st, 3),
            .last_activity = db_column_time(st, 4),
            .state = TEXT(5),
            .user_options = TEXT(6),
            .oauth_client_id = TEXT(7),
            .server_id = sqlite3_column_int64(st, 8),
            .proto = TEXT(9),
            .ip = TEXT(10),
            .port = sqlite3_column_int(st, 11),
            .base_url = TEXT(12),
        };
        r = cb(ctx, &row);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = db_errno(rc);
    sqlite3_reset(st);
    return r;
}

int db_spawner_insert(struct db *db, int64_t user_id, const char *name, int64_t *ret_id)
{
    sqlite3_stmt *st = db_stmt(db, sql_insert);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int r = db_step_done(st);
    if (r == 0)
        *ret_id = sqlite3_last_insert_rowid(db_handle(db));
    return r;
}

int db_spawner_delete(struct db *db, int64_t id)
{
    sqlite3_stmt *st = db_stmt(db, sql_delete);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    return db_step_done(st);
}

int db_spawner_set_last_activity(struct db *db, int64_t id, int64_t when)
{
    sqlite3_stmt *st = db_stmt(db, sql_activity);
    if (!st)
        return -EIO;
    db_bind_time(st, 1, when);
    sqlite3_bind_int64(st, 2, id);
    return db_step_done(st);
}

int db_spawner_update(struct db *db, const struct db_spawner_row *row)
{
    sqlite3_stmt *st = db_stmt(db, sql_update);
    if (!st)
        return -EIO;
    db_bind_time(st, 1, row->started);
    db_bind_text_or_null(st, 2, row->state);
    db_bind_text_or_null(st, 3, row->user_options);
    db_bind_text_or_null(st, 4, row->oauth_client_id);
    if (row->server_id)
        sqlite3_bind_int64(st, 5, row->server_id);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_int64(st, 6, row->id);
    return db_step_done(st);
}

int db_server_insert(struct db *db, const char *proto, const char *ip, int port,
                     const char *base_url, const char *cookie_name, int64_t *ret_id)
{
    sqlite3_stmt *st = db_stmt(db, sql_server_insert);
    if (!st)
        return -EIO;
    sqlite3_bind_text(st, 1, proto, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ip, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, port);
    sqlite3_bind_text(st, 4, base_url, -1, SQLITE_STATIC);
    db_bind_text_or_null(st, 5, cookie_name);
    int r = db_step_done(st);
    if (r == 0)
        *ret_id = sqlite3_last_insert_rowid(db_handle(db));
    return r;
}

int db_server_update(struct db *db, int64_t id, const char *proto, const char *ip, int port)
{
    sqlite3_stmt *st = db_stmt(db, sql_server_update);
    if (!st)
        return -EIO;
    sqlite3_bind_text(st, 1, proto, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ip, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, port);
    sqlite3_bind_int64(st, 4, id);
    return db_step_done(st);
}

int db_server_delete(struct db *db, int64_t id)
{
    sqlite3_stmt *st = db_stmt(db, sql_server_delete);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    return db_step_done(st);
}
