/* What db.c asks of a database backend (db/sqlite.c, db/pg.c), and the handle they share. */
#pragma once

#include "db/db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db_rows_ops {
    bool (*next)(struct db_rows *rows);
    bool (*null)(struct db_rows *rows, int col);
    int64_t (*integer)(struct db_rows *rows, int col);
    bool (*boolean)(struct db_rows *rows, int col);
    const char *(*text)(struct db_rows *rows, int col);
    const void *(*blob)(struct db_rows *rows, int col, size_t *len);
    int (*close)(struct db_rows *rows);
};

struct db_rows {
    const struct db_rows_ops *ops;
};

struct db_backend {
    /* A statement outside a group, or one statement of the open group (@in_group). */
    int (*write)(struct db *db, const char *sql, const struct db_arg *args, size_t nargs);
    int (*begin)(struct db *db);
    int (*commit)(struct db *db);
    void (*rollback)(struct db *db);
    int (*query)(struct db *db, const char *sql, const struct db_arg *args, size_t nargs,
                 struct db_rows **ret);
    int (*exec_script)(struct db *db, const char *sql, char *err, size_t errlen);
    const char *(*errmsg)(struct db *db);
    int (*flush)(struct db *db, uint64_t timeout_ms);
    int (*serve)(struct db *db); /* NULL: nothing to do */
    void (*close)(struct db *db);
};

/* Refused groups remembered for db_failed_between (responses are held 15 s at most). */
#define DB_FAILED_KEPT 64

/* Tables whose id the hub gives (db_next_id). */
#define DB_ID_TABLES 8

struct db {
    const struct db_backend *be;
    void *impl;
    struct db_location loc;
    bool in_group;
    /* Durability: on SQLite issued == durable always. */
    uint64_t issued;
    uint64_t durable;
    uint64_t failed[DB_FAILED_KEPT]; /* the last refused groups, a ring */
    size_t failed_n;
    bool available;
    bool superseded;
    int64_t lease_until_us; /* PostgreSQL: the lease is this hub's until then (monotonic) */
    void (*on_settled)(void *ctx);
    void *on_settled_ctx;
    int64_t next_id[DB_ID_TABLES];
    bool ids_loaded;
};

extern const char *const db_id_tables[DB_ID_TABLES];

/** Backends: open into @db (loc and be are set by the caller). */
int db_sqlite_open(struct db *db, char *err, size_t errlen);
int db_pg_open(struct db *db, uv_loop_t *loop, char *err, size_t errlen);

/** Fill what @loc leaves out of the lease: the holder ("hostname:pid:random") and lease_ms. */
void db_lease_defaults(struct db_location *loc);

/** Remember that the group @seq was refused. */
void db_note_failed(struct db *db, uint64_t seq);

/** Read the id counters (db_migrate does, once the schema is there). */
int db_load_ids(struct db *db);

/** SQLite: write a consistent copy to @dest (VACUUM INTO). */
int db_sqlite_backup(struct db *db, const char *dest, char *err, size_t errlen);

/** Tell the owner that durability or availability changed. */
void db_settled(struct db *db);

/** '?' placeholders to PostgreSQL's $1, $2, ... (no '?' may appear in literals). Returns a
 * malloc'd string or NULL. */
char *db_sql_numbered(const char *sql);
