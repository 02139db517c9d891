"""Two hubs on one PostgreSQL database, one active and the others standing by (docs/database.md,
"Two hubs"). The hubs share a configurable-http-proxy that the test runs, as z2jh runs its proxy
pod, and a real PostgreSQL server of Debian's (tools/pg-test-server.sh)."""
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from conftest import ADMIN_TOKEN, PINNED_PROXY, Api, free_port, run_ganymede
from secrets_seen import remember
from spawn_helpers import spawn_config, start, wait_for, wait_ready
from test_postgres import query, server  # noqa: F401 (a server of its own for this module)

pytestmark = pytest.mark.skipif(not any(Path("/usr/lib/postgresql").glob("*/bin/initdb")),
                                reason="PostgreSQL's server is not installed")

PROXY_TOKEN = "standby-proxy-token-0123456789"
remember(PROXY_TOKEN)
# The goal is a takeover within 5 s of a kill; a busy machine (CI runs beside other jobs) may
# take longer, and the benchmark
# (bench/postgres.py, the takeover) measures it on a quiet one.
TAKEOVER_BOUND = 12.0


@pytest.fixture
def proxy(tmp_path):
    """configurable-http-proxy run apart from the hubs."""
    port, api_port = free_port(), free_port()
    env = dict(os.environ, CONFIGPROXY_AUTH_TOKEN=PROXY_TOKEN)
    log = open(tmp_path / "proxy.log", "w")
    p = subprocess.Popen([str(PINNED_PROXY), "--ip", "127.0.0.1", "--port", str(port),
                          "--api-ip", "127.0.0.1", "--api-port", str(api_port)],
                         env=env, stdout=log, stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{api_port}"

    def routes():
        r = requests.get(api + "/api/routes",
                         headers={"Authorization": f"token {PROXY_TOKEN}"}, timeout=10)
        r.raise_for_status()
        return r.json()

    wait_for(lambda: _answers(api + "/api/routes"), 30, what="the proxy's API")
    yield type("Proxy", (), {"public": f"http://127.0.0.1:{port}", "api": api,
                             "routes": staticmethod(routes)})
    p.terminate()
    p.wait(10)
    log.close()


def _answers(url):
    try:
        requests.get(url, timeout=2)
        return True
    except requests.RequestException:
        return False


def config(home):
    cfg = spawn_config(home=home)
    cfg["ConfigurableHTTPProxy"] = {"should_start": False}
    return cfg


def hub(hub_factory, url, proxy, state_dir, name, wait=True):
    h = hub_factory(config=config(state_dir.parent / "homes"), state_dir=state_dir, name=name,
                    start=False, env={"CONFIGPROXY_AUTH_TOKEN": PROXY_TOKEN},
                    args=[f"--JupyterHub.db_url={url}",
                          f"--JupyterHub.bind_url={proxy.public}",
                          f"--ConfigurableHTTPProxy.api_url={proxy.api}"])
    h.api = Api(h)
    h.start(wait=wait)
    return h


def standby_port(h, timeout=60):
    m = wait_for(lambda: re.search(r"Standing by: the hub (\S+) .* answers 503 on port (\d+)",
                                   h.log()), timeout, interval=0.02, what=f"{h.name} standing by")
    return m.group(1), int(m.group(2))


def active(h):
    return "listening on http://" in h.log()


def holder_pid(holder):
    """host:pid:random"""
    return int(holder.split(":")[-2])


def spawner_pids(url):
    import json
    rows = query(url, "SELECT u.name, s.state FROM spawners s JOIN users u ON u.id = s.user_id "
                      "WHERE s.server_id IS NOT NULL")
    return {name: json.loads(state)["pid"] for name, state in rows if state}


def env_server_pids(home):
    """Processes of the test's server command with their home under @home."""
    pids = set()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes()
            cwd = os.readlink(d / "cwd")
        except OSError:
            continue
        if b"env_server.py" in cmd and cwd.startswith(str(home)):
            pids.add(int(d.name))
    return pids


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def test_a_standby_takes_over_a_hub_killed_during_spawns(proxy, server, hub_factory, tmp_path):
    url = server.database()
    first = hub(hub_factory, url, proxy, tmp_path / "a", "first")
    second = hub(hub_factory, url, proxy, tmp_path / "b", "second", wait=False)
    holder, port = standby_port(second)
    assert holder_pid(holder) == first.proc.pid
    # The standby answers every request, the probe first, with 503 and says who is active.
    for path in ("/hub/health", "/hub/api/users"):
        r = requests.get(f"http://127.0.0.1:{port}{path}", timeout=10)
        assert r.status_code == 503 and r.headers["Retry-After"] == "1", r.text
        assert r.json()["status"] == "standby" and r.json()["active"] == holder
    r = requests.post(f"http://127.0.0.1:{port}/hub/api/users/x",
                      headers={"Authorization": f"token {ADMIN_TOKEN}"}, timeout=10)
    assert r.status_code == 503

    running = [f"run{i}" for i in range(4)]
    assert first.api("POST", "/users", json={"usernames": running + ["late0", "late1"]}
                     ).status_code == 201
    for u in running:
        assert start(first, u).status_code in (201, 202)
    for u in running:
        wait_ready(first, u)
    before = spawner_pids(url)
    assert sorted(before) == running

    # Writes go on while the hub is killed: every one acknowledged must be there afterwards.
    acked, stop = [], threading.Event()

    def writer():
        for i in range(100000):
            if stop.is_set():
                return
            try:
                r = first.api("POST", f"/users/w{i}", timeout=5)
            except requests.RequestException:
                return
            if r.status_code == 201:
                acked.append(f"w{i}")

    t = threading.Thread(target=writer)
    t.start()
    wait_for(lambda: len(acked) >= 20, 30, what="writes before the kill")
    for u in ("late0", "late1"):
        start(first, u)  # spawns in flight at the kill
    first.proc.kill()
    killed = time.monotonic()
    first.wait(10)
    stop.set()
    t.join(30)

    wait_for(lambda: active(second), 60, interval=0.02, what="the takeover")
    second.wait_ready()
    took = time.monotonic() - killed
    assert took < TAKEOVER_BOUND, f"takeover took {took:.1f}s"
    assert "This hub took the database's lease" in second.log()

    # No acknowledged write lost.
    names = {n for (n,) in query(url, "SELECT name FROM users")}
    assert set(acked) <= names, sorted(set(acked) - names)
    assert second.api("GET", f"/users/{acked[-1]}").status_code == 200
    # The servers run on, re-adopted (the same processes), and the proxy routes to them and to
    # the new hub.
    for u in running:
        assert (second.api("GET", f"/users/{u}").json()["servers"][""] or {}).get("ready")
    assert {u: p for u, p in spawner_pids(url).items() if u in running} == before
    assert all(alive(p) for p in before.values())
    routes = proxy.routes()
    for u in running:
        assert f"/user/{u}" in routes or f"/user/{u}/" in routes, sorted(routes)
    assert routes["/"]["target"] == second.url, routes["/"]
    r = requests.get(f"{proxy.public}/user/{running[0]}/env", timeout=10, allow_redirects=False)
    assert r.status_code in (200, 302), r.text
    # Spawns cut by the kill end ready or stopped on the new hub. (A process forked just before
    # the kill, whose pid was not saved yet, is known to no hub: docs/database.md says so.)
    def settled():
        models = [second.api("GET", f"/users/{u}").json()["servers"].get("") for u in
                  ("late0", "late1")]
        return all(m is None or (m.get("ready") and not m.get("pending")) for m in models)
    wait_for(settled, 60, what="the cut spawns settled")
    assert set(before.values()) <= env_server_pids(tmp_path / "homes")
    assert second.api("POST", "/users/after").status_code == 201


def test_hubs_started_at_once_make_one_active(proxy, server, hub_factory, tmp_path):
    url = server.database()
    hubs = [hub(hub_factory, url, proxy, tmp_path / f"h{i}", f"h{i}", wait=False)
            for i in range(3)]
    wait_for(lambda: sum(active(h) for h in hubs) == 1 and
             sum("Standing by" in h.log() for h in hubs) == 2, 60, interval=0.05,
             what="one active hub and two standing by")
    (leader,) = [h for h in hubs if active(h)]
    leader.wait_ready()
    others = [h for h in hubs if h is not leader]
    for h in others:
        holder, port = standby_port(h)
        assert holder_pid(holder) == leader.proc.pid
        assert requests.get(f"http://127.0.0.1:{port}/hub/health", timeout=10).status_code == 503
    assert leader.api("POST", "/users/chosen").status_code == 201
    # A clean stop gives the lease up: a standby takes over without waiting for it to lapse.
    # Right after the exit the row is either still the leader's, given up, or already another
    # hub's (which a lease left to lapse could not be yet).
    leader.stop()
    ((holder, released),) = query(url, "SELECT holder, expires_at IS NULL FROM ganymede_lease")
    assert released or holder_pid(holder) != leader.proc.pid, holder
    wait_for(lambda: sum(active(h) for h in others) == 1, 30, interval=0.02, what="the next")
    (nxt,) = [h for h in others if active(h)]
    nxt.wait_ready()
    assert nxt.api("GET", "/users/chosen").status_code == 200
    # The last one stands by for the new leader, and says so.
    (last,) = [h for h in others if h is not nxt]
    port = standby_port(last)[1]

    def follows():
        r = requests.get(f"http://127.0.0.1:{port}/hub/health", timeout=10)
        return r.status_code == 503 and r.json()["active"].split(":")[1:2] == [str(nxt.proc.pid)]
    wait_for(follows, 30, what="the last standby naming the new leader")
    assert re.search(rf"Standing by: the hub \S+:{nxt.proc.pid}:\S+ now holds", last.log())


def test_a_paused_hub_does_not_write_after_resuming(proxy, server, hub_factory, tmp_path):
    url = server.database()
    first = hub(hub_factory, url, proxy, tmp_path / "a", "first")
    second = hub(hub_factory, url, proxy, tmp_path / "b", "second", wait=False)
    standby_port(second)
    assert first.api("POST", "/users/before").status_code == 201
    first.signal(signal.SIGSTOP)
    try:
        wait_for(lambda: active(second), 60, interval=0.05, what="the takeover")
        second.wait_ready()
        assert second.api("POST", "/users/by-second").status_code == 201
    finally:
        first.signal(signal.SIGCONT)
    # Resumed, the first hub's lease has lapsed: it refuses changes, and it stops once it
    # learns that another hub took over.
    try:
        r = first.api("POST", "/users/ghost", timeout=20)
        assert r.status_code in (500, 503), r.text
    except requests.ConnectionError:
        pass  # it stopped first
    assert first.wait(30) == 1, first.log()[-3000:]
    assert "Another hub took this database's lease" in first.log()
    assert query(url, "SELECT count(*) FROM users WHERE name = 'ghost'") == [(0,)]
    # The routes are the second hub's.
    assert proxy.routes()["/"]["target"] == second.url
    assert second.api("GET", "/users/before").status_code == 200
    assert second.api("POST", "/users/after").status_code == 201


DOCS = Path(__file__).resolve().parents[2] / "docs" / "database.md"


def test_the_docs_example_runs_two_hubs(proxy, server, hub_factory, tmp_path):
    """The example of docs/database.md, "Two hubs", with this machine's addresses: two hubs
    share the cookie secret file, so a login made on the first works on the second after the
    first is killed; `ganymede upgrade-db` is refused while a hub holds the lease."""
    text = DOCS.read_text().split("\n## Two hubs", 1)[1]
    example = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    url = server.database()
    secret = tmp_path / "cookie_secret"
    secret.write_text("ab" * 32 + "\n")
    secret.chmod(0o600)
    replace = {
        "postgresql://jupyterhub@db.example.org:5432/jupyterhub": url,
        '"http://:8081"': '"http://127.0.0.1:0"',
        "http://hub.example.org:8081": "http://127.0.0.1:0",
        "http://proxy.example.org:8001": proxy.api,
        "/srv/jupyterhub/secrets/cookie_secret": str(secret),
    }
    for old, new in replace.items():
        assert old in example, old
        example = example.replace(old, new)
    config = example + f'\nc.JupyterHub.api_tokens = {{"{ADMIN_TOKEN}": "admin"}}\n' \
        'c.Authenticator.admin_users = {"admin"}\n' \
        'c.JupyterHub.authenticator_class = "dummy"\n'
    hubs = []
    for name in ("a", "b"):
        h = hub_factory(config=config, config_name="jupyterhub_config.py", name=name,
                        state_dir=tmp_path / name, start=False,
                        env={"CONFIGPROXY_AUTH_TOKEN": PROXY_TOKEN},
                        # The test's Hub sets these on the command line, which wins.
                        args=[f"--JupyterHub.bind_url={proxy.public}",
                              f"--ConfigurableHTTPProxy.api_url={proxy.api}"])
        h.api = Api(h)
        h.start(wait=name == "a")
        hubs.append(h)
    first, second = hubs
    standby_port(second)
    s = requests.Session()
    r = s.post(f"{first.url}/hub/login", data={"username": "ann", "password": "x"},
               allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    p = run_ganymede(["upgrade-db", f"--JupyterHub.db_url={url}"], cwd=tmp_path)
    assert p.returncode != 0 and "is in use by the hub" in p.stdout + p.stderr, p.stdout + p.stderr
    first.proc.kill()
    first.wait(10)
    wait_for(lambda: active(second), 60, interval=0.02, what="the takeover")
    second.wait_ready()
    r = s.get(f"{second.url}/hub/api/user", timeout=10)
    assert r.status_code == 200 and r.json()["name"] == "ann", r.text
