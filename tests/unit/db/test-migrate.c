#include "test.h"
#include "db/db.h"
#include "db/migrate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *read_fixture(const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", getenv("GM_FIXTURES"), name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

/* The first column of the first row of @sql, as text. */
static const char *query_text(struct db *db, const char *sql)
{
    static char out[256];
    struct db_rows *rows = NULL;
    assert_int_equal(db_query(db, sql, NULL, 0, &rows), 0);
    assert_true(db_rows_next(rows));
    snprintf(out, sizeof(out), "%s", db_rows_text(rows, 0) ? db_rows_text(rows, 0) : "(null)");
    assert_int_equal(db_rows_close(rows), 0);
    return out;
}

static int columns(struct db *db, const char *table, const char *column)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pragma_table_info('%s') WHERE name = '%s'",
             table, column);
    return atoi(query_text(db, sql));
}

static const char *alembic(struct db *db)
{
    return query_text(db, "SELECT version_num FROM alembic_version");
}

static void exec_ok(struct db *db, const char *sql)
{
    char err[512];
    if (db_exec_script(db, sql, err, sizeof(err)) != 0)
        fail_msg("%s", err);
}

static struct db *open_path(const char *path)
{
    struct db_location loc = {.kind = DB_SQLITE, .memory = false};
    snprintf(loc.path, sizeof(loc.path), "%s", path);
    struct db *db = NULL;
    char err[512];
    assert_int_equal(db_open(&loc, NULL, &db, err, sizeof(err)), 0);
    return db;
}

static void test_fresh(void **state)
{
    struct db_location loc;
    char err[512];
    assert_int_equal(db_parse_url("sqlite://", NULL, &loc, err, sizeof(err)), 0);
    assert_true(loc.memory);
    struct db *db;
    assert_int_equal(db_open(&loc, NULL, &db, err, sizeof(err)), 0);
    struct db_migrate_result res;
    assert_int_equal(db_migrate(db, false, &res, err, sizeof(err)), 0);
    assert_true(res.created);
    assert_int_equal(res.version, db_migrate_latest());
    assert_string_equal(alembic(db), "4621fec11365");
    assert_int_equal(columns(db, "roles", "managed_by_auth"), 1);
    assert_int_equal(columns(db, "share_codes", "prefix"), 1);
    /* Running again changes nothing. */
    assert_int_equal(db_migrate(db, false, &res, err, sizeof(err)), 0);
    assert_false(res.created);
    assert_false(res.upgraded);
    db_close(db);
}

