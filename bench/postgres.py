#!/usr/bin/env python3
"""The database backends side by side (./dev bench --postgres-only): the same release build of
the hub on SQLite and on a local PostgreSQL server of Debian's (tools/pg-test-server.sh, fsync
and synchronous_commit on), driven by wrk straight at the hub's port:

- POST /hub/api/users/{new name}: every request is a write the hub holds until it is durable;
  one client (latency) and 32 (throughput, writes pipelined to PostgreSQL);
- GET /hub/api/users/{name}: a read, served from memory on both;
- the hub's CPU per request and RSS, and PostgreSQL's CPU per write;
- the takeover: two hubs on one database, the active one killed (kill -9) 20 times, the time
  until the standby answers (median and worst).

    bench/postgres.py --bin build-bench/ganymede --out bench/results/postgres-<stamp>.json"""
import argparse
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-admin-token-0123456789abcdef"
HUB_PORT = 18001

POST_LUA = """
local counter = 1
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  n = 0
  prefix = "%s" .. id .. "n"
end
function request()
  n = n + 1
  return wrk.format("POST", "/hub/api/users/" .. prefix .. n,
                    {["Authorization"] = "token %s"})
end
"""


def log(*a):
    print("[postgres-bench]", *a, flush=True)


def cpu_s(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid):
    m = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
    return int(m.group(1)) if m else None


def postgres_pids(pgdir):
    """The PostgreSQL server's processes (the postmaster and its children)."""
    pid = int((Path(pgdir) / "data" / "postmaster.pid").read_text().split()[0])
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True).stdout.split()
    return [pid] + [int(p) for p in out]


def group_cpu_s(pids):
    total = 0.0
    for p in pids:
        try:
            total += cpu_s(p)
        except OSError:
            pass
    return total


def wrk(path, conns, seconds, lua=None, threads=None):
    threads = threads or min(2, conns)
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency",
           "-H", f"Authorization: token {TOKEN}"]
    if lua:
        cmd += ["-s", lua]
    cmd.append(f"http://127.0.0.1:{HUB_PORT}{path}")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)

    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out)
        if not m:
            return None
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
    return {"rps": rps, "requests": total, "errors": int(non2xx.group(1)) if non2xx else 0,
            "p50_ms": pct(50), "p99_ms": pct(99)}


def wait_health(timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{HUB_PORT}/hub/health", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the hub did not answer /hub/health")


def measure(binary, db_url, state, seconds, pgdir=None):
    state.mkdir(parents=True, exist_ok=True)
    (state / "config.json").write_text(json.dumps({
        "JupyterHub": {"hub_bind_url": f"http://127.0.0.1:{HUB_PORT}",
                       "bind_url": "http://127.0.0.1:18000", "db_url": db_url,
                       "api_tokens": {TOKEN: "benchadmin"}, "log_level": "WARN",
                       "authenticator_class": "dummy", "cleanup_proxy": True},
        "ConfigurableHTTPProxy": {"api_url": "http://127.0.0.1:18002"},
        "Authenticator": {"admin_users": ["benchadmin"]},
    }))
    log_file = open(state / "hub.log", "w")
    hub = subprocess.Popen([str(binary), "-f", "config.json"], cwd=state, stdout=log_file,
                           stderr=subprocess.STDOUT)
    try:
        wait_health()
        res = {}
        for name, path, conns, script in [
            ("post_1", "/", 1, "a"),
            ("post_32", "/", 32, "b"),
            ("get_32", "/hub/api/users/benchadmin", 32, None),
        ]:
            if script:  # new user names for each run: a name taken is a 409
                lua = state / f"post-{script}.lua"
                lua.write_text(POST_LUA % (script, TOKEN))
                script = lua
            pg_pids = postgres_pids(pgdir) if pgdir else []
            c0, p0 = cpu_s(hub.pid), group_cpu_s(pg_pids)
            r = wrk(path, conns, seconds, lua=script)
            c1, p1 = cpu_s(hub.pid), group_cpu_s(pg_pids)
            r["hub_cpu_ms_per_req"] = (c1 - c0) * 1000 / max(r["requests"], 1)
            if pgdir:
                r["postgres_cpu_ms_per_req"] = (p1 - p0) * 1000 / max(r["requests"], 1)
            res[name] = r
            log(db_url.split(":")[0], name, r)
        res["hub_rss_kb"] = rss_kb(hub.pid)
        return res
    finally:
        hub.send_signal(signal.SIGTERM)
        try:
            hub.wait(30)
        except subprocess.TimeoutExpired:
            hub.kill()
            hub.wait()
        log_file.close()


