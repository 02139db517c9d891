/* db_url: SQLite file URLs, and PostgreSQL URLs made into libpq connection strings. */
#pragma once

#include "db/db.h"

#include <stdbool.h>
#include <stddef.h>

/** postgresql://, postgres:// or postgresql+<driver>://. */
bool db_url_is_postgres(const char *url);

int db_url_parse_sqlite(const char *url, struct db_location *ret, char *err, size_t errlen);

/** user:password@host:port/dbname?key=value&... into @ret->conninfo (libpq keywords, each
 * value quoted) and @ret->display (no password). Query keys must be libpq's connection
 * keywords. @password (may be NULL) is used when the URL has none. */
int db_url_parse_postgres(const char *url, const char *password, struct db_location *ret, char *err,
                          size_t errlen);
