"""The Kubernetes spawner (spawner_class = "kubespawner") against the Kubernetes API simulator
of ../shared/recipes/start-kube-api.sh: the core/v1 API's wire format with watches, events, a
scheduler, PVC provisioning, quota admission and a kubelet that runs the image `local/exec` as
a local process, so the real jupyterhub-singleuser runs in a "pod". Pods use the host network
here: the server listens on 127.0.0.1 at the port the hub picked (KubeSpawner.port = 0, a
Ganymede extension) and the hub reaches it at status.podIP (127.0.0.1) through the real
configurable-http-proxy.

Each test works in a namespace of its own, made through the API and deleted afterwards, so
pytest-xdist workers do not see each other's pods. Where the simulator and a real API server
may differ, the test follows the real API's documented behaviour and says so."""
import fcntl
import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import BIN, RECIPES, RECIPES_STATE, Api
from spawn_helpers import (PASSWORD, progress_events, server_model, start, wait_for, wait_ready,
                           wait_stopped)

SINGLEUSER = shutil.which("jupyterhub-singleuser") or "/usr/bin/jupyterhub-singleuser"
IMAGE = "local/exec"


class Kube:
    """The simulator's address and credentials, and a few raw API calls for the tests' checks."""

    def __init__(self, env):
        self.env = env
        self.url = env["KUBE_API_URL"]
        self.token = env["KUBE_API_TOKEN"]

    def call(self, method, path, body=None, timeout=20, **params):
        r = requests.request(method, self.url + path, json=body, params=params, timeout=timeout,
                             headers={"Authorization": f"Bearer {self.token}"})
        try:
            return r.status_code, r.json()
        except ValueError:
            return r.status_code, r.text

    def get(self, path, **params):
        status, body = self.call("GET", path, **params)
        return body if status == 200 else None

    def pods(self, ns, **params):
        return self.get(f"/api/v1/namespaces/{ns}/pods", **params)["items"]

    def pod(self, ns, name):
        return self.get(f"/api/v1/namespaces/{ns}/pods/{name}")

    def events(self, ns):
        return self.get(f"/api/v1/namespaces/{ns}/events")["items"]


def _recipe(*args):
    return subprocess.run([str(RECIPES / "start-kube-api.sh"), *args], capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="session")