def takeover(binary, db_url, state, rounds):
    """Two hubs on one database (docs/database.md, "Two hubs") and one proxy run apart: kill -9
    the active hub and time until the standby answers /hub/health with 200 (it has the lease
    and its state) and until its log says it runs (the proxy's routes checked). The killed hub
    comes back as the next standby."""
    import shutil
    token = "bench-proxy-token-0123456789"
    env = dict(os.environ, CONFIGPROXY_AUTH_TOKEN=token)
    proxy = subprocess.Popen([shutil.which("configurable-http-proxy"), "--ip", "127.0.0.1",
                              "--port", "18020", "--api-ip", "127.0.0.1", "--api-port", "18021"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ports = [18011, 18012]
    hubs = [None, None]

    def start(i):
        d = state / f"hub{i}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "config.json").write_text(json.dumps({
            "JupyterHub": {"hub_bind_url": f"http://127.0.0.1:{ports[i]}",
                           "bind_url": "http://127.0.0.1:18020", "db_url": db_url,
                           "api_tokens": {TOKEN: "benchadmin"}, "authenticator_class": "dummy"},
            "ConfigurableHTTPProxy": {"api_url": "http://127.0.0.1:18021",
                                      "should_start": False},
            "Authenticator": {"admin_users": ["benchadmin"]},
        }))
        log_path = d / f"hub-{time.monotonic_ns()}.log"
        hubs[i] = (subprocess.Popen([str(binary), "-f", "config.json"], cwd=d, env=env,
                                    stdout=open(log_path, "w"), stderr=subprocess.STDOUT),
                   log_path)

    def health(i):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{ports[i]}/hub/health", timeout=2):
                return True
        except OSError:
            return False

    def wait(pred, timeout, what):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred():
                return time.monotonic()
            time.sleep(0.005)
        raise SystemExit(f"takeover benchmark: timed out waiting for {what}")

    try:
        start(0)
        wait(lambda: health(0), 60, "the first hub")
        start(1)
        wait(lambda: "Standing by" in hubs[1][1].read_text(), 60, "the standby")
        healthy, running = [], []
        active = 0
        for n in range(rounds):
            standby = 1 - active
            # Some users and a change just before the kill, as a hub at work has.
            urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{ports[active]}/hub/api/users/u{n}", method="POST",
                headers={"Authorization": f"token {TOKEN}"}), timeout=10)
            t0 = time.monotonic()
            hubs[active][0].kill()
            hubs[active][0].wait()
            t1 = wait(lambda: health(standby), 60, "the takeover")
            t2 = wait(lambda: "Ganymede is running at" in hubs[standby][1].read_text(), 60,
                      "the new hub's proxy check")
            healthy.append(t1 - t0)
            running.append(t2 - t0)
            log(f"takeover {n + 1}/{rounds}: answering after {t1 - t0:.2f} s, "
                f"running after {t2 - t0:.2f} s")
            start(active)
            wait(lambda: "Standing by" in hubs[active][1].read_text(), 60, "the next standby")
            active = standby
    finally:
        for h in hubs:
            if h and h[0].poll() is None:
                h[0].send_signal(signal.SIGTERM)
                h[0].wait(30)
        proxy.terminate()
        proxy.wait(10)
    healthy.sort()
    running.sort()
    return {"rounds": rounds, "lease_s": 3.0,
            "answering_median_s": healthy[len(healthy) // 2], "answering_worst_s": healthy[-1],
            "running_median_s": running[len(running) // 2], "running_worst_s": running[-1]}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    seconds = 2 if a.quick else 10
    work = Path(tempfile.mkdtemp(prefix="ganymede-bench-pg."))
    script = ROOT / "tools" / "pg-test-server.sh"
    url = subprocess.run(["bash", str(script), "start", str(work / "pg")], check=True,
                         capture_output=True, text=True).stdout.strip().splitlines()[-1]
    try:
        subprocess.run(["psql", url, "-qc", "CREATE DATABASE bench"], check=True)
        version = subprocess.run(["psql", url, "-Atc", "SHOW server_version"],
                                 capture_output=True, text=True).stdout.strip()
        results = {
            "started": time.strftime("%Y%m%d-%H%M%S"),
            "seconds": seconds,
            "postgresql": version,
            "sqlite": measure(Path(a.bin).resolve(), "sqlite:///jupyterhub.sqlite",
                              work / "sqlite", seconds),
            "postgres": measure(Path(a.bin).resolve(), url.rsplit("/", 1)[0] + "/bench",
                                work / "postgres", seconds, pgdir=work / "pg"),
        }
        subprocess.run(["psql", url, "-qc", "CREATE DATABASE takeover"], check=True)
        results["takeover"] = takeover(Path(a.bin).resolve(), url.rsplit("/", 1)[0] + "/takeover",
                                       work / "takeover", 3 if a.quick else 20)
    finally:
        subprocess.run(["bash", str(script), "stop", str(work / "pg")], capture_output=True)
        subprocess.run(["rm", "-rf", str(work)])
    Path(a.out).write_text(json.dumps(results, indent=1))
    log("results:", a.out)


if __name__ == "__main__":
    main()
