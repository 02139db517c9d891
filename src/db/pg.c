/* The PostgreSQL backend (libpq).
 *
 * Start-up (connect, migrations, the loads of store_load) is synchronous: nothing is served yet.
 * From the first write on, the connection is in libpq's pipeline mode on the loop. Commits are
 * grouped: one batch is in flight at a time, made of every write group waiting when the last
 * one settled (its statements, then the journal update, then a Sync, which PostgreSQL runs as
 * one implicit transaction), so that under load one commit covers many requests. A batch that
 * PostgreSQL refuses is sent again one group at a time, so that only the group at fault fails.
 * The journal update (ganymede_lease.seq = the group's number) makes resending exactly
 * once: after a reconnection the hub reads the number back, forgets the groups up to it and
 * sends the rest again. The same update checks the epoch and renews the lease
 * (db/pg_lease.c); an idle hub renews it with an empty group every lease_ms / 3. A hub whose
 * lease lapsed refuses changes (db_available) until a renewal succeeds, and one whose epoch
 * was taken over stops writing (db_superseded). */
#include "db/backend.h"
#include "db/pg.h"
#include "ganymede/log.h"
#include "util/str.h"
#include "util/time.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define PG_SQL_CACHE      256
#define PG_MAX_QUEUED     100000
#define PG_BACKOFF_MIN_MS 100
#define PG_BACKOFF_MAX_MS 5000
#define PG_BATCH_MAX      256 /* groups in one transaction */
/* libpq does not time out a PQconnectPoll connection: a server that accepts and never answers
 * would hold the reconnection forever. */
#define PG_CONNECT_DEADLINE_MS 10000

struct pg_stmt {
    const char *sql; /* numbered, from the cache */
    int n;
    char **values;
    int *lengths;
    int *formats;
};

struct pg_group {
    uint64_t seq;
    struct pg_stmt *stmts;
    size_t n, cap;
    bool solo;    /* its batch was refused: it goes alone */
    bool renewal; /* no statements: it only renews the lease, and takes no number */
    struct pg_group *next;
};

struct pg_sql {
    const char *key;
    char *numbered;
};

struct pg_db {
    struct db *db;
    uv_loop_t *loop;
    PGconn *conn;
    bool async; /* in pipeline mode on the loop */
    uv_poll_t *poll;
    int poll_fd;
    int poll_events;
    uv_timer_t *retry;
    uv_timer_t *renew;
    int64_t batch_sent_us; /* when the batch in flight was sent (monotonic) */
    unsigned backoff_ms;
    bool connecting;
    bool resyncing; /* the journal read after a reconnection is in flight */
    int64_t epoch;
    bool holding;      /* the lease was taken (it is given up at a clean close) */
    bool lapse_logged; /* the lease lapsed and the log said so */
    /* Groups in order: [head, unsent) sent and not settled (one batch, ending at batch_last),
     * [unsent, NULL) waiting. */
    struct pg_group *head, *tail, *unsent;
    struct pg_group *batch_last;
    bool batch_failed;
    size_t queued;
    struct pg_group *open; /* db_begin..db_commit */
    struct pg_sql cache[PG_SQL_CACHE];
    char errmsg[512];
};

struct pg_rows {
    struct db_rows base;
    PGresult *res;
    int row;
    int n;
    unsigned char *blob;
};

static struct pg_db *impl(struct db *db)
{
    return db->impl;
}

void pg_copy_message(char *out, size_t n, const char *msg, const char *fallback)
{
    str_copy(out, n, msg && msg[0] ? msg : fallback);
    for (size_t len = strlen(out); len && (out[len - 1] == '\n' || out[len - 1] == ' ');)
        out[--len] = '\0';
}

static void set_err(struct pg_db *p, const char *msg)
{
    pg_copy_message(p->errmsg, sizeof(p->errmsg), msg, "unknown error");
}

/* The journal update's parameters for the group numbered @seq. */
struct journal_params {
    char seq[24], epoch[24], lease[32];
    const char *v[3];
};

static void journal_params(const struct pg_db *p, uint64_t seq, struct journal_params *j)
{
    snprintf(j->seq, sizeof(j->seq), "%llu", (unsigned long long)seq);
    snprintf(j->epoch, sizeof(j->epoch), "%lld", (long long)p->epoch);
    snprintf(j->lease, sizeof(j->lease), "%u milliseconds", p->db->loc.lease_ms);
    j->v[0] = j->seq;
    j->v[1] = j->epoch;
    j->v[2] = j->lease;
}