def kube():
    """The simulator, started once (the recipe is idempotent; one worker at a time)."""
    if not (RECIPES / "start-kube-api.sh").exists():
        pytest.skip(f"no recipes at {RECIPES} (set GANYMEDE_RECIPES)")
    if not os.path.exists(SINGLEUSER):
        pytest.skip("jupyterhub-singleuser is not installed (Debian's jupyterhub)")
    helps = subprocess.run([BIN, "--help-config"], capture_output=True, text=True, timeout=60)
    if "KubeSpawner" not in helps.stdout:
        pytest.skip("this build has no Kubernetes spawner (-Dkubernetes=disabled)")
    RECIPES_STATE.mkdir(parents=True, exist_ok=True)
    with open(RECIPES_STATE / ".ganymede-kube-tests.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        p = _recipe()
        if p.returncode != 0:
            pytest.skip(f"the Kubernetes API simulator cannot start: {(p.stderr or p.stdout)[-800:]}")
        out = _recipe("env").stdout
    env = dict(re.findall(r"(\w+)='?([^' \n]*)'?", out.replace("export ", "")))
    for k in ("KUBE_API_URL", "KUBE_API_TOKEN", "KUBE_SA_DIR", "KUBECONFIG"):
        assert k in env, f"start-kube-api.sh env said no {k}: {out!r}"
    return Kube(env)


@pytest.fixture
def ns(kube):
    """A namespace of the test's own."""
    name = "t-" + uuid.uuid4().hex[:10]
    status, body = kube.call("POST", "/api/v1/namespaces",
                             {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    assert status == 201, body
    yield name
    kube.call("DELETE", f"/api/v1/namespaces/{name}")


def new_user(prefix="k"):
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def kube_env(kube, how="service-account"):
    """The hub's environment for the credentials @how: the in-cluster service account (the
    recipe's mount), or the kubeconfig (HTTPS with its CA and the token)."""
    if how == "service-account":
        return {"KUBERNETES_SERVICE_HOST": kube.env["KUBERNETES_SERVICE_HOST"],
                "KUBERNETES_SERVICE_PORT": kube.env["KUBERNETES_SERVICE_PORT"],
                "GANYMEDE_KUBE_SA_DIR": kube.env["KUBE_SA_DIR"]}
    return {"KUBERNETES_SERVICE_HOST": "", "KUBERNETES_SERVICE_PORT": "",
            "KUBECONFIG": kube.env["KUBECONFIG"]}


def kube_config(ns, spawner=None, kubespawner=None, **jupyterhub):
    cfg = {
        "JupyterHub": {"authenticator_class": "shared-password", "spawner_class": "kubespawner",
                       "api_tokens": {"admin-token-0123456789abcdef": "admin"},
                       "tornado_settings": {"slow_spawn_timeout": 0}},
        "Authenticator": {"admin_users": ["admin"], "allow_all": True},
        "SharedPasswordAuthenticator": {"user_password": PASSWORD},
        "Spawner": {
            "args": ["--allow-root"],  # the simulator's kubelet runs pods as root
            "environment": {"JUPYTERHUB_SINGLEUSER_APP": "notebook.notebookapp.NotebookApp"},
            "start_timeout": 60,
            "http_timeout": 30,
            "poll_interval": 2,
        },
        "KubeSpawner": {
            "namespace": ns,
            "image": IMAGE,
            "cmd": [SINGLEUSER],
            "ip": "127.0.0.1",
            "port": 0,
        },
    }
    cfg["Spawner"].update(spawner or {})
    cfg["KubeSpawner"].update(kubespawner or {})
    cfg["JupyterHub"].update(jupyterhub)
    return cfg


def make_hub(hub_factory, kube, cfg, how="service-account", **kw):
    return hub_factory(config=cfg, env=kube_env(kube, how), **kw)


def failed_start(hub, user, **kw):
    """Start @user's server and expect it to fail; returns the failure message after checking
    that the server is gone. A start refused before anything was asked of the API fails before
    the progress stream can be read: then the message is the hub's log line."""
    r = start(hub, user, **kw)
    assert r.status_code in (202, 500), r.text
    path = f"/hub/api/users/{user}/server/progress"
    with requests.get(hub.url + path, stream=True, timeout=90,
                      headers={"Authorization": "token admin-token-0123456789abcdef"}) as p:
        early = p.status_code == 400 and "is not starting" in p.text
    if early:
        wait_stopped(hub, user, timeout=60)
        m = wait_for(lambda: re.search(rf"Failed to start the server of '{user}': (.*)", hub.log()),
                     30, what="the failure in the log")
        return m.group(1)
    events = progress_events(hub, user, timeout=90)
    assert events[-1].get("failed") is True, events
    wait_stopped(hub, user, timeout=60)
    return events[-1]["message"]


def test_spawn_progress_notebook_and_stop(kube, ns, hub_factory):
    user = new_user()
    cfg = kube_config(ns, spawner={"mem_limit": "512M", "cpu_guarantee": 0.1},
                      kubespawner={"extra_labels": {"course": "phys-{username}"},
                                   "environment": {"COURSE": "phys"}})
    hub = make_hub(hub_factory, kube, cfg)
    info = Api(hub)("GET", "/info").json()
    assert info["spawner"]["class"] == "kubespawner.spawner.KubeSpawner"
    Api(hub)("POST", f"/users/{user}")
    t0 = time.monotonic()
    assert start(hub, user).status_code in (201, 202)
    events = progress_events(hub, user, timeout=90)
    assert events[-1].get("ready") is True, events
    messages = [e["message"] for e in events]
    # The pod's own events as KubeSpawner words them: "<time> [Normal] <message>".
    assert any(re.search(r"\[Normal\] Successfully assigned " + ns, m) for m in messages), messages
    assert any('[Normal] Pulling image "local/exec"' in m for m in messages), messages
    # (Started may come after the pod is Running: the events and pods watches are separate
    # streams, on a real API server as here.)
    assert [e["progress"] for e in events] == sorted(e["progress"] for e in events)

    pod_name = f"jupyter-{user}"
    pod = kube.pod(ns, pod_name)
    assert pod is not None
    md, spec = pod["metadata"], pod["spec"]
    # The labels zero-to-jupyterhub's network policies and services select.
    assert md["labels"]["component"] == "singleuser-server"
    assert md["labels"]["app.kubernetes.io/component"] == "singleuser-server"
    assert md["labels"]["hub.jupyter.org/username"] == user
    assert md["labels"]["app"] == "jupyterhub" and md["labels"]["heritage"] == "jupyterhub"
    assert md["labels"]["course"] == f"phys-{user}"
    assert md["annotations"]["hub.jupyter.org/username"] == user
    c = spec["containers"][0]
    assert c["name"] == "notebook" and c["image"] == IMAGE
    assert c["args"][0] == SINGLEUSER and "command" not in c
    assert c["resources"]["limits"]["memory"] == "512Mi"
    assert c["resources"]["requests"]["cpu"] == "100m"
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["JUPYTERHUB_USER"] == user and env["JUPYTER_IMAGE_SPEC"] == IMAGE
    assert env["JUPYTER_IMAGE"] == IMAGE and env["COURSE"] == "phys"
    token = env["JUPYTERHUB_API_TOKEN"]
    assert token not in hub.log()
    assert c["ports"][0]["name"] == "notebook-port"
    port = c["ports"][0]["containerPort"]

    # The state KubeSpawner 7 saves.
    model = server_model(hub, user)
    assert model["state"]["pod_name"] == pod_name and model["state"]["namespace"] == ns
    assert model["state"]["kubespawner_version"] == "7.1.0"
    assert model["url"] == f"/user/{user}/"

    # The notebook through the proxy, and a kernel.
    r = requests.get(hub.public_url + f"/user/{user}/api/status", timeout=20,
                     headers={"Authorization": f"token {token}"})
    assert r.status_code == 200, r.text
    r = requests.post(hub.public_url + f"/user/{user}/api/kernels", timeout=60,
                      headers={"Authorization": f"token {token}"}, json={})
    assert r.status_code == 201, r.text
    kernel = r.json()["id"]
    ws_url = hub.public_url.replace("http://", "ws://") + f"/user/{user}/api/kernels/{kernel}/channels"
    run_code_over_websocket(ws_url, token, "print(6 * 7)", "42")

    # Stop: the pod goes, and so does the route.
    assert Api(hub)("DELETE", f"/users/{user}/server").status_code in (202, 204)
    wait_stopped(hub, user)
    assert kube.pod(ns, pod_name) is None
    assert requests.get(hub.public_url + f"/user/{user}/api", timeout=10,
                        allow_redirects=False).status_code != 200
    assert time.monotonic() - t0 < 120
    with socket.socket() as s:  # the server process ended with its pod
        assert s.connect_ex(("127.0.0.1", port)) != 0


def run_code_over_websocket(url, token, code, expect):
    websocket = pytest.importorskip("websocket")
    ws = websocket.create_connection(url, header=[f"Authorization: token {token}"], timeout=60)
    try:
        msg_id = uuid.uuid4().hex
        import json
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": "test", "session": uuid.uuid4().hex,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False},
        }))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            m = json.loads(ws.recv())
            if m.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if m["msg_type"] == "stream":
                assert m["content"]["text"].strip() == expect
                return
            if m["msg_type"] == "error":
                raise AssertionError(m["content"])
        raise AssertionError("no output from the kernel")
    finally:
        ws.close()


