"""A zero-to-jupyterhub deployment's hub, run by Ganymede from what the chart mounts in the hub
pod (no helm here: the files are written as the chart 4.x renders them): its own
jupyterhub_config.py, the chart's default values with the deployment's values over them (the
course hub of the issue: Auth0 login, 3G guaranteed and 5G at most, the culler on), the
secrets and the resource names, and the environment its Deployment sets. Ganymede reads the
settings that file computes (src/core/config_z2jh.c) and spawns through the Kubernetes API
simulator. What a test machine needs differently from a cluster (addresses, the proxy the hub
starts itself, the simulator's image) is given on the command line, which overrides config
files as it does for JupyterHub."""
import re
import shutil
from pathlib import Path

import yaml

from conftest import ADMIN_TOKEN, Api
from spawn_helpers import FIXTURES as FIXTURE_DIR
from spawn_helpers import start, wait_for, wait_ready, wait_stopped
from test_kube_spawner import SINGLEUSER, kube, kube_env, new_user, ns  # noqa: F401 (fixtures)

TOKEN = ADMIN_TOKEN  # a service's token here (hub.services), so the shared helpers can use it

DOCS = Path(__file__).resolve().parents[2] / "docs" / "install.md"


def course_values():
    """The course hub's values, as docs/install.md shows them."""
    m = re.search(r"```yaml\n(.*?)```", DOCS.read_text(), re.S)
    assert m, "docs/install.md has no values block"
    return yaml.safe_load(m.group(1))


def chart_files(root, ns, kube_token_env, extra_values):
    """/usr/local/etc/jupyterhub as the chart mounts it, under @root."""
    etc = root / "etc"
    for d in ("secret", "existing-secret", "config"):
        (etc / d).mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURE_DIR / "z2jh" / "jupyterhub_config.py", etc / "jupyterhub_config.py")
    shutil.copy(FIXTURE_DIR / "z2jh" / "chart-values.yaml", etc / "secret" / "values.yaml")
    values = course_values()
    # The chart's default init container that firewalls the cloud's metadata server runs
    # iptables: the simulator's kubelet would run it on this machine itself, so it is off here
    # (tests/unit/core/test-config_z2jh.c checks the container Ganymede adds).
    values.setdefault("singleuser", {})["cloudMetadata"] = {"blockWithIptables": False}
    values.setdefault("Chart", {}).update({"Name": "jupyterhub", "Version": "4.4.0"})
    values.setdefault("Release", {}).update({"Name": "course", "Namespace": ns})
    for k, v in extra_values.items():
        values["hub"]["config"].setdefault(k, {}).update(v)
    (etc / "existing-secret" / "values.yaml").write_text(yaml.safe_dump(values))
    (etc / "secret" / "hub.config.JupyterHub.cookie_secret").write_text("ab" * 32)
    # The chart generates a service's token into its secret when the values give none.
    (etc / "secret" / "hub.services.course-admin.apiToken").write_text(TOKEN)
    for name in ("hub", "proxy-api", "proxy-public", "singleuser", "user-scheduler"):
        (etc / "config" / name).write_text(name)
    env = dict(kube_token_env, POD_NAMESPACE=ns, HELM_RELEASE_NAME="course",
               HUB_SERVICE_HOST="127.0.0.1", HUB_SERVICE_PORT="8081",
               PROXY_API_SERVICE_HOST="127.0.0.1", PROXY_API_SERVICE_PORT="8001",
               JUPYTERHUB_CRYPT_KEY="00" * 32)
    return etc / "jupyterhub_config.py", env


def test_course_hub_from_the_chart_files(kube, ns, hub_factory, tmp_path):  # noqa: F811
    config, env = chart_files(tmp_path, ns, kube_env(kube), {
        # The simulator's kubelet runs local/exec as processes on the host network, where the
        # real jupyterhub-singleuser needs root (the chart's singleuser.uid is 1000).
        "KubeSpawner": {"image": "local/exec", "cmd": [SINGLEUSER], "port": 0,
                        "ip": "127.0.0.1", "uid": 0},
        "Spawner": {"args": ["--allow-root"],
                    "environment": {"JUPYTERHUB_SINGLEUSER_APP":
                                    "notebook.notebookapp.NotebookApp"}},
    })
    hub = hub_factory(args=["-f", str(config), "--ConfigurableHTTPProxy.should_start=True",
                            "--JupyterHub.hub_connect_url="], env=env, state_dir=tmp_path)
    log = hub.log()
    assert "Reading zero-to-jupyterhub's configuration" in log, log[-3000:]
    assert "Loading pass-through config section hub.config.Auth0OAuthenticator" in log
    api = Api(hub, token=TOKEN)
    info = api("GET", "/info").json()
    assert info["spawner"]["class"] == "kubespawner.spawner.KubeSpawner"
    assert info["authenticator"]["class"].endswith("Auth0OAuthenticator"), info
    services = {s["name"]: s for s in api("GET", "/services").json().values()}
    assert "jupyterhub-idle-culler" in services and "course-admin" in services, services
    # The chart's culler (cull.* defaults), run by Ganymede's own: it lists the users with the
    # chart's role and culls nothing yet.
    wait_for(lambda: "Culling servers inactive for 3600 s every 600 s" in hub.log(), 30,
             what="the idle culler running")
    assert "Service jupyterhub-idle-culler exited" not in hub.log()
    assert hub.get("/hub/health").json()["spawner"]["api"].startswith("https://")

    user = new_user()
    assert api("POST", f"/users/{user}").status_code == 201
    assert start(hub, user).status_code in (201, 202)
    wait_ready(hub, user, timeout=90)
    pod = kube.pod(ns, f"jupyter-{user}")
    labels = pod["metadata"]["labels"]
    # The chart's labels, as its NetworkPolicies and PodDisruptionBudgets select them.
    assert labels["component"] == "singleuser-server" and labels["release"] == "course"
    assert labels["app.kubernetes.io/instance"] == "course"
    assert labels["helm.sh/chart"] == "jupyterhub-4.4.0"
    c = pod["spec"]["containers"][0]
    assert c["resources"]["limits"]["memory"] == "5Gi"
    assert c["resources"]["requests"]["memory"] == "3Gi"
    assert {e["name"]: e.get("value") for e in c["env"]}["COURSE"] == "phys101"
    # singleuser.storage (dynamic, 10Gi, the chart's default) and its mount.
    pvc = kube.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/claim-{user}")
    assert pvc["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert c["volumeMounts"][0]["mountPath"] == "/home/jovyan"
    # The chart's tolerations for user pods.
    assert {"key": "hub.jupyter.org/dedicated", "operator": "Equal", "value": "user",
            "effect": "NoSchedule"} in pod["spec"]["tolerations"]
    assert api("DELETE", f"/users/{user}/server").status_code in (202, 204)
    wait_stopped(hub, user)
    wait_for(lambda: kube.pod(ns, f"jupyter-{user}") is None, 30, what="the pod deleted")
    assert "Listing the users at" not in hub.log()  # the culler's passes were allowed
