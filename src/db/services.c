/* SQL for services and oauth_clients. */
#include "db/rows.h"

static const char sql_each[] =
    "SELECT id, name, admin, url, oauth_client_allowed_scopes, info, display, oauth_no_confirm, "
    "command, cwd, environment, \"user\", from_config, pid, oauth_client_id FROM services "
    "ORDER BY id";
static const char sql_insert[] =
    "INSERT INTO services (id, name, admin, from_config, display, oauth_no_confirm) "
    "VALUES (?, ?, FALSE, TRUE, TRUE, FALSE)";
static const char sql_update[] =
    "UPDATE services SET admin = ?, url = ?, oauth_client_allowed_scopes = ?, info = ?, "
    "display = ?, oauth_no_confirm = ?, command = ?, cwd = ?, environment = ?, \"user\" = ?, "
    "from_config = ?, pid = ?, oauth_client_id = ? WHERE id = ?";
static const char sql_delete[] = "DELETE FROM services WHERE id = ?";

static const char sql_clients[] =
    "SELECT id, identifier, description, secret, redirect_uri, allowed_scopes FROM oauth_clients "
    "ORDER BY id";
static const char sql_client_insert[] =
    "INSERT INTO oauth_clients (id, identifier, description, secret, redirect_uri, "
    "allowed_scopes) VALUES (?, ?, ?, ?, ?, ?)";
static const char sql_client_update[] =
    "UPDATE oauth_clients SET description = ?, secret = ?, redirect_uri = ?, allowed_scopes = ? "
    "WHERE id = ?";
static const char sql_client_delete[] = "DELETE FROM oauth_clients WHERE id = ?";

DB_EACH(db_services_each, struct db_service_row)
{
    struct db_rows *rows = NULL;
    int r = db_query(db, sql_each, NULL, 0, &rows);
    while (r == 0 && db_rows_next(rows)) {
        struct db_service_row row = {
            .id = db_rows_int(rows, 0),
            .name = db_rows_text(rows, 1),
            .admin = db_rows_bool(rows, 2),
            .url = db_rows_text(rows, 3),
            .oauth_client_allowed_scopes = db_rows_text(rows, 4),
            .info = db_rows_text(rows, 5),
            .display = db_rows_null(rows, 6) || db_rows_bool(rows, 6),
            .oauth_no_confirm = db_rows_bool(rows, 7),
            .command = db_rows_text(rows, 8),
            .cwd = db_rows_text(rows, 9),
            .environment = db_rows_text(rows, 10),
            .user = db_rows_text(rows, 11),
            .from_config = db_rows_null(rows, 12) || db_rows_bool(rows, 12),
            .pid = (int)db_rows_int(rows, 13),
            .oauth_client_id = db_rows_text(rows, 14),
        };
        if (row.name)
            r = cb(ctx, &row);
    }
    int e = db_rows_close(rows);
    return r ? r : e;
}

int db_service_insert(struct db *db, const char *name, int64_t *ret_id)
{
    int64_t id;
    int r = db_next_id(db, "services", &id);
    if (r == 0)
        r = db_write(db, sql_insert, DB_ARGS(DB_INT(id), DB_TEXT(name)));
    if (r == 0)
        *ret_id = id;
    return r;
}

int db_service_update(struct db *db, const struct db_service_row *row)
{
    return db_write(db, sql_update,
                    DB_ARGS(DB_BOOL(row->admin), DB_TEXT(row->url),
                            DB_TEXT(row->oauth_client_allowed_scopes), DB_TEXT(row->info),
                            DB_BOOL(row->display), DB_BOOL(row->oauth_no_confirm),
                            DB_TEXT(row->command), DB_TEXT(row->cwd), DB_TEXT(row->environment),
                            DB_TEXT(row->user), DB_BOOL(row->from_config), DB_INT(row->pid),
                            DB_TEXT(row->oauth_client_id), DB_INT(row->id)));
}

int db_service_delete(struct db *db, int64_t id)
{
    return db_write(db, sql_delete, DB_ARGS(DB_INT(id)));
}

DB_EACH(db_clients_each, struct db_client_row)
{
    struct db_rows *rows = NULL;
    int r = db_query(db, sql_clients, NULL, 0, &rows);
    while (r == 0 && db_rows_next(rows)) {
        struct db_client_row row = {
            .id = db_rows_int(rows, 0),
            .identifier = db_rows_text(rows, 1),
            .description = db_rows_text(rows, 2),
            .secret = db_rows_text(rows, 3),
            .redirect_uri = db_rows_text(rows, 4),
            .allowed_scopes = db_rows_text(rows, 5),
        };
        if (row.identifier)
            r = cb(ctx, &row);
    }
    int e = db_rows_close(rows);
    return r ? r : e;
}

int db_client_insert(struct db *db, const struct db_client_row *row, int64_t *ret_id)
{
    int64_t id;
    int r = db_next_id(db, "oauth_clients", &id);
    if (r == 0)
        r = db_write(db, sql_client_insert,
                     DB_ARGS(DB_INT(id), DB_TEXT(row->identifier), DB_TEXT(row->description),
                             DB_TEXT(row->secret), DB_TEXT(row->redirect_uri),
                             DB_TEXT(row->allowed_scopes)));
    if (r == 0)
        *ret_id = id;
    return r;
}

int db_client_update(struct db *db, const struct db_client_row *row)
{
    return db_write(db, sql_client_update,
                    DB_ARGS(DB_TEXT(row->description), DB_TEXT(row->secret),
                            DB_TEXT(row->redirect_uri), DB_TEXT(row->allowed_scopes),
                            DB_INT(row->id)));
}

int db_client_delete(struct db *db, int64_t id)
{
    return db_write(db, sql_client_delete, DB_ARGS(DB_INT(id)));
}
