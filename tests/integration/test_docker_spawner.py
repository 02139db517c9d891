"""The Docker spawner (spawner_class = "docker") against a real Docker Engine started by
../shared/recipes/start-docker-api.sh, with the image of make-test-image.sh hostusr: an empty
/usr that the containers bind-mount read-only from the host, so they run the host's
jupyterhub-singleuser. There is no bridge network here, so containers use host networking and
the server listens on 127.0.0.1 at the port the hub picked; the hub reaches it through the real
configurable-http-proxy as any server.

Covered: a browser-style login and "Start My Server" into the notebook through the proxy, the
progress events, resource limits seen by the engine, the image choice form, named volumes kept
across starts, stop and removal, a hub restart that takes a running container over (and drops
one that died meanwhile), and every failure mode the issue lists, each with a message that says
what happened. When the engine cannot start here, every test skips with the reason.
DOCKER_ENGINE=podman runs the same tests against Podman's Docker-compatible API."""
import fcntl
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import BIN, Api, run_browser
from spawn_helpers import (PASSWORD, progress_events, server_model, start, wait_for, wait_ready,
                           wait_stopped)

from conftest import RECIPES, RECIPES_STATE  # noqa: E402
IMAGE = "hubtest/hostusr:latest"
OTHER_IMAGE = "hubtest/hostusr:other"
SINGLEUSER = shutil.which("jupyterhub-singleuser") or "/usr/bin/jupyterhub-singleuser"


class Engine:
    """A few Engine API calls over the unix socket, for the tests' own checks and cleanup."""

    def __init__(self, sock):
        self.sock = sock

    def call(self, method, path, body=None, timeout=30):
        conn = http.client.HTTPConnection("localhost", timeout=timeout)
        conn.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.sock.settimeout(timeout)
        conn.sock.connect(self.sock)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, "/v1.41" + path,
                         body=json.dumps(body) if body is not None else None, headers=headers)
            r = conn.getresponse()
            data = r.read()
            try:
                return r.status, json.loads(data) if data else None
            except ValueError:
                return r.status, data
        finally:
            conn.close()

    def inspect(self, name):
        status, body = self.call("GET", f"/containers/{name}/json")
        return body if status == 200 else None

    def remove(self, name):
        self.call("DELETE", f"/containers/{name}?force=1&v=1")

    def volume(self, name):
        status, body = self.call("GET", f"/volumes/{name}")
        return body if status == 200 else None

    def remove_volume(self, name):
        self.call("DELETE", f"/volumes/{name}?force=1")


def _recipe(name, *args, env=None):
    return subprocess.run([str(RECIPES / name), *args], capture_output=True, text=True,
                          timeout=600, env=env)


