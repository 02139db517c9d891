"""docs/kubernetes-spawner.md's example configuration, loaded as written (a jupyterhub_config.py)
against the Kubernetes API simulator, with only what the test machine needs appended after it:
the test's namespace, the image the simulator runs (`local/exec`, also in place of the default
image choice), the command, and the hub's own address. A server started with the second
profile through the REST API gets that profile's overrides; its other image choice fails at
once with the image pull error, not at start_timeout."""
import re
import time
from pathlib import Path

import pytest

from conftest import Api
from spawn_helpers import progress_events, server_model, start, wait_ready, wait_stopped
from test_kube_spawner import IMAGE, kube, kube_config, kube_env, new_user, ns  # noqa: F401

DOCS = Path(__file__).resolve().parents[2] / "docs" / "kubernetes-spawner.md"


def example_block():
    """The ```python block under the "## Example" heading."""
    text = DOCS.read_text()
    section = text.split("\n## Example\n", 1)
    assert len(section) == 2, "docs/kubernetes-spawner.md has no '## Example' heading"
    m = re.search(r"```python\n(.*?)```", section[1], re.S)
    assert m, "no ```python block under '## Example'"
    return m.group(1)


def py_lines(cfg):
    """@cfg ({Class: {setting: value}}) as jupyterhub_config.py lines."""
    return "".join(f"c.{cls}.{k} = {v!r}\n" for cls, settings in cfg.items()
                   for k, v in settings.items())


def quantity(q):
    """A Kubernetes quantity in bytes or cores ("8Gi", "8589934592", "500m", "4")."""
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6,
             "G": 10**9, "m": 0.001, "": 1}
    m = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(q))
    assert m and m.group(2) in units, q
    return float(m.group(1)) * units[m.group(2)]


def docs_config(ns):
    block = example_block()
    default_image = re.search(r'^c\.KubeSpawner\.image = "([^"]+)"$', block, re.M).group(1)
    # The simulator's kubelet runs only local/exec: the default image (and the default choice,
    # which names the same image) becomes it; the other choice keeps its real image.
    assert block.count(default_image) == 2, "the default choice should repeat the image"
    block = block.replace(f'"{default_image}"', f'"{IMAGE}"')
    base = kube_config(ns)
    over = {
        "JupyterHub": {**base["JupyterHub"], "hub_bind_url": "http://127.0.0.1:0",
                       "hub_connect_url": ""},
        "Authenticator": base["Authenticator"],
        "SharedPasswordAuthenticator": base["SharedPasswordAuthenticator"],
        "Spawner": base["Spawner"],
        # start_timeout: the example's 300 s would hide a start that does not fail fast.
        "KubeSpawner": {**base["KubeSpawner"], "start_timeout": 60},
    }
    return block + "\n# Appended by tests/integration/test_kube_docs.py\n" + py_lines(over)


def test_the_docs_example(kube, ns, hub_factory):  # noqa: F811
    text = docs_config(ns)
    assert 'c.JupyterHub.spawner_class = "kubespawner"' in text
    hub = hub_factory(config=text, config_name="jupyterhub_config.py", env=kube_env(kube))
    assert "jupyterhub_config.py" in hub.log()
    api = Api(hub)
    large, small = new_user("large"), new_user("small")
    for u in (large, small):
        assert api("POST", f"/users/{u}").status_code == 201

    # The second profile ("large"), its default image choice.
    t0 = time.monotonic()
    r = start(hub, large, options={"profile": "large"})
    assert r.status_code in (201, 202), r.text
    # The first profile is the default: a start without options gets it.
    assert start(hub, small).status_code in (201, 202)
    wait_ready(hub, large, timeout=90)
    wait_ready(hub, small, timeout=90)

    pod = kube.pod(ns, f"jupyter-{large}")
    c = pod["spec"]["containers"][0]
    assert c["image"] == IMAGE
    lim, req = c["resources"]["limits"], c["resources"]["requests"]
    assert quantity(lim["memory"]) == 8 * 2**30, lim  # the profile's mem_limit "8G"
    assert quantity(lim["cpu"]) == 4, lim              # and cpu_limit 4
    assert quantity(req["memory"]) == 2**30, req       # mem_guarantee "1G"
    assert quantity(req["cpu"]) == 0.2, req            # the base cpu_guarantee
    # The home claim of the example, made and mounted.
    claim = f"claim-{large}"
    assert kube.get(f"/api/v1/namespaces/{ns}/persistentvolumeclaims/{claim}") is not None
    vols = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert vols["home"]["persistentVolumeClaim"]["claimName"] == claim
    assert {"name": "home", "mountPath": "/home/jovyan"} in c["volumeMounts"]
    assert server_model(hub, large)["user_options"] == {"profile": "large"}

    c = kube.pod(ns, f"jupyter-{small}")["spec"]["containers"][0]
    assert quantity(c["resources"]["limits"]["memory"]) == 2 * 2**30  # the base mem_limit
    assert quantity(c["resources"]["limits"]["cpu"]) == 1
    assert quantity(c["resources"]["requests"]["memory"]) == 512 * 2**20
    assert time.monotonic() - t0 < 90

    # The other choice of the second profile: its image, which the simulator cannot pull,
    # fails the start at once with the pull error.
    assert api("DELETE", f"/users/{large}/server").status_code in (202, 204)
    wait_stopped(hub, large)
    t0 = time.monotonic()
    r = start(hub, large, options={"profile": "large", "image": "r"})
    assert r.status_code in (202, 500), r.text
    events = progress_events(hub, large, timeout=90)
    assert events[-1].get("failed") is True, events
    message = events[-1]["message"]
    r_image = re.search(r'"r": \{.*?"image": "([^"]+)"', example_block(), re.S).group(1)
    assert f"Pod jupyter-{large} cannot start: container notebook: ErrImagePull" in message, message
    assert r_image in message, message
    assert time.monotonic() - t0 < 45, "the pull error should fail the start before start_timeout"
    wait_stopped(hub, large)

    # A profile that does not exist is refused, and names what was asked for.
    r = start(hub, large, options={"profile": "huge"})
    if r.status_code in (201, 202):
        events = progress_events(hub, large, timeout=60)
        assert events[-1].get("failed") is True, events
        message = events[-1]["message"]
    else:
        assert r.status_code in (400, 500), r.text
        message = r.text
    assert "No such profile: huge. Options include: small, large" in message, message
    assert kube.pod(ns, f"jupyter-{large}") is None

    assert api("DELETE", f"/users/{small}/server").status_code in (202, 204)
    wait_stopped(hub, small)
