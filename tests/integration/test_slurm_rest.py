"""The SLURM spawner's slurmrestd backend (SlurmSpawner.slurmrestd_url) against the real
slurmrestd 22.05 of ../shared/recipes/start-slurm.sh (auth/jwt, OpenAPI v0.0.38), on the same
cluster as test_slurm_spawner.py: the job is submitted, queried and cancelled over REST with
root's JWT, and runs as the user named in each request. The batch commands are set to
/bin/false here, so a test passes only if no sbatch, squeue or scancel ran.

Covered: a start into a kernel that runs as the user, with the script's #SBATCH directives
applied (job name, output file, working directory) and the token in no log; the queue position
and reason from GET /jobs while the node is full; a held job (req_options) stopped cleanly; a
job that dies at once (state, exit code, its output); a directive slurmrestd cannot take, an
unknown partition, a refused token and a slurmrestd that is down, each a clear failure within
seconds; a hub user called root refused; a proxy's error page in place of a query's answer
(the job is not declared dead); settings refused at startup."""
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from conftest import free_port
from spawn_helpers import server_model
from test_slurm_spawner import (SLURM_REST, failed_start, job_id_of, job_info, job_state,  # noqa: F401
                                jobs_of, metrics, run_kernel, slurm, slurm_alone, slurm_cluster, slurm_cmd,
                                slurm_hub, start_watched, stop_server, submit_blocker,
                                submitted_job, users, wait_for, wait_no_jobs)

NO_COMMANDS = {"batch_submit_cmd": "/bin/false", "batch_query_cmd": "/bin/false",
               "batch_cancel_cmd": "/bin/false", "queue_query_cmd": "/bin/false",
               "job_info_cmd": "/bin/false"}


@pytest.fixture
def rest(slurm):
    if "SLURMRESTD_URL" not in SLURM_REST:
        pytest.skip("slurmrestd did not start with the cluster")
    return dict(SLURM_REST)


def rest_hub(hub_factory, rest, slurm=None, spawner=None, token=None, **kw):
    """A hub on slurmrestd with root's token (@token instead; "" for none in the config)."""
    settings = dict(NO_COMMANDS, slurmrestd_url=rest["SLURMRESTD_URL"])
    if token != "":
        settings["slurmrestd_token"] = token or rest["SLURM_JWT"]
    settings.update(slurm or {})
    return slurm_hub(hub_factory, spawner=spawner, slurm=settings, **kw)


def no_token_in_logs(hub, rest):
    log = hub.log()
    assert rest["SLURM_JWT"] not in log
    assert rest["SLURM_JWT"].split(".")[2] not in log  # not even its signature


def test_rest_spawn_into_a_kernel_then_stop(rest, users, hub_factory):
    user = users()
    hub = rest_hub(hub_factory, rest)
    hub.api("POST", f"/users/{user}")
    progress = start_watched(hub, user)
    events = progress.wait(120)
    messages = progress.messages()
    assert events[-1].get("ready") is True, messages
    job_id = job_id_of(hub, user)
    assert f"Job {job_id} submitted to SLURM" in messages, messages
    assert f"Job {job_id} is running on localhost; waiting for its server to start" in messages
    assert server_model(hub, user)["state"] == {"job_id": job_id, "job_status": "RUNNING localhost"}

    # slurmrestd ignores #SBATCH lines: the hub gave them as the job's properties.
    assert jobs_of(user) == {job_id: ("RUNNING", user)}
    info = job_info(job_id)
    assert info["JobName"] == "spawner-jupyterhub", info
    home = f"/home/{user}"
    assert info["WorkDir"] == home, info
    assert info["StdOut"] == f"{home}/jupyterhub_slurmspawner_{job_id}.log", info
    token = hub.api.token_for(user)
    assert run_kernel(hub, user, token, "import getpass, os; (getpass.getuser(), "
                                        "os.environ['SLURM_JOB_ID'], os.getcwd())") == \
        repr((user, job_id, home))

    stop_server(hub, user)
    wait_no_jobs(user)
    assert job_info(job_id)["JobState"] == "CANCELLED"
    assert server_model(hub, user) is None
    assert "Submitting the batch job of " + user + ": to slurmrestd" in hub.log()
    counts = metrics(hub)  # requests count as the commands they stand for
    assert counts['ganymede_slurm_commands_total{kind="submit"}'] == 1, counts
    assert counts['ganymede_slurm_commands_total{kind="query"}'] >= 1, counts
    assert counts['ganymede_slurm_commands_total{kind="cancel"}'] == 1, counts
    assert counts["ganymede_slurm_command_failures_total"] == 0, counts
    no_token_in_logs(hub, rest)