@pytest.fixture(scope="session")
def engine():
    """The engine, started once per session (the recipe is idempotent), with the test image."""
    if not (RECIPES / "start-docker-api.sh").exists():
        pytest.skip(f"no recipes at {RECIPES} (set GANYMEDE_RECIPES)")
    if not os.path.exists(SINGLEUSER):
        pytest.skip("jupyterhub-singleuser is not installed on the host (Debian's jupyterhub)")
    helps = subprocess.run([BIN, "--help-config"], capture_output=True, text=True, timeout=60)
    if "DockerSpawner" not in helps.stdout:
        pytest.skip("this build has no Docker spawner (-Ddocker=disabled)")
    # pytest-xdist workers each set up the session: one at a time (the recipes share a state
    # directory and the image build directory).
    state = RECIPES_STATE
    state.mkdir(parents=True, exist_ok=True)
    with open(state / ".ganymede-docker-tests.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        p = _recipe("start-docker-api.sh")
        if p.returncode != 0:
            pytest.skip(f"the Docker engine cannot start here: {(p.stderr or p.stdout)[-800:]}")
        out = _recipe("start-docker-api.sh", "env").stdout
        m = re.search(r"DOCKER_HOST='unix://([^']+)'", out)
        if not m:
            pytest.skip(f"start-docker-api.sh env said nothing usable: {out!r}")
        sock = m.group(1)
        e = Engine(sock)
        if e.call("GET", f"/images/{IMAGE}/json")[0] != 200:
            p = _recipe("make-test-image.sh", "hostusr",
                        env=dict(os.environ, DOCKER_HOST=f"unix://{sock}"))
            if p.returncode != 0:
                pytest.skip(f"the test image cannot be made: {(p.stderr or p.stdout)[-800:]}")
    status, _ = e.call("POST", "/images/hubtest/hostusr:latest/tag?repo=hubtest/hostusr&tag=other")
    assert status == 201, "cannot tag the test image"
    return e


@pytest.fixture
def docker(engine):
    """The engine, and cleanup of what a test made: its users' containers and volumes."""
    engine.names = []
    engine.volumes = []
    yield engine
    for name in engine.names:
        engine.remove(name)
    for name in engine.volumes:
        engine.remove_volume(name)


def image_of(container):
    """The image a container was created from (podman writes docker.io/ before short names)."""
    image = container["Config"]["Image"]
    return image[len("docker.io/"):] if image.startswith("docker.io/") else image


def new_user(docker, prefix="d"):
    """A user name no earlier run used, and its container's name to clean up."""
    user = f"{prefix}{uuid.uuid4().hex[:8]}"
    docker.names.append(f"jupyter-{user}")
    return user


def docker_config(engine, spawner=None, docker=None, **jupyterhub):
    cfg = {
        "JupyterHub": {"authenticator_class": "shared-password", "spawner_class": "docker",
                       "api_tokens": {"admin-token-0123456789abcdef": "admin"},
                       "tornado_settings": {"slow_spawn_timeout": 0}},
        "Authenticator": {"admin_users": ["admin"], "allow_all": True},
        "SharedPasswordAuthenticator": {"user_password": PASSWORD},
        "Spawner": {
            "ip": "127.0.0.1",
            "args": ["--allow-root"],  # root in the container
            "environment": {"JUPYTERHUB_SINGLEUSER_APP": "notebook.notebookapp.NotebookApp"},
            "start_timeout": 60,
            "http_timeout": 30,
        },
        "DockerSpawner": {
            "host": f"unix://{engine.sock}",
            "image": IMAGE,
            "pull_policy": "never",
            "network_name": "host",
            "cmd": [SINGLEUSER],
            "extra_host_config": {"Binds": ["/usr:/usr:ro"]},
            "remove": True,
        },
    }
    cfg["Spawner"].update(spawner or {})
    cfg["DockerSpawner"].update(docker or {})
    cfg["JupyterHub"].update(jupyterhub)
    return cfg


def browser_login(hub, user):
    """A requests session logged in through the proxy, as a browser would."""
    s = requests.Session()
    page = s.get(hub.public_url + "/hub/login", timeout=10)
    m = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
    assert m, f"no login form: {page.status_code} {page.text[:300]!r}"
    xsrf = m.group(1)
    r = s.post(hub.public_url + "/hub/login", timeout=10, allow_redirects=False,
               data={"username": user, "password": PASSWORD, "_xsrf": xsrf})
    assert r.status_code == 302, r.text
    return s


def failed_start(hub, user, **kw):
    """Start @user's server, expect it to fail; returns the failure message of the progress
    stream after checking that the server is gone and the hub still serves."""
    r = start(hub, user, **kw)
    assert r.status_code in (202, 500), r.text
    events = progress_events(hub, user, timeout=90)
    assert events[-1].get("failed") is True, events
    wait_stopped(hub, user, timeout=60)
    assert Api(hub)("GET", "/users/" + user).status_code == 200
    return events[-1]["message"]


def test_start_from_the_browser_into_the_notebook(docker, hub_factory):
    user = new_user(docker)
    cfg = docker_config(docker, spawner={"mem_limit": "256M", "cpu_limit": 0.5},
                        docker={"post_start_cmd": ["/usr/bin/python3", "-c",
                                                   "print('post-start ran')"]})
    hub = hub_factory(config=cfg)
    info = Api(hub)("GET", "/info").json()
    assert info["spawner"]["class"] == "dockerspawner.dockerspawner.DockerSpawner"
    s = browser_login(hub, user)
    # "Start My Server": /hub/spawn starts it and sends the browser to the pending page.
    r = s.get(hub.public_url + "/hub/spawn", timeout=10, allow_redirects=False)
    assert r.status_code == 302, r.text
    events = progress_events(hub, user, timeout=90)
    messages = [e["message"] for e in events]
    assert events[-1].get("ready") is True, events
    assert any(m.startswith("Creating container jupyter-" + user) for m in messages), messages
    assert any(m.startswith("Starting container jupyter-" + user) for m in messages), messages
    assert any(m.startswith("Waiting for the server to answer at http://127.0.0.1:")
               for m in messages), messages
    assert [e["progress"] for e in events] == sorted(e["progress"] for e in events)

    # The notebook, through the proxy and the OAuth redirects, as a browser gets it.
    r = s.get(hub.public_url + f"/user/{user}/tree", timeout=30)
    assert r.status_code == 200, r.text[:500]
    assert r.url == hub.public_url + f"/user/{user}/tree" and "Jupyter" in r.text
    hops = [h.headers.get("Location", "") for h in r.history]
    assert any(f"/user/{user}/oauth_callback" in h for h in hops), hops

    # What the engine was asked for.
    model = server_model(hub, user)
    assert model["state"]["object_name"] == f"jupyter-{user}"
    c = docker.inspect(f"jupyter-{user}")
    assert c["Id"] == model["state"]["object_id"]
    assert c["State"]["Running"] is True
    assert image_of(c) == IMAGE
    assert c["HostConfig"]["NetworkMode"] == "host"
    assert c["HostConfig"]["Memory"] == 256 * 1024 * 1024
    assert c["HostConfig"]["CpuQuota"] == 50000 and c["HostConfig"]["CpuPeriod"] == 100000
    assert c["Config"]["Labels"]["hub.jupyter.org/username"] == user
    env = dict(e.split("=", 1) for e in c["Config"]["Env"])
    assert env["JUPYTERHUB_USER"] == user and env["JUPYTER_IMAGE_SPEC"] == IMAGE
    assert env["MEM_LIMIT"] == str(256 * 1024 * 1024)
    assert c["Config"]["Cmd"] == [SINGLEUSER, "--allow-root"]
    assert "post-start ran" in hub.log()
    assert env["JUPYTERHUB_API_TOKEN"] not in hub.log()

    # Stop: the container goes (remove = True), and so does the route.
    assert Api(hub)("DELETE", f"/users/{user}/server").status_code in (202, 204)
    wait_stopped(hub, user)
    assert docker.inspect(f"jupyter-{user}") is None
    assert requests.get(hub.public_url + f"/user/{user}/api", timeout=10,
                        allow_redirects=False).status_code != 200


def test_real_browser_click_to_notebook_in_a_container(docker, hub_factory):
    """Chromium: sign in, the spawn-pending page, the notebook served from the container, then
    "Stop My Server" on the home page removes the container."""
    user = new_user(docker, prefix="b")
    # A container is up within moments, sometimes before the browser asks for the pending
    # page (which then sends it straight on): a post-start command that takes 2 s keeps the
    # pending page in the path.
    hub = hub_factory(config=docker_config(docker, docker={"post_start_cmd": ["/usr/bin/sleep",
                                                                              "2"]}))
    found = run_browser("spawn", url=hub.public_url, user=user, password=PASSWORD)
    assert found["notebookUrl"].startswith(hub.public_url + f"/user/{user}/tree")
    assert f"/hub/spawn-pending/{user}" in found["pages"], found["pages"]
    assert found["consoleErrors"] == [], found["consoleErrors"]
    wait_stopped(hub, user, timeout=60)
    assert docker.inspect(f"jupyter-{user}") is None


def test_image_choice_on_the_spawn_form(docker, hub_factory):
    user = new_user(docker)
    cfg = docker_config(docker, docker={
        "allowed_images": {"Standard": IMAGE, "Other <b>": OTHER_IMAGE}, "remove": False})
    hub = hub_factory(config=cfg)
    s = browser_login(hub, user)
    form = s.get(hub.public_url + "/hub/spawn", timeout=10)
    assert form.status_code == 200
    assert '<select class="form-control" name="image"' in form.text
    assert '<option value="Standard" selected>Standard</option>' in form.text
    assert "Other &lt;b&gt;" in form.text and "Other <b>" not in form.text
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text).group(1)
    r = s.post(hub.public_url + "/hub/spawn", timeout=10, allow_redirects=False,
               data={"image": "Other <b>", "_xsrf": xsrf})
    assert r.status_code == 302, r.text
    wait_ready(hub, user, timeout=90)
    c = docker.inspect(f"jupyter-{user}")
    assert image_of(c) == OTHER_IMAGE
    # remove = False: a stopped container stays (for its logs) until the next start.
    assert Api(hub)("DELETE", f"/users/{user}/server").status_code in (202, 204)
    wait_stopped(hub, user)
    c2 = docker.inspect(f"jupyter-{user}")
    assert c2["Id"] == c["Id"] and c2["State"]["Running"] is False
    # The next start (with the same choice, kept as JupyterHub keeps user_options) replaces it
    # with a fresh container, so configuration changes apply (dockerspawner#423).
    assert start(hub, user).status_code in (201, 202)
    wait_ready(hub, user, timeout=90)
    c3 = docker.inspect(f"jupyter-{user}")
    assert c3["Id"] != c["Id"] and image_of(c3) == OTHER_IMAGE
    assert c3["State"]["Running"] is True

    # An image outside allowed_images is refused with the list of choices.
    other = new_user(docker)
    Api(hub)("POST", f"/users/{other}")
    msg = failed_start(hub, other, options={"image": "evil/miner:latest"})
    assert "Image 'evil/miner:latest' is not allowed" in msg and "Standard" in msg


