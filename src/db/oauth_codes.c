/* SQL for oauth_codes: authorization codes of the OAuth2 provider, valid for minutes and used
 * once. Kept in the database, as JupyterHub does, so that a hub restart (or a standby taking
 * over) between the redirect and the code exchange does not break a login; the hub looks them up
 * in its memory (core/oauth_codes.c). */
#include "db/rows.h"

static const char sql_each[] = "SELECT client_id, code, expires_at, redirect_uri, session_id, "
                               "user_id, scopes FROM oauth_codes WHERE expires_at >= ? ORDER BY id";
static const char sql_insert[] =
    "INSERT INTO oauth_codes (client_id, code, expires_at, redirect_uri, session_id, user_id, "
    "scopes) VALUES (?, ?, ?, ?, ?, ?, ?)";
static const char sql_delete[] = "DELETE FROM oauth_codes WHERE code = ?";
static const char sql_purge[] = "DELETE FROM oauth_codes WHERE expires_at < ?";

int db_oauth_codes_each(struct db *db, int64_t now_s,
                        int (*cb)(void *ctx, const struct db_oauth_code_row *row), void *ctx)
{
    struct db_rows *rows = NULL;
    int r = db_query(db, sql_each, DB_ARGS(DB_INT(now_s)), &rows);
    while (r == 0 && db_rows_next(rows)) {
        struct db_oauth_code_row row = {
            .client_id = db_rows_text(rows, 0),
            .code = db_rows_text(rows, 1),
            .expires_at = db_rows_int(rows, 2),
            .redirect_uri = db_rows_text(rows, 3),
            .session_id = db_rows_text(rows, 4),
            .user_id = db_rows_int(rows, 5),
            .scopes = db_rows_text(rows, 6),
        };
        if (row.client_id && row.code && row.redirect_uri)
            r = cb(ctx, &row);
    }
    int e = db_rows_close(rows);
    return r ? r : e;
}

int db_oauth_code_insert(struct db *db, const struct db_oauth_code_row *row)
{
    return db_write(db, sql_insert,
                    DB_ARGS(DB_TEXT(row->client_id), DB_TEXT(row->code), DB_INT(row->expires_at),
                            DB_TEXT(row->redirect_uri), DB_TEXT(row->session_id),
                            DB_INT(row->user_id), DB_TEXT(row->scopes)));
}

int db_oauth_code_delete(struct db *db, const char *code)
{
    return db_write(db, sql_delete, DB_ARGS(DB_TEXT(code)));
}

int db_oauth_codes_purge(struct db *db, int64_t now_s)
{
    return db_write(db, sql_purge, DB_ARGS(DB_INT(now_s)));
}