static const char *numbered(struct pg_db *p, const char *sql)
{
    size_t h = ((uintptr_t)sql >> 4) % PG_SQL_CACHE;
    for (size_t i = 0; i < PG_SQL_CACHE; i++) {
        struct pg_sql *c = &p->cache[(h + i) % PG_SQL_CACHE];
        if (c->key == sql)
            return c->numbered;
        if (!c->key) {
            c->numbered = db_sql_numbered(sql);
            if (!c->numbered)
                return NULL;
            c->key = sql;
            return c->numbered;
        }
    }
    return NULL;
}

/* Arguments as libpq's text (binary for blobs). */
static int stmt_make(struct pg_stmt *st, const char *sql, const struct db_arg *args, size_t nargs)
{
    memset(st, 0, sizeof(*st));
    st->sql = sql;
    st->n = (int)nargs;
    if (!nargs)
        return 0;
    st->values = calloc(nargs, sizeof(*st->values));
    st->lengths = calloc(nargs, sizeof(*st->lengths));
    st->formats = calloc(nargs, sizeof(*st->formats));
    if (!st->values || !st->lengths || !st->formats)
        return -ENOMEM;
    for (size_t i = 0; i < nargs; i++) {
        const struct db_arg *a = &args[i];
        char buf[32];
        const char *text = NULL;
        switch (a->type) {
        case DB_ARG_INT:
            snprintf(buf, sizeof(buf), "%lld", (long long)a->i);
            text = buf;
            break;
        case DB_ARG_BOOL:
            text = a->i ? "true" : "false";
            break;
        case DB_ARG_TEXT:
            text = a->s;
            break;
        case DB_ARG_TIME:
            if (a->i) {
                time_format_db(a->i, buf);
                text = buf;
            }
            break;
        case DB_ARG_BLOB:
            if (a->blob) {
                st->values[i] = malloc(a->len ? a->len : 1);
                if (!st->values[i])
                    return -ENOMEM;
                memcpy(st->values[i], a->blob, a->len);
                st->lengths[i] = (int)a->len;
                st->formats[i] = 1;
            }
            continue;
        case DB_ARG_NULL:
            break;
        }
        if (text && !(st->values[i] = strdup(text)))
            return -ENOMEM;
    }
    return 0;
}

static void stmt_clear(struct pg_stmt *st)
{
    for (int i = 0; i < st->n && st->values; i++)
        free(st->values[i]);
    free(st->values);
    free(st->lengths);
    free(st->formats);
}

static void group_free(struct pg_group *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++)
        stmt_clear(&g->stmts[i]);
    free(g->stmts);
    free(g);
}

static int group_add(struct pg_group *g, const char *sql, const struct db_arg *args, size_t nargs)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 4;
        struct pg_stmt *s = realloc(g->stmts, cap * sizeof(*s));
        if (!s)
            return -ENOMEM;
        g->stmts = s;
        g->cap = cap;
    }
    int r = stmt_make(&g->stmts[g->n], sql, args, nargs);
    g->n++; /* counted even when half made, so that group_free frees it */
    return r;
}

/* The synchronous path (start-up, and hubs without a loop). */

static bool sqlstate_is_conflict(const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    return state && strcmp(state, "23505") == 0;
}

static int exec_sync(struct pg_db *p, const char *sql, int n, char *const *values,
                     const int *lengths, const int *formats, PGresult **ret)
{
    PGresult *res =
        PQexecParams(p->conn, sql, n, NULL, (const char *const *)values, lengths, formats, 0);
    ExecStatusType s = PQresultStatus(res);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
        if (ret)
            *ret = res;
        else
            PQclear(res);
        return 0;
    }
    set_err(p, res ? PQresultErrorMessage(res) : PQerrorMessage(p->conn));
    int r = res && sqlstate_is_conflict(res) ? -EEXIST : -EIO;
    PQclear(res);
    return r;
}

/* The journal update that ends every group and renews the lease; it fails the group (division
 * by zero) when the lease row is not this hub's epoch any more. */
static const char sql_journal[] =
    "WITH l AS (UPDATE ganymede_lease SET seq = $1, expires_at = (clock_timestamp() AT TIME "
    "ZONE 'UTC') + $3::interval WHERE id = 1 AND epoch = $2 RETURNING 1) SELECT 1 / COUNT(*) "
    "FROM l";

