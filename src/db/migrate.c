/* Schema migrations from the SQL files compiled in from migrations/. */
#include "db/migrate.h"
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
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *ret = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -EIO;
}

static int alembic_version(struct db *db, char *out, size_t n)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db_handle(db), "SELECT version_num FROM alembic_version", -1, &st,
                           NULL) != SQLITE_OK)
        return -ENOENT;
    int rc = sqlite3_step(st);
    int r = -ENOENT;
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        str_copy(out, n, (const char *)sqlite3_column_text(st, 0));
        r = 0;
    }
    sqlite3_finalize(st);
    return r;
}

/* Run one SQL file and set user_version, all in one transaction. */
static int apply(struct db *db, const struct embedded_file *f, int version, char *err,
                 size_t errlen)
{
    if (db_begin(db) < 0) {
        snprintf(err, errlen, "cannot start a transaction: %s", db_errmsg(db));
        return -EIO;
    }
    char *msg = NULL;
    int rc = sqlite3_exec(db_handle(db), (const char *)f->data, NULL, NULL, &msg);
    if (rc == SQLITE_OK && version > 0) {
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version);
        rc = sqlite3_exec(db_handle(db), pragma, NULL, NULL, &msg);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "migration %s failed: %s", f->name, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        db_rollback(db);
        return -EIO;
    }
    if (db_commit(db) < 0) {
        snprintf(err, errlen, "migration %s could not be committed: %s", f->name, db_errmsg(db));
        db_rollback(db);
        return -EIO;
    }
    return 0;
}

/* A consistent copy next to the database, named as `jupyterhub upgrade-db` names its backups. */
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
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db_handle(db), "VACUUM INTO ?", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, res->backup, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "cannot write the backup %s before upgrading: %s", res->backup,
                 db_errmsg(db));
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
    if (query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", &tables) < 0 ||
        query_int(db, "PRAGMA user_version", &version) < 0) {
        snprintf(err, errlen, "cannot read the database %s: %s", db_path(db), db_errmsg(db));
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
                     db_path(db));
            return -EINVAL;
        }
        if (in_list(head, jupyterhub_older)) {
            snprintf(err, errlen,
                     "the database %s was made by a JupyterHub older than 3.0 (schema "
                     "%s); upgrade it with JupyterHub 3.x to 5.x first "
                     "(`jupyterhub upgrade-db`)",
                     db_path(db), head);
            return -EINVAL;
        }
        if (in_list(head, jupyterhub_newer)) {
            snprintf(err, errlen,
                     "the database %s was made by JupyterHub 6 (schema %s), which "
                     "this Ganymede does not support yet",
                     db_path(db), head);
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
                         db_path(db), res.from);
                return -EINVAL;
            }
            int r = backup(db, &res, err, errlen);
            if (r < 0)
                return r;
            for (size_t i = start; i < sizeof(jupyterhub_chain) / sizeof(*jupyterhub_chain); i++) {
                const struct embedded_file *f =
                    embedded_find(embedded_migrations, jupyterhub_chain[i].step);
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
                     db_path(db), head);
            return -EINVAL;
        }
        /* A JupyterHub 5.x database is what migration 001 creates. */
        if (db_exec(db, "PRAGMA user_version = 1") < 0) {
            snprintf(err, errlen, "cannot write to the database %s: %s", db_path(db),
                     db_errmsg(db));
            return -EIO;
        }
        version = 1;
    } else {
        snprintf(res.from, sizeof(res.from), "Ganymede schema %d", version);
    }
    if (version > latest) {
        snprintf(err, errlen,
                 "the database %s was made by a newer Ganymede (schema %d; this one "
                 "knows up to %d)",
                 db_path(db), version, latest);
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
                f = e;
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
    res.version = latest;
    *ret = res;
    return 0;
}
