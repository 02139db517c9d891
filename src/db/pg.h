/* PostgreSQL specifics the rest of src/db/ uses. */
#pragma once

#include "db/db.h"

#include <libpq-fe.h>

/** After a load: move each table's id sequence past the largest id, so that JupyterHub,
 * which lets PostgreSQL give ids, can open the database again. Start-up only. */
void db_pg_set_sequences(struct db *db);

/** Start-up only: renew the lease now (loading may take a good part of it). Returns 0, or
 * -ESTALE when another hub took it (db_superseded is then true). */
int db_pg_renew(struct db *db);

/** libpq's messages end with a newline: copy @msg (or @fallback when empty) without it. */
void pg_copy_message(char *out, size_t n, const char *msg, const char *fallback);

/* The lease row (db/pg_lease.c): who writes, under which epoch, and until when. */

/** Connect to @loc (blocking; *@conn, if any, is closed first) and make the lease row if it is
 * missing. Returns 0, or -ECONNREFUSED / -EIO with a message naming the database without its
 * password; *@conn is then to be closed by the caller. */
int pg_lease_connect(const struct db_location *loc, PGconn **conn, char *err, size_t errlen);
/** Make the row if it is missing (several hubs may start at once). */
int pg_lease_setup(PGconn *conn, char *err, size_t errlen);
/** Take the lease for @holder for @lease_ms and start a new epoch. Returns 1 with the epoch and
 * the journal's last group number, 0 when another holder's lease runs (@active, @left_ms may be
 * NULL), or -EIO with @err. */
int pg_lease_take(PGconn *conn, const char *holder, unsigned lease_ms, int64_t *epoch, int64_t *seq,
                  char *active, size_t activelen, int64_t *left_ms, char *err, size_t errlen);
/** Renew the lease of @epoch (start-up, before the loop renews it). Returns 1, 0 when another
 * hub took it, or -EIO with @err. */
int pg_lease_renew(PGconn *conn, int64_t epoch, unsigned lease_ms, char *err, size_t errlen);
/** Bound the waits of the session's statements by the lease (lock_timeout, statement_timeout). */
void pg_lease_bound(PGconn *conn, unsigned lease_ms);
/** Give the lease up at a clean stop, so that a standby takes over at once. */
void pg_lease_release(PGconn *conn, int64_t epoch);
