/* SQL for api_tokens. */
#include "db/rows.h"

static const char sql_each[] =
    "SELECT id, user_id, service_id, hashed, prefix, client_id, session_id, created, expires_at, "
    "last_activity, note, scopes FROM api_tokens ORDER BY id";
static const char sql_insert[] =
    "INSERT INTO api_tokens (id, user_id, service_id, hashed, prefix, client_id, session_id, "
    "created, expires_at, last_activity, note, scopes) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_delete[] = "DELETE FROM api_tokens WHERE id = ?";
static const char sql_activity[] = "UPDATE api_tokens SET last_activity = ? WHERE id = ?";

DB_EACH(db_tokens_each, struct db_token_row)
{
    struct db_rows *rows = NULL;
    int r = db_query(db, sql_each, NULL, 0, &rows);
    while (r == 0 && db_rows_next(rows)) {
        struct db_token_row row = {
            .id = db_rows_int(rows, 0),
            .user_id = db_rows_int(rows, 1),
            .service_id = db_rows_int(rows, 2),
            .hashed = db_rows_text(rows, 3),
            .prefix = db_rows_text(rows, 4),
            .client_id = db_rows_text(rows, 5),
            .session_id = db_rows_text(rows, 6),
            .created = db_rows_time(rows, 7),
            .expires_at = db_rows_time(rows, 8),
            .last_activity = db_rows_time(rows, 9),
            .note = db_rows_text(rows, 10),
            .scopes = db_rows_text(rows, 11),
        };
        if (row.hashed && row.prefix)
            r = cb(ctx, &row);
    }
    int e = db_rows_close(rows);
    return r ? r : e;
}

int db_token_insert(struct db *db, const struct db_token_row *row, int64_t *ret_id)
{
    int64_t id;
    int r = db_next_id(db, "api_tokens", &id);
    if (r == 0)
        r = db_write(db, sql_insert,
                     DB_ARGS(DB_INT(id), db_ref(row->user_id), db_ref(row->service_id),
                             DB_TEXT(row->hashed), DB_TEXT(row->prefix), DB_TEXT(row->client_id),
                             DB_TEXT(row->session_id), DB_TIME(row->created),
                             DB_TIME(row->expires_at), DB_TIME(row->last_activity),
                             DB_TEXT(row->note), DB_TEXT(row->scopes)));
    if (r == 0)
        *ret_id = id;
    return r;
}

int db_token_delete(struct db *db, int64_t id)
{
    return db_write(db, sql_delete, DB_ARGS(DB_INT(id)));
}

int db_token_set_last_activity(struct db *db, int64_t id, int64_t when)
{
    return db_write(db, sql_activity, DB_ARGS(DB_TIME(when), DB_INT(id)));
}