static void test_urls(void **state)
{
    struct db_location loc;
    char err[512];
    assert_int_equal(db_parse_url("sqlite:///jupyterhub.sqlite", NULL, &loc, err, sizeof(err)), 0);
    assert_string_equal(loc.path, "jupyterhub.sqlite");
    assert_int_equal(db_parse_url("sqlite:////srv/hub/db.sqlite", NULL, &loc, err, sizeof(err)), 0);
    assert_string_equal(loc.path, "/srv/hub/db.sqlite");
    assert_int_equal(db_parse_url("mysql://u:secret@h/db", NULL, &loc, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not mysql://"));
    assert_null(strstr(err, "secret")); /* credentials never appear in messages */
}

static void test_postgres_urls(void **state)
{
    struct db_location loc;
    char err[512];
    assert_int_equal(db_parse_url("postgresql://hub:s%40cr%27t@db.example:5433/jupyterhub"
                                  "?sslmode=require",
                                  NULL, &loc, err, sizeof(err)),
                     0);
    assert_int_equal(loc.kind, DB_POSTGRES);
    assert_string_equal(loc.conninfo, "host='db.example' port='5433' dbname='jupyterhub' "
                                      "user='hub' password='s@cr\\'t' sslmode='require' "
                                      "connect_timeout='10' application_name='ganymede'");
    assert_string_equal(loc.display, "postgresql://hub@db.example:5433/jupyterhub");
    /* SQLAlchemy's driver suffix, a unix socket directory, a password from elsewhere. */
    assert_int_equal(db_parse_url("postgresql+psycopg2://hub@/jh?host=/run/postgresql"
                                  "&connect_timeout=3",
                                  "pw", &loc, err, sizeof(err)),
                     0);
    assert_string_equal(loc.conninfo, "dbname='jh' user='hub' password='pw' host='/run/postgresql' "
                                      "connect_timeout='3' application_name='ganymede'");
    assert_string_equal(loc.display, "postgresql://hub@/run/postgresql/jh");
    assert_int_equal(db_parse_url("postgres://[::1]:5432/x", NULL, &loc, err, sizeof(err)), 0);
    assert_non_null(strstr(loc.conninfo, "host='::1' port='5432'"));
    /* A password with '/', '?' or ':' unencoded, as SQLAlchemy reads it. */
    assert_int_equal(db_parse_url("postgresql://u:12/3?4:5@h/db", NULL, &loc, err, sizeof(err)), 0);
    assert_string_equal(loc.conninfo, "host='h' dbname='db' user='u' password='12/3?4:5' "
                                      "connect_timeout='10' application_name='ganymede'");
    assert_null(strstr(loc.display, "12/3"));
    static const char *const bad[] = {
        "postgresql://u:secret@h:port/db",    "postgresql://u:secret@h/db?nonsense=1",
        "postgresql://u:secret@h/db?sslmode", "postgresql://u:sec%zzret@h/db",
        "postgresql://u:secret@[::1/db",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        assert_int_equal(db_parse_url(bad[i], NULL, &loc, err, sizeof(err)), -EINVAL);
        assert_null(strstr(err, "secret"));
    }
}

static void test_jupyterhub_3(void **state)
{
    char dir[] = "/tmp/gm-migrate-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/jupyterhub.sqlite", dir);
    struct db *db = open_path(path);
    exec_ok(db, read_fixture("jupyterhub-3.0.0-schema.sql"));
    exec_ok(db, "INSERT INTO alembic_version VALUES ('651f5419b74d');"
                "INSERT INTO users (id, name, admin, cookie_id) VALUES (1, 'alice', 1, 'c1');"
                "INSERT INTO roles (id, name, scopes) VALUES (1, 'user', '[]');"
                "INSERT INTO services (id, name, admin) VALUES (1, 's', 0);");
    struct db_migrate_result res;
    char err[512];
    /* Without consent the database is left alone and the message says what to run. */
    assert_int_equal(db_migrate(db, false, &res, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "JupyterHub 3.x"));
    assert_non_null(strstr(err, "ganymede upgrade-db"));
    assert_string_equal(alembic(db), "651f5419b74d");
    assert_int_equal(db_migrate(db, true, &res, err, sizeof(err)), 0);
    assert_true(res.upgraded);
    assert_string_equal(alembic(db), "4621fec11365");
    assert_int_equal(columns(db, "groups", "properties"), 1);
    assert_int_equal(columns(db, "services", "from_config"), 1);
    assert_int_equal(columns(db, "user_role_map", "managed_by_auth"), 1);
    assert_int_equal(columns(db, "shares", "spawner_id"), 1);
    /* The data survived and the backup is a copy of the old database. */
    assert_string_equal(query_text(db, "SELECT name FROM users WHERE id = 1"), "alice");
    /* The next user gets the next id, given by the hub. */
    int64_t id = 0;
    assert_int_equal(db_next_id(db, "users", &id), 0);
    assert_int_equal(id, 2);
    db_close(db);
    assert_true(res.backup[0] != '\0');
    struct db *old = open_path(res.backup);
    assert_string_equal(alembic(old), "651f5419b74d");
    db_close(old);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    (void)!system(cmd);
}

static void test_refused(void **state)
{
    static const struct {
        const char *sql;
        const char *message;
    } cases[] = {
        {"CREATE TABLE alembic_version (version_num VARCHAR(32));"
         "INSERT INTO alembic_version VALUES ('833da8570507');",
         "older than 3.0"},
        {"CREATE TABLE alembic_version (version_num VARCHAR(32));"
         "INSERT INTO alembic_version VALUES ('f460b0348206');",
         "JupyterHub 6"},
        {"CREATE TABLE alembic_version (version_num VARCHAR(32));"
         "INSERT INTO alembic_version VALUES ('0123456789ab');",
         "unknown schema"},
        {"CREATE TABLE notes (x TEXT);", "not made by JupyterHub"},
        {"CREATE TABLE alembic_version (version_num VARCHAR(32));"
         "INSERT INTO alembic_version VALUES ('4621fec11365'); PRAGMA user_version = 999;",
         "newer Ganymede"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct db_location loc = {.kind = DB_SQLITE, .memory = true, .path = ":memory:"};
        struct db *db;
        char err[512];
        assert_int_equal(db_open(&loc, NULL, &db, err, sizeof(err)), 0);
        exec_ok(db, cases[i].sql);
        struct db_migrate_result res;
        assert_int_equal(db_migrate(db, true, &res, err, sizeof(err)), -EINVAL);
        if (!strstr(err, cases[i].message))
            fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].message);
        db_close(db);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh),         cmocka_unit_test(test_urls),
        cmocka_unit_test(test_postgres_urls), cmocka_unit_test(test_jupyterhub_3),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