static int group_run_sync(struct pg_db *p, struct pg_group *g)
{
    int r = exec_sync(p, "BEGIN", 0, NULL, NULL, NULL, NULL);
    for (size_t i = 0; r == 0 && i < g->n; i++)
        r = exec_sync(p, g->stmts[i].sql, g->stmts[i].n, g->stmts[i].values, g->stmts[i].lengths,
                      g->stmts[i].formats, NULL);
    if (r == 0) {
        struct journal_params j;
        journal_params(p, g->seq, &j);
        r = exec_sync(p, sql_journal, 3, (char *const *)j.v, NULL, NULL, NULL);
    }
    if (r == 0)
        r = exec_sync(p, "COMMIT", 0, NULL, NULL, NULL, NULL);
    if (r < 0) {
        char keep[sizeof(p->errmsg)];
        str_copy(keep, sizeof(keep), p->errmsg);
        PQclear(PQexec(p->conn, "ROLLBACK"));
        set_err(p, keep);
    }
    return r;
}

/* The loop. */

static void pump(struct pg_db *p);
static void lost(struct pg_db *p, const char *why);
static void start_connect(struct pg_db *p);

static void on_poll_closed(uv_handle_t *h)
{
    free(h);
}

static void poll_stop(struct pg_db *p)
{
    if (p->poll) {
        uv_poll_stop(p->poll);
        uv_close((uv_handle_t *)p->poll, on_poll_closed);
        p->poll = NULL;
    }
    p->poll_fd = -1;
    p->poll_events = 0;
}

static void on_poll(uv_poll_t *h, int status, int events);

static void poll_watch(struct pg_db *p, int events)
{
    int fd = PQsocket(p->conn);
    if (fd < 0) {
        lost(p, "the connection has no socket");
        return;
    }
    if (p->poll && p->poll_fd != fd)
        poll_stop(p);
    if (!p->poll) {
        p->poll = malloc(sizeof(*p->poll));
        if (!p->poll || uv_poll_init(p->loop, p->poll, fd) < 0) {
            free(p->poll);
            p->poll = NULL;
            return;
        }
        p->poll->data = p;
        p->poll_fd = fd;
        p->poll_events = 0;
    }
    if (events != p->poll_events) {
        uv_poll_start(p->poll, events, on_poll);
        p->poll_events = events;
    }
}

static void settle(struct pg_db *p, const struct pg_group *g, bool failed)
{
    struct db *db = p->db;
    if (g->seq > db->durable)
        db->durable = g->seq;
    if (failed && !g->renewal)
        db_note_failed(db, g->seq);
}

/* Send the groups from @first to @last (inclusive) as one transaction. */
static int send_batch(struct pg_db *p, struct pg_group *first, struct pg_group *last)
{
    for (struct pg_group *g = first;; g = g->next) {
        for (size_t i = 0; i < g->n; i++) {
            struct pg_stmt *st = &g->stmts[i];
            if (!PQsendQueryParams(p->conn, st->sql, st->n, NULL, (const char *const *)st->values,
                                   st->lengths, st->formats, 0))
                return -EIO;
        }
        if (g == last)
            break;
    }
    struct journal_params j;
    journal_params(p, last->seq, &j);
    if (!PQsendQueryParams(p->conn, sql_journal, 3, NULL, j.v, NULL, NULL, 0) ||
        !PQpipelineSync(p->conn))
        return -EIO;
    return 0;
}

static void send_waiting(struct pg_db *p)
{
    if (!p->async || !p->conn || p->connecting || p->resyncing || p->batch_last || !p->unsent ||
        p->db->superseded)
        return;
    struct pg_group *first = p->unsent, *last = first;
    for (size_t n = 1; !first->solo && last->next && !last->next->solo && n < PG_BATCH_MAX; n++)
        last = last->next;
    int64_t now = time_mono_us(); /* before the bytes leave: the lease counts from here */
    if (send_batch(p, first, last) < 0) {
        lost(p, PQerrorMessage(p->conn));
        return;
    }
    p->batch_last = last;
    p->batch_failed = false;
    p->batch_sent_us = now;
    p->unsent = last->next;
    pump(p);
}

/* Results, in the order the groups were sent. */
static bool connection_error(const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    /* 08: connection exception; 57: operator intervention (shutdown, crash recovery). */
    return !state || strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0;
}

/* Another hub took the lease since this one did: nothing more is sent, and what waits fails
 * now (its responses say so, and the stop does not wait for it). */
