"""Starting and stopping servers through the REST API with the real configurable-http-proxy:
201/202, the environment contract, progress events, named servers, limits, failures and bad
input."""
import os
import signal
import time

import pytest
import requests

from conftest import ADMIN_TOKEN, Api
from spawn_helpers import (ENV_SERVER, progress_events, server_model, spawn_config, start,
                           wait_for, wait_ready, wait_stopped, with_section)


@pytest.fixture
def spawn_hub(hub_factory, tmp_path):
    h = hub_factory(config=spawn_config(home=tmp_path / "homes"))
    h.api = Api(h)
    return h


def test_start_is_routed_and_stop_cleans_up(spawn_hub, tmp_path):
    hub = spawn_hub
    assert hub.api("POST", "/users/alice").status_code == 201
    r = start(hub, "alice")
    assert r.status_code == 201, r.text  # ready within slow_spawn_timeout
    model = server_model(hub, "alice")
    assert model["ready"] is True and model["pending"] is None and model["url"] == "/user/alice/"
    assert model["started"] and model["state"]["pid"] > 0
    user = hub.api("GET", "/users/alice").json()
    assert user["server"] == "/user/alice/" and user["pending"] is None

    metrics = requests.get(hub.url + "/hub/metrics", timeout=10,
                           headers={"Authorization": f"token {ADMIN_TOKEN}"}).text
    assert "jupyterhub_running_servers 1" in metrics
    assert 'jupyterhub_server_spawn_duration_seconds_count{status="success"} 1' in metrics

    # Through the proxy, on the route the hub added.
    r = requests.get(hub.public_url + "/user/alice/api", timeout=10)
    assert r.status_code == 200 and r.json() == {"version": "env-server"}
    routes = hub.api("GET", "/proxy").json()
    assert routes["/user/alice/"]["data"] == {
        "user": "alice", "server_name": "",
        "last_activity": routes["/user/alice/"]["data"]["last_activity"]}
    assert routes["/"]["data"]["hub"] is True

    # The environment of JupyterHub's Spawner.get_env.
    env = requests.get(hub.public_url + "/user/alice/env", timeout=10).json()
    e = env["env"]
    assert e["JUPYTERHUB_USER"] == "alice" and e["JUPYTERHUB_SERVER_NAME"] == ""
    assert e["JUPYTERHUB_CLIENT_ID"] == "jupyterhub-user-alice"
    assert e["JUPYTERHUB_SERVICE_PREFIX"] == "/user/alice/"
    assert e["JUPYTERHUB_OAUTH_CALLBACK_URL"] == "/user/alice/oauth_callback"
    assert e["JUPYTERHUB_API_URL"] == f"http://127.0.0.1:{hub.port}/hub/api"
    assert e["JUPYTERHUB_ACTIVITY_URL"] == f"http://127.0.0.1:{hub.port}/hub/api/users/alice/activity"
    assert e["JUPYTERHUB_BASE_URL"] == "/"
    assert e["JUPYTERHUB_SERVICE_URL"].startswith("http://127.0.0.1:")
    assert e["JUPYTERHUB_SERVICE_URL"].endswith("/user/alice/")
    assert e["JUPYTERHUB_OAUTH_ACCESS_SCOPES"] == \
        '["access:servers!server=alice/","access:servers!user=alice"]'
    assert e["JUPYTERHUB_API_TOKEN"] == e["JPY_API_TOKEN"] and len(e["JUPYTERHUB_API_TOKEN"]) == 32
    assert e["JUPYTERHUB_SINGLEUSER_APP"] == "notebook.notebookapp.NotebookApp"  # env_keep
    assert e["USER"] == "alice" and e["HOME"] == str(tmp_path / "homes" / "alice")
    assert env["cwd"] == e["HOME"]

    # The server's own token identifies it with the `server` role's scopes.
    token = e["JUPYTERHUB_API_TOKEN"]
    me = requests.get(hub.url + "/hub/api/user", headers={"Authorization": f"token {token}"},
                      timeout=10).json()
    assert me["name"] == "alice"
    assert set(me["scopes"]) >= {"access:servers!server=alice/", "users:activity!user=alice"}
    assert "read:users" not in me["scopes"]

    # Stop: 204, and the token, the OAuth client, the route and the process are gone.
    pid = model["state"]["pid"]
    r = hub.api("DELETE", "/users/alice/server")
    assert r.status_code == 204, r.text
    assert server_model(hub, "alice") is None
    assert requests.get(hub.url + "/hub/api/user",
                        headers={"Authorization": f"token {token}"}, timeout=10).status_code == 403
    assert "/user/alice/" not in hub.api("GET", "/proxy").json()
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 30, what="server process gone")
    user = hub.api("GET", "/users/alice?include_stopped_servers=1").json()
    assert user["servers"][""]["stopped"] is True


