/* The database handle: SQLite (embedded, the default) or PostgreSQL, behind one interface.
 *
 * Writes are write-through: the hub changes its memory first, then writes. On SQLite a write
 * completes before db_write returns. On PostgreSQL it is queued and sent on the loop (libpq's
 * pipeline mode, never blocking it); each write, or each db_begin..db_commit group, gets a
 * sequence number, and the HTTP layer holds a response until every write issued before it is
 * durable (db_durable_seq). A lost connection is retried with backoff, and groups not yet
 * confirmed are sent again exactly once (the last group applied is recorded in the same
 * transaction). Reads (db_query) are for start-up and migrations only: the hub serves reads from
 * memory. This folder returns errors and does not log, except for the PostgreSQL connection's
 * own state changes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
typedef struct uv_loop_s uv_loop_t;

enum db_kind {
    DB_SQLITE,
    DB_POSTGRES,
};

/** Where a database URL points. */
struct db_location {
    enum db_kind kind;
    char path[4096];     /* SQLite: a file path, or ":memory:" */
    bool memory;         /* SQLite in memory */
    char conninfo[4096]; /* PostgreSQL: libpq keyword=value connection string */
    char display[512];   /* the URL without its password, for messages */
    /* PostgreSQL: who opens it (default "hostname:pid:random") and how long its lease lasts without
     * a renewal (default 3000 ms); see db_open. */
    char holder[128];
    unsigned lease_ms;
};

#define DB_LEASE_MS_DEFAULT 3000

/** Parse JupyterHub's db_url: sqlite:///relative.sqlite, sqlite:////abs/path.sqlite, sqlite://
 * (in memory), postgresql://user:password@host:port/db?sslmode=... (also postgres:// and
 * postgresql+psycopg2://; a host of /path or ?host=/path is a unix socket directory). @password,
 * when not NULL, is used if the URL has none (z2jh's hub.db.password). Other schemes are refused
 * with a message in @err. */
int db_parse_url(const char *url, const char *password, struct db_location *ret, char *err,
                 size_t errlen);

/** Add the libpq connection option @key=@value (JupyterHub.db_kwargs' connect_args) after
 * those of the URL, which it overrides. Returns 0, -ENOTSUP on SQLite, or -EINVAL with @err
 * for a key libpq does not know. */
int db_location_set_option(struct db_location *loc, const char *key, const char *value, char *err,
                           size_t errlen);

/** Open (a SQLite file is created with mode 0600). @loop may be NULL for a command that only
 * migrates; PostgreSQL then writes synchronously. Connecting blocks (start-up only), bounded by
 * libpq's connect_timeout (10 s unless the URL says otherwise). Returns 0 or a negative errno
 * with a message in @err that never holds the password.
 *
 * On PostgreSQL one hub writes at a time: opening takes the lease (the row ganymede_lease),
 * which the hub renews with its writes, or alone every lease_ms / 3 when idle. -EBUSY: another
 * holder's lease has not lapsed (db_lease_probe waits for it). Each opening starts a new epoch;
 * a write under an older one fails, so a hub that lost the lease cannot write again. */
int db_open(const struct db_location *loc, uv_loop_t *loop, struct db **ret, char *err,
            size_t errlen);

/** Close; accepts NULL. Writes still queued are lost (call db_flush first). */
void db_close(struct db *db);

enum db_kind db_kind(const struct db *db);

/** The SQLite file path ("" in memory or on PostgreSQL). */
const char *db_path(const struct db *db);

/** What the database is, for messages: the file path or the URL without its password. */
const char *db_display(const struct db *db);

/* Statement arguments. SQL uses '?' for each, in order, on both databases. */
enum db_arg_type {
    DB_ARG_NULL,
    DB_ARG_INT,
    DB_ARG_BOOL,
    DB_ARG_TEXT, /* NULL text is SQL NULL */
    DB_ARG_TIME, /* microseconds since the epoch; 0 is SQL NULL */
    DB_ARG_BLOB, /* NULL is SQL NULL */
};
struct db_arg {
    enum db_arg_type type;
    int64_t i;
    const char *s;
    const void *blob;
    size_t len;
};
#define DB_INT(v)     ((struct db_arg){.type = DB_ARG_INT, .i = (int64_t)(v)})
#define DB_BOOL(v)    ((struct db_arg){.type = DB_ARG_BOOL, .i = (v) ? 1 : 0})
#define DB_TEXT(v)    ((struct db_arg){.type = DB_ARG_TEXT, .s = (v)})
#define DB_TIME(v)    ((struct db_arg){.type = DB_ARG_TIME, .i = (int64_t)(v)})
#define DB_BLOB(p, n) ((struct db_arg){.type = DB_ARG_BLOB, .blob = (p), .len = (n)})
#define DB_ARGS(...)                                                                               \
    (const struct db_arg[]){__VA_ARGS__},                                                          \
        sizeof((const struct db_arg[]){__VA_ARGS__}) / sizeof(struct db_arg)

