"""The hub image of `./dev image` (tools/image/build.sh), run in the recipes' Docker engine:

- the OCI archive is a valid image layout with zero-to-jupyterhub's hub image settings;
- `docker run` with a plain configuration: the hub and the proxy it starts answer;
- as zero-to-jupyterhub's hub Deployment runs it: `jupyterhub --config
  /usr/local/etc/jupyterhub/jupyterhub_config.py --upgrade-db` with the chart's files mounted
  there, the service account at its in-cluster path and the chart's environment, against the
  Kubernetes API simulator: the hub comes up and a user's pod starts.

./dev test builds the image when the Docker engine can run here (GANYMEDE_IMAGE names it);
without it these tests skip, saying why. The containers use the host network (the recipes'
engine has no bridge)."""
import json
import os
import tarfile
import time
import uuid

import pytest
import requests

from conftest import ADMIN_TOKEN, free_port
from spawn_helpers import PASSWORD, start, wait_for, wait_ready, wait_stopped
from test_docker_spawner import Engine, engine  # noqa: F401 (fixture)
from test_kube_spawner import SINGLEUSER, kube, new_user, ns  # noqa: F401 (fixtures)
from test_kube_z2jh import chart_files

IMAGE = os.environ.get("GANYMEDE_IMAGE", "")
OCI = os.environ.get("GANYMEDE_IMAGE_OCI", "")


@pytest.fixture(scope="module")
def image(engine):  # noqa: F811
    if not IMAGE:
        pytest.skip("no hub image built (./dev test builds one: GANYMEDE_IMAGE)")
    status, _ = engine.call("GET", f"/images/{IMAGE}/json")
    if status != 200:
        pytest.fail(f"the hub image {IMAGE} is not in the engine: it did not build (see "
                    ".test-output/image.log)")
    return IMAGE


class Container:
    def __init__(self, engine, name, body):  # noqa: F811
        self.engine, self.name = engine, name
        status, r = engine.call("POST", f"/containers/create?name={name}", body)
        assert status == 201, r
        status, r = engine.call("POST", f"/containers/{name}/start")
        assert status == 204, r

    def logs(self):
        status, r = self.engine.call("GET", f"/containers/{self.name}/logs?stdout=1&stderr=1")
        return r.decode(errors="replace") if isinstance(r, bytes) else str(r)

    def running(self):
        return self.engine.inspect(self.name)["State"]["Running"]

    def remove(self):
        self.engine.call("POST", f"/containers/{self.name}/stop?t=10", timeout=60)
        self.engine.remove(self.name)


