"""docs/slurm-spawner.md's example configuration, loaded as written (a jupyterhub_config.py)
against the recipes' SLURM cluster, with only what the test machine needs appended after it
(the login, the hub's own address, the wrapper of this checkout).

The cluster here has one partition, `debug`: the example's partition `interactive` is used as
written, so sbatch refuses it and the start fails at once with SLURM's words; the example's
form offers its fields and refuses a CPU count over its limit. Then, with the partition, the
prologue (no environment modules here) and the form's partition choices overridden, the rest
of the example (8 h run time, 4G, 2 CPUs, start_timeout) runs a real server. The slurmrestd
example runs one too, through the recipe's slurmrestd."""
import re
from pathlib import Path

import pytest

from conftest import ADMIN_TOKEN, Api
from spawn_helpers import PASSWORD, wait_ready
from test_slurm_spawner import (SLURM_ENV, SLURM_REST, WRAPPER, failed_start, job_id_of, job_info,  # noqa: F401
                                login, slurm, slurm_cluster, stop_server, users)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "slurm-spawner.md"


def example_block():
    """The ```python block under the "## Example" heading."""
    text = DOCS.read_text()
    section = text.split("\n## Example\n", 1)
    assert len(section) == 2, "docs/slurm-spawner.md has no '## Example' heading"
    m = re.search(r"```python\n(.*?)```", section[1], re.S)
    assert m, "no ```python block under '## Example'"
    return m.group(1)


def docs_lines():
    """What the test machine needs after an example: the login, the hub's address, the
    wrapper of this checkout."""
    return [
        'c.JupyterHub.authenticator_class = "shared-password"',
        f'c.JupyterHub.api_tokens = {{"{ADMIN_TOKEN}": "admin"}}',
        'c.JupyterHub.hub_connect_url = ""',
        # POST .../server answers at once: the tests read the progress stream from the start.
        'c.JupyterHub.tornado_settings = {"slow_spawn_timeout": 0}',
        'c.Authenticator.admin_users = {"admin"}',
        "c.Authenticator.allow_all = True",
        f'c.SharedPasswordAuthenticator.user_password = "{PASSWORD}"',
        'c.Spawner.env_keep = ["PATH", "LANG", "SLURM_CONF", "JUPYTERHUB_SINGLEUSER_APP"]',
        'c.Spawner.http_timeout = 60',
        f'c.SlurmSpawner.batchspawner_singleuser_cmd = "{WRAPPER}"',
    ]


def docs_config(*extra):
    lines = docs_lines() + list(extra)
    return (example_block() + "\n# Appended by tests/integration/test_slurm_docs.py\n" +
            "\n".join(lines) + "\n")


def docs_hub(hub_factory, *extra):
    hub = hub_factory(config=docs_config(*extra), config_name="jupyterhub_config.py",
                      env=dict(SLURM_ENV))
    hub.api = Api(hub)
    return hub


def test_the_docs_example_as_written(slurm, users, hub_factory):  # noqa: F811
    assert 'c.JupyterHub.spawner_class = "batchspawner.SlurmSpawner"' in example_block()
    user = users()
    hub = docs_hub(hub_factory)
    assert "jupyterhub_config.py" in hub.log()
    assert hub.api("POST", f"/users/{user}").status_code == 201
    # The form of the example.
    s = login(hub, user)
    page = s.get(hub.url + f"/hub/spawn/{user}", timeout=10)
    assert page.status_code == 200, page.text
    for field in ("Partition", "CPUs", "GPUs", 'name="runtime"'):
        assert field in page.text, field
    # Over its limit: refused by the hub, with the field's name.
    msg, _, _ = failed_start(hub, user, options={"nprocs": "9"}, timeout=60)
    assert 'nprocs "9" is not allowed here (batch_options)' in msg, msg
    # The example's partition does not exist on this cluster: SLURM says so, at once.
    msg, took, _ = failed_start(hub, user, options={"nprocs": "2"}, timeout=60)
    assert took < 30, took
    assert "invalid partition specified: interactive" in msg, msg


def test_the_docs_example_runs_a_server(slurm, users, hub_factory):  # noqa: F811
    user = users()
    hub = docs_hub(hub_factory, 'c.SlurmSpawner.req_partition = "debug"',
                   'c.SlurmSpawner.req_prologue = ""',
                   'c.SlurmSpawner.batch_options = {"partition": {"choices": ["debug"]}, '
                   '"nprocs": {"min": 1, "max": 8, "default": 2}}')
    assert hub.api("POST", f"/users/{user}").status_code == 201
    r = hub.api("POST", f"/users/{user}/server", json={"nprocs": "3"})
    assert r.status_code in (201, 202), r.text
    wait_ready(hub, user, timeout=120)
    info = job_info(job_id_of(hub, user))
    assert info["Partition"] == "debug", info
    assert info["NumCPUs"] == "3", info             # the form's choice over req_nprocs "2"
    assert info["TimeLimit"] == "08:00:00", info    # req_runtime
    assert info["MinMemoryNode"] == "4G", info      # req_memory
    stop_server(hub, user)


def rest_example_block():
    """The ```python block under "### Example (slurmrestd)"."""
    section = DOCS.read_text().split("\n### Example (slurmrestd)\n", 1)
    assert len(section) == 2, "docs/slurm-spawner.md has no '### Example (slurmrestd)' heading"
    m = re.search(r"```python\n(.*?)```", section[1], re.S)
    assert m, "no ```python block under '### Example (slurmrestd)'"
    return m.group(1)


def test_the_slurmrestd_example_runs_a_server(slurm, users, hub_factory):  # noqa: F811
    """The slurmrestd example as written, with the recipe's slurmrestd for the example's URL,
    its token in SLURM_JWT (as the example says), the partition that exists here, the batch
    commands set to /bin/false and no SLURM_CONF: the server comes up through REST alone."""
    if "SLURMRESTD_URL" not in SLURM_REST:
        pytest.skip("slurmrestd did not start with the cluster")
    example = rest_example_block()
    assert "c.SlurmSpawner.slurmrestd_token" not in example.replace(
        "# (or c.SlurmSpawner.slurmrestd_token", "")
    user = users()
    config = (example.replace("http://slurmctl.cluster.example.org:6820",
                              SLURM_REST["SLURMRESTD_URL"]) +
              "\n# Appended by tests/integration/test_slurm_docs.py\n" + "\n".join([
                  *docs_lines(),
                  'c.SlurmSpawner.req_partition = "debug"',
                  'c.SlurmSpawner.batch_submit_cmd = "/bin/false"',
                  'c.SlurmSpawner.batch_query_cmd = "/bin/false"',
                  'c.SlurmSpawner.batch_cancel_cmd = "/bin/false"',
              ]) + "\n")
    hub = hub_factory(config=config, config_name="jupyterhub_config.py",
                      env={"SLURM_JWT": SLURM_REST["SLURM_JWT"]})
    hub.api = Api(hub)
    assert hub.api("POST", f"/users/{user}").status_code == 201
    r = hub.api("POST", f"/users/{user}/server")
    assert r.status_code in (201, 202), r.text
    wait_ready(hub, user, timeout=120)
    info = job_info(job_id_of(hub, user))
    assert info["Partition"] == "debug", info
    assert info["TimeLimit"] == "08:00:00", info    # req_runtime, as --time
    assert info["MinMemoryNode"] == "4G", info      # req_memory, as --mem
    stop_server(hub, user)
    assert SLURM_REST["SLURM_JWT"] not in hub.log()
