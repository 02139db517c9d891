"""The SLURM spawner (spawner_class = "slurm") against a real SLURM 22.05 cluster started by
../shared/recipes/start-slurm.sh: one node `localhost` with 16 CPUs, partition `debug`. Each
server is a batch job submitted with sbatch as the user (exec_prefix `sudo -E -u {username}`,
so every test makes system users of its own and removes them, and their jobs, afterwards); the
job runs the real jupyterhub-singleuser through the checkout's batchspawner-singleuser, which
reports its port to POST /hub/api/batchspawner; the hub reaches the server at the job's node
(localhost) through the real configurable-http-proxy.

Covered: a start through the REST API into a kernel that runs as the user, with the progress
of the job (submitted, running on localhost) and the job seen by squeue, then a stop that
cancels it; the default script with srun; queue position and reason while the node is full;
a held job, stopped cleanly; a job that dies at once (its state, exit code and output in the
failure); sbatch failing and missing; a query whose output nobody understands (the job must be
cancelled); slurmctld frozen mid-spawn (a running server is not declared stopped, a start fails
with a clear message); the port report's checks (403 for tokens other than the server's own,
400 for bad ports, 201, then 409); a hub restart that takes a running job over and notices when
it is cancelled behind its back; the batch options form and its limits (on the page and through
the API) down to the job's NumCPUs; the spawner's metrics.

The tests share the cluster through a lock: a shared one for most, an exclusive one for those
that fill the node or freeze the controller. When the cluster cannot start here, every test
skips with the reason."""
import fcntl
import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import websocket

from conftest import ADMIN_TOKEN, BIN, RECIPES, RECIPES_STATE, Api
from spawn_helpers import PASSWORD, server_model, start, wait_for, wait_ready, wait_stopped

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = ROOT / "spawners" / "slurm" / "batchspawner-singleuser"
SLURM_STATE = RECIPES_STATE / "slurm"
LOCK = RECIPES_STATE / ".ganymede-slurm-tests.lock"
SLURM_ENV = {}  # SLURM_CONF, once the cluster runs


# The cluster.

def _recipe(*args):
    return subprocess.run([str(RECIPES / "start-slurm.sh"), *args], capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="session")
def slurm_cluster():
    """The cluster, started once (the recipe is idempotent; one worker at a time)."""
    if not (RECIPES / "start-slurm.sh").exists():
        pytest.skip(f"no recipes at {RECIPES} (set GANYMEDE_RECIPES)")
    helps = subprocess.run([BIN, "--help-config"], capture_output=True, text=True, timeout=60)
    if "SlurmSpawner" not in helps.stdout:
        pytest.skip("this build has no SLURM spawner")
    for tool in ("sudo", "useradd", "jupyterhub-singleuser"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            pytest.skip(f"{tool} is not installed")
    if os.geteuid() != 0:
        pytest.skip("the SLURM tests make system users: they run as root")
    RECIPES_STATE.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        p = _recipe()
        if p.returncode != 0:
            pytest.skip(f"the SLURM cluster cannot start here: {(p.stderr or p.stdout)[-800:]}")
        m = re.search(r"SLURM_CONF='([^']+)'", _recipe("env").stdout)
        if not m:
            pytest.skip("start-slurm.sh env gave no SLURM_CONF")
    SLURM_ENV["SLURM_CONF"] = m.group(1)
    return dict(SLURM_ENV)


def _locked(kind):
    with open(LOCK, "a") as lock:
        fcntl.flock(lock, kind)
        try:
            yield dict(SLURM_ENV)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture
def slurm(slurm_cluster):
    """The cluster, shared with the other tests that leave it as they found it."""
    yield from _locked(fcntl.LOCK_SH)


@pytest.fixture
def slurm_alone(slurm_cluster):
    """The cluster to this test alone: it fills the node or freezes the controller."""
    yield from _locked(fcntl.LOCK_EX)


def slurm_cmd(*args, user=None, timeout=30, check=True):
    """A SLURM command (as @user if given); its stdout."""
    cmd = (["sudo", "-E", "-u", user] if user else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, **SLURM_ENV))
    if check:
        assert p.returncode == 0, f"{args}: {p.returncode} {p.stdout} {p.stderr}"
    return p.stdout