def test_kubeconfig_credentials_over_https(kube, ns, hub_factory):
    """KUBECONFIG (current context: the HTTPS listener, its CA, a bearer token) instead of the
    service account."""
    user = new_user()
    hub = make_hub(hub_factory, kube, kube_config(ns), how="kubeconfig")
    assert "kubeconfig" in hub.log() and kube.token not in hub.log()
    Api(hub)("POST", f"/users/{user}")
    assert start(hub, user).status_code in (201, 202)
    wait_ready(hub, user, timeout=90)
    assert kube.pod(ns, f"jupyter-{user}")["status"]["phase"] == "Running"
    assert Api(hub)("DELETE", f"/users/{user}/server").status_code in (202, 204)
    wait_stopped(hub, user)
    assert kube.pod(ns, f"jupyter-{user}") is None


def test_hub_restart_adopts_the_pod_and_notices_one_deleted(kube, ns, hub_factory, tmp_path):
    user, other = new_user(), new_user()
    cfg = kube_config(ns)
    args = ["--JupyterHub.cleanup_servers=False", "--JupyterHub.cleanup_proxy=False"]
    hub = make_hub(hub_factory, kube, cfg, args=args)
    for u in (user, other):
        Api(hub)("POST", f"/users/{u}")
        assert start(hub, u).status_code in (201, 202)
    for u in (user, other):
        wait_ready(hub, u, timeout=90)
    uid = kube.pod(ns, f"jupyter-{user}")["metadata"]["uid"]
    hub.stop()
    # No hub: the pods and the proxy keep serving.
    assert kube.pod(ns, f"jupyter-{user}")["status"]["phase"] == "Running"
    assert requests.get(hub.public_url + f"/user/{user}/api", timeout=10).status_code == 200

    hub2 = hub_factory(config=cfg, state_dir=tmp_path, name="hub2", start=False,
                       env=kube_env(kube), args=args)
    hub2.proxy_port, hub2.proxy_api_port = hub.proxy_port, hub.proxy_api_port
    hub2.public_url = hub.public_url
    hub2.start()
    model = server_model(hub2, user)
    assert model["ready"] is True and model["state"]["pod_name"] == f"jupyter-{user}"
    assert kube.pod(ns, f"jupyter-{user}")["metadata"]["uid"] == uid  # the same pod
    assert requests.get(hub2.public_url + f"/user/{user}/api", timeout=10).status_code == 200

    # A pod deleted behind the hub's back: the poll (from the watch's cache) notices it.
    status, _ = kube.call("DELETE", f"/api/v1/namespaces/{ns}/pods/jupyter-{other}",
                          {"gracePeriodSeconds": 0})
    assert status == 200
    wait_for(lambda: server_model(hub2, other) is None, 30, what="the deleted pod noticed")
    assert server_model(hub2, user)["ready"] is True
    assert Api(hub2)("DELETE", f"/users/{user}/server").status_code in (202, 204)
    wait_stopped(hub2, user)
    assert kube.pod(ns, f"jupyter-{user}") is None