static void superseded(struct pg_db *p)
{
    if (p->db->superseded)
        return;
    p->db->superseded = true;
    size_t lost = 0;
    while (p->head) {
        struct pg_group *g = p->head;
        p->head = g->next;
        settle(p, g, true);
        lost += !g->renewal;
        group_free(g);
        p->queued--;
    }
    p->tail = p->unsent = p->batch_last = NULL;
    gm_log_error("Another hub took this database's lease (its epoch is newer): this hub stops, "
                 "and %zu change(s) it had not saved are lost",
                 lost);
}

static void on_resync_row(struct pg_db *p, PGresult *res)
{
    if (PQntuples(res) != 1 || strtoll(PQgetvalue(res, 0, 1), NULL, 10) != p->epoch) {
        superseded(p);
        return;
    }
    uint64_t done = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    /* Groups up to @done committed before the connection went: settle them. */
    while (p->head && p->head->seq <= done) {
        struct pg_group *g = p->head;
        p->head = g->next;
        settle(p, g, false);
        group_free(g);
        p->queued--;
    }
    if (!p->head)
        p->tail = NULL;
    p->unsent = p->head;
}

static void lease_renewed(struct pg_db *p, int64_t sent_us)
{
    /* The server set expires_at after @sent_us by its clock: the lease is this hub's at least
     * until then plus lease_ms by the hub's. */
    int64_t until = sent_us + (int64_t)p->db->loc.lease_ms * 1000;
    if (until > p->db->lease_until_us)
        p->db->lease_until_us = until;
    if (p->lapse_logged) {
        p->lapse_logged = false;
        gm_log_info("This hub renewed its lease on the database: changes are accepted again");
    }
}

/* The batch in flight is done: committed, or refused. A refused batch of several groups is
 * sent again one group at a time (nothing else is in flight, so the order holds). */
static void settle_batch(struct pg_db *p)
{
    struct pg_group *last = p->batch_last;
    p->batch_last = NULL;
    if (!last)
        return;
    if (!p->batch_failed)
        lease_renewed(p, p->batch_sent_us);
    if (p->batch_failed && p->head != last) {
        for (struct pg_group *g = p->head;; g = g->next) {
            g->solo = true;
            if (g == last)
                break;
        }
        p->unsent = p->head;
        return;
    }
    if (p->batch_failed && !p->db->superseded) {
        if (last->renewal)
            gm_log_error("The database refused to renew this hub's lease (%s)", p->errmsg);
        else
            gm_log_error("The database refused a change (%s); it is not saved", p->errmsg);
    }
    for (bool done = false; !done;) {
        struct pg_group *g = p->head;
        done = g == last;
        p->head = g->next;
        settle(p, g, p->batch_failed);
        group_free(g);
        p->queued--;
    }
    if (!p->head)
        p->tail = NULL;
}

static int enqueue(struct pg_db *p, struct pg_group *g);

/* With nothing on its way, an empty group renews the lease (a batch renews it anyway). */
static void renew_if_idle(struct pg_db *p)
{
    if (!p->async || !p->conn || p->connecting || p->resyncing || p->batch_last || p->unsent ||
        p->db->superseded)
        return;
    struct pg_group *g = calloc(1, sizeof(*g));
    if (!g)
        return;
    g->renewal = true;
    enqueue(p, g);
}

static void on_renew(uv_timer_t *t)
{
    struct pg_db *p = t->data;
    if (!p->lapse_logged && !p->db->superseded && time_mono_us() >= p->db->lease_until_us) {
        p->lapse_logged = true;
        gm_log_warn("This hub's lease on the database lapsed (no renewal confirmed for %u ms): "
                    "it refuses changes until it renews it, and stops if another hub took over",
                    p->db->loc.lease_ms);
        db_settled(p->db);
    }
    renew_if_idle(p);
}

