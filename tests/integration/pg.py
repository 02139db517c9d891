"""PostgreSQL for the integration tests.

With GANYMEDE_TEST_PG_URL set to the admin URL that `tools/pg-test-server.sh start DIR` prints
(postgresql://ganymede:<pw>@127.0.0.1:<port>/postgres), every hub the tests start gets a fresh
database of its own, hub_<random hex>, made on that server and passed as
--JupyterHub.db_url; a hub started again in the same state directory gets the same database.
A test that chooses its database (db_url or --db= in its arguments or config) keeps its choice,
and tests marked `sqlite_only` (they open the SQLite file themselves) are skipped. Without the
variable nothing here runs and psycopg2 is never imported.

psycopg2 (python3-psycopg2) is only needed when the variable is set.
"""
import json
import os
import re
import secrets
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from secrets_seen import remember

ADMIN_URL = os.environ.get("GANYMEDE_TEST_PG_URL") or None

# state directory (resolved) -> the database URL its hubs use
_by_state_dir = {}
# (admin URL, database name) of every database this process made, to drop at the end
_made = []


def enabled():
    return ADMIN_URL is not None


def connect(url):
    import psycopg2
    return psycopg2.connect(url, connect_timeout=10)


def database_url(admin_url, name):
    """@admin_url with its database replaced by @name."""
    parts = urlsplit(admin_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _remember_password(url):
    pw = urlsplit(url).password
    if pw:
        remember(pw, unquote(pw))


def create_database(admin_url=None, prefix="hub_"):
    """A new empty database on the server of @admin_url (default GANYMEDE_TEST_PG_URL);
    returns its URL (same role and password)."""
    admin_url = admin_url or ADMIN_URL
    assert admin_url, "no PostgreSQL admin URL (GANYMEDE_TEST_PG_URL)"
    name = prefix + secrets.token_hex(8)
    assert re.fullmatch(r"[a-z0-9_]+", name), name
    conn = connect(admin_url)
    try:
        conn.autocommit = True  # CREATE DATABASE refuses to run in a transaction
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    _made.append((admin_url, name))
    _remember_password(admin_url)
    return database_url(admin_url, name)


def drop_database(url, admin_url=None):
    """Drop the database of @url (connections still open to it are ended)."""
    admin_url = admin_url or ADMIN_URL
    name = urlsplit(url).path.lstrip("/")
    assert re.fullmatch(r"[a-z0-9_]+", name), name
    conn = connect(admin_url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()
    if (admin_url, name) in _made:
        _made.remove((admin_url, name))
    for k, v in list(_by_state_dir.items()):
        if v == url:
            del _by_state_dir[k]


def drop_all():
    """Drop every database this process made (the end of the session); errors are ignored."""
    for admin_url, name in list(_made):
        try:
            drop_database(database_url(admin_url, name), admin_url)
        except Exception:  # noqa: BLE001 - the server may be gone already
            pass


def _key(state_dir):
    return str(Path(state_dir).resolve())


def database_for(state_dir):
    """The database of the hubs in @state_dir: made the first time it is asked for."""
    key = _key(state_dir)
    if key not in _by_state_dir:
        _by_state_dir[key] = create_database()
    return _by_state_dir[key]


def known_database(state_dir):
    """The database of @state_dir if one was made, else None (never makes one)."""
    return _by_state_dir.get(_key(state_dir))


def use_database(state_dir, url):
    """Hubs in @state_dir use @url from now on (a database a test prepared itself)."""
    _by_state_dir[_key(state_dir)] = url
    _remember_password(url)


def forget(state_dir):
    """Drop the database of @state_dir, if it has one (the end of a test)."""
    url = _by_state_dir.get(_key(state_dir))
    if url and any(database_url(a, n) == url for a, n in _made):
        drop_database(url)
    _by_state_dir.pop(_key(state_dir), None)


# The config files a hub reads: those named by -f/--config (also the =VALUE forms and
# --JupyterHub.config_file) and the default names JupyterHub looks for in its directory.
_CONFIG_FLAGS = ("-f", "--config", "--JupyterHub.config_file")
_DEFAULT_CONFIGS = ("jupyterhub_config.py", "jupyterhub_config.json", "jupyterhub_config.yaml",
                    "jupyterhub_config.yml")


def _config_files(args, state_dir):
    names = list(_DEFAULT_CONFIGS)
    args = list(args)
    for i, a in enumerate(args):
        for flag in _CONFIG_FLAGS:
            if a == flag and i + 1 < len(args):
                names.append(args[i + 1])
            elif a.startswith(flag + "="):
                names.append(a[len(flag) + 1:])
    for n in names:
        p = Path(n) if Path(n).is_absolute() else Path(state_dir) / n
        if p.is_file():
            yield p


def chooses_own_database(args, state_dir):
    """Whether the hub's arguments or config files name a database (db_url, --db=)."""
    for a in args:
        if "db_url" in a or a.startswith("--db=") or a == "--db":
            return True
    for p in _config_files(args, state_dir):
        try:
            if "db_url" in p.read_text(errors="replace"):
                return True
        except OSError:
            pass
    return False


def hub_args(state_dir, args):
    """The arguments that put a hub in @state_dir (started with @args) on its PostgreSQL
    database: [] without GANYMEDE_TEST_PG_URL or when the test chose its own database."""
    if not enabled() or chooses_own_database(args, state_dir):
        return []
    return [f"--JupyterHub.db_url={database_for(state_dir)}"]


def spawner_states(state_dir):
    """spawners.state (JSON text, not NULL) in the database of @state_dir, for reaping the
    processes a hub left behind; [] when it has none or it cannot be read."""
    url = known_database(state_dir)
    if not url:
        return []
    try:
        conn = connect(url)
    except Exception:  # noqa: BLE001
        return []
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT state FROM spawners WHERE state IS NOT NULL")
            return [r[0] for r in cur.fetchall()]
    except Exception:  # noqa: BLE001 - no spawners table yet (the hub never got that far)
        return []
    finally:
        conn.close()


def describe(url):
    """The schema of the database of @url, for comparisons: {table: {"columns": {name: (type,
    not null, default)}, "constraints": {name: definition}, "indexes": {name: definition}}}
    for the tables of schema public."""
    out = {}
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("""
                SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                       pg_get_expr(d.adbin, d.adrelid)
                FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
                LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0
                      AND NOT a.attisdropped""")
            for table, col, typ, notnull, default in cur.fetchall():
                t = out.setdefault(table, {"columns": {}, "constraints": {}, "indexes": {}})
                t["columns"][col] = (typ, notnull, default)
            cur.execute("""
                SELECT c.relname, k.conname, pg_get_constraintdef(k.oid)
                FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'""")
            for table, name, definition in cur.fetchall():
                out[table]["constraints"][name] = definition
            cur.execute("SELECT tablename, indexname, indexdef FROM pg_indexes "
                        "WHERE schemaname = 'public'")
            for table, name, definition in cur.fetchall():
                out[table]["indexes"][name] = definition
    finally:
        conn.close()
    return out


def make_jupyterhub_3_pg_db(admin_url=None, users=None, groups=None, state_dir=None):
    """A JupyterHub 3.0 database on PostgreSQL, made by Debian's jupyterhub (its ORM, as
    helpers.jupyterhub_db.make_jupyterhub_3_db does for SQLite), in a new database on the
    server of @admin_url (default GANYMEDE_TEST_PG_URL). @users {name: admin}, @groups
    {name: [members]}. Returns {"tokens": {user: token}, "db_url": url}. With @state_dir, the
    hubs the tests start there use this database."""
    from helpers.jupyterhub_db import make_jupyterhub_3_db
    url = create_database(admin_url)
    made = make_jupyterhub_3_db(url, users=users, groups=groups)
    made["db_url"] = url
    if state_dir is not None:
        use_database(state_dir, url)
    return made


def _self_check():
    """python3 pg.py ADMIN_URL: make a hub's database, check it is empty and usable, make a
    JupyterHub 3.0 one, drop both."""
    import sys
    import tempfile
    global ADMIN_URL
    ADMIN_URL = sys.argv[1]
    with tempfile.TemporaryDirectory() as d:
        args = hub_args(d, [])
        assert len(args) == 1 and args[0].startswith("--JupyterHub.db_url=postgresql://"), args
        assert hub_args(d, []) == args, "the same state directory, the same database"
        assert hub_args(tempfile.gettempdir(), []) != args
        assert hub_args(d, ["--db=sqlite:///x.sqlite"]) == []
        Path(d, "c.json").write_text(json.dumps({"JupyterHub": {"db_url": "sqlite:///y"}}))
        assert hub_args(d, ["-f", "c.json"]) == [] and hub_args(d, ["--config=c.json"]) == []
        url = args[0].split("=", 1)[1]
        conn = connect(url)
        with conn.cursor() as cur:
            cur.execute("SELECT current_database(), count(*) FROM pg_tables "
                        "WHERE schemaname = 'public'")
            print("hub database:", cur.fetchone())
        conn.close()
        assert spawner_states(d) == []
        made = make_jupyterhub_3_pg_db(users={"alice": True}, groups={"staff": ["alice"]},
                                       state_dir=Path(d) / "upgrade")
        assert known_database(Path(d) / "upgrade") == made["db_url"]
        conn = connect(made["db_url"])
        with conn.cursor() as cur:
            cur.execute("SELECT version_num FROM alembic_version")
            print("JupyterHub 3.0 database:", cur.fetchone(), sorted(describe(made["db_url"])))
        conn.close()
        forget(d)
        drop_all()
        assert not _made


if __name__ == "__main__":
    _self_check()