/** Write: one statement without results. @sql must be a string literal (its address keys the
 * statement caches). Returns 0 (done on SQLite, queued on PostgreSQL) or a negative errno
 * (-EEXIST for a uniqueness conflict on SQLite; -ENOBUFS when too many writes wait for a
 * PostgreSQL server that does not answer). Use as db_write(db, sql, DB_ARGS(DB_INT(id))). */
int db_write(struct db *db, const char *sql, const struct db_arg *args, size_t nargs);

/** Group the writes up to db_commit into one transaction (nesting is not supported). On
 * PostgreSQL nothing is sent before db_commit, and db_rollback drops the group. */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

/** The next id of @table (users, groups, ...): ids are given by the hub, the one writer, so that
 * a queued insert needs no answer. Returns 0 or -ENOENT for a table without an id counter. */
int db_next_id(struct db *db, const char *table, int64_t *ret);

/* Reads (start-up, migrations): they block. */
struct db_rows;
/** Run a query; iterate with db_rows_next, then db_rows_close. */
int db_query(struct db *db, const char *sql, const struct db_arg *args, size_t nargs,
             struct db_rows **ret);
/** Returns true with a row, false at the end or on error (db_rows_close tells which). */
bool db_rows_next(struct db_rows *rows);
bool db_rows_null(struct db_rows *rows, int col);
int64_t db_rows_int(struct db_rows *rows, int col);
bool db_rows_bool(struct db_rows *rows, int col);
/** NULL for SQL NULL; valid until the next db_rows_next. */
const char *db_rows_text(struct db_rows *rows, int col);
int64_t db_rows_time(struct db_rows *rows, int col); /* 0 for NULL */
/** NULL (and *len 0) for SQL NULL; valid until the next db_rows_next. */
const void *db_rows_blob(struct db_rows *rows, int col, size_t *len);
/** Free; returns 0 or the error that ended the iteration. Accepts NULL. */
int db_rows_close(struct db_rows *rows);

/** Run a script of several statements in one transaction (migrations). Blocks. */
int db_exec_script(struct db *db, const char *sql, char *err, size_t errlen);

/** The last error message of the connection (or of the last failed write group). */
const char *db_errmsg(struct db *db);

/* Durability (see the top of this file). On SQLite every write is durable at once. */

/** The sequence number of the last write (or group) issued. */
uint64_t db_issued_seq(const struct db *db);
/** Every write up to this sequence number is settled: applied, or refused by the server. */
uint64_t db_durable_seq(const struct db *db);
/** Whether a write numbered in (@lo, @hi] was refused by the server (the last 64 refusals are
 * remembered): a response whose writes were numbered so lost a change. */
bool db_failed_between(const struct db *db, uint64_t lo, uint64_t hi);
/** False while the connection is down or, on PostgreSQL, while the lease has lapsed without a
 * renewal (writes wait, and new requests that write should be refused with 503). */
bool db_available(const struct db *db);
/** Start-up is over: from now on writes go through the loop, and on PostgreSQL the connection
 * is watched, so that a server that goes away is noticed while the hub is idle. Returns 0 or a
 * negative errno. */
int db_serve(struct db *db);
/** True once a write failed the epoch check: another hub opened the database since this one
 * did, and this one must stop. */
bool db_superseded(const struct db *db);
/** Start-up (before db_serve): renew the lease now, so that a slow migration or load does not
 * lose it. Returns 0 (always on SQLite) or -ESTALE when another hub took it meanwhile. */
int db_renew_lease(struct db *db);

/* The standby's view of the lease (PostgreSQL): a connection that tries to take it. */
struct db_lease_probe;
/** Connect (blocks, bounded by connect_timeout). Returns 0 or a negative errno with @err. */
int db_lease_probe_open(const struct db_location *loc, struct db_lease_probe **ret, char *err,
                        size_t errlen);
/** Try to take the lease for loc->holder; blocks for one round trip (reconnecting first if the
 * connection was lost). Returns 1 when taken (db_open then succeeds for the same holder), 0
 * when another holds it (its name in @active, left as it was when the holder keeps the row
 * busy, and the milliseconds its lease still runs in @left_ms), or a negative errno with @err. */
int db_lease_try(struct db_lease_probe *probe, char *active, size_t activelen, int64_t *left_ms,
                 char *err, size_t errlen);
void db_lease_probe_close(struct db_lease_probe *probe);

/** Called on the loop each time db_durable_seq advances or availability changes. */
void db_on_settled(struct db *db, void (*cb)(void *ctx), void *ctx);
/** Wait (running @loop) until every issued write is settled or @timeout_ms passes; for
 * shutdown. Returns 0 or -ETIMEDOUT. */
int db_flush(struct db *db, uint64_t timeout_ms);