def test_progress_stream_and_202(hub_factory, tmp_path):
    cfg = spawn_config(home=tmp_path / "homes", tornado_settings={"slow_spawn_timeout": 0})
    hub = hub_factory(config=cfg)
    api = Api(hub)
    api("POST", "/users/bob")
    r = start(hub, "bob")
    assert r.status_code == 202
    assert server_model(hub, "bob")["pending"] == "spawn"
    assert start(hub, "bob").status_code == 202  # already pending: 202 again
    events = progress_events(hub, "bob")
    assert events[0] == {"progress": 0, "message": "Server requested"}
    assert events[-1]["ready"] is True and events[-1]["progress"] == 100
    assert events[-1]["url"] == "/user/bob/"
    assert events[-1]["message"] == "Server ready at /user/bob/"
    assert 'href="/user/bob/"' in events[-1]["html_message"]
    # A ready server's stream says so at once.
    assert progress_events(hub, "bob") == [events[-1]]
    assert start(hub, "bob").status_code == 400  # already running
    assert api("DELETE", "/users/bob/server").status_code in (202, 204)
    wait_stopped(hub, "bob")
    r = api("GET", "/users/bob/server/progress")
    assert r.status_code == 400 and "not starting" in r.json()["message"]


def test_named_servers_and_limits(hub_factory, tmp_path):
    cfg = spawn_config(home=tmp_path / "homes", allow_named_servers=True,
                       named_server_limit_per_user=1)
    hub = hub_factory(config=cfg)
    api = Api(hub)
    api("POST", "/users/carol")
    r = start(hub, "carol", "gpu", options={"size": "large"})
    assert r.status_code == 201, r.text
    model = server_model(hub, "carol", "gpu")
    assert model["url"] == "/user/carol/gpu/" and model["user_options"] == {"size": "large"}
    assert model["full_name"] == "carol/gpu"
    env = requests.get(hub.public_url + "/user/carol/gpu/env", timeout=10).json()["env"]
    assert env["JUPYTERHUB_SERVER_NAME"] == "gpu"
    assert env["JUPYTERHUB_CLIENT_ID"] == "jupyterhub-user-carol-gpu"
    r = start(hub, "carol", "other")
    assert r.status_code == 400 and "maximum of 1 named servers" in r.json()["message"]
    # The default server does not count against the limit.
    assert start(hub, "carol").status_code == 201
    r = api("DELETE", "/users/carol/servers/gpu", json={"remove": True})
    assert r.status_code in (202, 204)
    wait_for(lambda: "gpu" not in api("GET", "/users/carol?include_stopped_servers=1")
             .json()["servers"], 30, what="named server removed")
    assert start(hub, "carol", "other").status_code == 201  # room again
    r = api("DELETE", "/users/carol/server", json={"remove": True})
    assert r.status_code == 400  # the default server cannot be removed
    r = api("DELETE", "/users/carol/servers/nothing")
    assert r.status_code == 404