def test_rest_queue_position_and_reason_while_the_node_is_full(slurm_alone, users, hub_factory):
    if "SLURMRESTD_URL" not in SLURM_REST:
        pytest.skip("slurmrestd did not start with the cluster")
    user = users()
    blockers = []
    try:
        blockers.append(submit_blocker(16))
        wait_for(lambda: job_state(blockers[0]) == "RUNNING", 30, what="the blocker running")
        blockers.append(submit_blocker(16, "true"))
        hub = rest_hub(hub_factory, SLURM_REST,
                       slurm={"req_nprocs": "1", "pending_poll_interval": 1})
        hub.api("POST", f"/users/{user}")
        progress = start_watched(hub, user)
        job_id = submitted_job(progress)
        msg = progress.wait_message(r"is waiting in the queue of partition debug: 2nd of 2 "
                                    r"pending there\. Why: .*\((Resources|Priority)\)")
        assert msg.startswith(f"Job {job_id} is waiting in the queue of partition debug"), msg
        assert jobs_of(user) == {job_id: ("PENDING", user)}
        slurm_cmd("scancel", blockers[0])
        events = progress.wait(120)
        assert events[-1].get("ready") is True, progress.messages()
        stop_server(hub, user)
        wait_no_jobs(user)
    finally:
        for b in blockers:
            slurm_cmd("scancel", b, check=False)


def test_rest_held_job_then_stop(rest, users, hub_factory):
    user = users()
    hub = rest_hub(hub_factory, rest, slurm={"req_options": "--hold"})
    hub.api("POST", f"/users/{user}")
    progress = start_watched(hub, user)
    job_id = submitted_job(progress)
    msg = progress.wait_message(r"is held")
    assert "(JobHeldUser)" in msg, msg
    assert job_info(job_id)["Reason"] == "JobHeldUser"
    r = hub.api("DELETE", f"/users/{user}/server")
    assert r.status_code == 204, r.text
    wait_no_jobs(user, timeout=15)
    assert job_info(job_id)["JobState"] == "CANCELLED"
    progress.wait(30)


def test_rest_job_that_dies_at_once(rest, users, hub_factory):
    user = users()
    hub = rest_hub(hub_factory, rest, slurm={"req_prologue": "echo about to fail; exit 3"})
    hub.api("POST", f"/users/{user}")
    msg, took, _ = failed_start(hub, user)
    assert took < 20, (took, msg)
    assert "SLURM: state FAILED, exit code 3:0" in msg, msg
    # The output file is read with output_tail_cmd, a command that runs as the user.
    assert "Last lines of its output:\nabout to fail" in msg, msg


def test_rest_root_is_refused(rest, hub_factory):
    """With root's token slurmrestd runs the job as whoever the request names: a hub user
    called root gets no root job."""
    hub = rest_hub(hub_factory, rest)
    hub.api("POST", "/users/root")
    msg, took, _ = failed_start(hub, "root")
    assert "is the system's root account" in msg, msg
    assert not jobs_of("root")