def test_pod_left_from_an_earlier_run_is_replaced(kube, ns, hub_factory):
    """A pod of the server's name that the hub does not know (a crashed hub's, a stale one) is
    deleted before the new one is made, as KubeSpawner does."""
    user = new_user()
    stale = {"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": f"jupyter-{user}", "labels": {"component": "singleuser-server"}},
             "spec": {"containers": [{"name": "notebook", "image": IMAGE,
                                      "command": ["/bin/sleep", "300"]}]}}
    status, body = kube.call("POST", f"/api/v1/namespaces/{ns}/pods", stale)
    assert status == 201, body
    old_uid = body["metadata"]["uid"]
    hub = make_hub(hub_factory, kube, kube_config(ns))
    Api(hub)("POST", f"/users/{user}")
    assert start(hub, user).status_code in (201, 202)
    wait_ready(hub, user, timeout=90)
    pod = kube.pod(ns, f"jupyter-{user}")
    assert pod["metadata"]["uid"] != old_uid
    assert pod["spec"]["containers"][0]["args"][0] == SINGLEUSER


def test_image_that_cannot_be_pulled_fails_at_once(kube, ns, hub_factory):
    user = new_user()
    hub = make_hub(hub_factory, kube, kube_config(ns, kubespawner={"image": "registry.invalid/nope:1"},
                                                  spawner={"start_timeout": 120}))
    Api(hub)("POST", f"/users/{user}")
    t0 = time.monotonic()
    msg = failed_start(hub, user)
    assert time.monotonic() - t0 < 60  # not start_timeout
    assert f"Pod jupyter-{user} cannot start: container notebook: ErrImagePull" in msg or \
        f"Pod jupyter-{user} cannot start: container notebook: ImagePullBackOff" in msg, msg
    wait_for(lambda: kube.pod(ns, f"jupyter-{user}") is None, 30, what="the pod deleted")


def test_server_that_exits_at_start_fails_with_its_exit(kube, ns, hub_factory):
    user = new_user()
    hub = make_hub(hub_factory, kube, kube_config(
        ns, kubespawner={"cmd": ["/bin/sh", "-c", "echo going; exit 3"]},
        spawner={"args": []}))
    Api(hub)("POST", f"/users/{user}")
    msg = failed_start(hub, user)
    assert f"Pod jupyter-{user} cannot start" in msg or "exited with status 3 before" in msg, msg
    assert "exited with code 3" in msg or "exited with status 3" in msg, msg
    wait_for(lambda: kube.pod(ns, f"jupyter-{user}") is None, 30, what="the pod deleted")


