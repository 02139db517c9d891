/* Schema migrations from the SQL files compiled in from migrations/. */
#include "db/migrate.h"
#include "db/backend.h"
#include "ganymede/buf.h"
#include "util/embedded.h"
#include "util/str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern const struct embedded_file embedded_migrations[];

#define JUPYTERHUB_5_HEAD "4621fec11365"

/* JupyterHub's alembic heads that can be brought to 5.x, each with the step that follows it. */
static const struct {
    const char *from;
    const char *release;
    const char *step; /* file under migrations/jupyterhub/ that leaves the next revision */
} jupyterhub_chain[] = {
    {"651f5419b74d", "JupyterHub 3.x", "jupyterhub/0eee8c825d24.sql"},
    {"0eee8c825d24", "JupyterHub 4.x", "jupyterhub/3c2384c5aae1.sql"},
    {"3c2384c5aae1", "JupyterHub 5.0 pre-release", "jupyterhub/4621fec11365.sql"},
};

/* Heads of JupyterHub before 3.0 and of 6.0 pre-releases: recognised, not supported. */
static const char *const jupyterhub_older[] = {
    "19c0846f6344", "eeb276e51423", "af4cbdb2d13c", "3ec6993fe20c", "1cebaf56856c", "56cc5a70207e",
    "99a28a4418e1", "d68c98b66cd4", "896818069c98", "4dc2d5a8c53c", "833da8570507", NULL};
static const char *const jupyterhub_newer[] = {"be8ecf03ddac", "afd65840b69e", "ff1860e38070",
                                               "f460b0348206", NULL};

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

/* Ganymede's migrations are the files named NNN_*.sql, applied in order. */
static int migration_number(const char *name)
{
    if (strchr(name, '/') || strlen(name) < 5 || name[3] != '_')
        return -1;
    int n = 0;
    for (int i = 0; i < 3; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        n = n * 10 + (name[i] - '0');
    }
    return n;
}

int db_migrate_latest(void)
{
    int latest = 0;
    for (const struct embedded_file *f = embedded_migrations; f->name; f++) {
        int n = migration_number(f->name);
        if (n > latest)
            latest = n;
    }
    return latest;
}

static int query_int(struct db *db, const char *sql, int *ret)
{
    struct db_rows *rows = NULL;
    int r = db_query(db, sql, NULL, 0, &rows);
    if (r == 0 && db_rows_next(rows))
        *ret = (int)db_rows_int(rows, 0);
    else if (r == 0)
        r = -EIO;
    int e = db_rows_close(rows);
    return r ? r : e;
}

static int alembic_version(struct db *db, char *out, size_t n)
{
    struct db_rows *rows = NULL;
    if (db_query(db, "SELECT version_num FROM alembic_version", NULL, 0, &rows) < 0)
        return -ENOENT;
    int r = -ENOENT;
    if (db_rows_next(rows) && db_rows_text(rows, 0)) {
        str_copy(out, n, db_rows_text(rows, 0));
        r = 0;
    }
    db_rows_close(rows);
    return r;
}

static bool postgres(struct db *db)
{
    return db_kind(db) == DB_POSTGRES;
}

/* The migration files of this database's dialect: migrations/NAME for SQLite,
 * migrations/postgresql/NAME for PostgreSQL. */
static const struct embedded_file *migration_file(struct db *db, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s%s", postgres(db) ? "postgresql/" : "", name);
    return embedded_find(embedded_migrations, path);
}

/* Ganymede's schema version: PRAGMA user_version on SQLite, a one-row table on PostgreSQL. */
static int read_version(struct db *db, int *ret)
{
    if (!postgres(db))
        return query_int(db, "PRAGMA user_version", ret);
    char err[256];
    int r = db_exec_script(db,
                           "CREATE TABLE IF NOT EXISTS ganymede_schema (version INTEGER "
                           "NOT NULL)",
                           err, sizeof(err));
    if (r < 0)
        return r;
    *ret = 0;
    struct db_rows *rows = NULL;
    r = db_query(db, "SELECT MAX(version) FROM ganymede_schema", NULL, 0, &rows);
    if (r == 0 && db_rows_next(rows))
        *ret = (int)db_rows_int(rows, 0);
    int e = db_rows_close(rows);
    return r ? r : e;
}