def jobs_of(user):
    """{job id: (state, user)} of @user's jobs that SLURM still lists as pending or running."""
    out = slurm_cmd("squeue", "-h", "-u", user, "-t", "PENDING,RUNNING,CONFIGURING,COMPLETING",
                    "-o", "%i %T %u")
    return {f[0]: (f[1], f[2]) for f in (line.split() for line in out.splitlines()) if f}


def job_info(job_id):
    """scontrol's fields of a job, as a dict."""
    out = slurm_cmd("scontrol", "show", "job", "-o", str(job_id))
    return dict(w.split("=", 1) for w in out.split() if "=" in w)


def wait_no_jobs(user, timeout=30):
    wait_for(lambda: not jobs_of(user), timeout, interval=0.3, what=f"no jobs of {user}")


@pytest.fixture
def users():
    """new_user(): a system user of its own for each call; removed with its jobs at the end."""
    made = []

    def new_user(prefix="slurm"):
        name = f"{prefix}{uuid.uuid4().hex[:8]}"[:32]
        subprocess.run(["useradd", "-m", "-s", "/bin/bash", name], check=True,
                       capture_output=True, timeout=30)
        made.append(name)
        return name

    yield new_user
    for name in made:
        slurm_cmd("scancel", "-u", name, check=False)
    for name in made:
        try:
            wait_no_jobs(name, timeout=30)
        except AssertionError:
            pass
        subprocess.run(["userdel", "-r", "-f", name], capture_output=True, timeout=30)


# The hub.

def slurm_config(spawner=None, slurm=None, **jupyterhub):
    cfg = {
        "JupyterHub": {"authenticator_class": "shared-password", "spawner_class": "slurm",
                       "api_tokens": {ADMIN_TOKEN: "admin"},
                       # POST .../server answers at once: the tests read the progress stream
                       # from the start.
                       "tornado_settings": {"slow_spawn_timeout": 0}},
        "Authenticator": {"admin_users": ["admin"], "allow_all": True},
        "SharedPasswordAuthenticator": {"user_password": PASSWORD},
        "Spawner": {"env_keep": ["PATH", "LANG", "SLURM_CONF", "JUPYTERHUB_SINGLEUSER_APP"],
                    "cmd": ["jupyterhub-singleuser"], "start_timeout": 120,
                    "http_timeout": 60},
        "SlurmSpawner": {"batchspawner_singleuser_cmd": str(WRAPPER), "req_srun": "",
                         "startup_poll_interval": 0.3},
    }
    cfg["Spawner"].update(spawner or {})
    cfg["SlurmSpawner"].update(slurm or {})
    cfg["JupyterHub"].update(jupyterhub)
    return cfg


def slurm_hub(hub_factory, spawner=None, slurm=None, args=(), **kw):
    """A hub with the SLURM spawner (SLURM_CONF in its environment, for the batch commands)."""
    hub = hub_factory(config=slurm_config(spawner, slurm), args=args, env=dict(SLURM_ENV), **kw)
    hub.api = Api(hub)
    return hub


class Progress:
    """The progress stream of a start, read in a thread: .events grows as they come."""

    def __init__(self, hub, user, timeout=180):
        self.events = []
        self.error = None
        self.done = threading.Event()
        self._hub, self._user, self._timeout = hub, user, timeout
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        try:
            with requests.get(self._hub.url + f"/hub/api/users/{self._user}/server/progress",
                              headers={"Authorization": f"token {ADMIN_TOKEN}"}, stream=True,
                              timeout=self._timeout) as r:
                if r.status_code != 200:
                    self.error = f"{r.status_code} {r.text}"
                    return
                for line in r.iter_lines():
                    if line.startswith(b"data: "):
                        self.events.append(json.loads(line[6:]))
        except Exception as e:  # noqa: BLE001 - reported by wait()
            self.error = repr(e)
        finally:
            self.done.set()

    def messages(self):
        return [e.get("message", "") for e in self.events]

    def wait_message(self, pattern, timeout=60):
        """The first message that matches @pattern (a regular expression)."""
        def found():
            return next((m for m in self.messages() if re.search(pattern, m)), None)
        return wait_for(lambda: found() or (self.done.is_set() and self.wait_end_error(pattern)),
                        timeout, interval=0.1, what=f"a progress message like {pattern!r}")

    def wait_end_error(self, pattern):
        raise AssertionError(f"the progress stream ended without {pattern!r}: "
                             f"{self.error or ''} {self.messages()}")

    def wait(self, timeout=180):
        """All the events, once the stream has ended."""
        assert self.done.wait(timeout), f"the progress stream did not end: {self.messages()}"
        assert self.error is None, self.error
        return self.events