def test_stop_grace_period_then_kill(docker, hub_factory):
    # A server that ignores its stop signal gets the container's StopTimeout, then SIGKILL.
    user = new_user(docker)
    hub = hub_factory(config=docker_config(docker, docker={
        "remove": False,
        "extra_create_kwargs": {"stop_signal": "SIGWINCH", "stop_timeout": 2}}))
    Api(hub)("POST", f"/users/{user}")
    assert start(hub, user).status_code in (201, 202)
    wait_ready(hub, user, timeout=90)
    t0 = time.monotonic()
    assert Api(hub)("DELETE", f"/users/{user}/server").status_code in (202, 204)
    wait_stopped(hub, user, timeout=30)
    assert time.monotonic() - t0 >= 1.5
    c = docker.inspect(f"jupyter-{user}")
    assert c["State"]["Running"] is False and c["State"]["ExitCode"] == 137


def test_named_server(docker, hub_factory):
    user = new_user(docker)
    docker.names.append(f"jupyter-{user}--gpu-2d1")
    # Written as a JupyterHub config would have it: the Python class path, Spawner.cmd.
    cfg = docker_config(docker, spawner={"cmd": [SINGLEUSER]}, allow_named_servers=True,
                        spawner_class="dockerspawner.DockerSpawner")
    del cfg["DockerSpawner"]["cmd"]
    hub = hub_factory(config=cfg)
    Api(hub)("POST", f"/users/{user}")
    assert start(hub, user, "GPU-1").status_code in (201, 202)
    wait_ready(hub, user, "GPU-1", timeout=90)
    # dockerspawner's default name for a named server: {prefix}-{username}--{servername}.
    c = docker.inspect(f"jupyter-{user}--gpu-2d1")
    assert c["State"]["Running"] is True
    assert c["Config"]["Cmd"] == [SINGLEUSER, "--allow-root"]
    assert c["Config"]["Labels"]["hub.jupyter.org/servername"] == "GPU-1"
    r = requests.get(hub.public_url + f"/user/{user}/GPU-1/api", timeout=10)
    assert r.status_code == 200 and "version" in r.json()
    assert Api(hub)("DELETE", f"/users/{user}/servers/GPU-1").status_code in (202, 204)
    wait_stopped(hub, user, "GPU-1")
    assert docker.inspect(f"jupyter-{user}--gpu-2d1") is None


