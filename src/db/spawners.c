/* SQL for spawners and servers. */
#include "db/rows.h"

static const char sql_each[] =
    "SELECT s.id, s.user_id, s.name, s.started, s.last_activity, s.state, s.user_options, "
    "s.oauth_client_id, sv.id, sv.proto, sv.ip, sv.port, sv.base_url FROM spawners s "
    "LEFT JOIN servers sv ON sv.id = s.server_id ORDER BY s.id";
static const char sql_insert[] = "INSERT INTO spawners (id, user_id, name) VALUES (?, ?, ?)";
static const char sql_delete[] = "DELETE FROM spawners WHERE id = ?";
static const char sql_activity[] = "UPDATE spawners SET last_activity = ? WHERE id = ?";
static const char sql_update[] =
    "UPDATE spawners SET started = ?, state = ?, user_options = ?, oauth_client_id = ?, "
    "server_id = ? WHERE id = ?";
static const char sql_server_insert[] = "INSERT INTO servers (id, proto, ip, port, base_url, "
                                        "cookie_name) VALUES (?, ?, ?, ?, ?, ?)";
static const char sql_server_update[] =
    "UPDATE servers SET proto = ?, ip = ?, port = ? WHERE id = ?";
static const char sql_server_delete[] = "DELETE FROM servers WHERE id = ?";

DB_EACH(db_spawners_each, struct db_spawner_row)
{
    struct db_rows *rows = NULL;
    int r = db_query(db, sql_each, NULL, 0, &rows);
    while (r == 0 && db_rows_next(rows)) {
        const char *name = db_rows_text(rows, 2);
        struct db_spawner_row row = {
            .id = db_rows_int(rows, 0),
            .user_id = db_rows_int(rows, 1),
            .name = name ? name : "",
            .started = db_rows_time(rows, 3),
            .last_activity = db_rows_time(rows, 4),
            .state = db_rows_text(rows, 5),
            .user_options = db_rows_text(rows, 6),
            .oauth_client_id = db_rows_text(rows, 7),
            .server_id = db_rows_int(rows, 8),
            .proto = db_rows_text(rows, 9),
            .ip = db_rows_text(rows, 10),
            .port = (int)db_rows_int(rows, 11),
            .base_url = db_rows_text(rows, 12),
        };
        r = cb(ctx, &row);
    }
    int e = db_rows_close(rows);
    return r ? r : e;
}

int db_spawner_insert(struct db *db, int64_t user_id, const char *name, int64_t *ret_id)
{
    int64_t id;
    int r = db_next_id(db, "spawners", &id);
    if (r == 0)
        r = db_write(db, sql_insert, DB_ARGS(DB_INT(id), DB_INT(user_id), DB_TEXT(name)));
    if (r == 0)
        *ret_id = id;
    return r;
}

int db_spawner_delete(struct db *db, int64_t id)
{
    return db_write(db, sql_delete, DB_ARGS(DB_INT(id)));
}

int db_spawner_set_last_activity(struct db *db, int64_t id, int64_t when)
{
    return db_write(db, sql_activity, DB_ARGS(DB_TIME(when), DB_INT(id)));
}

int db_spawner_update(struct db *db, const struct db_spawner_row *row)
{
    return db_write(db, sql_update,
                    DB_ARGS(DB_TIME(row->started), DB_TEXT(row->state), DB_TEXT(row->user_options),
                            DB_TEXT(row->oauth_client_id), db_ref(row->server_id),
                            DB_INT(row->id)));
}

int db_server_insert(struct db *db, const char *proto, const char *ip, int port,
                     const char *base_url, const char *cookie_name, int64_t *ret_id)
{
    int64_t id;
    int r = db_next_id(db, "servers", &id);
    if (r == 0)
        r = db_write(db, sql_server_insert,
                     DB_ARGS(DB_INT(id), DB_TEXT(proto), DB_TEXT(ip), DB_INT(port),
                             DB_TEXT(base_url), DB_TEXT(cookie_name)));
    if (r == 0)
        *ret_id = id;
    return r;
}

int db_server_update(struct db *db, int64_t id, const char *proto, const char *ip, int port)
{
    return db_write(db, sql_server_update,
                    DB_ARGS(DB_TEXT(proto), DB_TEXT(ip), DB_INT(port), DB_INT(id)));
}

int db_server_delete(struct db *db, int64_t id)
{
    return db_write(db, sql_server_delete, DB_ARGS(DB_INT(id)));
}