class FlakyProxy:
    """slurmrestd behind a proxy that, while .broken, answers job queries with a proxy's HTML
    error page (502) instead of passing them on."""

    def __init__(self, upstream):
        self.broken = threading.Event()
        self.seen_broken = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _pass(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                if outer.broken.is_set() and self.command == "GET" and "/job/" in self.path:
                    outer.seen_broken += 1
                    page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
                    self.send_response(502)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("x-slurm-user-name", "x-slurm-user-token",
                                            "content-type")}
                r = requests.request(self.command, upstream + self.path, data=body,
                                     headers=headers, timeout=30)
                self.send_response(r.status_code)
                self.send_header("Content-Type", r.headers.get("Content-Type", "text/plain"))
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            do_GET = do_POST = do_DELETE = _pass

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_rest_a_proxy_error_page_is_not_a_dead_job(rest, users, hub_factory):
    """A query answered by something other than slurmrestd (a proxy's 502 HTML) says nothing
    of the job: the running server is not declared stopped."""
    user = users()
    proxy = FlakyProxy(rest["SLURMRESTD_URL"])
    try:
        hub = rest_hub(hub_factory, rest, slurm={"slurmrestd_url": proxy.url},
                       spawner={"poll_interval": 1})
        hub.api("POST", f"/users/{user}")
        assert start_watched(hub, user).wait(120)[-1].get("ready") is True
        job_id = job_id_of(hub, user)
        proxy.broken.set()
        wait_for(lambda: proxy.seen_broken >= 3 and "the query did not say" in hub.log(), 30,
                 what="three polls answered by the proxy's error page")
        assert server_model(hub, user) is not None
        assert jobs_of(user) == {job_id: ("RUNNING", user)}
        proxy.broken.clear()
        stop_server(hub, user)
        wait_no_jobs(user)
    finally:
        proxy.close()


@pytest.mark.parametrize("case", ["directive", "partition", "token", "down"])
def test_rest_submission_refused(rest, users, hub_factory, case):
    user = users()
    settings, token, says = {}, None, None
    if case == "directive":
        settings = {"req_options": "--clusters=other"}
        says = "the batch script's '#SBATCH --clusters=other' has no slurmrestd equivalent"
    elif case == "partition":
        settings = {"req_partition": "nosuch"}
        says = "Invalid partition name specified (2000)"
    elif case == "token":
        token = rest["SLURM_JWT"][:-6] + "AAAAAA"  # a signature that does not verify
        says = "is SlurmSpawner.slurmrestd_token a valid JWT of root or SlurmUser?"
    else:
        settings = {"slurmrestd_url": f"http://127.0.0.1:{free_port()}"}
        says = "slurmrestd did not answer"
    hub = rest_hub(hub_factory, rest, slurm=settings, token=token)
    hub.api("POST", f"/users/{user}")
    t0 = time.monotonic()
    msg, took, _ = failed_start(hub, user)
    assert took < 20, (took, msg)
    assert says in msg, msg
    assert not jobs_of(user)
    assert hub.api("GET", "/").status_code == 200  # the hub answers on
    assert time.monotonic() - t0 < 60
    assert (token or rest["SLURM_JWT"]) not in hub.log()


@pytest.mark.parametrize("settings, message", [
    ({"slurmrestd_url": "ftp://slurm:6820"},
     "SlurmSpawner.slurmrestd_url 'ftp://slurm:6820' must be an http:// or https:// URL"),
    ({"slurmrestd_url": "http://127.0.0.1:6820", "slurmrestd_token": ""},
     "SlurmSpawner.slurmrestd_url is set but no token is"),
    ({"slurmrestd_url": "http://127.0.0.1:6820", "slurmrestd_token": "a b"},
     "SlurmSpawner.slurmrestd_token holds a space or a control character"),
    ({"slurmrestd_api_version": "../../x"},
     "SlurmSpawner.slurmrestd_api_version '../../x' is not a version"),
])
def test_rest_bad_settings_refused_at_startup(rest, hub_factory, settings, message):
    settings = dict(settings)
    token = settings.pop("slurmrestd_token", None)  # "": none in the config nor the environment
    hub = rest_hub(hub_factory, rest, slurm=settings, token=token, start=False)
    hub.start(wait=False)
    assert hub.wait(30) != 0
    log = hub.log()
    assert message in log, log[-2000:]
    assert rest["SLURM_JWT"] not in log
    assert re.search(r"SlurmSpawner", log)