static void read_results(struct pg_db *p)
{
    int nulls = 0;
    bool changed = false;
    while (!PQisBusy(p->conn)) {
        PGresult *res = PQgetResult(p->conn);
        if (!res) {
            if (++nulls > 1 || (!p->head && !p->resyncing))
                break;
            continue;
        }
        nulls = 0;
        ExecStatusType s = PQresultStatus(res);
        if (p->resyncing) {
            if (s == PGRES_TUPLES_OK) {
                on_resync_row(p, res);
                changed = true;
            } else if (s == PGRES_PIPELINE_SYNC) {
                p->resyncing = false;
                PQclear(res);
                if (!p->db->superseded)
                    gm_log_info("The database is reachable again: %zu change(s) to send",
                                p->queued);
                p->db->available = true;
                changed = true;
                renew_if_idle(p);
                send_waiting(p);
                continue;
            } else if (s == PGRES_FATAL_ERROR) {
                lost(p, PQresultErrorMessage(res)); /* copies the message first */
                PQclear(res);
                return;
            }
            PQclear(res);
            continue;
        }
        if (!p->batch_last) {
            PQclear(res);
            continue;
        }
        if (s == PGRES_FATAL_ERROR) {
            if (connection_error(res) || PQstatus(p->conn) == CONNECTION_BAD) {
                lost(p, PQresultErrorMessage(res)); /* copies the message first */
                PQclear(res);
                return;
            }
            if (!p->batch_failed)
                set_err(p, PQresultErrorMessage(res));
            p->batch_failed = true;
            /* The journal update divides by zero when the epoch is not this hub's any more
             * (no other statement of the hub divides). */
            const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            if (state && strcmp(state, "22012") == 0) {
                superseded(p);
                changed = true;
            }
        } else if (s == PGRES_PIPELINE_SYNC) {
            settle_batch(p);
            changed = true;
            PQclear(res);
            send_waiting(p);
            continue;
        }
        PQclear(res);
    }
    if (changed)
        db_settled(p->db);
}

static void pump(struct pg_db *p)
{
    if (!p->conn || p->connecting)
        return;
    int f = PQflush(p->conn);
    if (f < 0) {
        lost(p, PQerrorMessage(p->conn));
        return;
    }
    poll_watch(p, UV_READABLE | (f == 1 ? UV_WRITABLE : 0));
}

static void on_connected(struct pg_db *p)
{
    p->connecting = false;
    p->backoff_ms = 0;
    uv_timer_stop(p->retry);
    if (!PQenterPipelineMode(p->conn)) {
        lost(p, "libpq refused pipeline mode");
        return;
    }
    static const char sql_seq[] = "SELECT seq, epoch FROM ganymede_lease WHERE id = 1";
    if (!PQsendQueryParams(p->conn, sql_seq, 0, NULL, NULL, NULL, NULL, 0) ||
        !PQpipelineSync(p->conn)) {
        lost(p, PQerrorMessage(p->conn));
        return;
    }
    p->resyncing = true;
    pump(p);
}

