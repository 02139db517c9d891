#!/usr/bin/env python3
"""The SLURM spawner's benchmark (part of ./dev bench; Ganymede only: Debian has no
batchspawner to compare with). Against the real one-node SLURM cluster of
../shared/recipes/start-slurm.sh, with real jupyterhub-singleuser jobs run as a local user
through sudo, as batchspawner runs them:

- N servers started one after the other: the time from the REST API's POST to a server that
  answers through the proxy, split by the hub's log into sbatch, the wait until SLURM runs the
  job, the job's start until its wrapper reported the port, and the hub's HTTP check and route;
- with those N servers running and Spawner.poll_interval 1 s, the hub's CPU time per poll (each
  poll is one squeue through sudo, run on the loop: fork, exec, reading its output) and the
  wall time of the query command, from /hub/metrics.

--backend slurmrestd measures the same through the recipe's slurmrestd (SlurmSpawner.
slurmrestd_url, root's JWT in the hub's SLURM_JWT): each poll is then one HTTP request.

    bench/slurm.py --spawn 10 --poll-seconds 30 --out bench/results/slurm-X.json
"""
import argparse
import json
import os
import pwd
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECIPES = Path(os.environ.get("GANYMEDE_RECIPES") or ROOT.parent / "shared" / "recipes")
TOKEN = "slurm-bench-token-0123456789abcdef"
HUB_PORT, PUBLIC_PORT, PROXY_API_PORT = 18121, 18120, 18122
USER = "gmslurmbench"
LOG_TIME = re.compile(r"^\[\w (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) ")


def log(*a):
    print("[slurm bench]", *a, file=sys.stderr, flush=True)