def test_bad_input(spawn_hub):
    hub = spawn_hub
    api = hub.api
    assert start(hub, "nobody").status_code == 404
    api("POST", "/users/dave")
    r = api("POST", "/users/dave/servers/x")
    assert r.status_code == 400 and "Named servers are not enabled" in r.json()["message"]
    r = api("POST", "/users/dave/server", data="[1, 2]",
            headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = api("POST", "/users/dave/server", data="{not json",
            headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = api("DELETE", "/users/dave/server")
    assert r.status_code == 204  # not running: nothing to do, as in JupyterHub
    r = api("DELETE", "/users/dave/server", json={"remove": "yes"})
    assert r.status_code == 400
    r = api("GET", "/users/dave/server/progress")
    assert r.status_code == 404  # no server yet
    # Without the scope: 403; another user's server: 404 for a user who can see nothing.
    token = api.token_for("dave")
    r = api("POST", "/users/admin/server", token=token)
    assert r.status_code in (403, 404)
    # Everything answered JupyterHub's error shape.
    assert set(r.json()) == {"status", "message"}


def test_stopping_a_server_that_is_not_running(hub_factory, tmp_path):
    # The idle culler and scripts stop servers that may have exited by themselves: JupyterHub
    # answers 204 (202 while a stop is still under way), never an error.
    cfg = with_section(spawn_config(home=tmp_path / "homes", allow_named_servers=True),
                       "Spawner", poll_interval=0.5)
    hub = hub_factory(config=cfg)
    api = Api(hub)
    api("POST", "/users/gus")
    assert start(hub, "gus").status_code == 201
    r = api("DELETE", "/users/gus/server")
    assert r.status_code in (202, 204), r.text
    wait_stopped(hub, "gus")
    for _ in range(2):  # stopped already, and again
        r = api("DELETE", "/users/gus/server")
        assert r.status_code == 204, r.text
        assert r.content == b""
    # A server that exited by itself, as the culler finds it.
    assert start(hub, "gus", "lab").status_code == 201
    os.kill(server_model(hub, "gus", "lab")["state"]["pid"], signal.SIGKILL)
    r = api("DELETE", "/users/gus/servers/lab")
    assert r.status_code in (202, 204), r.text
    wait_stopped(hub, "gus", "lab")
    r = api("DELETE", "/users/gus/servers/lab")
    assert r.status_code == 204, r.text
    # A named server the user does not have stays 404, as in JupyterHub.
    assert api("DELETE", "/users/gus/servers/nothing").status_code == 404


def test_named_server_name_checks(hub_factory, tmp_path):
    hub = hub_factory(config=spawn_config(home=tmp_path / "homes", allow_named_servers=True))
    api = Api(hub)
    api("POST", "/users/erin")
    r = api("POST", "/users/erin/servers/a%2Fb")
    assert r.status_code == 400 and "may not contain '/'" in r.json()["message"]
    r = api("POST", "/users/erin/servers/" + "x" * 300)
    assert r.status_code == 400
    r = api("POST", "/users/erin/servers/bad%01name")
    assert r.status_code == 400


def test_concurrent_spawn_limit_and_active_limit(hub_factory, tmp_path):
    cfg = spawn_config(spawner="test-never-starts", concurrent_spawn_limit=1,
                       tornado_settings={"slow_spawn_timeout": 0})
    hub = hub_factory(config=cfg)
    api = Api(hub)
    for name in ("u1", "u2"):
        api("POST", f"/users/{name}")
    assert start(hub, "u1").status_code == 202
    r = start(hub, "u2")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 30
    assert "Too many users" in r.json()["message"]
    assert server_model(hub, "u2") is None
    # Interrupting the pending start frees the slot.
    assert api("DELETE", "/users/u1/server").status_code in (202, 204)
    wait_stopped(hub, "u1")
    assert start(hub, "u2").status_code == 202
    metrics = requests.get(hub.url + "/hub/metrics",
                           headers={"Authorization": f"token {ADMIN_TOKEN}"}, timeout=10).text
    assert 'jupyterhub_server_spawn_duration_seconds_count{status="throttled"} 1' in metrics


def test_active_server_limit(hub_factory, tmp_path):
    cfg = spawn_config(home=tmp_path / "homes", active_server_limit=1)
    hub = hub_factory(config=cfg)
    api = Api(hub)
    for name in ("a1", "a2"):
        api("POST", f"/users/{name}")
    assert start(hub, "a1").status_code == 201
    r = start(hub, "a2")
    assert r.status_code == 429 and "Active user limit" in r.json()["message"]


def test_start_timeout(hub_factory):
    cfg = with_section(spawn_config(spawner="test-never-starts",
                                    tornado_settings={"slow_spawn_timeout": 0}),
                       "Spawner", start_timeout=1)
    hub = hub_factory(config=cfg)
    api = Api(hub)
    api("POST", "/users/slow")
    t0 = time.monotonic()
    assert start(hub, "slow").status_code == 202
    events = progress_events(hub, "slow")
    assert events[-1]["failed"] is True
    assert "within 1 seconds" in events[-1]["message"], events
    assert time.monotonic() - t0 < 15
    wait_stopped(hub, "slow")
    # The failure is remembered for the progress stream and the spawn-pending page.
    assert progress_events(hub, "slow")[-1]["failed"] is True


def test_server_that_exits_during_start(hub_factory, tmp_path):
    cfg = spawn_config(cmd=["/usr/bin/python3", "-c", "import sys; sys.exit(3)"],
                       home=tmp_path / "homes")
    hub = hub_factory(config=cfg)
    api = Api(hub)
    api("POST", "/users/crash")
    r = start(hub, "crash")
    assert r.status_code == 500, r.text
    assert "exited with status 3" in r.json()["message"]
    assert server_model(hub, "crash") is None
    events = progress_events(hub, "crash")
    assert events[-1]["failed"] and "exited with status 3" in events[-1]["message"]


def test_server_that_never_answers(hub_factory, tmp_path):
    cfg = with_section(spawn_config(cmd=["/bin/sleep", "120"], home=tmp_path / "homes"),
                       "Spawner", http_timeout=1)
    cfg = with_section(cfg, "LocalProcessSpawner", interrupt_timeout=0.2, term_timeout=0.2)
    hub = hub_factory(config=cfg)
    api = Api(hub)
    api("POST", "/users/mute")
    r = start(hub, "mute")
    assert r.status_code == 500 and "didn't respond in 1 seconds" in r.json()["message"]
    wait_stopped(hub, "mute")


def test_command_not_found(hub_factory, tmp_path):
    hub = hub_factory(config=spawn_config(cmd=["no-such-command-xyz"], home=tmp_path / "homes"))
    api = Api(hub)
    api("POST", "/users/nocmd")
    r = start(hub, "nocmd")
    assert r.status_code == 500 and "command not found: no-such-command-xyz" in r.json()["message"]


def test_delete_user_stops_servers(spawn_hub):
    hub = spawn_hub
    api = hub.api
    api("POST", "/users/gone")
    assert start(hub, "gone").status_code == 201
    pid = server_model(hub, "gone")["state"]["pid"]
    r = api("PATCH", "/users/gone", json={"name": "renamed"})
    assert r.status_code == 400  # not while the server runs
    assert api("DELETE", "/users/gone").status_code == 204
    assert api("GET", "/users/gone").status_code == 404
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 30, what="server process gone")
    assert "/user/gone/" not in api("GET", "/proxy").json()


def test_poll_notices_a_dead_server(hub_factory, tmp_path):
    cfg = with_section(spawn_config(home=tmp_path / "homes"), "Spawner", poll_interval=0.5)
    hub = hub_factory(config=cfg)
    api = Api(hub)
    api("POST", "/users/fragile")
    assert start(hub, "fragile").status_code == 201
    pid = server_model(hub, "fragile")["state"]["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_stopped(hub, "fragile", timeout=20)
    assert "/user/fragile/" not in api("GET", "/proxy").json()


@pytest.mark.skipif(os.geteuid() != 0, reason="LocalProcessSpawner switches users only as root")
def test_local_process_spawner_runs_as_the_system_user(hub_factory, tmp_path):
    import pwd
    import subprocess
    import uuid
    user = "gmspawn" + uuid.uuid4().hex[:6]
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", user], check=True)
    try:
        hub = hub_factory(config=spawn_config(spawner="localprocess"))
        api = Api(hub)
        api("POST", f"/users/{user}")
        assert start(hub, user).status_code == 201
        env = requests.get(hub.public_url + f"/user/{user}/env", timeout=10).json()
        pw = pwd.getpwnam(user)
        assert env["uid"] == pw.pw_uid and env["cwd"] == pw.pw_dir
        assert env["env"]["HOME"] == pw.pw_dir and env["env"]["SHELL"] == "/bin/bash"
        assert env["env"]["USER"] == user
        assert api("DELETE", f"/users/{user}/server").status_code in (202, 204)
        # A user without a system account: a clear failure, not a crash.
        api("POST", "/users/no-such-account-xyz")
        r = start(hub, "no-such-account-xyz")
        assert r.status_code == 500 and "No such user: 'no-such-account-xyz'" in r.json()["message"]
    finally:
        subprocess.run(["userdel", "--remove", user], check=False, capture_output=True)


def test_activity_from_the_proxy(hub_factory, tmp_path):
    hub = hub_factory(config=spawn_config(home=tmp_path / "homes", last_activity_interval=1))
    api = Api(hub)
    api("POST", "/users/active")
    assert start(hub, "active").status_code == 201
    before = server_model(hub, "active")["last_activity"] or ""
    time.sleep(1.1)
    assert requests.get(hub.public_url + "/user/active/api", timeout=10).status_code == 200
    wait_for(lambda: (server_model(hub, "active")["last_activity"] or "") > before, 15,
             what="activity read from the proxy's route")
    assert api("GET", "/users/active").json()["last_activity"] >= \
        server_model(hub, "active")["last_activity"]


def test_patch_proxy(hub_factory, tmp_path):
    from test_spawn_singleuser import proxy_token
    hub = hub_factory(config=spawn_config(home=tmp_path / "homes"))
    api = Api(hub)
    r = api("PATCH", "/proxy", json={"auth_token": "not-the-token"})
    assert r.status_code == 502 and "refused the hub's token" in r.json()["message"]
    r = api("PATCH", "/proxy", json={"auth_token": proxy_token(tmp_path),
                                     "port": hub.proxy_api_port})
    assert r.status_code == 200
    r = api("PATCH", "/proxy", json={"port": []})
    assert r.status_code == 400


def test_progress_stream_client_leaves_and_hub_stops(hub_factory):
    cfg = spawn_config(spawner="test-never-starts", tornado_settings={"slow_spawn_timeout": 0})
    hub = hub_factory(config=cfg)
    api = Api(hub)
    for name in ("s1", "s2"):
        api("POST", f"/users/{name}")
        assert start(hub, name).status_code == 202
    headers = {"Authorization": f"token {ADMIN_TOKEN}"}
    # A reader that goes away after the first events.
    with requests.get(hub.url + "/hub/api/users/s1/server/progress", headers=headers,
                      stream=True, timeout=10) as r:
        first = next(r.iter_lines())
        assert first.startswith(b"data: ")
    assert api("DELETE", "/users/s1/server").status_code in (202, 204)
    # A reader still connected when the hub stops: the stream ends, the hub exits cleanly.
    r = requests.get(hub.url + "/hub/api/users/s2/server/progress", headers=headers,
                     stream=True, timeout=10)
    lines = r.iter_lines()
    assert next(lines).startswith(b"data: ")
    hub.stop()  # checks exit status 0 and the sanitizers
    rest = list(lines)
    assert all(not line.startswith(b"data: {\"progress\": 100") for line in rest)


def test_same_server_started_again(spawn_hub):
    """Start, stop, start again, stop: every process watcher is released (the hub's exit is
    checked for leaks and open handles by the fixture)."""
    hub = spawn_hub
    hub.api("POST", "/users/again")
    for _ in range(3):
        assert start(hub, "again").status_code == 201
        assert requests.get(hub.public_url + "/user/again/api", timeout=10).status_code == 200
        assert hub.api("DELETE", "/users/again/server").status_code == 204
    hub.stop()
    assert "still had open handles" not in hub.log()
