/* The lease on a PostgreSQL database: one row, ganymede_lease, says which hub writes (holder),
 * under which epoch, until when (expires_at, in UTC by the server's clock), and the number of
 * the last write group applied (seq, see db/pg.c). A hub takes the row when it is free, lapsed
 * or already its own, and starts a new epoch; every write transaction checks the epoch and
 * moves expires_at on, so a hub that lost the row cannot write again. The standby's probe
 * (db_lease_probe) tries to take it in a loop. */
#include "db/backend.h"
#include "db/pg.h"
#include "util/str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The server's clock, as the timestamps in the row. */
#define PG_NOW_UTC "(clock_timestamp() AT TIME ZONE 'UTC')"

void pg_lease_bound(PGconn *conn, unsigned lease_ms)
{
    /* A try waits for the row while the active hub's transaction holds it: never longer than a
     * lease, so that a standby goes on answering and a stop goes on. */
    char sql[160];
    snprintf(sql, sizeof(sql), "SET lock_timeout = %u; SET statement_timeout = %u", lease_ms,
             lease_ms * 2);
    PQclear(PQexec(conn, sql));
}

int pg_lease_setup(PGconn *conn, char *err, size_t errlen)
{
    /* CREATE TABLE IF NOT EXISTS is not safe against itself: hubs started at once queue on an
     * advisory lock (the number is Ganymede's own). */
    static const char sql[] =
        "SELECT pg_advisory_xact_lock(7235646716); "
        "CREATE TABLE IF NOT EXISTS ganymede_lease (id INTEGER PRIMARY KEY CHECK (id = 1), "
        "epoch BIGINT NOT NULL, holder TEXT, expires_at TIMESTAMP WITHOUT TIME ZONE, "
        "seq BIGINT NOT NULL); "
        "INSERT INTO ganymede_lease (id, epoch, seq) VALUES (1, 0, 0) ON CONFLICT DO NOTHING";
    PGresult *res = PQexec(conn, sql);
    ExecStatusType s = PQresultStatus(res);
    int r = 0;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        pg_copy_message(err, errlen, res ? PQresultErrorMessage(res) : PQerrorMessage(conn),
                        "unknown error");
        r = -EIO;
    }
    PQclear(res);
    return r;
}

int pg_lease_take(PGconn *conn, const char *holder, unsigned lease_ms, int64_t *epoch, int64_t *seq,
                  char *active, size_t activelen, int64_t *left_ms, char *err, size_t errlen)
{
    /* The UPDATE waits for a transaction of the holder that has the row, so that whatever it
     * committed is there before this hub reads anything. */
    static const char take[] =
        "UPDATE ganymede_lease SET epoch = epoch + 1, holder = $1, expires_at = " PG_NOW_UTC
        " + $2::interval WHERE id = 1 AND (holder IS NULL OR holder = $1 OR expires_at IS NULL "
        "OR expires_at < " PG_NOW_UTC ") RETURNING epoch, seq";
    static const char held[] =
        "SELECT holder, GREATEST(0, EXTRACT(EPOCH FROM expires_at - " PG_NOW_UTC
        ") * 1000)::bigint FROM ganymede_lease WHERE id = 1";
    char interval[32];
    snprintf(interval, sizeof(interval), "%u milliseconds", lease_ms);
    const char *values[2] = {holder, interval};
    PGresult *res = PQexecParams(conn, take, 2, NULL, values, NULL, NULL, 0);
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (state && (strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0)) {
        /* lock_timeout or statement_timeout (pg_lease_bound): the holder is busy with the row. */
        PQclear(res); /* @active is left as it was */
        if (left_ms)
            *left_ms = lease_ms;
        return 0;
    }
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pg_copy_message(err, errlen, res ? PQresultErrorMessage(res) : PQerrorMessage(conn),
                        "unknown error");
        PQclear(res);
        return -EIO;
    }
    if (PQntuples(res) == 1) {
        *epoch = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        *seq = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        PQclear(res);
        return 1;
    }
    PQclear(res);
    res = PQexec(conn, held);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        if (active)
            str_copy(active, activelen, PQgetvalue(res, 0, 0));
        if (left_ms)
            *left_ms = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    }
    PQclear(res);
    return 0;
}