def test_quota_refusal_is_the_start_message(kube, ns, hub_factory):
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "small"},
             "spec": {"hard": {"limits.memory": "1Gi"}}}
    assert kube.call("POST", f"/api/v1/namespaces/{ns}/resourcequotas", quota)[0] == 201
    user = new_user()
    hub = make_hub(hub_factory, kube, kube_config(ns, spawner={"mem_limit": "2G"}))
    Api(hub)("POST", f"/users/{user}")
    msg = failed_start(hub, user)
    assert "The Kubernetes API refused creating the pod" in msg, msg
    assert "exceeded quota: small" in msg and "(HTTP 403)" in msg, msg
    assert kube.pod(ns, f"jupyter-{user}") is None


def test_invalid_manifest_gives_the_api_causes(kube, ns, hub_factory):
    user = new_user()
    hub = make_hub(hub_factory, kube, kube_config(
        ns, kubespawner={"extra_labels": {"bad key!": "x"}}))
    Api(hub)("POST", f"/users/{user}")
    msg = failed_start(hub, user)
    assert "The Kubernetes API refused creating the pod" in msg and "(HTTP 422)" in msg, msg
    assert "bad key!" in msg, msg
    assert kube.pod(ns, f"jupyter-{user}") is None


def test_uid_from_auth_state_missing_is_refused(kube, ns, hub_factory):
    user = new_user()
    hub = make_hub(hub_factory, kube, kube_config(
        ns, kubespawner={"auth_state_uid_key": "oauth_user.id"}))
    Api(hub)("POST", f"/users/{user}")
    msg = failed_start(hub, user)
    assert "KubeSpawner.auth_state_uid_key is set, but there is no auth_state" in msg, msg
    assert kube.pods(ns) == []


def test_storage_claim_made_once_and_kept_across_stops(kube, ns, hub_factory):
    user = new_user()
    hub = make_hub(hub_factory, kube, kube_config(ns, kubespawner={
        "storage_pvc_ensure": True, "storage_capacity": "1Gi",
        "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}],
        "volume_mounts": [{"name": "home", "mountPath": "/home/jovyan"}]}))
    Api(hub)("POST", f"/users/{user}")
    for _ in range(2):
        assert start(hub, user).status_code in (201, 202)
        wait_ready(hub, user, timeout=90)
        pvc = kube.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/claim-{user}")
        assert pvc and pvc["spec"]["resources"]["requests"]["storage"] == "1Gi"
        assert pvc["metadata"]["labels"]["component"] == "singleuser-storage"
        pod = kube.pod(ns, f"jupyter-{user}")
        assert pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == f"claim-{user}"
        assert server_model(hub, user)["state"]["pvc_name"] == f"claim-{user}"
        assert Api(hub)("DELETE", f"/users/{user}/server").status_code in (202, 204)
        wait_stopped(hub, user)
        assert kube.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/claim-{user}")
    # Deleting the user deletes the claim (KubeSpawner's delete_forever, delete_pvc = True).
    assert Api(hub)("DELETE", f"/users/{user}").status_code == 204
    wait_for(lambda: kube.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/claim-{user}")
             is None, 30, what="the claim deleted with its user")


def test_user_namespaces_with_a_quota(kube, hub_factory):
    hubns = "h" + uuid.uuid4().hex[:8]
    user = new_user()
    hub = make_hub(hub_factory, kube, kube_config(hubns, kubespawner={
        "enable_user_namespaces": True,
        "user_namespace_labels": {"hub.jupyter.org/owner": "{username}"},
        "user_namespace_resource_quota": {"hard": {"pods": "2", "limits.memory": "4Gi"}},
        "user_namespace_limit_range": {"limits": [{"type": "Container",
                                                   "default": {"memory": "256Mi"}}]}}))
    userns = f"{hubns}-{user}"
    try:
        Api(hub)("POST", f"/users/{user}")
        assert start(hub, user).status_code in (201, 202)
        wait_ready(hub, user, timeout=90)
        nsobj = kube.get(f"/api/v1/namespaces/{userns}")
        assert nsobj["metadata"]["labels"]["hub.jupyter.org/owner"] == user
        q = kube.get(f"/api/v1/namespaces/{userns}/resourcequotas")["items"]
        assert q and q[0]["spec"]["hard"]["pods"] == "2"
        pod = kube.pod(userns, f"jupyter-{user}")
        # The LimitRange's default applied by the API server's admission.
        assert pod["spec"]["containers"][0]["resources"]["limits"]["memory"] == "256Mi"
        assert server_model(hub, user)["state"]["namespace"] == userns
        assert Api(hub)("DELETE", f"/users/{user}/server").status_code in (202, 204)
        wait_stopped(hub, user)
        assert kube.pod(userns, f"jupyter-{user}") is None
    finally:
        kube.call("DELETE", f"/api/v1/namespaces/{userns}")


