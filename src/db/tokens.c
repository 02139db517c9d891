/* SQL for api_tokens. */
#include "db/rows.h"

#include <errno.h>

static const char sql_each[] =
    "SELECT id, user_id, service_id, hashed, prefix, client_id, session_id, created, expires_at, "
    "last_activity, note, scopes FROM api_tokens ORDER BY id";
static const char sql_insert[] =
    "INSERT INTO api_tokens (user_id, service_id, hashed, prefix, client_id, session_id, "
    "created, expires_at, last_activity, note, scopes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_delete[] = "DELETE FROM api_tokens WHERE id = ?";
static const char sql_activity[] = "UPDATE api_tokens SET last_activity = ? WHERE id = ?";

#define TEXT(col) ((const char *)sqlite3_column_text(st, (col)))

DB_EACH(db_tokens_each, struct db_token_row)
{
    sqlite3_stmt *st = db_stmt(db, sql_each);
    if (!st)
        return -EIO;
    int rc, r = 0;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_token_row row = {
            .id = sqlite3_column_int64(st, 0),
            .user_id = sqlite3_column_int64(st, 1),
            .service_id = sqlite3_column_int64(st, 2),
            .hashed = TEXT(3),
            .prefix = TEXT(4),
            .client_id = TEXT(5),
            .session_id = TEXT(6),
            .created = db_column_time(st, 7),
            .expires_at = db_column_time(st, 8),
            .last_activity = db_column_time(st, 9),
            .note = TEXT(10),
            .scopes = TEXT(11),
        };
        if (row.hashed && row.prefix)
            r = cb(ctx, &row);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = db_errno(rc);
    sqlite3_reset(st);
    return r;
}

int db_token_insert(struct db *db, const struct db_token_row *row, int64_t *ret_id)
{
    sqlite3_stmt *st = db_stmt(db, sql_insert);
    if (!st)
        return -EIO;
    if (row->user_id)
        sqlite3_bind_int64(st, 1, row->user_id);
    else
        sqlite3_bind_null(st, 1);
    if (row->service_id)
        sqlite3_bind_int64(st, 2, row->service_id);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_text(st, 3, row->hashed, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, row->prefix, -1, SQLITE_TRANSIENT);
    db_bind_text_or_null(st, 5, row->client_id);
    db_bind_text_or_null(st, 6, row->session_id);
    db_bind_time(st, 7, row->created);
    db_bind_time(st, 8, row->expires_at);
    db_bind_time(st, 9, row->last_activity);
    db_bind_text_or_null(st, 10, row->note);
    db_bind_text_or_null(st, 11, row->scopes);
    int r = db_step_done(st);
    if (r == 0)
        *ret_id = sqlite3_last_insert_rowid(db_handle(db));
    return r;
}

int db_token_delete(struct db *db, int64_t id)
{
    sqlite3_stmt *st = db_stmt(db, sql_delete);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    return db_step_done(st);
}

int db_token_set_last_activity(struct db *db, int64_t id, int64_t when)
{
    sqlite3_stmt *st = db_stmt(db, sql_activity);
    if (!st)
        return -EIO;
    db_bind_time(st, 1, when);
    sqlite3_bind_int64(st, 2, id);
    return db_step_done(st);
}