static void connect_step(struct pg_db *p)
{
    PostgresPollingStatusType s = PQconnectPoll(p->conn);
    switch (s) {
    case PGRES_POLLING_OK:
        on_connected(p);
        return;
    case PGRES_POLLING_READING:
        poll_watch(p, UV_READABLE);
        return;
    case PGRES_POLLING_WRITING:
        poll_watch(p, UV_WRITABLE);
        return;
    default:
        lost(p, PQerrorMessage(p->conn));
        return;
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct pg_db *p = h->data;
    if (p->connecting) {
        connect_step(p);
        return;
    }
    if (status < 0 || ((events & UV_READABLE) && !PQconsumeInput(p->conn))) {
        lost(p, PQerrorMessage(p->conn));
        return;
    }
    if (p->conn)
        read_results(p);
    if (p->conn && !p->connecting && PQstatus(p->conn) == CONNECTION_BAD) {
        lost(p, PQerrorMessage(p->conn));
        return;
    }
    if (p->conn && !p->connecting)
        pump(p);
}

static void on_retry(uv_timer_t *t)
{
    start_connect(t->data);
}

static void on_connect_deadline(uv_timer_t *t)
{
    struct pg_db *p = t->data;
    if (p->connecting)
        lost(p, "the database server did not answer the connection in time");
}

static void start_connect(struct pg_db *p)
{
    p->conn = PQconnectStart(p->db->loc.conninfo);
    if (!p->conn || PQstatus(p->conn) == CONNECTION_BAD) {
        lost(p, p->conn ? PQerrorMessage(p->conn) : "out of memory");
        return;
    }
    PQsetnonblocking(p->conn, 1);
    p->connecting = true;
    uv_timer_start(p->retry, on_connect_deadline, PG_CONNECT_DEADLINE_MS, 0);
    connect_step(p);
}

/* The connection is gone: what was sent and not settled will be sent again. */
static void lost(struct pg_db *p, const char *why)
{
    char msg[300];
    pg_copy_message(msg, sizeof(msg), why, "connection lost");
    poll_stop(p);
    if (p->conn)
        PQfinish(p->conn);
    p->conn = NULL;
    p->connecting = false;
    p->resyncing = false;
    p->unsent = p->head;
    p->batch_last = NULL;
    bool was_available = p->db->available;
    p->db->available = false;
    if (was_available) {
        set_err(p, msg);
        gm_log_error("The database connection is lost (%s); changes wait, and requests that "
                     "change something are refused, until it is back",
                     msg);
    }
    db_settled(p->db); /* the journal read may have settled groups before the loss */
    p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : PG_BACKOFF_MIN_MS;
    if (p->backoff_ms > PG_BACKOFF_MAX_MS)
        p->backoff_ms = PG_BACKOFF_MAX_MS;
    if (p->retry)
        uv_timer_start(p->retry, on_retry, p->backoff_ms, 0);
}

static uv_timer_t *timer_new(struct pg_db *p)
{
    uv_timer_t *t = malloc(sizeof(*t));
    if (t) {
        uv_timer_init(p->loop, t);
        t->data = p;
    }
    return t;
}

static int go_async(struct pg_db *p)
{
    if (p->async)
        return 0;
    if ((!p->retry && !(p->retry = timer_new(p))) || (!p->renew && !(p->renew = timer_new(p))))
        return -ENOMEM;
    if (PQsetnonblocking(p->conn, 1) != 0 || !PQenterPipelineMode(p->conn)) {
        set_err(p, PQerrorMessage(p->conn));
        return -EIO;
    }
    p->async = true;
    unsigned every = p->db->loc.lease_ms / 3 ? p->db->loc.lease_ms / 3 : 1;
    uv_timer_start(p->renew, on_renew, every, every);
    return 0;
}

static int enqueue(struct pg_db *p, struct pg_group *g)
{
    struct db *db = p->db;
    if (p->queued >= PG_MAX_QUEUED) {
        group_free(g);
        return -ENOBUFS;
    }
    g->seq = g->renewal ? db->issued : ++db->issued;
    if (!p->loop) {
        int r = group_run_sync(p, g);
        settle(p, g, r < 0);
        group_free(g);
        return r;
    }
    int r = go_async(p);
    if (r < 0) {
        group_free(g);
        return r;
    }
    if (p->tail)
        p->tail->next = g;
    else
        p->head = g;
    p->tail = g;
    if (!p->unsent)
        p->unsent = g;
    p->queued++;
    send_waiting(p);
    return 0;
}

/* The backend's calls. */

static int pg_write(struct db *db, const char *sql, const struct db_arg *args, size_t nargs)
{
    struct pg_db *p = impl(db);
    const char *num = numbered(p, sql);
    if (!num)
        return -ENOMEM;
    if (p->open)
        return group_add(p->open, num, args, nargs);
    struct pg_group *g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    int r = group_add(g, num, args, nargs);
    if (r < 0) {
        group_free(g);
        return r;
    }
    return enqueue(p, g);
}

static int pg_begin(struct db *db)
{
    struct pg_db *p = impl(db);
    p->open = calloc(1, sizeof(*p->open));
    return p->open ? 0 : -ENOMEM;
}

static int pg_commit(struct db *db)
{
    struct pg_db *p = impl(db);
    struct pg_group *g = p->open;
    p->open = NULL;
    if (!g->n) {
        group_free(g);
        return 0;
    }
    return enqueue(p, g);
}

static void pg_rollback(struct db *db)
{
    struct pg_db *p = impl(db);
    group_free(p->open);
    p->open = NULL;
}

/* Rows. */

static struct pg_rows *rows_of(struct db_rows *r)
{
    return (struct pg_rows *)r;
}

static bool rows_next(struct db_rows *r)
{
    struct pg_rows *pr = rows_of(r);
    PQfreemem(pr->blob);
    pr->blob = NULL;
    if (pr->row + 1 >= pr->n)
        return false;
    pr->row++;
    return true;
}

static bool rows_null(struct db_rows *r, int col)
{
    struct pg_rows *pr = rows_of(r);
    return PQgetisnull(pr->res, pr->row, col);
}

static int64_t rows_int(struct db_rows *r, int col)
{
    struct pg_rows *pr = rows_of(r);
    return strtoll(PQgetvalue(pr->res, pr->row, col), NULL, 10);
}

static bool rows_bool(struct db_rows *r, int col)
{
    struct pg_rows *pr = rows_of(r);
    const char *v = PQgetvalue(pr->res, pr->row, col);
    return v[0] == 't' || v[0] == '1';
}

static const char *rows_text(struct db_rows *r, int col)
{
    struct pg_rows *pr = rows_of(r);
    return PQgetisnull(pr->res, pr->row, col) ? NULL : PQgetvalue(pr->res, pr->row, col);
}

static const void *rows_blob(struct db_rows *r, int col, size_t *len)
{
    struct pg_rows *pr = rows_of(r);
    *len = 0;
    if (PQgetisnull(pr->res, pr->row, col))
        return NULL;
    PQfreemem(pr->blob);
    pr->blob = PQunescapeBytea((const unsigned char *)PQgetvalue(pr->res, pr->row, col), len);
    return pr->blob;
}

static int rows_close(struct db_rows *r)
{
    struct pg_rows *pr = rows_of(r);
    PQfreemem(pr->blob);
    PQclear(pr->res);
    free(pr);
    return 0; /* the whole result came at once: nothing can fail while reading it */
}

static const struct db_rows_ops pg_rows_ops = {
    .next = rows_next,
    .null = rows_null,
    .integer = rows_int,
    .boolean = rows_bool,
    .text = rows_text,
    .blob = rows_blob,
    .close = rows_close,
};

static int pg_query(struct db *db, const char *sql, const struct db_arg *args, size_t nargs,
                    struct db_rows **ret)
{
    struct pg_db *p = impl(db);
    if (p->async || !p->conn)
        return -EBUSY; /* reads are for start-up */
    char *num = db_sql_numbered(sql);
    struct pg_stmt st;
    int r = num ? stmt_make(&st, num, args, nargs) : -ENOMEM;
    PGresult *res = NULL;
    if (r == 0)
        r = exec_sync(p, num, st.n, st.values, st.lengths, st.formats, &res);
    if (num)
        stmt_clear(&st);
    free(num);
    if (r < 0)
        return r;
    struct pg_rows *pr = calloc(1, sizeof(*pr));
    if (!pr) {
        PQclear(res);
        return -ENOMEM;
    }
    pr->base.ops = &pg_rows_ops;
    pr->res = res;
    pr->row = -1;
    pr->n = PQntuples(res);
    *ret = &pr->base;
    return 0;
}

static int pg_exec_script(struct db *db, const char *sql, char *err, size_t errlen)
{
    struct pg_db *p = impl(db);
    if (p->async)
        return -EBUSY;
    /* One simple-query string runs as one implicit transaction. */
    PGresult *res = PQexec(p->conn, sql);
    ExecStatusType s = PQresultStatus(res);
    int r = 0;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        set_err(p, res ? PQresultErrorMessage(res) : PQerrorMessage(p->conn));
        snprintf(err, errlen, "%s", p->errmsg);
        r = -EIO;
    }
    PQclear(res);
    return r;
}