@pytest.mark.parametrize("settings, message", [
    ({"pod_name_template": "jupyter-{nobody}"},
     "KubeSpawner.pod_name_template (jupyter-{nobody}) does not format"),
    ({"pod_name_template": "Jupyter_{username}"}, "is not a valid Kubernetes name"),
    ({"storage_pvc_ensure": True}, "KubeSpawner.storage_pvc_ensure needs KubeSpawner.storage_capacity"),
    ({"storage_pvc_ensure": True, "storage_capacity": "lots"},
     "KubeSpawner.storage_capacity (lots) is not a Kubernetes quantity"),
    ({"extra_resource_limits": {"nvidia.com/gpu": "one"}}, "KubeSpawner.extra_resource_limits"),
    ({"slug_scheme": "fancy"}, "KubeSpawner.slug_scheme"),
    ({"profile_list": [{"slug": "x"}]}, "display_name"),
    ({"profile_form_template": "<b>{{ x }}</b>"}, "Jinja templates"),
])
def test_bad_settings_are_refused_at_startup(kube, ns, hub_factory, settings, message):
    hub = hub_factory(config=kube_config(ns, kubespawner=settings), env=kube_env(kube),
                      start=False)
    hub.start(wait=False)
    assert hub.wait(30) != 0
    assert message in hub.log(), hub.log()[-2000:]


def test_deprecated_singleuser_names_still_work(kube, ns, hub_factory):
    user = new_user()
    hub = make_hub(hub_factory, kube, kube_config(ns, kubespawner={
        "image": "quay.io/jupyterhub/singleuser:latest",
        "singleuser_image_spec": IMAGE, "singleuser_extra_labels": {"old": "yes"}}))
    assert "KubeSpawner.singleuser_image_spec is deprecated: use KubeSpawner.image" in hub.log()
    Api(hub)("POST", f"/users/{user}")
    assert start(hub, user).status_code in (201, 202)
    wait_ready(hub, user, timeout=90)
    pod = kube.pod(ns, f"jupyter-{user}")
    assert pod["spec"]["containers"][0]["image"] == IMAGE
    assert pod["metadata"]["labels"]["old"] == "yes"


ADMIN = {"Authorization": "token admin-token-0123456789abcdef"}


def metric(text, name, **labels):
    sel = ",".join(f'{k}="{v}"' for k, v in labels.items())
    m = re.search(rf"^{re.escape(name)}{{{re.escape(sel)}}} (\S+)$", text, re.M)
    assert m, f"no {name}{{{sel}}} in /hub/metrics"
    return float(m.group(1))


def test_watch_health_and_no_reads_beyond_the_watches(kube, ns, hub_factory):
    """/hub/health and /hub/metrics say how the watches are; three spawns and their polls make
    only writes: the two lists at start (pods, events) are the only reads (kubespawner#753)."""
    hub = make_hub(hub_factory, kube, kube_config(ns))
    health = wait_for(lambda: (lambda h: h if h.get("spawner", {}).get("ok") else None)(
        hub.get("/hub/health").json()), 30, what="the watches current")
    assert health["spawner"]["watches"]["pods"]["synced"] is True
    assert health["spawner"]["api"].startswith("https://127.0.0.1:")
    users = [new_user() for _ in range(3)]
    for u in users:
        Api(hub)("POST", f"/users/{u}")
        assert start(hub, u).status_code in (201, 202)
    for u in users:
        wait_ready(hub, u, timeout=90)
    wait_for(lambda: "ganymede_kube_watch_synced" in hub.get("/hub/metrics", headers=ADMIN).text, 10,
             what="metrics")
    # An absence takes time to show: watch 5 s of polls (Spawner.poll_interval = 2).
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        Api(hub)("GET", "/users")
        time.sleep(0.5)
    text = hub.get("/hub/metrics", headers=ADMIN).text
    assert metric(text, "ganymede_kube_watch_synced", kind="pods") == 1
    assert metric(text, "ganymede_kube_watch_relists_total", kind="pods") == 0
    assert metric(text, "ganymede_kube_api_requests_total", verb="list") == 2
    assert metric(text, "ganymede_kube_api_requests_total", verb="get") == 0
    assert metric(text, "ganymede_kube_api_requests_total", verb="create") == 3
    assert metric(text, "ganymede_kube_watch_objects", kind="pods") == 3