def wait_health(url, container, timeout=60):
    def up():
        assert container.running(), container.logs()[-3000:]
        try:
            return requests.get(url + "/hub/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False
    wait_for(up, timeout, what=f"{url}/hub/health")


def test_oci_archive_is_an_image_layout():
    if not OCI or not os.path.exists(OCI):
        pytest.skip("no OCI archive built (GANYMEDE_IMAGE_OCI)")
    with tarfile.open(OCI) as tf:
        names = tf.getnames()
        assert "oci-layout" in names and "index.json" in names
        index = json.load(tf.extractfile("index.json"))
        man_desc = index["manifests"][0]
        blob = lambda d: tf.extractfile("blobs/sha256/" + d["digest"].split(":")[1]).read()  # noqa
        import hashlib
        for d in [man_desc]:
            assert "sha256:" + hashlib.sha256(blob(d)).hexdigest() == d["digest"]
        manifest = json.loads(blob(man_desc))
        config = json.loads(blob(manifest["config"]))
        assert config["config"]["WorkingDir"] == "/srv/jupyterhub"
        layer = manifest["layers"][0]
        assert "sha256:" + hashlib.sha256(blob(layer)).hexdigest() == layer["digest"]


def test_docker_run_with_a_plain_config(engine, image, tmp_path):  # noqa: F811
    port, hub_port, api_port = free_port(), free_port(), free_port()
    cfg = {"JupyterHub": {"bind_url": f"http://127.0.0.1:{port}",
                          "hub_bind_url": f"http://127.0.0.1:{hub_port}",
                          "authenticator_class": "shared-password",
                          "api_tokens": {ADMIN_TOKEN: "admin"}},
           "ConfigurableHTTPProxy": {"api_url": f"http://127.0.0.1:{api_port}"},
           "SharedPasswordAuthenticator": {"user_password": PASSWORD},
           "Authenticator": {"admin_users": ["admin"], "allow_all": True}}
    (tmp_path / "ganymede.json").write_text(json.dumps(cfg))
    name = "gmimg-" + uuid.uuid4().hex[:8]
    c = Container(engine, name, {
        "Image": image, "Cmd": ["ganymede", "-f", "/etc/ganymede/ganymede.json"],
        "HostConfig": {"NetworkMode": "host", "Binds": [f"{tmp_path}:/etc/ganymede:ro"]}})
    try:
        wait_health(f"http://127.0.0.1:{port}", c)  # through the proxy the image started
        r = requests.get(f"http://127.0.0.1:{port}/hub/login", timeout=10)
        assert r.status_code == 200 and "Sign in" in r.text or "login" in r.text.lower()
        info = requests.get(f"http://127.0.0.1:{hub_port}/hub/api/info", timeout=10,
                            headers={"Authorization": f"token {ADMIN_TOKEN}"}).json()
        assert info["version"]
    finally:
        logs = c.logs()
        c.remove()
    assert "Ganymede is running at" in logs, logs[-3000:]


def test_as_the_zero_to_jupyterhub_hub(engine, image, kube, ns, tmp_path):  # noqa: F811
    hub_port, port, api_port = free_port(), free_port(), free_port()
    config, env = chart_files(tmp_path, ns, {}, {
        "KubeSpawner": {"image": "local/exec", "cmd": [SINGLEUSER], "port": 0,
                        "ip": "127.0.0.1", "uid": 0},
        "Spawner": {"args": ["--allow-root"],
                    "environment": {"JUPYTERHUB_SINGLEUSER_APP":
                                    "notebook.notebookapp.NotebookApp"}},
    })
    env.update(KUBERNETES_SERVICE_HOST=kube.env["KUBERNETES_SERVICE_HOST"],
               KUBERNETES_SERVICE_PORT=kube.env["KUBERNETES_SERVICE_PORT"])
    etc = config.parent
    name = "gmz2jh-" + uuid.uuid4().hex[:8]
    c = Container(engine, name, {
        "Image": image,
        # The chart's hub container: command and args, as its Deployment has them, and what
        # this machine needs instead of the cluster's addresses.
        "Cmd": ["jupyterhub", "--config", "/usr/local/etc/jupyterhub/jupyterhub_config.py",
                "--upgrade-db", f"--JupyterHub.hub_bind_url=http://127.0.0.1:{hub_port}",
                f"--JupyterHub.bind_url=http://127.0.0.1:{port}",
                f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{api_port}",
                "--ConfigurableHTTPProxy.should_start=True", "--JupyterHub.hub_connect_url="],
        "Env": [f"{k}={v}" for k, v in env.items()],
        "HostConfig": {"NetworkMode": "host", "Binds": [
            f"{etc}:/usr/local/etc/jupyterhub:ro",
            f"{tmp_path}/srv:/srv/jupyterhub",
            f"{kube.env['KUBE_SA_DIR']}:/var/run/secrets/kubernetes.io/serviceaccount:ro"]}})
    (tmp_path / "srv").mkdir(exist_ok=True)
    try:
        hub = f"http://127.0.0.1:{hub_port}"
        wait_health(hub, c)
        api = lambda m, p, **kw: requests.request(  # noqa: E731
            m, hub + "/hub/api" + p, headers={"Authorization": f"token {ADMIN_TOKEN}"},
            timeout=30, **kw)
        user = new_user()
        assert api("POST", f"/users/{user}").status_code == 201
        assert api("POST", f"/users/{user}/server").status_code in (201, 202)
        wait_for(lambda: (api("GET", f"/users/{user}").json()["servers"].get("") or {}).get(
            "ready"), 90, what="the pod's server ready")
        pod = kube.pod(ns, f"jupyter-{user}")
        assert pod["metadata"]["labels"]["release"] == "course"
        assert api("DELETE", f"/users/{user}/server").status_code in (202, 204)
        wait_for(lambda: kube.pod(ns, f"jupyter-{user}") is None, 60, what="the pod deleted")
        assert (tmp_path / "srv" / "jupyterhub.sqlite").exists()  # the chart's hub PVC
    finally:
        logs = c.logs()
        c.remove()
    assert "Reading zero-to-jupyterhub's configuration" in logs, logs[-3000:]
