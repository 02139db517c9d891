/* db_url parsing. The PostgreSQL form is SQLAlchemy's (what JupyterHub and z2jh's hub.db.url
 * take): postgresql[+driver]://[user[:password]@][host][:port][/dbname][?key=value&...]. */
#include "db/url.h"
#include "ganymede/buf.h"
#include "ganymede/encode.h"
#include "util/str.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int db_url_parse_sqlite(const char *url, struct db_location *ret, char *err, size_t errlen)
{
    struct db_location loc = {.kind = DB_SQLITE};
    if (!str_has_prefix(url, "sqlite://")) {
        size_t n = strcspn(url, ":");
        snprintf(err, errlen,
                 "JupyterHub.db_url: Ganymede supports sqlite:// and postgresql:// databases, "
                 "not %.*s://",
                 (int)(n < 32 ? n : 32), url);
        return -EINVAL;
    }
    const char *rest = url + strlen("sqlite://");
    if (*rest == '\0' || strcmp(rest, "/:memory:") == 0) {
        loc.memory = true;
        str_copy(loc.path, sizeof(loc.path), ":memory:");
    } else if (rest[0] != '/') {
        snprintf(err, errlen,
                 "JupyterHub.db_url: expected sqlite:///relative/path or "
                 "sqlite:////absolute/path");
        return -EINVAL;
    } else {
        const char *path = rest + 1; /* sqlite:///x → "x"; sqlite:////x → "/x" */
        size_t q = strcspn(path, "?");
        if (q == 0 || q >= sizeof(loc.path)) {
            snprintf(err, errlen, "JupyterHub.db_url: the database path is empty or too long");
            return -EINVAL;
        }
        memcpy(loc.path, path, q);
        loc.path[q] = '\0';
    }
    str_copy(loc.display, sizeof(loc.display), loc.path);
    *ret = loc;
    return 0;
}

static const char *postgres_rest(const char *url)
{
    static const char *const schemes[] = {"postgresql://", "postgres://", NULL};
    for (const char *const *s = schemes; *s; s++)
        if (str_has_prefix(url, *s))
            return url + strlen(*s);
    /* postgresql+psycopg2://, postgresql+asyncpg://, ... */
    if (str_has_prefix(url, "postgresql+")) {
        const char *p = strstr(url, "://");
        if (p && (size_t)(p - url) < 40)
            return p + 3;
    }
    return NULL;
}

bool db_url_is_postgres(const char *url)
{
    return postgres_rest(url) != NULL;
}

/* libpq's connection keywords a URL may set in its query. */
static const char *const pg_keywords[] = {
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "connect_timeout",
    "client_encoding",
    "options",
    "application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "sslmode",
    "sslcert",
    "sslkey",
    "sslrootcert",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "gssencmode",
    "target_session_attrs",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "channel_binding",
    NULL,
};

static bool known_keyword(const char *k)
{
    for (const char *const *p = pg_keywords; *p; p++)
        if (strcmp(*p, k) == 0)
            return true;
    return false;
}

/* Append key='value' with \ and ' escaped, as libpq's conninfo syntax wants. */
static void add_kw(struct gm_buf *b, const char *key, const char *value)
{
    if (b->len)
        gm_buf_append(b, " ", 1);
    gm_buf_printf(b, "%s='", key);
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '\'')
            gm_buf_append(b, "\\", 1);
        gm_buf_append(b, p, 1);
    }
    gm_buf_append(b, "'", 1);
}

/* Percent-decode a URL part into @out; false if it does not decode. */
static bool decode(const char *s, size_t n, char *out, size_t outlen)
{
    return n < outlen && gm_url_decode(s, n, out, outlen, false) >= 0;
}

static int bad(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "JupyterHub.db_url: %s", what);
    return -EINVAL;
}

