"""The hub on PostgreSQL (docs/database.md), against a real server of Debian's started by the
module (tools/pg-test-server.sh) so that it can be restarted, stopped and crashed under the hub:
writes survive hub restarts; a PostgreSQL restart or crash in the middle of a burst of writes
loses no acknowledged change and applies none twice; a server that is down is answered with
503s before anything changes; a refused change is a 500 that leaves the hub working; bad URLs
and passwords get messages without the password; a JupyterHub 3.0 database on PostgreSQL is
upgraded in place; and the docs example runs."""
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

import pg
from conftest import ADMIN_TOKEN, API_CONFIG, Api, run_ganymede
from helpers.jupyterhub_db import make_jupyterhub_3_db

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "pg-test-server.sh"
DOCS = ROOT / "docs" / "database.md"

pytestmark = pytest.mark.skipif(not any(Path("/usr/lib/postgresql").glob("*/bin/initdb")),
                                reason="PostgreSQL's server is not installed")


class Server:
    def __init__(self, d):
        self.dir = d
        self.url = None

    def run(self, *args):
        p = subprocess.run(["bash", str(SCRIPT), *args, str(self.dir)], capture_output=True,
                           text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()

    def start(self):
        self.url = self.run("start").splitlines()[-1]
        pg._remember_password(self.url)

    def stop(self):
        self.run("stop")

    def pg_ctl(self, *args):
        """pg_ctl on the server (restart -m immediate is a crash), through the script."""
        self.run_ctl(*args)

    def run_ctl(self, *args):
        p = subprocess.run(["bash", str(SCRIPT), "ctl", str(self.dir), *args],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr

    def database(self):
        return pg.create_database(self.url, prefix="pgtest_")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("pg"))
    s.start()
    yield s
    s.stop()


def query(url, sql, *args):
    conn = pg.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            rows = cur.fetchall() if cur.description else None
        conn.commit()
        return rows
    finally:
        conn.close()


def pg_hub(hub_factory, url, config=None, **kw):
    h = hub_factory(config=config or API_CONFIG, args=[f"--JupyterHub.db_url={url}"], **kw)
    h.api = Api(h)
    return h


def test_writes_are_in_postgres_and_survive_a_restart(hub_factory, server, tmp_path):
    url = server.database()
    h = pg_hub(hub_factory, url, state_dir=tmp_path)
    assert "Created the database postgresql://ganymede@127.0.0.1:" in h.log()
    assert h.api("POST", "/users", json={"usernames": ["alice", "bob", "carol"]}).status_code == 201
    assert h.api("POST", "/groups/physics", json={"users": ["alice", "bob"]}).status_code == 201
    assert h.api("PATCH", "/users/bob", json={"admin": True}).status_code == 200
    assert h.api("DELETE", "/users/carol").status_code == 204
    token = h.api.token_for("alice", note="kept")
    # Every acknowledged change is in PostgreSQL already: no wait.
    assert query(url, "SELECT name, admin FROM users ORDER BY name") == [
        ("admin", True), ("alice", False), ("bob", True)]
    assert query(url, "SELECT u.name FROM user_group_map m JOIN users u ON u.id = m.user_id "
                      "JOIN groups g ON g.id = m.group_id WHERE g.name = 'physics' "
                      "ORDER BY u.name") == [("alice",), ("bob",)]
    assert query(url, "SELECT note FROM api_tokens WHERE note = 'kept'") == [("kept",)]
    h.stop()
    h2 = pg_hub(hub_factory, url, state_dir=tmp_path)
    r = h2.api("GET", "/users/alice")
    assert r.status_code == 200 and sorted(r.json()["groups"]) == ["physics", "staff"]
    assert h2.api("GET", "/users/bob").json()["admin"] is True
    assert h2.api("GET", "/users/carol").status_code == 404
    assert h2.api("GET", "/user", token=token).json()["name"] == "alice"
    # New rows get ids past the old ones, and PostgreSQL's sequences were moved past them too
    # (JupyterHub, which lets PostgreSQL give ids, can open the database again).
    assert h2.api("POST", "/users/dave").status_code == 201
    ids = dict(query(url, "SELECT name, id FROM users"))
    assert ids["dave"] > max(ids[n] for n in ("admin", "alice", "bob"))
    assert query(url, "SELECT last_value >= %s FROM users_id_seq", ids["bob"])[0][0] is True


def burst(h, prefix, seconds, out):
    """POST users as fast as one client can for @seconds; record what each answer was."""
    s = requests.Session()
    s.headers["Authorization"] = f"token {ADMIN_TOKEN}"
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        name = f"{prefix}{i}"
        try:
            r = s.post(f"{h.url}/hub/api/users/{name}", timeout=30)
            out.append((name, r.status_code, r.text[:300]))
        except requests.RequestException as e:
            out.append((name, None, str(e)))
        i += 1


@pytest.mark.parametrize("how", ["restart", "crash"])
def test_postgres_restarted_under_load_loses_nothing(hub_factory, server, how):
    url = server.database()
    h = pg_hub(hub_factory, url)
    out = []
    t = threading.Thread(target=burst, args=(h, "w", 6, out))
    t.start()
    deadline = time.monotonic() + 10
    while len(out) < 50 and time.monotonic() < deadline:
        time.sleep(0.05)
    # -m immediate is a crash for PostgreSQL: no checkpoint, recovery from its WAL at start.
    server.pg_ctl("restart", "-m", "fast" if how == "restart" else "immediate")
    t.join(60)
    assert not t.is_alive()
    acked = {n for n, code, _ in out if code == 201}
    other = [(n, c, text) for n, c, text in out if c not in (201, 503)]
    assert not other, other
    for n, c, text in out:
        if c == 503:
            assert "database" in text, text
    assert len(acked) > 50
    in_db = {n for (n,) in query(url, "SELECT name FROM users WHERE name LIKE 'w%%'")}
    assert acked <= in_db, sorted(acked - in_db)[:10]
    # What the hub has and what PostgreSQL has are the same users, each once.
    names = []
    for offset in range(0, len(out) + 400, 200):
        page = h.api("GET", "/users", params={"offset": offset, "limit": 200}).json()
        names += [u["name"] for u in page if u["name"].startswith("w")]
        if len(page) < 200:
            break
    assert sorted(names) == sorted(in_db)
    assert "The database connection is lost" in h.log()
    # The reconnection backs off up to 5 s, and a crashed server recovers first: on a busy
    # machine that may be after the burst ended.
    deadline = time.monotonic() + 60
    while "The database is reachable again" not in h.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "The database is reachable again" in h.log()
    # The hub goes on writing.
    assert h.api("POST", "/users/after").status_code == 201
    assert query(url, "SELECT count(*) FROM users WHERE name = 'after'") == [(1,)]


def test_postgres_down_refuses_changes_and_serves_reads(hub_factory, server):
    url = server.database()
    h = pg_hub(hub_factory, url)
    assert h.api("POST", "/users/before").status_code == 201
    fresh = h.api.token_for("before")  # never used: its first use records activity
    server.pg_ctl("stop", "-m", "fast")
    try:
        # The hub notices without writing (it watches the connection).
        deadline = time.monotonic() + 20
        while "The database connection is lost" not in h.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "The database connection is lost" in h.log()
        r = h.api("POST", "/users/during")
        assert r.status_code == 503, r.text
        assert r.headers.get("Retry-After") == "5"
        assert "database is unreachable" in r.json()["message"]
        assert h.api("GET", "/users/before").status_code == 200
        assert h.api("GET", "/users/during").status_code == 404
        # A read that would record activity does not wait for the database.
        t0 = time.monotonic()
        assert h.api("GET", "/user", token=fresh).status_code == 200
        assert time.monotonic() - t0 < 5
    finally:
        server.pg_ctl("start")
    # Back: the hub reconnects by itself (backoff at most 5 s).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r = h.api("POST", "/users/after")
        if r.status_code == 201:
            break
        assert r.status_code == 503, r.text
        time.sleep(0.2)
    assert r.status_code == 201
    assert query(url, "SELECT name FROM users WHERE name IN ('before', 'during', 'after') "
                      "ORDER BY name") == [("after",), ("before",)]


def test_a_refused_change_is_a_500_and_the_hub_goes_on(hub_factory, server):
    url = server.database()
    h = pg_hub(hub_factory, url)
    # Someone adds a group behind the hub's back: the hub's memory does not have it, so it
    # accepts the name, and PostgreSQL refuses the duplicate.
    query(url, "INSERT INTO groups (id, name) VALUES (100000, 'sneaky')")
    r = h.api("POST", "/groups/sneaky")
    assert r.status_code == 500, r.text
    assert "database refused this change" in r.json()["message"]
    assert "The database refused a change" in h.log()
    assert "duplicate key" in h.log()
    assert h.api("POST", "/groups/fine").status_code == 201
    assert query(url, "SELECT count(*) FROM groups WHERE name = 'fine'") == [(1,)]
    # Under load the refused change shares a transaction with others': the batch is sent
    # again group by group, and only the change at fault fails.
    query(url, "INSERT INTO groups (id, name) VALUES (100001, 'sneaky2')")
    out = []
    threads = [threading.Thread(target=burst, args=(h, f"c{k}x", 2, out)) for k in range(6)]
    for t in threads:
        t.start()
    r = h.api("POST", "/groups/sneaky2")
    for t in threads:
        t.join(60)
    assert r.status_code == 500, r.text
    assert out and {c for _, c, _ in out} == {201}, [x for x in out if x[1] != 201][:5]
    made = {n for (n,) in query(url, "SELECT name FROM users WHERE name LIKE 'c%%x%%'")}
    assert made == {n for n, _, _ in out}


def test_bad_passwords_and_urls_are_named_without_the_password(server, tmp_path):
    parts = urlsplit(server.url)
    wrong = f"postgresql://ganymede:not-the-Password9@127.0.0.1:{parts.port}/postgres"
    p = run_ganymede([f"--db={wrong}"], tmp_path)
    assert p.returncode == 1
    assert (f"cannot connect to the database postgresql://ganymede@127.0.0.1:{parts.port}"
            f"/postgres") in p.stderr
    assert "password authentication failed" in p.stderr
    assert "not-the-Password9" not in p.stderr
    p = run_ganymede([f"--db=postgresql://ganymede:{parts.password}@127.0.0.1:{parts.port}"
                      "/no_such_db"], tmp_path)
    assert p.returncode == 1 and 'database "no_such_db" does not exist' in p.stderr
    p = run_ganymede([f"--db={server.url}?sslmod=require"], tmp_path)
    assert p.returncode == 1 and "'sslmod' is not a PostgreSQL connection option" in p.stderr
    assert parts.password not in p.stderr


def test_db_kwargs_connect_args_reach_libpq(hub_factory, server, tmp_path):
    """JupyterHub.db_kwargs: connect_args are libpq options (they override the URL's), engine
    settings are ignored with a word, a key libpq does not know is refused by name."""
    url = server.database()
    cfg = dict(API_CONFIG)
    cfg["JupyterHub"] = dict(cfg["JupyterHub"], db_kwargs={
        "pool_pre_ping": True,
        "connect_args": {"application_name": "from-kwargs", "connect_timeout": 7,
                         "keepalives": True}})
    h = pg_hub(hub_factory, f"{url}?application_name=from-url", config=cfg)
    assert h.api("POST", "/users/kw").status_code == 201
    names = {n for (n,) in query(url, "SELECT application_name FROM pg_stat_activity "
                                      "WHERE datname = current_database()")}
    assert "from-kwargs" in names and "from-url" not in names, names
    assert "db_kwargs: pool_pre_ping is an SQLAlchemy engine setting" in h.log()
    h.stop()
    p = run_ganymede([f"--db={url}", "--JupyterHub.db_kwargs={\"connect_args\": {\"sslmod\": 1}}"],
                     tmp_path)
    assert p.returncode == 1
    assert "connect_args 'sslmod' is not a PostgreSQL connection option" in p.stderr, p.stderr
    p = run_ganymede([f"--db={url}", "--JupyterHub.db_kwargs=[1]"], tmp_path)
    assert p.returncode == 1 and "JupyterHub.db_kwargs" in p.stderr, p.stderr


def test_a_jupyterhub_3_database_is_upgraded_in_place(hub_factory, server, tmp_path):
    url = server.database()
    made = make_jupyterhub_3_db(url, users={"alice": True, "bob": False},
                                groups={"staff": ["alice"]})
    p = run_ganymede([f"--db={url}"], tmp_path)
    assert p.returncode == 1 and "ganymede upgrade-db" in p.stderr
    p = run_ganymede([f"--db={url}", "upgrade-db"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert "from JupyterHub 3.x" in p.stderr
    assert query(url, "SELECT version_num FROM alembic_version") == [("4621fec11365",)]
    h = pg_hub(hub_factory, url, state_dir=tmp_path)
    r = h.api("GET", "/user", token=made["tokens"]["alice"])
    assert r.status_code == 200 and r.json()["name"] == "alice" and r.json()["admin"] is True
    assert h.api("GET", "/groups/staff").json()["users"] == ["alice"]
    assert h.api("POST", "/users/carol").status_code == 201


def test_the_docs_example(hub_factory, server, tmp_path):
    text = DOCS.read_text().split("\n## PostgreSQL\n", 1)[1]
    example = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    url = server.database()
    docs_url = "postgresql://jupyterhub:s3cret@db.example.org:5432/jupyterhub?sslmode=require"
    assert docs_url in example
    ours = urlsplit(url)
    example = example.replace(docs_url, f"{url}?sslmode=disable&connect_timeout=5")
    config = example + f'\nc.JupyterHub.api_tokens = {{"{ADMIN_TOKEN}": "admin"}}\n' \
        'c.Authenticator.admin_users = {"admin"}\n'
    h = hub_factory(config=config, config_name="jupyterhub_config.py")
    h.api = Api(h)
    assert h.api("POST", "/users/docs").status_code == 201
    assert query(url, "SELECT count(*) FROM users WHERE name = 'docs'") == [(1,)]
    assert ours.password not in h.log()


def postgres_pids(server):
    """The server's processes: the postmaster and its children."""
    pid = int((server.dir / "data" / "postmaster.pid").read_text().split()[0])
    kids = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                          text=True).stdout.split()
    return [pid] + [int(k) for k in kids]


def test_a_hub_stopped_while_a_response_waits_for_postgres(hub_factory, server):
    url = server.database()
    h = pg_hub(hub_factory, url)
    assert h.api("POST", "/users/first").status_code == 201
    pids = postgres_pids(server)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)  # PostgreSQL hangs: the change cannot be confirmed
    try:
        out = []
        t = threading.Thread(target=lambda: out.append(h.api("POST", "/users/held")))
        t.start()
        # Wait (bounded) until the client's connection to the hub is open: the hub reads the
        # request at once, and holds its answer.
        port = urlsplit(h.url).port
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and t.is_alive():
            ss = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
                                capture_output=True, text=True).stdout
            if ss.strip():
                break
            time.sleep(0.05)
        time.sleep(0.2)  # the request's bytes, already sent, reach the hub's loop
        h.signal(signal.SIGTERM)
        t.join(30)
        assert not t.is_alive()
        # The held answer goes out as a 503 instead of aborting the hub (MHD refuses to stop
        # with suspended connections).
        assert out and out[0].status_code == 503, out and out[0].text
        assert "did not confirm this change" in out[0].json()["message"]
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    assert h.wait(60) == 0, h.log()[-3000:]
