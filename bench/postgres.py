#!/usr/bin/env python3
"""The database backends side by side (./dev bench --postgres-only): the same release build of
the hub on SQLite and on a local PostgreSQL server of Debian's (tools/pg-test-server.sh, fsync
and synchronous_commit on), driven by wrk straight at the hub's port:

- POST /hub/api/users/{new name}: every request is a write the hub holds until it is durable;
  one client (latency) and 32 (throughput, writes pipelined to PostgreSQL);
- GET /hub/api/users/{name}: a read, served from memory on both;
- the hub's CPU per request and RSS, and PostgreSQL's CPU per write.

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
    finally:
        subprocess.run(["bash", str(script), "stop", str(work / "pg")], capture_output=True)
        subprocess.run(["rm", "-rf", str(work)])
    Path(a.out).write_text(json.dumps(results, indent=1))
    log("results:", a.out)


if __name__ == "__main__":
    main()