CRYPT_KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"


def test_uid_and_gid_from_auth_state(kube, ns, hub_factory):
    """KubeSpawner.auth_state_uid_key / gid_key: the pod runs as the ids the identity provider
    gave (what a callable uid does in KubeSpawner); a user whose auth_state lacks them, or
    holds something that is not an id, is refused with the setting named."""
    cfg = kube_config(ns, kubespawner={"auth_state_uid_key": "oauth_user.id",
                                       "auth_state_gid_key": "oauth_user.gid"})
    cfg["Authenticator"]["enable_auth_state"] = True
    hub = hub_factory(config=cfg, env=dict(kube_env(kube), JUPYTERHUB_CRYPT_KEY=CRYPT_KEY))
    good, missing, bad = new_user(), new_user(), new_user()
    # uid 0 (a string, as some providers send ids): the simulator's kubelet runs the real
    # jupyterhub-singleuser, which needs a writable HOME that another uid would not have here.
    for u, state in ((good, {"oauth_user": {"id": "0", "gid": 100}}),
                     (missing, {"oauth_user": {"id": 4243}}),
                     (bad, {"oauth_user": {"id": "-1", "gid": 100}})):
        Api(hub)("POST", f"/users/{u}")
        r = Api(hub)("PATCH", f"/users/{u}", json={"auth_state": state})
        assert r.status_code == 200, r.text
    assert start(hub, good).status_code in (201, 202)
    wait_ready(hub, good, timeout=90)
    sc = kube.pod(ns, f"jupyter-{good}")["spec"]["containers"][0]["securityContext"]
    assert sc["runAsUser"] == 0 and sc["runAsGroup"] == 100
    assert "The user's auth_state has no 'oauth_user.gid' (KubeSpawner.auth_state_gid_key)" in \
        failed_start(hub, missing)
    assert "The user's auth_state 'oauth_user.id' (KubeSpawner.auth_state_uid_key) is not an id" \
        in failed_start(hub, bad)
    assert kube.pod(ns, f"jupyter-{missing}") is None and kube.pod(ns, f"jupyter-{bad}") is None


PROFILES = [
    {"display_name": "Small", "slug": "small", "default": True,
     "kubespawner_override": {"mem_limit": "1G"}},
    {"display_name": "GPU (staff only)", "slug": "gpu", "allowed_groups": ["staff"],
     "kubespawner_override": {"mem_limit": "3G",
                              "extra_resource_limits": {"example.com/gpu": "1"}}},
    {"display_name": "Big", "slug": "big",
     "kubespawner_override": {"mem_limit": "2G", "extra_labels": {"size": "big"}}},
]


def browser_login(hub, user):
    s = requests.Session()
    page = s.get(hub.public_url + "/hub/login", timeout=10)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    r = s.post(hub.public_url + "/hub/login", timeout=10, allow_redirects=False,
               data={"username": user, "password": PASSWORD, "_xsrf": xsrf})
    assert r.status_code == 302, r.text
    return s


