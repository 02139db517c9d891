"""Configs and waits shared by the spawning tests."""
import copy
import json
import time
from pathlib import Path

import requests

from conftest import ADMIN_TOKEN, Api
from secrets_seen import remember

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ENV_SERVER = ["/usr/bin/python3", str(FIXTURES / "env_server.py")]
PASSWORD = "spawn-password-123"
remember(PASSWORD)


def spawn_config(cmd=None, spawner="simple", home=None, **jupyterhub):
    """A hub with an admin token, shared-password login and the simple spawner running @cmd
    (the fast env server by default)."""
    cfg = {
        "JupyterHub": {"authenticator_class": "shared-password", "spawner_class": spawner,
                       "api_tokens": {ADMIN_TOKEN: "admin"}},
        "Authenticator": {"admin_users": ["admin"], "allow_all": True},
        "SharedPasswordAuthenticator": {"user_password": PASSWORD},
        "Spawner": {"cmd": cmd or ENV_SERVER, "args": []},
    }
    if home:
        cfg["SimpleLocalProcessSpawner"] = {"home_dir_template": str(home) + "/{username}"}
    cfg["JupyterHub"].update(jupyterhub)
    return cfg


def with_section(cfg, section, **values):
    cfg = copy.deepcopy(cfg)
    cfg.setdefault(section, {}).update(values)
    return cfg


def api(hub):
    return Api(hub)


def wait_for(predicate, timeout=30, interval=0.1, what="condition"):
    """Poll @predicate until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def server_model(hub, user, server=""):
    r = Api(hub)("GET", f"/users/{user}")
    assert r.status_code == 200, r.text
    return r.json().get("servers", {}).get(server)


def wait_ready(hub, user, server="", timeout=60):
    return wait_for(lambda: (server_model(hub, user, server) or {}).get("ready"), timeout,
                    what=f"{user}/{server} ready")


def wait_stopped(hub, user, server="", timeout=60):
    return wait_for(lambda: server_model(hub, user, server) is None, timeout,
                    what=f"{user}/{server} stopped")


def start(hub, user, server="", options=None):
    """POST a start; returns the response (201, 202, ...)."""
    path = f"/users/{user}/server" if not server else f"/users/{user}/servers/{server}"
    kw = {"json": options} if options is not None else {}
    return Api(hub)("POST", path, **kw)


def progress_events(hub, user, server="", timeout=60, token=ADMIN_TOKEN):
    """Read the progress stream to its end; returns the events."""
    path = f"/hub/api/users/{user}/server/progress" if not server else \
        f"/hub/api/users/{user}/servers/{server}/progress"
    events = []
    with requests.get(hub.url + path, headers={"Authorization": f"token {token}"},
                      stream=True, timeout=timeout) as r:
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith(b"data: "):
                events.append(json.loads(line[6:]))
    return events