def start_watched(hub, user, options=None):
    """Start @user's server through the REST API and read its progress."""
    r = start(hub, user, options=options)
    assert r.status_code == 202, r.text
    return Progress(hub, user)


def failed_start(hub, user, options=None, timeout=120):
    """Start @user's server, expect it to fail; returns (the failure message, seconds taken,
    the messages before it), once the server is gone and the hub still answers."""
    t0 = time.monotonic()
    progress = start_watched(hub, user, options)
    events = progress.wait(timeout)
    took = time.monotonic() - t0
    assert events and events[-1].get("failed") is True, events
    wait_stopped(hub, user, timeout=60)
    assert hub.api("GET", "/users/" + user).status_code == 200
    return events[-1]["message"], took, [e.get("message", "") for e in events[:-1]]


def job_id_of(hub, user):
    """The job of a server that is up (its saved state)."""
    return server_model(hub, user)["state"]["job_id"]


def submitted_job(progress, timeout=60):
    """The job of a start under way, from its progress."""
    msg = progress.wait_message(r"^Job \d+ submitted to SLURM$", timeout)
    return msg.split()[1]


def stop_server(hub, user, timeout=60):
    r = hub.api("DELETE", f"/users/{user}/server")
    assert r.status_code in (202, 204), r.text
    wait_stopped(hub, user, timeout=timeout)
    return r.status_code


def run_kernel(hub, user, token, code):
    """Start a kernel through the proxy, run @code in it over its websocket; its result."""
    headers = {"Authorization": f"token {token}"}
    base = hub.public_url + f"/user/{user}/api/kernels"
    r = requests.post(base, json={}, headers=headers, timeout=60)
    assert r.status_code == 201, r.text
    kernel = r.json()["id"]
    assert kernel in [k["id"] for k in requests.get(base, headers=headers, timeout=30).json()]
    ws = websocket.create_connection(
        hub.public_url.replace("http://", "ws://") + f"/user/{user}/api/kernels/{kernel}/channels",
        header=[f"Authorization: token {token}"], timeout=60)
    try:
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": user,
                       "session": uuid.uuid4().hex, "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False},
        }))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            m = json.loads(ws.recv())
            if m.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if m["msg_type"] == "execute_result":
                return m["content"]["data"]["text/plain"]
            if m["msg_type"] == "error":
                raise AssertionError(f"the kernel failed: {m['content']}")
        raise AssertionError("no result from the kernel in 60 s")
    finally:
        ws.close()
        requests.delete(f"{base}/{kernel}", headers=headers, timeout=30)


# The tests.

