"""End to end with the real jupyterhub-singleuser (Debian's, on the classic notebook) behind the
real configurable-http-proxy: a browser-style session that follows the OAuth redirects into the
notebook server, a kernel that computes 1+1 over its websocket, a hub restart that leaves the
server running, and a proxy that dies and comes back with its routes."""
import json
import os
import re
import signal
import time
import uuid

import pytest
import requests
import websocket

from conftest import Api
from spawn_helpers import (PASSWORD, server_model, spawn_config, start, wait_for, wait_ready,
                           with_section)

SINGLEUSER = ["jupyterhub-singleuser"]


def singleuser_config(tmp_path, **jupyterhub):
    cfg = spawn_config(cmd=SINGLEUSER, home=tmp_path / "homes", **jupyterhub)
    args = ["--allow-root"] if os.geteuid() == 0 else []
    return with_section(cfg, "Spawner", args=args, http_timeout=60, start_timeout=60)


def browser_login(hub, user):
    """A requests session logged in through the proxy, as a browser would."""
    s = requests.Session()
    page = s.get(hub.public_url + "/hub/login", timeout=10)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    r = s.post(hub.public_url + "/hub/login", timeout=10, allow_redirects=False,
               data={"username": user, "password": PASSWORD, "_xsrf": xsrf})
    assert r.status_code == 302, r.text
    return s


def test_oauth_into_the_notebook_and_a_kernel(hub_factory, tmp_path):
    hub = hub_factory(config=singleuser_config(tmp_path))
    s = browser_login(hub, "alice")
    # /hub/spawn starts the server; spawn-pending waits for it; then the notebook's OAuth dance.
    r = s.get(hub.public_url + "/hub/spawn", timeout=10, allow_redirects=False)
    assert r.status_code == 302
    wait_ready(hub, "alice", timeout=90)
    r = s.get(hub.public_url + "/user/alice/tree", timeout=30)
    assert r.status_code == 200, r.text[:500]
    assert r.url == hub.public_url + "/user/alice/tree"
    assert "Jupyter" in r.text
    hops = [h.headers.get("Location", "") for h in r.history]
    assert any("/hub/api/oauth2/authorize" in h for h in hops), hops
    assert any("/user/alice/oauth_callback" in h for h in hops), hops
    assert s.cookies.get("jupyterhub-user-alice", path="/user/alice/")

    # A kernel through the proxy, and a computation over its websocket.
    # The notebook's own _xsrf cookie (the hub's is on /hub/).
    xsrf = next((c.value for c in s.cookies if c.name == "_xsrf" and not c.path.startswith("/hub")),
                None)
    headers = {"X-XSRFToken": xsrf} if xsrf else {}
    r = s.post(hub.public_url + "/user/alice/api/kernels", json={}, headers=headers, timeout=60)
    assert r.status_code == 201, r.text
    kernel = r.json()["id"]
    cookie = "; ".join(f"{c.name}={c.value}" for c in s.cookies
                       if c.path in ("/", "/user/alice/"))
    ws_url = hub.public_url.replace("http://", "ws://") + \
        f"/user/alice/api/kernels/{kernel}/channels"
    ws = websocket.create_connection(ws_url, cookie=cookie, timeout=60)
    try:
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "alice",
                       "session": uuid.uuid4().hex, "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": "1+1", "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False},
        }))
        result = None
        deadline = time.monotonic() + 60
        while result is None and time.monotonic() < deadline:
            m = json.loads(ws.recv())
            if m.get("parent_header", {}).get("msg_id") == msg_id and \
                    m["msg_type"] == "execute_result":
                result = m["content"]["data"]["text/plain"]
        assert result == "2"
    finally:
        ws.close()

    # The proxy saw the activity; the hub reads it on POST /proxy-driven checks and its timer.
    routes = Api(hub)("GET", "/proxy").json()
    assert routes["/user/alice/"]["data"]["last_activity"]

    # Logging out of the hub ends the server's OAuth session too (tokens of this session).
    def oauth_tokens():
        tokens = Api(hub)("GET", "/users/alice/tokens").json()["api_tokens"]
        return [t for t in tokens if t["session_id"]]

    before = oauth_tokens()
    assert before and before[0]["oauth_client"] == "Server at /user/alice/"
    s.get(hub.public_url + "/hub/logout", timeout=10)
    assert oauth_tokens() == []

    assert Api(hub)("DELETE", "/users/alice/server").status_code in (202, 204)


