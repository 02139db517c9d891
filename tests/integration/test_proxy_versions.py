"""Which configurable-http-proxy runs, and that the hub works with both it supports: the 5.3
pinned in tools/proxy (what the suite and ./dev run use, and what zero-to-jupyterhub 4.4 ships)
and Debian's 4.5.3 in /usr/bin (what an installed hub finds on PATH on bookworm) — started by
the hub, or already running (ConfigurableHTTPProxy.should_start = False): routes, proxied HTTP,
upgraded (WebSocket) connections, the error target, and the activity the hub reads back."""
import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import DEBIAN_PROXY, PINNED_PROXY, ROOT, free_port
from spawn_helpers import api, spawn_config, start, wait_for, with_section

PROXIES = {"pinned": PINNED_PROXY, "debian": DEBIAN_PROXY}
PROXY_TOKEN = "external-proxy-token-0123456789abcdef"


def pinned_version():
    lock = json.loads((ROOT / "tools" / "proxy" / "package-lock.json").read_text())
    return lock["packages"]["node_modules/configurable-http-proxy"]["version"]


def package_version(executable):
    """The version of the configurable-http-proxy package an executable (or its link) runs."""
    real = Path(os.path.realpath(executable))
    pkg = json.loads((real.parent.parent / "package.json").read_text())
    assert pkg["name"] == "configurable-http-proxy"
    return pkg["version"]


def expected_series(which):
    return "5.3." if which == "pinned" else "4.5."


def proxy_or_skip(which):
    path = PROXIES[which]
    if not path.exists():
        pytest.skip(f"{path} is not installed (./dev test installs both)")
    return path


def running_proxy_version(hub):
    """What the proxy process the hub started runs, from its command line (node <script> ...)."""
    pid = int((hub.state_dir / "jupyterhub-proxy.pid").read_text())
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    script = next(a.decode() for a in argv if a.endswith(b"configurable-http-proxy"))
    return script, package_version(script)


def started_line(hub):
    m = re.search(r"Started configurable-http-proxy (\S+) \(pid (\d+), (\S+)\)", hub.log())
    assert m, hub.log()
    return m.group(1), int(m.group(2)), m.group(3)


def upgraded_echo(public_url, path):
    """An Upgrade: websocket request through the proxy; returns the status line and what came
    back for the bytes sent once upgraded."""
    host, port = public_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            assert chunk, f"connection closed after {head!r}"
            head += chunk
        status = head.split(b"\r\n", 1)[0].decode()
        rest = head.split(b"\r\n\r\n", 1)[1]
        s.sendall(b"ping through the proxy")
        while len(rest) < len(b"ping through the proxy"):
            chunk = s.recv(4096)
            if not chunk:
                break
            rest += chunk
        return status, rest


def test_the_suite_runs_the_pinned_proxy(hub):
    """Every hub of this suite starts tools/proxy's configurable-http-proxy, and says so."""
    proxy_or_skip("pinned")
    want = pinned_version()
    assert want.startswith("5.3."), want
    assert shutil.which("configurable-http-proxy") == str(PINNED_PROXY)
    version, pid, path = started_line(hub)
    assert (version, path) == (want, str(PINNED_PROXY))
    script, running = running_proxy_version(hub)
    assert running == want and Path(script).resolve() == PINNED_PROXY.resolve()
    out = subprocess.run([str(PINNED_PROXY), "--version"], capture_output=True, text=True,
                         timeout=30)
    assert out.stdout.strip() == want


