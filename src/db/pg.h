/* PostgreSQL specifics the rest of src/db/ uses. */
#pragma once

#include "db/db.h"

/** After a load: move each table's id sequence past the largest id, so that JupyterHub,
 * which lets PostgreSQL give ids, can open the database again. Start-up only. */
void db_pg_set_sequences(struct db *db);