static const char *pg_errmsg(struct db *db)
{
    return impl(db)->errmsg;
}

/* Block (shutdown only) until every group is settled, the connection fails, or the time is up. */
static int pg_flush(struct db *db, uint64_t timeout_ms)
{
    struct pg_db *p = impl(db);
    if (!p->async)
        return 0;
    int64_t deadline = time_mono_us() + (int64_t)timeout_ms * 1000;
    while (p->head && p->conn && !p->connecting) {
        int64_t left = (deadline - time_mono_us()) / 1000;
        if (left <= 0)
            return -ETIMEDOUT;
        int f = PQflush(p->conn);
        struct pollfd pfd = {.fd = PQsocket(p->conn), .events = POLLIN | (f == 1 ? POLLOUT : 0)};
        if (f < 0 || poll(&pfd, 1, (int)left) < 0)
            break;
        if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) && !PQconsumeInput(p->conn)) {
            lost(p, PQerrorMessage(p->conn));
            break;
        }
        read_results(p);
    }
    return p->head ? -ETIMEDOUT : 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    free(h);
}

/* A clean stop gives the lease up, so that a standby need not wait for it to lapse. */
static void release_lease(struct pg_db *p)
{
    if (!p->holding || p->db->superseded || !p->conn || p->connecting || p->head)
        return;
    if (p->async && (!PQexitPipelineMode(p->conn) || PQsetnonblocking(p->conn, 0) != 0))
        return;
    pg_lease_bound(p->conn, p->db->loc.lease_ms);
    pg_lease_release(p->conn, p->epoch);
}

