/* The database handle: SQLite in WAL mode with foreign keys on, a cache of prepared statements
 * keyed by their (static) SQL text, and transactions. Everything runs on the loop thread and
 * every statement is short. This folder returns errors and does not log. */
#pragma once

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

struct db;

/** Where a database URL points: a file path, or ":memory:". */
struct db_location {
    char path[4096];
    bool memory;
};

/** Parse JupyterHub's db_url: sqlite:///relative.sqlite, sqlite:////abs/path.sqlite, sqlite://
 * (in memory). Other schemes are refused with a message in @err. */
int db_parse_url(const char *url, struct db_location *ret, char *err, size_t errlen);

/** Open (creating the file if needed, mode 0600). Returns 0 or a negative errno with a message in
 * @err. */
int db_open(const struct db_location *loc, struct db **ret, char *err, size_t errlen);

/** Close; accepts NULL. Finalises cached statements. */
void db_close(struct db *db);

/** The raw handle, for the db_* files. */
sqlite3 *db_handle(struct db *db);

/** The file path ("" in memory). */
const char *db_path(const struct db *db);

/** A prepared statement for @sql, reset and with bindings cleared. @sql must be a string
 * literal (its address is the cache key). Returns NULL on error (see db_errmsg). */
sqlite3_stmt *db_stmt(struct db *db, const char *sql);

/** Run one or more statements without results. Returns 0 or -EIO. */
int db_exec(struct db *db, const char *sql);

/** Transactions (nesting is not supported). Return 0 or -EIO. */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

/** The last SQLite error message. */
const char *db_errmsg(struct db *db);

/** Map an SQLite result code to a negative errno (constraint → -EEXIST, busy → -EBUSY, ...). */
int db_errno(int sqlite_rc);