def call(url, method="GET", body=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"token {TOKEN}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as e:
        return 0, str(e)


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric(text, name, labels=""):
    m = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def wait(what, check, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = check()
        if r:
            return r
        time.sleep(interval)
    raise SystemExit(f"{what}: not within {timeout} s")


def stamp_of(line):
    m = LOG_TIME.match(line)
    return datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp() if m else None


def phases(log_text, user, job_after):
    """The hub's log lines of one start of @user's server: times of submit, port, ready."""
    marks = {}
    for line in log_text.splitlines():
        t = stamp_of(line)
        if t is None or t < job_after:
            continue
        if f"Submitting the batch job of {user}" in line:
            marks.setdefault("submit", t)
        elif re.search(rf"SLURM job \d+ submitted for {user}$", line):
            marks.setdefault("submitted", t)
        elif re.search(rf"SLURM job \d+ of {user} reported port", line):
            marks.setdefault("port", t)
        elif f"Server of '{user}' is ready" in line:
            marks.setdefault("ready", t)
    return marks


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spawn", type=int, default=10)
    ap.add_argument("--poll-seconds", type=float, default=30)
    ap.add_argument("--bin", default=str(ROOT / "build-bench" / "ganymede"))
    ap.add_argument("--backend", choices=["commands", "slurmrestd"], default="commands")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    recipe_env = dict(os.environ, SLURM_RESTD="1")  # one cluster for both backends, as the tests
    p = subprocess.run([str(RECIPES / "start-slurm.sh")], capture_output=True, text=True,
                       timeout=300, env=recipe_env)
    if p.returncode != 0:
        raise SystemExit(f"start-slurm.sh failed: {p.stderr[-800:]}")
    env_text = subprocess.run([str(RECIPES / "start-slurm.sh"), "env"], capture_output=True,
                              text=True, timeout=60, env=recipe_env).stdout
    slurm_conf = re.search(r"SLURM_CONF='([^']+)'", env_text).group(1)
    rest = {k: m.group(1) for k in ("SLURMRESTD_URL", "SLURM_JWT")
            if (m := re.search(k + r"='([^']+)'", env_text))}
    if a.backend == "slurmrestd" and len(rest) != 2:
        raise SystemExit("start-slurm.sh gave no slurmrestd (SLURM_RESTD=1)")
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "-m", "-s", "/bin/bash", USER], check=True)
    wrapper = ROOT / "spawners" / "slurm" / "batchspawner-singleuser"
    state = Path(tempfile.mkdtemp(prefix="slurm-bench-"))
    names = [f"{USER}" if i == 0 else f"{USER}{i}" for i in range(a.spawn)]
    for n in names[1:]:
        try:
            pwd.getpwnam(n)
        except KeyError:
            subprocess.run(["useradd", "-m", "-s", "/bin/bash", n], check=True)
    cfg = {
        "JupyterHub": {"spawner_class": "slurm", "authenticator_class": "null",
                       "api_tokens": {TOKEN: "admin"},
                       "hub_bind_url": f"http://127.0.0.1:{HUB_PORT}",
                       "bind_url": f"http://127.0.0.1:{PUBLIC_PORT}",
                       "cleanup_servers": True, "cleanup_proxy": True},
        "ConfigurableHTTPProxy": {"api_url": f"http://127.0.0.1:{PROXY_API_PORT}"},
        "Authenticator": {"admin_users": ["admin"], "allow_all": True},
        "Spawner": {"env_keep": ["PATH", "LANG", "SLURM_CONF"], "poll_interval": 1,
                    "cmd": ["jupyterhub-singleuser"]},
        "SlurmSpawner": {"batchspawner_singleuser_cmd": str(wrapper)},
    }
    env = dict(os.environ, SLURM_CONF=slurm_conf)
    if a.backend == "slurmrestd":
        cfg["SlurmSpawner"]["slurmrestd_url"] = rest["SLURMRESTD_URL"]
        env["SLURM_JWT"] = rest["SLURM_JWT"]  # the token stays out of the config file
    (state / "bench_config.json").write_text(json.dumps(cfg))
    hub_log = open(state / "hub.log", "w")
    proc = subprocess.Popen([a.bin, "-f", "bench_config.json"], cwd=state, env=env,
                            stdout=hub_log, stderr=subprocess.STDOUT, start_new_session=True)
    hub = f"http://127.0.0.1:{HUB_PORT}"
    result = {"started": time.strftime("%Y%m%d-%H%M%S"), "backend": a.backend, "spawns": []}
    try:
        wait("the hub", lambda: call(hub + "/hub/api/")[0] == 200, 60)
        for n in names:
            call(hub + f"/hub/api/users/{n}", "POST")
            t0 = time.time()
            status, text = call(hub + f"/hub/api/users/{n}/server", "POST", timeout=120)
            if status not in (201, 202):
                raise SystemExit(f"spawn of {n}: {status} {text}")

            def reachable():
                s, _ = call(f"http://127.0.0.1:{PUBLIC_PORT}/user/{n}/api/status", timeout=10)
                return s == 200
            wait(f"{n}'s server through the proxy", reachable, 120)
            t1 = time.time()
            marks = phases((state / "hub.log").read_text(errors="replace"), n, t0 - 1)
            spawn = {"user": n, "post_to_reachable_s": round(t1 - t0, 3)}
            if {"submit", "submitted", "port", "ready"} <= set(marks):
                spawn.update(sbatch_s=round(marks["submitted"] - marks["submit"], 3),
                             submitted_to_port_s=round(marks["port"] - marks["submitted"], 3),
                             port_to_ready_s=round(marks["ready"] - marks["port"], 3))
            result["spawns"].append(spawn)
            log(n, spawn)
        # Polls: every server once a second, for a while.
        _, m0 = call(hub + "/hub/metrics")
        c0 = cpu_seconds(proc.pid)
        t0 = time.monotonic()
        time.sleep(a.poll_seconds)  # the measured interval itself, not a wait for an event
        _, m1 = call(hub + "/hub/metrics")
        c1 = cpu_seconds(proc.pid)
        elapsed = time.monotonic() - t0
        q = (metric(m1, "ganymede_slurm_commands_total", '{kind="query"}') -
             metric(m0, "ganymede_slurm_commands_total", '{kind="query"}'))
        secs = (metric(m1, "ganymede_slurm_command_seconds_total") -
                metric(m0, "ganymede_slurm_command_seconds_total"))
        rss = int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{proc.pid}/status").read_text())
                  .group(1)) / 1024
        result["polls"] = {
            "servers": len(names), "seconds": round(elapsed, 1), "queries": int(q),
            "hub_cpu_ms_per_poll": round((c1 - c0) * 1000 / q, 3) if q else None,
            "query_wall_ms": round(secs * 1000 / q, 1) if q else None,
            "failures": int(metric(m1, "ganymede_slurm_command_failures_total")),
            "hub_rss_mb": round(rss, 1)}
        log("polls", result["polls"])
        totals = [s["post_to_reachable_s"] for s in result["spawns"]]
        result["summary"] = {"spawns": len(totals), "median_s": round(statistics.median(totals), 3),
                             "max_s": round(max(totals), 3)}
        for k in ("sbatch_s", "submitted_to_port_s", "port_to_ready_s"):
            vals = [s[k] for s in result["spawns"] if k in s]
            if vals:
                result["summary"][k + "_median"] = round(statistics.median(vals), 3)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        for n in names:
            subprocess.run(["scancel", "-u", n], env=env, capture_output=True, timeout=60)
    Path(a.out).write_text(json.dumps(result, indent=1))
    log("results:", a.out)


if __name__ == "__main__":
    main()