int db_url_parse_postgres(const char *url, const char *password, struct db_location *ret, char *err,
                          size_t errlen)
{
    const char *rest = postgres_rest(url);
    if (!rest)
        return bad(err, errlen, "not a postgresql:// URL");
    if (strlen(url) > 2048)
        return bad(err, errlen, "the URL is longer than 2048 bytes");
    struct db_location loc = {.kind = DB_POSTGRES};
    char user[256] = "", pass[512] = "", host[1024] = "", port[16] = "", dbname[256] = "";
    /* The userinfo as SQLAlchemy reads it (JupyterHub's parser, so the same URLs mean the
     * same): a user name without ':' or '/', then ':' and a password without '@', then '@'. A
     * password may thus hold '/' and '?' unencoded. */
    size_t ul = strcspn(rest, ":/@?");
    const char *at = NULL;
    if (rest[ul] == '@')
        at = rest + ul;
    else if (rest[ul] == ':')
        at = strchr(rest + ul + 1, '@');
    if (at) {
        const char *colon = rest[ul] == ':' ? rest + ul : NULL;
        if (!decode(rest, ul, user, sizeof(user)))
            return bad(err, errlen, "the user name in the URL is not valid percent-encoding");
        if (colon && !decode(colon + 1, (size_t)(at - colon - 1), pass, sizeof(pass)))
            return bad(err, errlen, "the password in the URL is not valid percent-encoding");
        rest = at + 1;
    }
    size_t query_at = strcspn(rest, "?");
    size_t path_at = strcspn(rest, "/?");
    const char *authority = rest;
    size_t alen = path_at;
    /* host[:port], or [v6]:port */
    const char *hp_end = authority + alen;
    const char *colon = NULL;
    if (alen && authority[0] == '[') {
        const char *close = memchr(authority, ']', alen);
        if (!close)
            return bad(err, errlen, "an IPv6 host in the URL lacks its ']'");
        if (!decode(authority + 1, (size_t)(close - authority - 1), host, sizeof(host)))
            return bad(err, errlen, "the host in the URL is not valid");
        colon = close + 1 < hp_end && close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = memchr(authority, ':', alen);
        size_t hlen = colon ? (size_t)(colon - authority) : alen;
        if (!decode(authority, hlen, host, sizeof(host)))
            return bad(err, errlen, "the host in the URL is not valid percent-encoding");
    }
    if (colon) {
        size_t plen = (size_t)(hp_end - colon - 1);
        if (plen == 0 || plen >= sizeof(port) || strspn(colon + 1, "0123456789") < plen)
            return bad(err, errlen, "the port in the URL is not a number");
        memcpy(port, colon + 1, plen);
    }
    if (rest[path_at] == '/') {
        size_t dlen = query_at - path_at - 1;
        if (!decode(rest + path_at + 1, dlen, dbname, sizeof(dbname)))
            return bad(err, errlen, "the database name in the URL is not valid");
    }
    struct gm_buf ci;
    gm_buf_init(&ci, sizeof(loc.conninfo) - 1);
    if (host[0])
        add_kw(&ci, "host", host);
    if (port[0])
        add_kw(&ci, "port", port);
    if (dbname[0])
        add_kw(&ci, "dbname", dbname);
    if (user[0])
        add_kw(&ci, "user", user);
    if (pass[0])
        add_kw(&ci, "password", pass);
    else if (password && password[0])
        add_kw(&ci, "password", password);
    bool timeout = false, appname = false;
    for (const char *q = rest[query_at] ? rest + query_at + 1 : NULL; q && *q;) {
        size_t plen = strcspn(q, "&");
        const char *eq = memchr(q, '=', plen);
        char key[64], value[1024];
        if (!eq || (size_t)(eq - q) >= sizeof(key) ||
            !decode(q, (size_t)(eq - q), key, sizeof(key)) ||
            !decode(eq + 1, plen - (size_t)(eq - q) - 1, value, sizeof(value))) {
            gm_buf_free(&ci);
            return bad(err, errlen, "the URL's query is not key=value pairs");
        }
        if (!known_keyword(key)) {
            gm_buf_free(&ci);
            snprintf(err, errlen,
                     "JupyterHub.db_url: '%.60s' is not a PostgreSQL connection option (libpq's "
                     "keywords: sslmode, connect_timeout, host, ...)",
                     key);
            return -EINVAL;
        }
        if (strcmp(key, "host") == 0 && !host[0])
            str_copy(host, sizeof(host), value);
        timeout |= strcmp(key, "connect_timeout") == 0;
        appname |= strcmp(key, "application_name") == 0;
        add_kw(&ci, key, value);
        q += plen + (q[plen] == '&');
    }
    if (!timeout)
        add_kw(&ci, "connect_timeout", "10");
    if (!appname)
        add_kw(&ci, "application_name", "ganymede");
    if (ci.error || !ci.data) {
        gm_buf_free(&ci);
        return bad(err, errlen, "the URL is too long");
    }
    str_copy(loc.conninfo, sizeof(loc.conninfo), ci.data);
    gm_buf_free(&ci);
    /* The URL without its password, for messages (cut short if very long). */
    struct gm_buf d;
    gm_buf_init(&d, sizeof(loc.display) - 1);
    gm_buf_printf(&d, "postgresql://%s%s%s%s%s/%s", user, user[0] ? "@" : "",
                  host[0] ? host : "localhost", port[0] ? ":" : "", port,
                  dbname[0] ? dbname : user);
    str_copy(loc.display, sizeof(loc.display), d.data ? d.data : "postgresql://");
    gm_buf_free(&d);
    *ret = loc;
    return 0;
}

int db_location_set_option(struct db_location *loc, const char *key, const char *value, char *err,
                           size_t errlen)
{
    if (loc->kind != DB_POSTGRES)
        return -ENOTSUP;
    if (!known_keyword(key)) {
        snprintf(err, errlen,
                 "JupyterHub.db_kwargs: connect_args '%.60s' is not a PostgreSQL connection option "
                 "(libpq's keywords: sslmode, connect_timeout, ...)",
                 key);
        return -EINVAL;
    }
    struct gm_buf ci;
    gm_buf_init(&ci, sizeof(loc->conninfo) - 1);
    gm_buf_puts(&ci, loc->conninfo);
    add_kw(&ci, key, value); /* libpq takes the last value of a keyword */
    int r = 0;
    if (ci.error || !ci.data) {
        snprintf(err, errlen, "JupyterHub.db_kwargs: the connection options are too long");
        r = -EINVAL;
    } else {
        str_copy(loc->conninfo, sizeof(loc->conninfo), ci.data);
    }
    gm_buf_free(&ci);
    return r;
}
