"""The plugin example of docs/plugins.md (tests/plugins/script_spawner.c, written only against
include/ganymede/): servers as jobs of shell commands, as batchspawner drives SLURM. Its commands
run through the toolkit's gm_command_run, its pending-job wait through gm_timer, its script
through gm_format_or_render and gm_shell_join."""
import json
import os
import signal

import pytest
import requests

from conftest import ADMIN_TOKEN, Api
from spawn_helpers import (progress_events, server_model, spawn_config, start,
                           wait_for, wait_ready, wait_stopped, with_section)

# What docs/plugins.md shows as the example's configuration (loaded by test_the_docs_example).
DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "plugins.md")


def script_config(**script):
    # A queued start answers 202 at once rather than after JupyterHub's 10 s wait.
    cfg = spawn_config(spawner="test-script", tornado_settings={"slow_spawn_timeout": 0.5})
    return with_section(cfg, "ScriptSpawner", **{"query_interval": 0.1, **script})


def job_pid(hub, user, server=""):
    return int(server_model(hub, user, server)["state"]["job_id"])


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return open(f"/proc/{pid}/stat").read().split()[2] == "Z"


@pytest.fixture
def kill_jobs():
    """Jobs the example leaves running if a test fails midway."""
    pids = []
    yield pids
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def test_a_job_starts_is_routed_polled_and_cancelled(hub_factory, kill_jobs):
    hub = hub_factory(config=with_section(script_config(), "Spawner", poll_interval=0.5))
    api = Api(hub)
    assert api("POST", "/users/ada").status_code == 201
    r = start(hub, "ada")
    assert r.status_code in (201, 202), r.text
    wait_ready(hub, "ada")
    pid = job_pid(hub, "ada")
    kill_jobs.append(pid)
    assert not gone(pid)
    # The job got the server's environment and serves through the proxy.
    env = requests.get(hub.public_url + "/user/ada/env", timeout=10).json()["env"]
    assert env["JUPYTERHUB_USER"] == "ada" and env["JUPYTERHUB_SERVICE_PREFIX"] == "/user/ada/"
    assert "Submitted job %d for ada" % pid in hub.log()

    # Stop: cancel_cmd ends the job, the route goes.
    assert api("DELETE", "/users/ada/server").status_code in (202, 204)
    wait_stopped(hub, "ada")
    wait_for(lambda: gone(pid), 30, what="job process gone")
    assert "/user/ada/" not in api("GET", "/proxy").json()

    # Poll: a job that ends by itself is noticed through query_cmd.
    assert start(hub, "ada").status_code in (201, 202)
    wait_ready(hub, "ada")
    pid = job_pid(hub, "ada")
    kill_jobs.append(pid)
    os.kill(pid, signal.SIGKILL)
    wait_stopped(hub, "ada", timeout=30)


def test_a_pending_job_is_shown_and_waited_for(hub_factory, tmp_path, kill_jobs):
    go = tmp_path / "go"
    query = (f"if test -e {go}; then kill -0 {{job_id}} && echo R || echo GONE; "
             "else echo PD; fi")
    hub = hub_factory(config=script_config(query_cmd=query))
    api = Api(hub)
    api("POST", "/users/queued")
    assert start(hub, "queued").status_code == 202
    assert pending_event(hub, "queued")
    model = server_model(hub, "queued")
    assert model["ready"] is False and model["pending"] == "spawn"
    go.write_text("")
    wait_ready(hub, "queued")
    kill_jobs.append(job_pid(hub, "queued"))
    assert progress_events(hub, "queued")[-1].get("ready") is True


def pending_event(hub, user):
    """Whether the progress stream (read while the start is pending) has the pending message;
    bounded by the start_timeout, after which the stream ends with a failed event."""
    r = requests.get(hub.url + f"/hub/api/users/{user}/server/progress", stream=True,
                     timeout=10, headers={"Authorization": f"token {ADMIN_TOKEN}"})
    with r:
        for line in r.iter_lines():
            if line.startswith(b"data: ") and b"is pending in the queue" in line:
                return True
            if line.startswith(b"data: ") and (b'"ready": true' in line or b'"failed"' in line):
                return False
    return False


def test_a_failed_submit_says_why(hub_factory):
    hub = hub_factory(config=script_config(
        submit_cmd="echo 'sbatch: error: invalid partition specified: gpu' >&2; exit 1"))
    api = Api(hub)
    api("POST", "/users/nopart")
    r = start(hub, "nopart")
    if r.status_code == 202:
        events = progress_events(hub, "nopart")
        message = events[-1]["message"]
        assert events[-1]["failed"] is True
    else:
        assert r.status_code == 500, r.text
        message = r.json()["message"]
    assert "exited with status 1" in message and "invalid partition specified: gpu" in message
    wait_stopped(hub, "nopart")