static void pg_close(struct db *db)
{
    struct pg_db *p = impl(db);
    if (!p)
        return;
    bool reachable = p->conn && !p->connecting;
    if (p->head && reachable)
        pg_flush(db, 5000);
    if (p->head)
        gm_log_warn("%zu change(s) were not written to the database before the hub stopped%s",
                    p->queued, reachable ? "" : " (it is unreachable)");
    release_lease(p);
    poll_stop(p);
    if (p->retry) {
        uv_timer_stop(p->retry);
        uv_close((uv_handle_t *)p->retry, on_timer_closed);
    }
    if (p->renew) {
        uv_timer_stop(p->renew);
        uv_close((uv_handle_t *)p->renew, on_timer_closed);
    }
    if (p->conn)
        PQfinish(p->conn);
    while (p->head) {
        struct pg_group *g = p->head;
        p->head = g->next;
        group_free(g);
    }
    group_free(p->open);
    for (size_t i = 0; i < PG_SQL_CACHE; i++)
        free(p->cache[i].numbered);
    free(p);
    db->impl = NULL;
}

static int pg_serve(struct db *db)
{
    struct pg_db *p = impl(db);
    if (!p->loop)
        return 0;
    int r = go_async(p);
    if (r == 0) {
        renew_if_idle(p); /* loading may have taken a good part of the lease */
        pump(p);
    }
    return r;
}

static const struct db_backend pg_backend = {
    .serve = pg_serve,
    .write = pg_write,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .query = pg_query,
    .exec_script = pg_exec_script,
    .errmsg = pg_errmsg,
    .flush = pg_flush,
    .close = pg_close,
};

int db_pg_open(struct db *db, uv_loop_t *loop, char *err, size_t errlen)
{
    struct pg_db *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->db = db;
    p->loop = loop;
    p->poll_fd = -1;
    db->impl = p;
    db->be = &pg_backend;
    int r = pg_lease_connect(&db->loc, &p->conn, err, errlen);
    if (r < 0) {
        pg_close(db);
        return r;
    }
    char why[512];
    int64_t taken_us = time_mono_us(), seq = 0, left_ms = 0;
    char active[128] = "?";
    pg_lease_bound(p->conn, db->loc.lease_ms);
    r = pg_lease_take(p->conn, db->loc.holder, db->loc.lease_ms, &p->epoch, &seq, active,
                      sizeof(active), &left_ms, why, sizeof(why));
    PQclear(PQexec(p->conn, "RESET lock_timeout; RESET statement_timeout")); /* migrations */
    if (r <= 0) {
        if (r == 0)
            snprintf(err, errlen,
                     "the database %s is in use by the hub %s (its lease runs %lld ms more)",
                     db->loc.display, active, (long long)left_ms);
        else
            snprintf(err, errlen, "cannot read the database %s: %s", db->loc.display, why);
        pg_close(db);
        return r == 0 ? -EBUSY : -EIO;
    }
    p->holding = true;
    db->issued = db->durable = (uint64_t)seq;
    db->lease_until_us = taken_us + (int64_t)db->loc.lease_ms * 1000;
    return 0;
}

int db_pg_renew(struct db *db)
{
    struct pg_db *p = impl(db);
    if (p->async)
        return 0; /* the loop renews it */
    int64_t now = time_mono_us();
    if (pg_lease_renew(p->conn, p->epoch, db->loc.lease_ms, p->errmsg, sizeof(p->errmsg)) <= 0) {
        db->superseded = true;
        return -ESTALE;
    }
    db->lease_until_us = now + (int64_t)db->loc.lease_ms * 1000;
    return 0;
}

void db_pg_set_sequences(struct db *db)
{
    struct pg_db *p = impl(db);
    if (p->async)
        return;
    for (size_t i = 0; i < DB_ID_TABLES; i++) {
        char sql[256];
        snprintf(sql, sizeof(sql),
                 "SELECT setval(pg_get_serial_sequence('%s', 'id'), GREATEST(MAX(id), 1), "
                 "MAX(id) IS NOT NULL) FROM %s HAVING pg_get_serial_sequence('%s', 'id') "
                 "IS NOT NULL",
                 db_id_tables[i], db_id_tables[i], db_id_tables[i]);
        PQclear(PQexec(p->conn, sql));
    }
}