def test_spawn_into_a_kernel_then_stop(slurm, users, hub_factory):
    user = users()
    hub = slurm_hub(hub_factory)
    hub.api("POST", f"/users/{user}")
    progress = start_watched(hub, user)
    events = progress.wait(120)
    messages = progress.messages()
    assert events[-1].get("ready") is True, messages
    job_id = job_id_of(hub, user)
    assert f"Job {job_id} submitted to SLURM" in messages, messages
    assert f"Job {job_id} is running on localhost; waiting for its server to start" in messages
    assert "The server reported its port; connecting" in messages
    assert server_model(hub, user)["state"] == {"job_id": job_id, "job_status": f"RUNNING localhost"}

    # SLURM runs it as the user; the server answers through the proxy.
    assert jobs_of(user) == {job_id: ("RUNNING", user)}
    info = job_info(job_id)
    assert info["JobName"] == "spawner-jupyterhub" and info["Partition"] == "debug"
    token = hub.api.token_for(user)
    r = requests.get(hub.public_url + f"/user/{user}/api/status",
                     headers={"Authorization": f"token {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    assert "started" in r.json()
    # A kernel, in the job, as the user.
    assert run_kernel(hub, user, token, "import getpass, os; (getpass.getuser(), "
                                        "os.environ['SLURM_JOB_ID'])") == \
        repr((user, job_id))

    # Stop: the job leaves the queue, the server model goes.
    stop_server(hub, user)
    wait_no_jobs(user)
    assert server_model(hub, user) is None
    assert f"Stopping SLURM job {job_id} of {user}" in hub.log()
    assert requests.get(hub.public_url + f"/user/{user}/api/status", timeout=10,
                        headers={"Authorization": f"token {token}"},
                        allow_redirects=False).status_code != 200
    # The progress only goes forward (the bar on the spawn page), and nothing says the hub
    # waits for the server to start once it has reported its port.
    assert [e["progress"] for e in events] == sorted(e["progress"] for e in events), \
        list(zip([e["progress"] for e in events], messages))


def test_default_script_runs_the_server_in_a_job_step(slurm, users, hub_factory):
    # req_srun left at its default ("srun"): the server runs in step 0 of the job.
    user = users()
    cfg_slurm = {"req_srun": "srun"}
    hub = slurm_hub(hub_factory, slurm=cfg_slurm)
    hub.api("POST", f"/users/{user}")
    events = start_watched(hub, user).wait(120)
    assert events[-1].get("ready") is True, events
    job_id = job_id_of(hub, user)
    steps = slurm_cmd("squeue", "-h", "-s", "-j", job_id, "-o", "%i %u").split("\n")
    assert f"{job_id}.0 {user}" in steps, steps
    token = hub.api.token_for(user)
    r = requests.get(hub.public_url + f"/user/{user}/api/status",
                     headers={"Authorization": f"token {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    stop_server(hub, user)
    wait_no_jobs(user)


def submit_blocker(cpus, command="sleep 300"):
    """A job of root's that takes @cpus of the node; its id."""
    return slurm_cmd("sbatch", "--parsable", "-c", str(cpus), "-J", "blocker", "-o", "/dev/null",
                     "--wrap", command).strip().split(";")[0]


def job_state(job_id):
    out = slurm_cmd("squeue", "-h", "-j", job_id, "-o", "%T", check=False).strip()
    return out or None


def test_queue_position_and_reason_while_the_node_is_full(slurm_alone, users, hub_factory):
    user = users()
    blockers = []
    try:
        blockers.append(submit_blocker(16))
        wait_for(lambda: job_state(blockers[0]) == "RUNNING", 30, what="the blocker running")
        # Ahead of the user's job in the queue: one more of root's, waiting too.
        blockers.append(submit_blocker(16, "true"))
        hub = slurm_hub(hub_factory, slurm={"req_nprocs": "1", "pending_poll_interval": 1})
        hub.api("POST", f"/users/{user}")
        progress = start_watched(hub, user)
        job_id = submitted_job(progress)
        msg = progress.wait_message(r"is waiting in the queue of partition debug: 2nd of 2 "
                                    r"pending there\. Why: .*\((Resources|Priority)\)")
        assert msg.startswith(f"Job {job_id} is waiting in the queue of partition debug"), msg
        assert ("the CPUs, memory or GPUs it asks for are in use by other jobs (Resources)" in msg
                or "jobs of higher priority are ahead of it (Priority)" in msg), msg
        assert jobs_of(user) == {job_id: ("PENDING", user)}
        assert server_model(hub, user)["ready"] is False
        # The node frees up: the job runs, and the server comes up.
        slurm_cmd("scancel", blockers[0])
        events = progress.wait(120)
        assert events[-1].get("ready") is True, progress.messages()
        assert jobs_of(user) == {job_id: ("RUNNING", user)}
        stop_server(hub, user)
        wait_no_jobs(user)
    finally:
        for b in blockers:
            slurm_cmd("scancel", b, check=False)


def test_held_job_then_stop(slurm, users, hub_factory):
    user = users()
    hub = slurm_hub(hub_factory, slurm={"batch_submit_cmd": "sbatch --parsable --hold"})
    hub.api("POST", f"/users/{user}")
    progress = start_watched(hub, user)
    job_id = submitted_job(progress)
    msg = progress.wait_message(r"is held")
    assert msg == (f"Job {job_id} is held in the queue of partition debug (JobHeldUser): it is "
                   "held by its owner (scontrol release lets it start)."), msg
    assert jobs_of(user) == {job_id: ("PENDING", user)}
    assert job_info(job_id)["Reason"] == "JobHeldUser"
    r = hub.api("DELETE", f"/users/{user}/server")
    assert r.status_code == 204, r.text
    assert server_model(hub, user) is None
    wait_no_jobs(user, timeout=15)
    assert job_info(job_id)["JobState"] == "CANCELLED"
    progress.wait(30)
    log = hub.log()
    assert f"Stopping SLURM job {job_id} of {user}" in log
    # A stop the user asked for is no error (a warning says the start was cancelled).
    errors = [line for line in log.splitlines() if line.startswith(("[E ", "[C "))]
    assert errors == [], errors


def test_job_that_dies_at_once(slurm, users, hub_factory):
    user = users()
    hub = slurm_hub(hub_factory, spawner={"start_timeout": 120},
                    slurm={"req_prologue": "echo about to fail; exit 3"})
    hub.api("POST", f"/users/{user}")
    msg, took, _ = failed_start(hub, user)
    assert took < 20, (took, msg)
    assert re.search(r"SLURM job \d+ ", msg), msg
    assert "SLURM: state FAILED, exit code 3:0" in msg, msg
    assert "Last lines of its output:\nabout to fail" in msg, msg
    assert "did not start" in hub.log()


def test_sbatch_that_fails(slurm, users, hub_factory):
    user = users()
    hub = slurm_hub(hub_factory,
                    slurm={"batch_submit_cmd": "sbatch --parsable --partition=nosuch"})
    hub.api("POST", f"/users/{user}")
    msg, took, _ = failed_start(hub, user)
    assert took < 20, took
    assert "Submitting the batch job failed (" in msg, msg
    # SLURM 22.05's own words, from sbatch's stderr.
    assert "sbatch: error: invalid partition specified: nosuch" in msg, msg
    assert "Batch job submission failed: Invalid partition name specified" in msg, msg
    assert jobs_of(user) == {}


@pytest.mark.parametrize("exec_prefix", ["sudo -E -u {username}", ""])
def test_sbatch_that_is_missing(slurm, users, hub_factory, exec_prefix):
    user = users()
    hub = slurm_hub(hub_factory, slurm={"batch_submit_cmd": "/nonexistent/sbatch",
                                        "exec_prefix": exec_prefix})
    hub.api("POST", f"/users/{user}")
    msg, took, _ = failed_start(hub, user)
    assert took < 20, took
    assert "Submitting the batch job failed (" in msg, msg
    assert "/nonexistent/sbatch" in msg and "not found" in msg, msg
    if not exec_prefix:  # the shell's own status; sudo says 1
        assert "127" in msg, msg


def test_query_output_nobody_understands(slurm, users, hub_factory):
    user = users()
    hub = slurm_hub(hub_factory, slurm={"batch_query_cmd": "echo WEIRD-{job_id}"})
    hub.api("POST", f"/users/{user}")
    msg, took, _ = failed_start(hub, user)
    assert took < 30, took
    m = re.search(r"SLURM job (\d+)", msg)
    assert m, msg
    job_id = m.group(1)
    # The job the hub no longer follows does not keep running.
    wait_no_jobs(user, timeout=15)
    assert job_info(job_id)["JobState"] == "CANCELLED", job_info(job_id)
    # The message says what the query printed (the setting to fix is then easy to find), not
    # only that the job is gone while SLURM says it is pending.
    assert f"WEIRD-{job_id}" in msg, msg