static int count_tables(struct db *db, int *ret)
{
    return query_int(db,
                     postgres(db)
                         ? "SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                           "current_schema() AND table_name NOT LIKE 'ganymede_%'"
                         : "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                     ret);
}

/* The statements that record Ganymede's schema @version (see read_version). */
static void version_sql(struct db *db, int version, char out[128])
{
    if (postgres(db))
        snprintf(out, 128, "DELETE FROM ganymede_schema; INSERT INTO ganymede_schema VALUES (%d);",
                 version);
    else
        snprintf(out, 128, "PRAGMA user_version = %d;", version);
}

/* Run one SQL file and record @version (if > 0), all in one transaction. */
static int apply(struct db *db, const struct embedded_file *f, int version, char *err,
                 size_t errlen)
{
    struct gm_buf script;
    gm_buf_init(&script, f->len + 256);
    gm_buf_append(&script, f->data, f->len);
    if (version > 0) {
        char sql[128];
        version_sql(db, version, sql);
        gm_buf_printf(&script, ";\n%s", sql);
    }
    if (script.error) {
        gm_buf_free(&script);
        return -ENOMEM;
    }
    char why[512];
    int r = db_exec_script(db, script.data, why, sizeof(why));
    gm_buf_free(&script);
    if (r < 0) {
        snprintf(err, errlen, "migration %s failed: %s", f->name, why);
        return -EIO;
    }
    return 0;
}

static int set_version(struct db *db, int version, char *err, size_t errlen)
{
    char sql[128], why[256];
    version_sql(db, version, sql);
    if (db_exec_script(db, sql, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "cannot write to the database %s: %s", db_display(db), why);
        return -EIO;
    }
    return 0;
}

/* A consistent copy next to a SQLite database, named as `jupyterhub upgrade-db` names its
 * backups. On PostgreSQL the operator's pg_dump is the backup, as with JupyterHub. */
static int backup(struct db *db, struct db_migrate_result *res, char *err, size_t errlen)
{
    if (!db_path(db)[0])
        return 0;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%d-%H%M%S", &tm);
    for (int i = 0; i < 10; i++) {
        if (i == 0)
            snprintf(res->backup, sizeof(res->backup), "%s.%s", db_path(db), stamp);
        else
            snprintf(res->backup, sizeof(res->backup), "%s.%s.%d", db_path(db), stamp, i);
        if (access(res->backup, F_OK) != 0)
            break;
    }
    char why[512];
    if (db_sqlite_backup(db, res->backup, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "cannot write the backup %s before upgrading: %s", res->backup, why);
        res->backup[0] = '\0';
        return -EIO;
    }
    return 0;
}

int db_migrate(struct db *db, bool upgrade, struct db_migrate_result *ret, char *err, size_t errlen)
{
    struct db_migrate_result res;
    memset(&res, 0, sizeof(res));
    int tables = 0, version = 0;
    int latest = db_migrate_latest();
    if (count_tables(db, &tables) < 0 || read_version(db, &version) < 0) {
        snprintf(err, errlen, "cannot read the database %s: %s", db_display(db), db_errmsg(db));
        return -EIO;
    }
    if (tables == 0) {
        res.created = true;
        version = 0;
    } else if (version == 0) {
        char head[64] = "";
        if (alembic_version(db, head, sizeof(head)) < 0) {
            snprintf(err, errlen,
                     "the database %s has tables but no alembic_version: it was not "
                     "made by JupyterHub or Ganymede",
                     db_display(db));
            return -EINVAL;
        }
        if (in_list(head, jupyterhub_older)) {
            snprintf(err, errlen,
                     "the database %s was made by a JupyterHub older than 3.0 (schema "
                     "%s); upgrade it with JupyterHub 3.x to 5.x first "
                     "(`jupyterhub upgrade-db`)",
                     db_display(db), head);
            return -EINVAL;
        }
        if (in_list(head, jupyterhub_newer)) {
            snprintf(err, errlen,
                     "the database %s was made by JupyterHub 6 (schema %s), which "
                     "this Ganymede does not support yet",
                     db_display(db), head);
            return -EINVAL;
        }
        size_t start = sizeof(jupyterhub_chain) / sizeof(*jupyterhub_chain);
        for (size_t i = 0; i < sizeof(jupyterhub_chain) / sizeof(*jupyterhub_chain); i++)
            if (strcmp(head, jupyterhub_chain[i].from) == 0)
                start = i;
        if (strcmp(head, JUPYTERHUB_5_HEAD) == 0) {
            snprintf(res.from, sizeof(res.from), "JupyterHub 5.x (%s)", head);
        } else if (start < sizeof(jupyterhub_chain) / sizeof(*jupyterhub_chain)) {
            snprintf(res.from, sizeof(res.from), "%s (%s)", jupyterhub_chain[start].release, head);
            if (!upgrade) {
                snprintf(err, errlen,
                         "the database %s was made by %s; run `ganymede upgrade-db` "
                         "(or set JupyterHub.upgrade_db = True) to upgrade it, after "
                         "which JupyterHub older than 5.0 cannot open it",
                         db_display(db), res.from);
                return -EINVAL;
            }
            int r = backup(db, &res, err, errlen);
            if (r < 0)
                return r;
            for (size_t i = start; i < sizeof(jupyterhub_chain) / sizeof(*jupyterhub_chain); i++) {
                const struct embedded_file *f = migration_file(db, jupyterhub_chain[i].step);
                if (!f) {
                    snprintf(err, errlen, "migration %s is missing from this build",
                             jupyterhub_chain[i].step);
                    return -EIO;
                }
                if ((r = apply(db, f, 0, err, errlen)) < 0)
                    return r;
            }
            res.upgraded = true;
        } else {
            snprintf(err, errlen,
                     "the database %s has an unknown schema (alembic %s); it may be "
                     "from a newer JupyterHub",
                     db_display(db), head);
            return -EINVAL;
        }
        /* A JupyterHub 5.x database is what migration 001 creates. */
        int r = set_version(db, 1, err, errlen);
        if (r < 0)
            return r;
        version = 1;
    } else {
        snprintf(res.from, sizeof(res.from), "Ganymede schema %d", version);
    }
    if (version > latest) {
        snprintf(err, errlen,
                 "the database %s was made by a newer Ganymede (schema %d; this one "
                 "knows up to %d)",
                 db_display(db), version, latest);
        return -EINVAL;
    }
    if (version < latest && !res.created && !res.backup[0]) {
        int r = backup(db, &res, err, errlen);
        if (r < 0)
            return r;
    }
    for (int n = version + 1; n <= latest; n++) {
        const struct embedded_file *f = NULL;
        for (const struct embedded_file *e = embedded_migrations; e->name; e++)
            if (migration_number(e->name) == n)
                f = migration_file(db, e->name);
        if (!f) {
            snprintf(err, errlen, "migration %03d is missing from this build", n);
            return -EIO;
        }
        int r = apply(db, f, n, err, errlen);
        if (r < 0)
            return r;
        if (!res.created)
            res.upgraded = true;
    }
    int r = db_load_ids(db);
    if (r < 0) {
        snprintf(err, errlen, "cannot read the database %s: %s", db_display(db), db_errmsg(db));
        return r;
    }
    res.version = latest;
    *ret = res;
    return 0;
}
