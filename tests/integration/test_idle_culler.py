"""`ganymede idle-culler` (src/services/idle_culler.c): jupyterhub-idle-culler's flags and
behaviour, run as a managed service as zero-to-jupyterhub's cull.* runs the Python one. A
server idle past --timeout is stopped; with --cull-admin-users=false an admin's is left; bad
flags are refused with a message."""
import subprocess

from conftest import ADMIN_TOKEN, BIN
from spawn_helpers import api, server_model, spawn_config, start, wait_for, wait_ready


def culler_config(*flags):
    cfg = spawn_config(load_roles=[{
        "name": "idle-culler", "services": ["idle-culler"],
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers",
                   "admin:users"]}],
        services=[{"name": "idle-culler", "command": [BIN, "idle-culler", *flags]}])
    cfg["Authenticator"]["admin_users"] = ["admin", "boss"]
    return cfg


def test_idle_servers_are_culled_and_admins_kept(hub_factory):
    hub = hub_factory(config=culler_config("--timeout=3", "--cull-every=1",
                                           "--cull-admin-users=false"))
    for u in ("alice", "boss"):
        api(hub)("POST", f"/users/{u}")
        assert start(hub, u).status_code in (201, 202)
    for u in ("alice", "boss"):
        wait_ready(hub, u)
    # The fake server never reports activity: alice's is idle from its start.
    wait_for(lambda: server_model(hub, "alice") is None, 30, what="alice's idle server culled")
    # The culler logs once the hub answered its DELETE, which can come after the server left
    # the hub's model (on PostgreSQL the answer waits for the write to be durable).
    wait_for(lambda: "Culled server alice/ (inactive for" in hub.log(), 30,
             what="the culler's log line")
    assert server_model(hub, "boss")["ready"] is True  # an admin's, left alone
    assert "boss" not in [l for l in hub.log().splitlines() if "Culled" in l]


def test_bad_flags_are_refused():
    p = subprocess.run([BIN, "idle-culler", "--timeout=soon"], capture_output=True, text=True,
                       timeout=30, env={"JUPYTERHUB_API_TOKEN": ADMIN_TOKEN})
    assert p.returncode == 2 and "bad argument '--timeout=soon'" in p.stderr
    p = subprocess.run([BIN, "idle-culler"], capture_output=True, text=True, timeout=30, env={})
    assert p.returncode == 2 and "JUPYTERHUB_API_TOKEN is not set" in p.stderr