def test_profile_chosen_on_the_spawn_form_and_groups(kube, ns, hub_factory):
    """The form has KubeSpawner's fields; the profile chosen there shapes the pod; a profile
    open to a group is neither shown to nor accepted from others (Ganymede)."""
    user, staff = new_user(), new_user()
    hub = make_hub(hub_factory, kube, kube_config(ns, kubespawner={"profile_list": PROFILES}))
    Api(hub)("POST", f"/users/{staff}")
    assert Api(hub)("POST", "/groups/staff", json={"users": [staff]}).status_code == 201
    s = browser_login(hub, user)
    form = s.get(hub.public_url + "/hub/spawn", timeout=10)
    assert form.status_code == 200
    assert 'name="profile"' in form.text and 'value="big"' in form.text
    assert 'value="gpu"' not in form.text and "GPU (staff only)" not in form.text
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text).group(1)
    # Another's profile, posted anyway: refused with a message, nothing made.
    r = s.post(hub.public_url + "/hub/spawn", data={"profile": "gpu", "_xsrf": xsrf}, timeout=30,
               allow_redirects=False)
    if r.status_code in (302, 303):
        wait_stopped(hub, user, timeout=60)
        assert "No such profile: gpu" in hub.log()
    else:
        assert r.status_code == 400 and "No such profile: gpu" in r.text, r.text[:500]
    assert kube.pod(ns, f"jupyter-{user}") is None
    r = s.post(hub.public_url + "/hub/spawn", data={"profile": "big", "_xsrf": xsrf}, timeout=30,
               allow_redirects=False)
    assert r.status_code in (302, 303), r.text[:500]
    wait_ready(hub, user, timeout=90)
    pod = kube.pod(ns, f"jupyter-{user}")
    assert pod["spec"]["containers"][0]["resources"]["limits"]["memory"] == "2Gi"
    assert pod["metadata"]["labels"]["size"] == "big"
    assert server_model(hub, user)["user_options"] == {"profile": "big"}
    # Staff get the GPU profile through the REST API.
    assert start(hub, staff, options={"profile": "gpu"}).status_code in (201, 202)
    wait_ready(hub, staff, timeout=90)
    limits = kube.pod(ns, f"jupyter-{staff}")["spec"]["containers"][0]["resources"]["limits"]
    assert limits["memory"] == "3Gi" and limits["example.com/gpu"] == "1"


def test_rotated_service_account_token_is_read_again(kube, ns, hub_factory, tmp_path):
    """In a pod the kubelet rotates the service account's token file: the hub reads it again
    when it changes. Here it starts with a token the API server refuses (401: the caches cannot
    list), then the right one is written, and the hub lists and spawns without a restart."""
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    for f in ("ca.crt", "namespace"):
        (sa / f).write_bytes((Path(kube.env["KUBE_SA_DIR"]) / f).read_bytes())
    (sa / "token").write_text("not-the-token\n")
    env = dict(kube_env(kube), GANYMEDE_KUBE_SA_DIR=str(sa))
    hub = hub_factory(config=kube_config(ns), env=env)
    wait_for(lambda: "Listing Kubernetes pods failed" in hub.log(), 30, what="a refused list")
    assert "not-the-token" not in hub.log()
    tmp = sa / "token.new"
    tmp.write_text(kube.token + "\n")
    os.replace(tmp, sa / "token")  # as the kubelet swaps the file
    wait_for(lambda: hub.get("/hub/health").json()["spawner"]["ok"], 60,
             what="the watches current with the new token")
    user = new_user()
    Api(hub)("POST", f"/users/{user}")
    assert start(hub, user).status_code in (201, 202)
    wait_ready(hub, user, timeout=90)
    assert kube.token not in hub.log()


def test_services_enabled_gives_each_pod_a_service(kube, ns, hub_factory):
    """services_enabled: a ClusterIP service per pod, owned by it (so it goes with it), selecting
    it by KubeSpawner's labels. The simulator has no cluster DNS, so the hub reaches the pod
    at pod_connect_ip (which KubeSpawner too puts before the service's DNS name)."""
    user = new_user()
    hub = make_hub(hub_factory, kube, kube_config(ns, kubespawner={
        "services_enabled": True, "pod_connect_ip": "127.0.0.1"}))
    Api(hub)("POST", f"/users/{user}")
    assert start(hub, user).status_code in (201, 202)
    wait_ready(hub, user, timeout=90)
    pod = kube.pod(ns, f"jupyter-{user}")
    svc = kube.get(f"/api/v1/namespaces/{ns}/services/jupyter-{user}")
    assert svc is not None
    assert svc["spec"]["selector"]["hub.jupyter.org/username"] == user
    assert svc["spec"]["selector"]["component"] == "singleuser-server"
    owner = svc["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "Pod" and owner["uid"] == pod["metadata"]["uid"]
    assert server_model(hub, user)["state"]["dns_name"] == \
        f"jupyter-{user}.{ns}.svc.cluster.local"
    assert Api(hub)("DELETE", f"/users/{user}/server").status_code in (202, 204)
    wait_stopped(hub, user)
    wait_for(lambda: kube.get(f"/api/v1/namespaces/{ns}/services/jupyter-{user}") is None, 30,
             what="the service gone with its pod")