def test_named_volume_kept_across_starts(docker, hub_factory):
    user = new_user(docker)
    volume = f"gmtest-{user}"
    docker.volumes.append(volume)
    cfg = docker_config(docker, docker={
        "volumes": {"gmtest-{username}": "/home/jovyan/work"},
        # docker-py's names work as dockerspawner's configurations have them.
        "extra_create_kwargs": {"working_dir": "/home/jovyan"}})
    hub = hub_factory(config=cfg)
    api = Api(hub)
    api("POST", f"/users/{user}")
    token = api.token_for(user)
    headers = {"Authorization": f"token {token}"}
    assert start(hub, user).status_code in (201, 202)
    wait_ready(hub, user, timeout=90)
    mountpoint = docker.volume(volume)["Mountpoint"]
    c = docker.inspect(f"jupyter-{user}")
    # (podman adds its default options after the mode)
    assert any(b.startswith(f"{volume}:/home/jovyan/work:rw") for b in c["HostConfig"]["Binds"])
    assert c["Config"]["WorkingDir"] == "/home/jovyan"
    url = hub.public_url + f"/user/{user}/api/contents/work/note.txt"
    r = requests.put(url, headers=headers, timeout=30,
                     json={"type": "file", "format": "text", "content": "kept"})
    assert r.status_code in (200, 201), r.text

    assert api("DELETE", f"/users/{user}/server").status_code in (202, 204)
    wait_stopped(hub, user)
    assert docker.inspect(f"jupyter-{user}") is None  # removed, its named volume kept
    assert docker.volume(volume)["Mountpoint"] == mountpoint

    assert start(hub, user).status_code in (201, 202)
    wait_ready(hub, user, timeout=90)
    r = requests.get(url, headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["content"] == "kept"


def test_hub_restart_takes_the_running_container_over(docker, hub_factory, tmp_path):
    user = new_user(docker)
    cfg = docker_config(docker)
    hub = hub_factory(config=cfg, args=["--JupyterHub.cleanup_servers=False",
                                        "--JupyterHub.cleanup_proxy=False"])
    Api(hub)("POST", f"/users/{user}")
    assert start(hub, user).status_code in (201, 202)
    wait_ready(hub, user, timeout=90)
    cid = server_model(hub, user)["state"]["object_id"]
    hub.stop()
    # No hub: the container and the proxy keep serving.
    assert docker.inspect(cid)["State"]["Running"] is True
    assert requests.get(hub.public_url + f"/user/{user}/api", timeout=10).status_code == 200

    hub2 = hub_factory(config=cfg, state_dir=tmp_path, name="hub2", start=False)
    hub2.proxy_port, hub2.proxy_api_port = hub.proxy_port, hub.proxy_api_port
    hub2.public_url = hub.public_url
    hub2.start()
    model = server_model(hub2, user)
    assert model["ready"] is True and model["state"]["object_id"] == cid
    # The poll at start asked the engine about it, and left it running.
    assert "Found 1 server(s) running before this start" in hub2.log()
    assert requests.get(hub2.public_url + f"/user/{user}/api", timeout=10).status_code == 200
    assert docker.inspect(cid)["Id"] == cid
    assert Api(hub2)("DELETE", f"/users/{user}/server").status_code in (202, 204)
    wait_stopped(hub2, user)
    assert docker.inspect(cid) is None


def test_container_gone_while_the_hub_was_down_is_dropped(docker, hub_factory, tmp_path):
    user = new_user(docker)
    cfg = docker_config(docker)
    hub = hub_factory(config=cfg, args=["--JupyterHub.cleanup_servers=False"])
    Api(hub)("POST", f"/users/{user}")
    assert start(hub, user).status_code in (201, 202)
    wait_ready(hub, user, timeout=90)
    hub.stop()
    docker.remove(f"jupyter-{user}")
    hub2 = hub_factory(config=cfg, state_dir=tmp_path, name="hub2")
    wait_for(lambda: server_model(hub2, user) is None, 30, what="the gone container dropped")
    assert f"/user/{user}/" not in Api(hub2)("GET", "/proxy").json()


def test_container_that_exits_at_start(docker, hub_factory):
    user = new_user(docker)
    script = ("import sys; print('loading /etc/jupyter/site.py'); "
              "print('ValueError: c.ServerApp.port is not an int', file=sys.stderr); "
              "sys.exit(3)")
    cfg = docker_config(docker, spawner={"args": []},
                        docker={"cmd": ["/usr/bin/python3", "-c", script], "remove": False})
    hub = hub_factory(config=cfg)
    s = browser_login(hub, user)
    msg = failed_start(hub, user)
    assert f"Container jupyter-{user} exited with code 3" in msg, msg
    assert "ValueError: c.ServerApp.port is not an int" in msg
    assert "loading /etc/jupyter/site.py" in msg
    # The same on the page the browser lands on.
    page = s.get(hub.public_url + f"/hub/spawn-pending/{user}", timeout=10)
    assert "exited with code 3" in page.text and "is not an int" in page.text
    # remove = False keeps the failed container for `docker logs`.
    assert docker.inspect(f"jupyter-{user}")["State"]["ExitCode"] == 3


def test_missing_image_with_pull_policy_never(docker, hub_factory):
    user = new_user(docker)
    hub = hub_factory(config=docker_config(docker, docker={"image": "hubtest/absent:1.0"}))
    Api(hub)("POST", f"/users/{user}")
    msg = failed_start(hub, user)
    assert "Image hubtest/absent:1.0 is not present on the Docker engine" in msg, msg
    assert "pull_policy is 'never'" in msg
    assert docker.inspect(f"jupyter-{user}") is None


def test_missing_image_that_cannot_be_pulled(docker, hub_factory):
    user = new_user(docker)
    hub = hub_factory(config=docker_config(docker, docker={"image": "hubtest/absent:1.0",
                                                            "pull_policy": "ifnotpresent"}))
    Api(hub)("POST", f"/users/{user}")
    t0 = time.monotonic()
    msg = failed_start(hub, user)
    assert "Image hubtest/absent:1.0 is not on the Docker engine and pulling it failed" in msg, msg
    assert time.monotonic() - t0 < 45  # the engine's answer, not a timeout
    assert "Pulling image hubtest/absent:1.0" in hub.log()


def test_name_conflict_with_a_foreign_container(docker, hub_factory):
    user = new_user(docker)
    name = f"jupyter-{user}"
    status, body = docker.call("POST", f"/containers/create?name={name}",
                               {"Image": IMAGE, "Cmd": ["/usr/bin/true"],
                                "HostConfig": {"NetworkMode": "host",
                                               "Binds": ["/usr:/usr:ro"]}})
    assert status == 201, body
    hub = hub_factory(config=docker_config(docker))
    Api(hub)("POST", f"/users/{user}")
    msg = failed_start(hub, user)
    assert f"A container named {name} already exists" in msg, msg
    assert "not made by this hub" in msg and "name_template" in msg
    # Not ours: left alone.
    assert docker.inspect(name)["Id"] == body["Id"]


def test_container_left_by_dockerspawner_is_kept_aside(docker, hub_factory):
    # Moving from JupyterHub: dockerspawner (remove = False) left a stopped container with the
    # user's files in it. It is renamed, not deleted, and the server starts in a new one.
    user = new_user(docker)
    name = f"jupyter-{user}"
    status, body = docker.call("POST", f"/containers/create?name={name}",
                               {"Image": IMAGE, "Cmd": ["/usr/bin/true"],
                                "Env": [f"JUPYTERHUB_USER={user}", "JUPYTERHUB_SERVER_NAME="],
                                "HostConfig": {"NetworkMode": "host",
                                               "Binds": ["/usr:/usr:ro"]}})
    assert status == 201, body
    kept = f"{name}-previous-{body['Id'][:12]}"
    docker.names.append(kept)
    hub = hub_factory(config=docker_config(docker))
    Api(hub)("POST", f"/users/{user}")
    assert start(hub, user).status_code in (201, 202)
    wait_ready(hub, user, timeout=90)
    assert docker.inspect(kept)["Id"] == body["Id"]
    assert docker.inspect(name)["Id"] != body["Id"]
    assert f"keeping it as {kept}" in hub.log()


def test_engine_down(docker, hub_factory, tmp_path):
    user = new_user(docker)
    sock = tmp_path / "no-engine.sock"
    hub = hub_factory(config=docker_config(docker, docker={"host": f"unix://{sock}"}))
    Api(hub)("POST", f"/users/{user}")
    msg = failed_start(hub, user)
    assert f"Cannot reach the Docker engine at unix://{sock}" in msg, msg
    assert "Is it running?" in msg


def test_engine_that_does_not_answer(docker, hub_factory, tmp_path):
    user = new_user(docker)
    sock = str(tmp_path / "slow-engine.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(sock)
    server.listen(8)
    held = []
    stop = threading.Event()

    def accept():  # accepts and never answers
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        hub = hub_factory(config=docker_config(docker, docker={
            "host": f"unix://{sock}", "client_kwargs": {"timeout": 1}}))
        Api(hub)("POST", f"/users/{user}")
        t0 = time.monotonic()
        msg = failed_start(hub, user)
        assert f"The Docker engine at unix://{sock} did not answer in time" in msg, msg
        assert "client_kwargs" in msg
        assert time.monotonic() - t0 < 30
        assert held  # it was asked
    finally:
        stop.set()
        t.join(5)
        for c in held:
            c.close()
        server.close()


@pytest.mark.parametrize("settings, message", [
    ({"extra_host_config": {"mem_limt": "1g"}},
     "DockerSpawner.extra_host_config: 'mem_limt' is neither a docker-py argument"),
    ({"name_template": "{prefix}-{user}"}, "DockerSpawner.name_template ({prefix}-{user}) does "
                                           "not format at \"{user}\""),
    ({"volumes": {"home-{nobody}": "/home/jovyan"}}, "DockerSpawner.volumes: 'home-{nobody}'"),
    ({"tls_config": {"verify": True}}, "DockerSpawner.tls_config is not supported"),
    ({"client_kwargs": {"tls": True}}, "DockerSpawner.client_kwargs[\"tls\"] is not supported"),
    ({"host": "ssh://me@engine"}, "only unix:// sockets and plain tcp://"),
    ({"container_port": 9000}, "set DockerSpawner.port instead"),
    ({"pull_policy": "sometimes"}, "one of ifnotpresent, always, never, skip"),
])
def test_bad_configuration_is_refused_at_startup(docker, hub_factory, settings, message):
    hub = hub_factory(config=docker_config(docker, docker=settings), start=False)
    hub.start(wait=False)
    assert hub.wait(30) != 0
    assert message in hub.log(), hub.log()[-2000:]


def test_old_dockerspawner_settings_still_start(docker, hub_factory):
    user = new_user(docker)
    hub = hub_factory(config=docker_config(docker, docker={
        "image": "hubtest/absent:1.0", "remove": False,
        "container_image": IMAGE, "remove_containers": True, "hub_ip_connect": "10.0.0.1",
        "use_docker_client_env": False, "image_whitelist": [IMAGE]}))
    log = hub.log()
    assert "DockerSpawner.container_image is deprecated; use DockerSpawner.image" in log
    assert "DockerSpawner.hub_ip_connect is deprecated and ignored" in log
    Api(hub)("POST", f"/users/{user}")
    assert start(hub, user, options={"image": IMAGE}).status_code in (201, 202)
    wait_ready(hub, user, timeout=90)
    assert image_of(docker.inspect(f"jupyter-{user}")) == IMAGE  # container_image = image
    assert Api(hub)("DELETE", f"/users/{user}/server").status_code in (202, 204)
    wait_stopped(hub, user)
    assert docker.inspect(f"jupyter-{user}") is None  # remove_containers = remove


def test_user_and_group_from_auth_state(docker, hub_factory):
    """DockerSpawner.auth_state_uid_key / gid_key (Ganymede): the container's User from the
    user's auth_state; missing, it is refused with the setting named."""
    from test_login import CRYPT_KEY
    user, other = new_user(docker), new_user(docker)
    cfg = docker_config(docker, docker={"auth_state_uid_key": "oauth_user.id",
                                        "auth_state_gid_key": "oauth_user.gid"})
    cfg["Authenticator"]["enable_auth_state"] = True
    hub = hub_factory(config=cfg, env={"JUPYTERHUB_CRYPT_KEY": CRYPT_KEY})
    for u, state in ((user, {"oauth_user": {"id": 0, "gid": "100"}}), (other, {"oauth_user": {}})):
        Api(hub)("POST", f"/users/{u}")
        assert Api(hub)("PATCH", f"/users/{u}", json={"auth_state": state}).status_code == 200
    assert start(hub, user).status_code in (201, 202)
    wait_ready(hub, user, timeout=90)
    assert docker.inspect(f"jupyter-{user}")["Config"]["User"] == "0:100"
    r = start(hub, other)
    assert r.status_code in (202, 500), r.text
    wait_stopped(hub, other, timeout=60)
    assert "The user's auth_state has no 'oauth_user.id' (DockerSpawner.auth_state_uid_key)" in \
        hub.log()
    assert docker.inspect(f"jupyter-{other}") is None


def test_the_docs_example(docker, hub_factory):
    """docs/docker-spawner.md's example starts a server as written, with what this machine
    needs after it: the recipes' engine, the test image (its /usr from the host) and a login."""
    import re
    text = (Path(__file__).resolve().parents[2] / "docs" / "docker-spawner.md").read_text()
    block = re.search(r"## Example.*?```python\n(.*?)```", text, re.S).group(1)
    assert 'c.JupyterHub.spawner_class = "docker"' in block
    user = new_user(docker)
    docker.volumes.append(f"jupyterhub-user-{user}")
    overrides = f'''
c.DockerSpawner.host = "unix://{docker.sock}"
c.DockerSpawner.image = "{IMAGE}"
c.DockerSpawner.pull_policy = "never"
c.DockerSpawner.cmd = ["{SINGLEUSER}"]
c.DockerSpawner.extra_host_config = {{"Binds": ["/usr:/usr:ro"]}}
c.Spawner.args = ["--allow-root"]
c.Spawner.environment = {{"JUPYTERHUB_SINGLEUSER_APP": "notebook.notebookapp.NotebookApp"}}
c.JupyterHub.authenticator_class = "shared-password"
c.JupyterHub.api_tokens = {{"admin-token-0123456789abcdef": "admin"}}
c.Authenticator.admin_users = ["admin"]
c.Authenticator.allow_all = True
c.SharedPasswordAuthenticator.user_password = "{PASSWORD}"
'''
    hub = hub_factory(config=block + overrides, config_name="jupyterhub_config.py")
    Api(hub)("POST", f"/users/{user}")
    assert start(hub, user).status_code in (201, 202)
    wait_ready(hub, user, timeout=90)
    c = docker.inspect(f"jupyter-{user}")
    assert c["HostConfig"]["NetworkMode"] == "host"
    assert c["HostConfig"]["Memory"] == 2 * 1024 ** 3
    assert c["HostConfig"]["CpuQuota"] == 100000 and c["HostConfig"]["CpuPeriod"] == 100000
    assert any(m.get("Name") == f"jupyterhub-user-{user}" for m in c["Mounts"]), c["Mounts"]
    assert Api(hub)("DELETE", f"/users/{user}/server").status_code in (202, 204)
    wait_stopped(hub, user)
    assert docker.inspect(f"jupyter-{user}") is None  # remove = True
    assert docker.volume(f"jupyterhub-user-{user}") is not None  # the named volume stays
