"""The SLURM spawner (spawner_class = "slurm") against a real SLURM 22.05 cluster started by
../shared/recipes/start-slurm.sh: one node `localhost` with 16 CPUs, partition `debug`. Each
server is a batch job submitted with sbatch as the user (exec_prefix `sudo -E -u {username}`,
so every test makes system users of its own and removes them, and their jobs, afterwards); the
job runs the real jupyterhub-singleuser through the checkout's batchspawner-singleuser, which
reports its port to POST /hub/api/batchspawner; the hub reaches the server at the job's node
(localhost) through the real configurable-http-proxy.

Covered: a start through the REST API into a kernel that runs as the user, with the progress
of the job (submitted, running on localhost) and the job seen by squeue, then a stop that
cancels it; progress that only goes forward when the port report beats the query; the default
script with srun; queue position and reason while the node is full;
the same in chromium (the batch options form, the spawn-pending page saying where the job
stands while the node is full, then taking the user into the server once it frees); a held job,
stopped cleanly; a job that dies at once (its state, exit code and output in the
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
import html
import json
import os
import pwd
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

from conftest import ADMIN_TOKEN, BIN, RECIPES, RECIPES_STATE, Api, free_port, run_browser
from secrets_seen import remember
from spawn_helpers import PASSWORD, server_model, start, wait_for, wait_ready, wait_stopped

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = ROOT / "spawners" / "slurm" / "batchspawner-singleuser"
SLURM_STATE = RECIPES_STATE / "slurm"
LOCK = RECIPES_STATE / ".ganymede-slurm-tests.lock"
SLURM_ENV = {}  # SLURM_CONF, once the cluster runs
SLURM_REST = {}  # SLURMRESTD_URL and SLURM_JWT, once slurmrestd runs (test_slurm_rest.py)


# The cluster.

def _recipe(*args):
    # With slurmrestd (auth/jwt) too, for the REST backend's tests: one cluster for both.
    return subprocess.run([str(RECIPES / "start-slurm.sh"), *args], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, SLURM_RESTD="1"))


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
        env = _recipe("env").stdout
        m = re.search(r"SLURM_CONF='([^']+)'", env)
        if not m:
            pytest.skip("start-slurm.sh env gave no SLURM_CONF")
    SLURM_ENV["SLURM_CONF"] = m.group(1)
    for name in ("SLURMRESTD_URL", "SLURM_JWT"):
        rest = re.search(name + r"='([^']+)'", env)
        if rest:
            SLURM_REST[name] = rest.group(1)
    remember(SLURM_REST.get("SLURM_JWT"))
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


def slurm_cmd(*args, timeout=30, check=True):
    """A SLURM command, as root; its stdout."""
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout,
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
            ended = self.done.is_set()  # before looking: a last event is not missed
            m = next((m for m in self.messages() if re.search(pattern, m)), None)
            if not m and ended:
                raise AssertionError(f"the progress stream ended without {pattern!r}: "
                                     f"{self.error or ''} {self.messages()}")
            return m
        return wait_for(found, timeout, interval=0.1, what=f"a progress message like {pattern!r}")

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
    assert server_model(hub, user)["state"] == {"job_id": job_id, "job_status": "RUNNING localhost"}

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


def test_progress_goes_forward_when_the_report_comes_first(slurm, users, hub_factory):
    # The job runs and its wrapper reports the port before the hub's next query (2.5 s after
    # the submit) sees it running: the progress must not go back from "reported its port"
    # (80 %) to "waiting for its server to start" (50 %).
    user = users()
    hub = slurm_hub(hub_factory, slurm={"startup_poll_interval": 2.5})
    hub.api("POST", f"/users/{user}")
    events = start_watched(hub, user).wait(120)
    assert events[-1].get("ready") is True, events
    steps = [(e["progress"], e.get("message", "")) for e in events]
    reported = next(i for i, (_, m) in enumerate(steps) if m.startswith("The server reported"))
    assert [p for p, _ in steps] == sorted(p for p, _ in steps), steps
    assert not any("waiting for its server to start" in m for _, m in steps[reported:]), steps
    stop_server(hub, user)
    wait_no_jobs(user)


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


def test_browser_follows_the_queue_into_the_server(slurm_alone, users, hub_factory, tmp_path):
    """chromium: the batch options form, the spawn-pending page while the job waits (where it
    stands, why), and the same page taking the user into their server once the node frees."""
    user = users()
    trigger = tmp_path / "queued"
    blockers = [submit_blocker(16)]
    freed = threading.Event()

    def free_when_seen():
        # The browser writes the trigger once it shows the queue; bounded either way.
        try:
            wait_for(trigger.exists, 120, interval=0.2, what="the browser at the queue message")
        finally:
            slurm_cmd("scancel", blockers[0], check=False)
            freed.set()

    try:
        wait_for(lambda: job_state(blockers[0]) == "RUNNING", 30, what="the blocker running")
        hub = slurm_hub(hub_factory, slurm={"pending_poll_interval": 1, "batch_options": {
            "partition": {"choices": ["debug"]}, "nprocs": {"min": 1, "max": 4, "default": 1}}})
        t = threading.Thread(target=free_when_seen, daemon=True)
        t.start()
        found = run_browser("slurm-spawn", url=hub.public_url, user=user, password=PASSWORD,
                            nprocs=2, trigger=str(trigger),
                            queued=r"is waiting in the queue .*\(Resources\)\.")
        assert freed.wait(30)
        assert found["formLabels"] == ["Partition", "CPUs"], found
        job_id = job_id_of(hub, user)
        # (SLURM's estimated start may follow, once its backfill pass has run.)
        assert found["queued"].startswith(
            f"Job {job_id} is waiting in the queue of partition debug: 1st of 1 pending there. "
            "Why: the CPUs, memory or GPUs it asks for are in use by other jobs (Resources)."), found
        assert found["redirectPromised"] is True
        assert f"Job {job_id} submitted to SLURM" in found["log"], found
        assert found["serverUrl"].startswith(hub.public_url + f"/user/{user}/"), found
        assert job_info(job_id)["NumCPUs"] == "2"
        assert found["consoleErrors"] == [], found["consoleErrors"]
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
    # Cancelled by the hub, or FAILED when the job's wrapper, whose port report the hub now
    # refuses (409: not starting), gave up first: under load either comes first.
    assert job_info(job_id)["JobState"] in ("CANCELLED", "FAILED"), job_info(job_id)
    # The message says what the query printed (the setting to fix is then easy to find), not
    # only that the job is gone while SLURM says it is pending.
    assert f"WEIRD-{job_id}" in msg, msg


def test_frozen_controller_mid_spawn(slurm_alone, users, hub_factory):
    """slurmctld stopped (SIGSTOP): every batch command hangs until command_timeout ends it."""
    running, submitting, pending = users("slurma"), users("slurmb"), users("slurmc")
    hub = slurm_hub(hub_factory, spawner={"poll_interval": 2, "start_timeout": 25},
                    slurm={"command_timeout": 5, "pending_poll_interval": 1})
    for u in (running, submitting, pending):
        hub.api("POST", f"/users/{u}")
    assert start_watched(hub, running).wait(120)[-1].get("ready") is True
    running_job = job_id_of(hub, running)
    blocker = submit_blocker(15)  # the rest of the node: the next job waits
    ctld = int((SLURM_STATE / "slurmctld.pid").read_text())
    try:
        wait_for(lambda: job_state(blocker) == "RUNNING", 30, what="the blocker running")
        waiting = start_watched(hub, pending)
        pending_job = submitted_job(waiting)
        waiting.wait_message(r"is waiting in the queue of partition debug")
        os.kill(ctld, signal.SIGSTOP)
        t0 = time.monotonic()
        # A submit that hangs fails once command_timeout ends it, with a message saying so.
        submit = start_watched(hub, submitting)
        events = submit.wait(60)
        took = time.monotonic() - t0
        assert events[-1].get("failed") is True, submit.messages()
        assert "Submitting the batch job failed (ended after 5 s (timeout))" in \
            events[-1]["message"], events[-1]
        assert took < 25 + 5 + 5, took
        # A job waiting in the queue: the queries time out, the progress says so; the start
        # fails at start_timeout.
        msg = waiting.wait_message(rf"SLURM does not answer about job {pending_job}", 30)
        assert "still waiting (Spawner.start_timeout decides)" in msg, msg
        events = waiting.wait(60)
        took = time.monotonic() - t0
        assert events[-1].get("failed") is True, waiting.messages()
        assert "within 25 seconds (Spawner.start_timeout)" in events[-1]["message"], events[-1]
        assert took < 25 + 5 + 5, took
        # Meanwhile the running server was polled and not taken for stopped.
        wait_for(lambda: f"SLURM job {running_job} of {running}: the query did not say" in
                 hub.log(), 20, what="a poll of the running job while the controller is stopped")
        assert server_model(hub, running)["ready"] is True
        r = requests.get(hub.public_url + f"/user/{running}/api", timeout=10)
        assert r.status_code == 200, r.text
    finally:
        os.kill(ctld, signal.SIGCONT)
        slurm_cmd("scancel", blocker, check=False)
    # Back: the failed start's job is cancelled, the running server still runs.
    wait_stopped(hub, pending, timeout=90)
    wait_no_jobs(pending, timeout=30)
    assert server_model(hub, running)["ready"] is True
    assert jobs_of(running) == {running_job: ("RUNNING", running)}
    stop_server(hub, running)
    wait_no_jobs(running)
    # The submit the hub gave up on: had slurmctld taken it after all (it has answered the
    # stop above since), nobody would follow its job.
    leftover = jobs_of(submitting)
    assert leftover == {}, f"a job of {submitting} the hub does not know of: {leftover}"


class FakeServer:
    """What the tests put behind a reported port: answers every GET with a marker."""

    def __init__(self, marker):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps({"marker": marker, "path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def home_of(user):
    return Path(pwd.getpwnam(user).pw_dir)


def test_port_reports(slurm, users, hub_factory):
    user = users()
    # A job that never reports by itself: it leaves its server's token where the test reads it.
    keep_token = ("bash -c 'umask 077; printf %s \"$JUPYTERHUB_API_TOKEN\" > api-token.tmp && "
                  "mv api-token.tmp api-token; exec sleep 300' job")
    hub = slurm_hub(hub_factory, slurm={"batchspawner_singleuser_cmd": keep_token})
    hub.api("POST", f"/users/{user}")
    user_token = hub.api.token_for(user)

    def report(token, body):
        headers = {"Authorization": f"token {token}"} if token else {}
        return requests.post(hub.url + "/hub/api/batchspawner", json=body, headers=headers,
                             timeout=10)

    fake = FakeServer(marker=user)
    try:
        progress = start_watched(hub, user)
        submitted_job(progress)
        token_file = home_of(user) / "api-token"
        token = wait_for(lambda: token_file.exists() and token_file.read_text(), 60,
                         what="the job's token")
        body = {"port": fake.port}
        # Only the token of the server being started may report for it.
        assert report(None, body).status_code == 403
        r = report(ADMIN_TOKEN, body)
        assert r.status_code == 403 and "not the API token of a server being started" in r.text
        r = report(user_token, body)
        assert r.status_code == 403 and "not the API token of a server being started" in r.text
        for bad in ("abc", 0, 70000, -1, 8080.5, None, str(fake.port)):
            r = report(token, {"port": bad})
            assert r.status_code == 400, (bad, r.status_code, r.text)
            assert "port must be an integer from 1 to 65535" in r.text, r.text
        assert report(token, {}).status_code == 400
        r = report(token, body)
        assert r.status_code == 201, r.text
        assert r.json() == {"message": "BatchSpawner data configured"}
        # Once is enough (the start may have gone on by now: then it is not starting).
        r = report(token, {"port": fake.port + 1})
        assert r.status_code == 409, r.text
        assert "reported already (%d)" % fake.port in r.text or "is not starting" in r.text
        # The hub takes the reported port: the proxy sends the user's requests there.
        events = progress.wait(60)
        assert events[-1].get("ready") is True, progress.messages()
        assert f"reported port {fake.port}" in hub.log()
        r = requests.get(hub.public_url + f"/user/{user}/some/page", timeout=10)
        assert r.status_code == 200 and r.json()["marker"] == user, r.text
        # Up and running: no more reports.
        r = report(token, body)
        assert r.status_code == 409 and "is not starting" in r.text, r.text
        stop_server(hub, user)
        wait_no_jobs(user)
        assert report(token, body).status_code == 403  # the server's token went with it
    finally:
        fake.close()


def test_hub_restart_takes_the_job_over(slurm, users, hub_factory, tmp_path):
    user = users()
    # The hub on a port of its own both times: the job's server reaches the hub's API there.
    bind = f"--JupyterHub.hub_bind_url=http://127.0.0.1:{free_port()}"
    keep = ["--JupyterHub.cleanup_servers=False", "--JupyterHub.cleanup_proxy=False"]
    hub = slurm_hub(hub_factory, spawner={"poll_interval": 2}, args=[bind] + keep)
    hub.api("POST", f"/users/{user}")
    assert start_watched(hub, user).wait(120)[-1].get("ready") is True
    job_id = job_id_of(hub, user)
    token = hub.api.token_for(user)
    hub.stop()
    # No hub: the job runs on (the later --JupyterHub.cleanup_servers=False won), the proxy
    # still routes to it.
    assert jobs_of(user) == {job_id: ("RUNNING", user)}
    assert requests.get(hub.public_url + f"/user/{user}/api", timeout=10).status_code == 200

    hub2 = slurm_hub(hub_factory, spawner={"poll_interval": 2}, args=[bind], state_dir=tmp_path,
                     name="hub2", start=False)
    hub2.proxy_port, hub2.proxy_api_port = hub.proxy_port, hub.proxy_api_port
    hub2.public_url = hub.public_url
    hub2.start()
    model = server_model(hub2, user)
    assert model["ready"] is True and model["state"]["job_id"] == job_id, model
    assert model["url"] == f"/user/{user}/"
    r = requests.get(hub2.public_url + f"/user/{user}/api/status",
                     headers={"Authorization": f"token {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    assert jobs_of(user) == {job_id: ("RUNNING", user)}
    assert "Found 1 server(s) running before this start" in hub2.log()

    # Cancelled behind the hub's back: its polls notice, and the server goes.
    slurm_cmd("scancel", job_id)
    wait_stopped(hub2, user, timeout=30)
    assert f"SLURM job {job_id} of {user} is no longer in the queue" in hub2.log()
    assert f"/user/{user}/" not in hub2.api("GET", "/proxy").json()


def login(hub, user):
    s = requests.Session()
    page = s.get(hub.url + "/hub/login", timeout=10)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    r = s.post(hub.url + "/hub/login", data={"username": user, "password": PASSWORD,
                                             "_xsrf": xsrf}, allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    return s


def test_batch_options_form(slurm, users, hub_factory):
    user = users()
    hub = slurm_hub(hub_factory, slurm={"batch_options": {
        "partition": {"choices": ["debug"]}, "nprocs": {"min": 1, "max": 4, "default": 2}}})
    s = login(hub, user)
    page = s.get(hub.url + f"/hub/spawn/{user}", timeout=10)
    assert page.status_code == 200, page.text
    assert '<select class="form-control" id="batch-partition" name="partition">' in page.text
    assert '<option value="debug">debug</option>' in page.text
    assert ('<input class="form-control" type="number" id="batch-nprocs" name="nprocs" min="1" '
            'max="4" step="1" value="2" required>') in page.text
    assert '<label for="batch-nprocs">CPUs</label>' in page.text
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)

    # Out of range on the form: the form again, with what is wrong.
    r = s.post(hub.url + f"/hub/spawn/{user}", timeout=10, allow_redirects=False,
               data={"_xsrf": xsrf, "partition": "debug", "nprocs": "9"})
    assert r.status_code == 400, r.text
    assert "CPUs: '9' is not one of the values allowed" in html.unescape(r.text), r.text
    assert 'name="nprocs"' in r.text
    assert server_model(hub, user) is None and jobs_of(user) == {}

    # The same through the REST API.
    msg, _, _ = failed_start(hub, user, options={"nprocs": "9"})
    assert 'nprocs "9" is not allowed here (batch_options)' in msg, msg
    assert jobs_of(user) == {}

    # Within the limits: the job asks SLURM for that many CPUs.
    r = s.post(hub.url + f"/hub/spawn/{user}", timeout=10, allow_redirects=False,
               data={"_xsrf": xsrf, "partition": "debug", "nprocs": "3"})
    assert r.status_code == 302, r.text
    wait_ready(hub, user, timeout=120)
    ids = slurm_cmd("squeue", "-h", "-u", user, "-o", "%i").split()
    assert ids == [job_id_of(hub, user)], ids
    info = job_info(ids[0])
    assert info["NumCPUs"] == "3" and info["Partition"] == "debug", info
    assert server_model(hub, user)["user_options"] == {"partition": "debug", "nprocs": "3"}
    stop_server(hub, user)
    wait_no_jobs(user)


def metrics(hub):
    r = hub.get("/hub/metrics", headers={"Authorization": f"token {ADMIN_TOKEN}"})
    assert r.status_code == 200, r.text
    return {m.group(1): float(m.group(2)) for m in
            re.finditer(r"^(ganymede_slurm_\w+(?:\{[^}]*\})?) (\S+)$", r.text, re.M)}


def test_metrics_count_the_batch_commands(slurm, users, hub_factory):
    user = users()
    hub = slurm_hub(hub_factory)
    hub.api("POST", f"/users/{user}")
    before = metrics(hub)
    assert before['ganymede_slurm_commands_total{kind="submit"}'] == 0, before
    assert start_watched(hub, user).wait(120)[-1].get("ready") is True
    stop_server(hub, user)
    after = metrics(hub)
    assert after['ganymede_slurm_commands_total{kind="submit"}'] == 1, after
    assert after['ganymede_slurm_commands_total{kind="query"}'] >= 1, after
    assert after['ganymede_slurm_commands_total{kind="cancel"}'] == 1, after
    assert after["ganymede_slurm_command_failures_total"] == 0, after
    assert after["ganymede_slurm_command_seconds_total"] > 0, after