def test_hub_restart_leaves_servers_running(hub_factory, tmp_path):
    cfg = singleuser_config(tmp_path)
    hub = hub_factory(config=cfg, args=["--JupyterHub.cleanup_servers=False",
                                        "--JupyterHub.cleanup_proxy=False"])
    api = Api(hub)
    api("POST", "/users/bob")
    start(hub, "bob")
    wait_ready(hub, "bob", timeout=90)
    pid = server_model(hub, "bob")["state"]["pid"]
    proxy_pid = int((tmp_path / "jupyterhub-proxy.pid").read_text())
    hub.stop()
    # The hub is gone; the proxy and the server are not, and users still reach the server.
    assert os.path.exists(f"/proc/{pid}") and os.path.exists(f"/proc/{proxy_pid}")
    assert requests.get(hub.public_url + "/user/bob/api", timeout=10).status_code == 200

    # The next hub (same state, same proxy) takes both over.
    hub2 = hub_factory(config=cfg, state_dir=tmp_path, name="hub2", start=False)
    hub2.proxy_port, hub2.proxy_api_port = hub.proxy_port, hub.proxy_api_port
    hub2.public_url = hub.public_url
    hub2.start()
    assert "Reusing configurable-http-proxy" in hub2.log()
    model = server_model(hub2, "bob")
    assert model["ready"] is True and model["state"]["pid"] == pid
    assert requests.get(hub2.public_url + "/user/bob/api", timeout=10).status_code == 200
    assert int((tmp_path / "jupyterhub-proxy.pid").read_text()) == proxy_pid
    # A server that died while no hub watched is cleaned up at the next start.
    assert Api(hub2)("DELETE", "/users/bob/server").status_code in (202, 204)


def test_dead_server_is_dropped_at_restart(hub_factory, tmp_path):
    cfg = spawn_config(home=tmp_path / "homes")
    hub = hub_factory(config=cfg, args=["--JupyterHub.cleanup_servers=False"])
    Api(hub)("POST", "/users/carol")
    assert start(hub, "carol").status_code == 201
    pid = server_model(hub, "carol")["state"]["pid"]
    hub.stop()
    os.kill(pid, signal.SIGKILL)
    hub2 = hub_factory(config=cfg, state_dir=tmp_path, name="hub2")
    wait_for(lambda: server_model(hub2, "carol") is None, 20, what="dead server dropped")
    assert "/user/carol/" not in Api(hub2)("GET", "/proxy").json()


def test_proxy_that_dies_comes_back_with_its_routes(hub_factory, tmp_path):
    # The hub sees its child proxy exit and restarts it at once, not at the next liveness
    # check (made too far away here to be what brings it back).
    cfg = with_section(spawn_config(home=tmp_path / "homes"), "ConfigurableHTTPProxy",
                       check_running_interval=600)
    hub = hub_factory(config=cfg)
    Api(hub)("POST", "/users/dan")
    assert start(hub, "dan").status_code == 201
    proxy_pid = int((tmp_path / "jupyterhub-proxy.pid").read_text())
    os.kill(proxy_pid, signal.SIGKILL)

    def back():
        try:
            return requests.get(hub.public_url + "/user/dan/api", timeout=10).status_code == 200
        except (requests.ConnectionError, requests.Timeout):
            return False

    wait_for(back, 30, what="the proxy back with the route of dan's server")
    assert int((tmp_path / "jupyterhub-proxy.pid").read_text()) != proxy_pid
    assert "The proxy is gone" in hub.log()


def test_proxy_api_sync(hub_factory, tmp_path):
    hub = hub_factory(config=spawn_config(home=tmp_path / "homes"))
    api = Api(hub)
    api("POST", "/users/eve")
    assert start(hub, "eve").status_code == 201
    chp = f"http://127.0.0.1:{hub.proxy_api_port}/api/routes"
    token = re.search(r"CONFIGPROXY_AUTH_TOKEN", hub.log())  # never logged
    assert token is None
    # Break the table behind the hub's back: lose a route, add a stale one and a foreign one.
    headers = {"Authorization": f"token {proxy_token(tmp_path)}"}
    assert requests.delete(chp + "/user/eve", headers=headers, timeout=5).status_code == 204
    requests.post(chp + "/user/ghost", headers=headers, timeout=5,
                  json={"target": "http://127.0.0.1:9", "jupyterhub": True, "user": "ghost"})
    requests.post(chp + "/foreign", headers=headers, timeout=5,
                  json={"target": "http://127.0.0.1:9"})
    assert api("POST", "/proxy").status_code == 200
    routes = api("GET", "/proxy").json()
    assert "/user/eve/" in routes and "/user/ghost/" not in routes
    table = requests.get(chp, headers=headers, timeout=5).json()
    assert "/foreign" in table  # not the hub's: left alone
    # Pagination as JupyterHub 5.
    page = api("GET", "/proxy?limit=1",
               headers={"Accept": "application/jupyterhub-pagination+json"}).json()
    assert len(page["items"]) == 1 and page["_pagination"]["total"] == 2


def proxy_token(state_dir):
    """The token the hub gave the proxy it started (read from the proxy's environment)."""
    pid = int((state_dir / "jupyterhub-proxy.pid").read_text())
    env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
    for kv in env:
        if kv.startswith(b"CONFIGPROXY_AUTH_TOKEN="):
            return kv.split(b"=", 1)[1].decode()
    raise AssertionError("no token in the proxy's environment")
