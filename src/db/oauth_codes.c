/* SQL for oauth_codes: authorization codes of the OAuth2 provider, valid for minutes and used
 * once. Kept in the database, as JupyterHub does, so that a hub restart between the redirect and
 * the code exchange does not break a login. */
#include "db/rows.h"

#include <errno.h>

static const char sql_insert[] =
    "INSERT INTO oauth_codes (client_id, code, expires_at, redirect_uri, session_id, user_id, "
    "scopes) VALUES (?, ?, ?, ?, ?, ?, ?)";
static const char sql_take[] =
    "SELECT id, client_id, code, expires_at, redirect_uri, session_id, user_id, scopes "
    "FROM oauth_codes WHERE code = ?";
static const char sql_delete[] = "DELETE FROM oauth_codes WHERE id = ?";
static const char sql_purge[] = "DELETE FROM oauth_codes WHERE expires_at < ?";

#define TEXT(col) ((const char *)sqlite3_column_text(st, (col)))

int db_oauth_code_insert(struct db *db, const struct db_oauth_code_row *row)
{
    sqlite3_stmt *st = db_stmt(db, sql_insert);
    if (!st)
        return -EIO;
    sqlite3_bind_text(st, 1, row->client_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, row->code, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, row->expires_at);
    sqlite3_bind_text(st, 4, row->redirect_uri, -1, SQLITE_STATIC);
    db_bind_text_or_null(st, 5, row->session_id);
    sqlite3_bind_int64(st, 6, row->user_id);
    sqlite3_bind_text(st, 7, row->scopes, -1, SQLITE_STATIC);
    return db_step_done(st);
}

int db_oauth_code_take(struct db *db, const char *code,
                       int (*cb)(void *ctx, const struct db_oauth_code_row *row), void *ctx)
{
    sqlite3_stmt *st = db_stmt(db, sql_take);
    if (!st)
        return -EIO;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? -ENOENT : db_errno(rc);
    }
    int64_t id = sqlite3_column_int64(st, 0);
    struct db_oauth_code_row row = {
        .client_id = TEXT(1) ? TEXT(1) : "",
        .code = TEXT(2) ? TEXT(2) : "",
        .expires_at = sqlite3_column_int64(st, 3),
        .redirect_uri = TEXT(4) ? TEXT(4) : "",
        .session_id = TEXT(5),
        .user_id = sqlite3_column_int64(st, 6),
        .scopes = TEXT(7) ? TEXT(7) : "[]",
    };
    int r = cb(ctx, &row);
    sqlite3_reset(st);
    /* A code is good for one exchange, successful or not. */
    sqlite3_stmt *del = db_stmt(db, sql_delete);
    if (!del)
        return -EIO;
    sqlite3_bind_int64(del, 1, id);
    int d = db_step_done(del);
    return r < 0 ? r : d;
}

int db_oauth_codes_purge(struct db *db, int64_t now_s)
{
    sqlite3_stmt *st = db_stmt(db, sql_purge);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, now_s);
    return db_step_done(st);
}
