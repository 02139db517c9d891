/* Bringing a database to the schema this Ganymede uses. A new database gets every migration in
 * migrations/ (the first creates JupyterHub 5.5's tables). A database made by JupyterHub is
 * recognised by its alembic_version: 5.x is used as it is; 3.x and 4.x are upgraded (after a
 * backup copy is written) when @upgrade is set, as `jupyterhub upgrade-db` does, and refused
 * otherwise with what to run; older or unknown schemas are refused. Ganymede's own migrations
 * are numbered (PRAGMA user_version holds the last one applied) and each runs in one
 * transaction. */
#pragma once

#include "db/db.h"

#include <stdbool.h>
#include <stddef.h>

struct db_migrate_result {
    bool created;      /* the database was empty */
    bool upgraded;     /* migrations ran on an existing database */
    char backup[4200]; /* the backup copy written before upgrading, or "" */
    char from[160];    /* what the database was ("JupyterHub 3.x (651f5419b74d)", ...) */
    int version;       /* Ganymede schema version after the call */
};

/** Migrate. Returns 0 (and fills @ret), or a negative errno with a message in @err. */
int db_migrate(struct db *db, bool upgrade, struct db_migrate_result *ret, char *err,
               size_t errlen);

/** The newest schema version this build knows. */
int db_migrate_latest(void);