int pg_lease_renew(PGconn *conn, int64_t epoch, unsigned lease_ms, char *err, size_t errlen)
{
    char e[24], interval[32];
    snprintf(e, sizeof(e), "%lld", (long long)epoch);
    snprintf(interval, sizeof(interval), "%u milliseconds", lease_ms);
    const char *values[2] = {e, interval};
    PGresult *res = PQexecParams(conn,
                                 "UPDATE ganymede_lease SET expires_at = " PG_NOW_UTC
                                 " + $2::interval WHERE id = 1 AND epoch = $1 RETURNING 1",
                                 2, NULL, values, NULL, NULL, 0);
    int r = -EIO;
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        r = PQntuples(res) == 1;
    else
        pg_copy_message(err, errlen, res ? PQresultErrorMessage(res) : PQerrorMessage(conn),
                        "unknown error");
    if (r == 0)
        str_copy(err, errlen, "another hub took the database's lease");
    PQclear(res);
    return r;
}

void pg_lease_release(PGconn *conn, int64_t epoch)
{
    char e[24];
    snprintf(e, sizeof(e), "%lld", (long long)epoch);
    const char *values[1] = {e};
    PQclear(PQexecParams(conn,
                         "UPDATE ganymede_lease SET expires_at = NULL WHERE id = 1 AND epoch = $1",
                         1, NULL, values, NULL, NULL, 0));
}

struct db_lease_probe {
    struct db_location loc;
    PGconn *conn;
};

int pg_lease_connect(const struct db_location *loc, PGconn **conn, char *err, size_t errlen)
{
    PQfinish(*conn);
    *conn = PQconnectdb(loc->conninfo);
    char why[512];
    if (PQstatus(*conn) != CONNECTION_OK) {
        /* libpq's messages name the host and port, never the password. */
        pg_copy_message(why, sizeof(why), PQerrorMessage(*conn), "unknown error");
        snprintf(err, errlen, "cannot connect to the database %s: %s", loc->display, why);
        return -ECONNREFUSED;
    }
    PQclear(PQexec(*conn, "SET client_min_messages = warning"));
    if (pg_lease_setup(*conn, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "cannot use the database %s: %s", loc->display, why);
        return -EIO;
    }
    return 0;
}

static int probe_connect(struct db_lease_probe *p, char *err, size_t errlen)
{
    if (p->conn && PQstatus(p->conn) == CONNECTION_OK)
        return 0;
    int r = pg_lease_connect(&p->loc, &p->conn, err, errlen);
    if (r == 0)
        pg_lease_bound(p->conn, p->loc.lease_ms);
    return r;
}

int db_lease_probe_open(const struct db_location *loc, struct db_lease_probe **ret, char *err,
                        size_t errlen)
{
    if (loc->kind != DB_POSTGRES) {
        snprintf(err, errlen, "only a PostgreSQL database has a lease");
        return -EINVAL;
    }
    struct db_lease_probe *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->loc = *loc;
    db_lease_defaults(&p->loc);
    int r = probe_connect(p, err, errlen);
    if (r < 0) {
        db_lease_probe_close(p);
        return r;
    }
    *ret = p;
    return 0;
}

int db_lease_try(struct db_lease_probe *p, char *active, size_t activelen, int64_t *left_ms,
                 char *err, size_t errlen)
{
    int r = probe_connect(p, err, errlen);
    if (r < 0)
        return r;
    int64_t epoch = 0, seq = 0;
    char why[512];
    r = pg_lease_take(p->conn, p->loc.holder, p->loc.lease_ms, &epoch, &seq, active, activelen,
                      left_ms, why, sizeof(why));
    if (r < 0)
        snprintf(err, errlen, "cannot read the lease of the database %s: %s", p->loc.display, why);
    return r;
}

void db_lease_probe_close(struct db_lease_probe *p)
{
    if (!p)
        return;
    PQfinish(p->conn);
    free(p);
}
