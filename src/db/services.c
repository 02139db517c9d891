/* SQL for services and oauth_clients. */
#include "db/rows.h"

#include <errno.h>

static const char sql_each[] =
    "SELECT id, name, admin, url, oauth_client_allowed_scopes, info, display, oauth_no_confirm, "
    "command, cwd, environment, user, from_config, pid, oauth_client_id FROM services ORDER BY id";
static const char sql_insert[] =
    "INSERT INTO services (name, admin, from_config, display, oauth_no_confirm) "
    "VALUES (?, 0, 1, 1, 0)";
static const char sql_update[] =
    "UPDATE services SET admin = ?, url = ?, oauth_client_allowed_scopes = ?, info = ?, "
    "display = ?, oauth_no_confirm = ?, command = ?, cwd = ?, environment = ?, user = ?, "
    "from_config = ?, pid = ?, oauth_client_id = ? WHERE id = ?";
static const char sql_delete[] = "DELETE FROM services WHERE id = ?";

static const char sql_clients[] =
    "SELECT id, identifier, description, secret, redirect_uri, allowed_scopes FROM oauth_clients "
    "ORDER BY id";
static const char sql_client_insert[] =
    "INSERT INTO oauth_clients (identifier, description, secret, redirect_uri, allowed_scopes) "
    "VALUES (?, ?, ?, ?, ?)";
static const char sql_client_update[] =
    "UPDATE oauth_clients SET description = ?, secret = ?, redirect_uri = ?, allowed_scopes = ? "
    "WHERE id = ?";
static const char sql_client_delete[] = "DELETE FROM oauth_clients WHERE id = ?";

#define TEXT(col) ((const char *)sqlite3_column_text(st, (col)))

DB_EACH(db_services_each, struct db_service_row)
{
    sqlite3_stmt *st = db_stmt(db, sql_each);
    if (!st)
        return -EIO;
    int rc, r = 0;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_service_row row = {
            .id = sqlite3_column_int64(st, 0),
            .name = TEXT(1),
            .admin = sqlite3_column_int(st, 2) != 0,
            .url = TEXT(3),
            .oauth_client_allowed_scopes = TEXT(4),
            .info = TEXT(5),
            .display = sqlite3_column_type(st, 6) == SQLITE_NULL || sqlite3_column_int(st, 6),
            .oauth_no_confirm = sqlite3_column_int(st, 7) != 0,
            .command = TEXT(8),
            .cwd = TEXT(9),
            .environment = TEXT(10),
            .user = TEXT(11),
            .from_config = sqlite3_column_type(st, 12) == SQLITE_NULL || sqlite3_column_int(st, 12),
            .pid = sqlite3_column_int(st, 13),
            .oauth_client_id = TEXT(14),
        };
        if (row.name)
            r = cb(ctx, &row);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = db_errno(rc);
    sqlite3_reset(st);
    return r;
}

int db_service_insert(struct db *db, const char *name, int64_t *ret_id)
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

int db_service_update(struct db *db, const struct db_service_row *row)
{
    sqlite3_stmt *st = db_stmt(db, sql_update);
    if (!st)
        return -EIO;
    sqlite3_bind_int(st, 1, row->admin);
    db_bind_text_or_null(st, 2, row->url);
    db_bind_text_or_null(st, 3, row->oauth_client_allowed_scopes);
    db_bind_text_or_null(st, 4, row->info);
    sqlite3_bind_int(st, 5, row->display);
    sqlite3_bind_int(st, 6, row->oauth_no_confirm);
    db_bind_text_or_null(st, 7, row->command);
    db_bind_text_or_null(st, 8, row->cwd);
    db_bind_text_or_null(st, 9, row->environment);
    db_bind_text_or_null(st, 10, row->user);
    sqlite3_bind_int(st, 11, row->from_config);
    sqlite3_bind_int(st, 12, row->pid);
    db_bind_text_or_null(st, 13, row->oauth_client_id);
    sqlite3_bind_int64(st, 14, row->id);
    return db_step_done(st);
}

int db_service_delete(struct db *db, int64_t id)
{
    sqlite3_stmt *st = db_stmt(db, sql_delete);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    return db_step_done(st);
}

DB_EACH(db_clients_each, struct db_client_row)
{
    sqlite3_stmt *st = db_stmt(db, sql_clients);
    if (!st)
        return -EIO;
    int rc, r = 0;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_client_row row = {
            .id = sqlite3_column_int64(st, 0),
            .identifier = TEXT(1),
            .description = TEXT(2),
            .secret = TEXT(3),
            .redirect_uri = TEXT(4),
            .allowed_scopes = TEXT(5),
        };
        if (row.identifier)
            r = cb(ctx, &row);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = db_errno(rc);
    sqlite3_reset(st);
    return r;
}

static void bind_client(sqlite3_stmt *st, int first, const struct db_client_row *row)
{
    db_bind_text_or_null(st, first, row->description);
    db_bind_text_or_null(st, first + 1, row->secret);
    db_bind_text_or_null(st, first + 2, row->redirect_uri);
    db_bind_text_or_null(st, first + 3, row->allowed_scopes);
}

int db_client_insert(struct db *db, const struct db_client_row *row, int64_t *ret_id)
{
    sqlite3_stmt *st = db_stmt(db, sql_client_insert);
    if (!st)
        return -EIO;
    sqlite3_bind_text(st, 1, row->identifier, -1, SQLITE_TRANSIENT);
    bind_client(st, 2, row);
    int r = db_step_done(st);
    if (r == 0)
        *ret_id = sqlite3_last_insert_rowid(db_handle(db));
    return r;
}

int db_client_update(struct db *db, const struct db_client_row *row)
{
    sqlite3_stmt *st = db_stmt(db, sql_client_update);
    if (!st)
        return -EIO;
    bind_client(st, 1, row);
    sqlite3_bind_int64(st, 5, row->id);
    return db_step_done(st);
}

int db_client_delete(struct db *db, int64_t id)
{
    sqlite3_stmt *st = db_stmt(db, sql_client_delete);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    return db_step_done(st);
}