@pytest.mark.parametrize("which", ["pinned", "debian"])
def test_hub_started_proxy_round_trip(hub_factory, tmp_path, which):
    """The hub starts the given proxy: a server's route, HTTP and an upgraded connection
    through it, the hub's error page for a target that does not answer, activity read back."""
    path = proxy_or_skip(which)
    dead = free_port()  # nothing listens there
    cfg = with_section(spawn_config(home=tmp_path / "homes", last_activity_interval=1),
                       "ConfigurableHTTPProxy", command=[str(path)])
    cfg["Proxy"] = {"extra_routes": {"/dead/": f"http://127.0.0.1:{dead}"}}
    hub = hub_factory(config=cfg)
    version, _, logged_path = started_line(hub)
    assert version.startswith(expected_series(which)) and logged_path == str(path)
    assert running_proxy_version(hub)[1] == version
    # The hub says it runs only once the proxy has its route (the proxy logs to the same file
    # before it answers the hub): users sent there right away get the hub, not a 404.
    log = hub.log()
    assert log.index("Route added / -> ") < log.index("Ganymede is running at"), log

    a = api(hub)
    assert a("POST", "/users/alice").status_code == 201
    assert start(hub, "alice").status_code == 201
    r = requests.get(hub.public_url + "/user/alice/api", timeout=10)
    assert r.status_code == 200 and r.json() == {"version": "env-server"}
    status, echoed = upgraded_echo(hub.public_url, "/user/alice/ws")
    assert status.split()[1] == "101" and echoed == b"ping through the proxy"

    # The hub through the proxy, and its page for CHP's errors (--error-target).
    r = requests.get(hub.public_url + "/hub/api/", timeout=10)
    assert r.status_code == 200 and "version" in r.json()
    r = requests.get(hub.public_url + "/dead/x", timeout=10)
    assert r.status_code == 503 and "Your server appears to be down" in r.text

    # CHP's per-route last_activity comes back to the server's model.
    routes = a("GET", "/proxy").json()
    assert set(routes) >= {"/", "/user/alice/", "/dead/"}
    assert routes["/user/alice/"]["target"].startswith("http://127.0.0.1:")
    def activity():
        return a("GET", "/users/alice").json()["servers"][""]["last_activity"] or ""
    before = activity()
    time.sleep(1.1)
    requests.get(hub.public_url + "/user/alice/api", timeout=10)
    wait_for(lambda: activity() > before, 15, what="activity from the proxy")
    assert a("DELETE", "/users/alice/server").status_code in (202, 204)
    wait_for(lambda: "/user/alice/" not in a("GET", "/proxy").json(), 15, what="route removed")


@pytest.mark.parametrize("which", ["pinned", "debian"])
def test_proxy_already_running(hub_factory, tmp_path, which):
    """ConfigurableHTTPProxy.should_start = False: the hub fills a proxy that runs already and
    leaves it running when it stops."""
    path = proxy_or_skip(which)
    cfg = {"ConfigurableHTTPProxy": {"should_start": False, "auth_token": PROXY_TOKEN}}
    hub = hub_factory(config=cfg, start=False)
    env = dict(os.environ, CONFIGPROXY_AUTH_TOKEN=PROXY_TOKEN, NODE_PATH="/usr/share/nodejs")
    log = open(tmp_path / f"proxy-{which}.log", "w")
    proxy = subprocess.Popen([str(path), "--ip", "127.0.0.1", "--port", str(hub.proxy_port),
                              "--api-ip", "127.0.0.1", "--api-port", str(hub.proxy_api_port)],
                             env=env, stdout=log, stderr=subprocess.STDOUT)
    api_url = f"http://127.0.0.1:{hub.proxy_api_port}/api/routes"
    auth = {"Authorization": f"token {PROXY_TOKEN}"}
    try:
        def answers():
            try:
                return requests.get(api_url, headers=auth, timeout=2).status_code == 200
            except requests.ConnectionError:
                return False
        wait_for(answers, 20, what=f"{path} to answer")
        hub.start()
        assert "Started configurable-http-proxy" not in hub.log()
        routes = requests.get(api_url, headers=auth, timeout=10).json()
        assert routes["/"]["target"] == hub.url and routes["/"]["hub"] is True
        r = requests.get(hub.public_url + "/hub/api/", timeout=10)
        assert r.status_code == 200 and "version" in r.json()
        hub.stop()
        assert proxy.poll() is None, "the hub stopped a proxy it did not start"
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
        log.close()