def test_a_submit_without_a_job_id_and_a_job_that_ends_at_once(hub_factory, kill_jobs):
    hub = hub_factory(config=script_config(submit_cmd="cat >/dev/null; echo '$(reboot)'"))
    api = Api(hub)
    api("POST", "/users/noid")
    r = start(hub, "noid")
    text = r.text if r.status_code == 500 else json.dumps(progress_events(hub, "noid"))
    assert "printed no job id" in text
    wait_stopped(hub, "noid")

    hub2 = hub_factory(config=script_config(query_cmd="echo GONE"), name="hub2",
                       state_dir=hub.state_dir / "second")
    api2 = Api(hub2)
    api2("POST", "/users/quick")
    r = start(hub2, "quick")
    text = r.text if r.status_code == 500 else json.dumps(progress_events(hub2, "quick"))
    assert "ended before it ran" in text
    wait_stopped(hub2, "quick")
    # The hub's cleanup after the failed start cancelled the job.
    pid = int(submitted_pid(hub2, "quick"))
    kill_jobs.append(pid)
    wait_for(lambda: gone(pid), 30, what="job of the failed start cancelled")


def test_a_stop_during_a_pending_start_cancels_the_job(hub_factory, kill_jobs):
    hub = hub_factory(config=script_config(query_cmd="echo PD"))
    api = Api(hub)
    api("POST", "/users/impatient")
    assert start(hub, "impatient").status_code == 202
    pid = wait_for(lambda: (server_model(hub, "impatient") or {}).get("state", {}).get("job_id")
                   or submitted_pid(hub, "impatient"), 30, what="job submitted")
    pid = int(pid)
    kill_jobs.append(pid)
    assert api("DELETE", "/users/impatient/server").status_code in (202, 204)
    wait_stopped(hub, "impatient")
    wait_for(lambda: gone(pid), 30, what="pending job cancelled")


def submitted_pid(hub, user):
    import re
    m = re.search(rf"Submitted job (\d+) for {user}", hub.log())
    return m.group(1) if m else None


def test_the_job_survives_a_hub_restart(hub_factory, tmp_path, kill_jobs):
    cfg = script_config()
    hub = hub_factory(config=cfg, args=["--JupyterHub.cleanup_servers=False"])
    api = Api(hub)
    api("POST", "/users/steady")
    start(hub, "steady")
    wait_ready(hub, "steady")
    pid = job_pid(hub, "steady")
    kill_jobs.append(pid)
    hub.stop()
    assert not gone(pid)
    hub2 = hub_factory(config=cfg, args=["--JupyterHub.cleanup_servers=False"],
                       state_dir=hub.state_dir, name="hub2")
    # Adopted from the saved job id: still running, routed, and stoppable.
    wait_ready(hub2, "steady")
    assert job_pid(hub2, "steady") == pid
    r = requests.get(hub2.public_url + "/user/steady/api", timeout=10)
    assert r.status_code == 200
    assert Api(hub2)("DELETE", "/users/steady/server").status_code in (202, 204)
    wait_stopped(hub2, "steady")
    wait_for(lambda: gone(pid), 30, what="job process gone")


@pytest.mark.parametrize("settings,message", [
    ({"batch_script": "{% if cmd %}{{ cmd }}"}, "ScriptSpawner.batch_script, line 1"),
    ({"query_cmd": "squeue -j {jobid}"}, "ScriptSpawner.query_cmd: unknown field {jobid}"),
    ({"query_interval": 0}, "ScriptSpawner.query_interval"),
])
def test_bad_settings_are_refused_at_startup(hub_factory, settings, message):
    hub = hub_factory(config=script_config(**settings), start=False)
    hub.start(wait=False)
    assert hub.wait(30) != 0
    assert message in hub.log(), hub.log()[-2000:]


def test_the_docs_example(hub_factory, kill_jobs):
    """docs/plugins.md's configuration of the example starts a server as written."""
    text = open(DOCS).read()
    block = text.split("<!-- example: script-spawner -->", 1)[1].split("```json", 1)[1]
    cfg = spawn_config()
    for section, values in json.loads(block.split("```", 1)[0]).items():
        cfg.setdefault(section, {}).update(values)
    assert cfg["JupyterHub"]["spawner_class"] == "test-script"
    hub = hub_factory(config=cfg)
    Api(hub)("POST", "/users/reader")
    start(hub, "reader")
    wait_ready(hub, "reader")
    kill_jobs.append(job_pid(hub, "reader"))
    assert requests.get(hub.public_url + "/user/reader/api", timeout=10).status_code == 200
