#!/usr/bin/env python3
"""./dev bench: measure Ganymede and Debian's JupyterHub 3.0 with the same harness in the same
run (../shared/bench/hubbench.py), plus the libmicrohttpd floor (../shared/bench/limit), keep
the raw results in bench/results/ and write docs/benchmarks.md (bench/report.py).

    bench/run.py            the full suite (about 30 minutes on 2 cores)
    bench/run.py --quick    a smoke run (a few minutes): checks the plumbing, not the figures
    bench/run.py --kube-only  only the Kubernetes spawner's benchmark (bench/kube.py), added to
                            the last full run's report
    bench/run.py --slurm-only the same for the SLURM spawner (bench/slurm.py)
    bench/run.py --postgres-only the same for SQLite against PostgreSQL (bench/postgres.py)

Each hub runs alone: nothing else should use the machine meanwhile (the figures share 2 cores
with wrk and the harness)."""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECIPES_DIR = Path(os.environ.get("GANYMEDE_RECIPES") or ROOT.parent / "shared" / "recipes")


def find_harness():
    """../shared/bench beside the checkout; for a git worktree, beside its main checkout
    (BENCH_HARNESS overrides)."""
    if os.environ.get("BENCH_HARNESS"):
        return Path(os.environ["BENCH_HARNESS"])
    candidates = [ROOT.parent / "shared" / "bench"]
    try:
        common = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--git-common-dir"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
        if common:
            candidates.append((ROOT / common).resolve().parent.parent / "shared" / "bench")
    except (OSError, subprocess.SubprocessError):
        pass
    return next((c for c in candidates if c.is_dir()), candidates[0])


HARNESS = find_harness()
WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "results"
HUBS = {
    "ganymede": str(ROOT / "bench" / "start-ganymede.sh"),
    "jupyterhub": str(HARNESS / "reference" / "start-jupyterhub.sh"),
}
DIRECT = "http://127.0.0.1:18001"

FULL = ["--users", "0,1000,10000", "--runs", "3", "--duration", "10", "--direct",
        "--spawn", "50,200", "--spawn-runs", "2", "--routes", "1000", "--routes-concurrency",
        "100", "--proxy-restart", "--process-spawn", "50", "--unlimited-spawn", "200"]
QUICK = ["--users", "0,100", "--runs", "1", "--duration", "2", "--direct", "--spawn", "20",
         "--spawn-runs", "1", "--routes", "50", "--process-spawn", "10", "--unlimited-spawn",
         "20", "--proxy-restart"]


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def harness(args, env, timeout, capture=False):
    cmd = [sys.executable, str(HARNESS / "hubbench.py")] + args
    return subprocess.run(cmd, env=env, cwd=HARNESS, timeout=timeout, check=True,
                          capture_output=capture, text=True)


def wait_health(url, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/hub/health", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def restore_sigint():
    """A background `./dev bench &` inherits SIGINT ignored (POSIX, for asynchronous lists
    without job control); the harness's `serve` stops its hub on KeyboardInterrupt, which
    Python only raises when SIGINT is not ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop_leftover_hub(state):
    """If the harness could not stop its hub, do it here: never leave it on the ports the
    next hub needs."""
    try:
        pid = int((state / "jupyterhub.pid").read_text().strip())
    except (OSError, ValueError):
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def direct_login(env, state, users, runs, duration):
    """POST /hub/login straight to the hub's port (the suite measures it through the proxy,
    where configurable-http-proxy is the ceiling)."""
    serve = subprocess.Popen([sys.executable, str(HARNESS / "hubbench.py"), "serve", "--state",
                              str(state), "--seconds", "900"], env=env, cwd=HARNESS,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             preexec_fn=restore_sigint)
    try:
        if not wait_health(DIRECT):
            return {"error": "the hub did not start for the direct login run"}
        time.sleep(2)
        out = harness(["login", "--users", str(users), "--runs", str(runs), "--duration",
                       str(duration)], dict(env, HUB_URL=DIRECT), 600, capture=True).stdout
        return json.loads(out)
    finally:
        serve.send_signal(signal.SIGINT)  # the harness stops the hub on KeyboardInterrupt
        try:
            serve.wait(timeout=150)
        except subprocess.TimeoutExpired:
            serve.kill()
        stop_leftover_hub(state)


def limit_run(duration, runs):
    """The libmicrohttpd floor, in a copy of ../shared/bench/limit (read-only there)."""
    d = WORK / "limit"
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(HARNESS / "limit", d / "limit")
    shutil.copytree(HARNESS / "lua", d / "lua")
    (d / "limit" / "results.txt").unlink(missing_ok=True)
    subprocess.run(["bash", str(d / "limit" / "run.sh"), str(duration), str(runs)], check=True,
                   stdout=subprocess.DEVNULL, timeout=1800)
    rows = []
    for line in (d / "limit" / "results.txt").read_text().splitlines():
        m = dict(re.findall(r"(\S+)=(\S+)", line))
        if "threads" in m:
            rows.append({"threads": int(m["threads"]), "wrk": m["wrk"],
                         "rps": float(m["req/s"]), "p99": m["p99"],
                         "cpu_us_per_req": float(m["server_cpu_us_per_req"])})
    return rows


def proxy_on_path(env):
    """The configurable-http-proxy both hubs start: the first on PATH (their default command;
    ./dev bench puts tools/proxy's pinned one there) and its --version."""
    path = shutil.which("configurable-http-proxy", path=env.get("PATH"))
    if not path:
        return {"path": None, "version": None}
    p = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60, env=env)
    version = (p.stdout.strip().splitlines() or ["?"])[0]
    try:
        path = str(Path(path).relative_to(ROOT))
    except ValueError:
        pass
    return {"path": path, "version": version}


def proxy_started(state):
    """The versions of configurable-http-proxy that Ganymede's log says it started."""
    try:
        text = (state / "hub.log").read_text(errors="replace")
    except OSError:
        return []
    return sorted(set(re.findall(r"Started configurable-http-proxy (\S+) \(", text)))


def ensure_ports_free():
    import socket
    for port in (18000, 18001, 18002, 18010):
        with socket.socket() as sock:
            # As the servers do: connections of the previous hub in TIME-WAIT do not count.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                raise SystemExit(f"port {port} is in use: stop what runs there first")


def kube_run(stamp, quick):
    """bench/kube.py against the Kubernetes API simulator; the result's path, or None when the
    simulator cannot run here."""
    if not (ROOT.parent / "shared" / "recipes" / "start-kube-api.sh").exists() and \
            not os.environ.get("GANYMEDE_RECIPES"):
        log("no ../shared/recipes: the Kubernetes spawner's benchmark is skipped")
        return None
    dest = RESULTS / f"kube-{stamp}{'-quick' if quick else ''}.json"
    args = ["--spawn", "20", "--existing", "50"] if quick else ["--spawn", "200", "--existing",
                                                                "1000"]
    log("Kubernetes spawner against the API simulator (bench/kube.py)")
    subprocess.run([sys.executable, str(ROOT / "bench" / "kube.py"), *args, "--bin",
                    str(ROOT / "build-bench" / "ganymede"), "--out", str(dest)], check=True,
                   timeout=3600)
    return str(dest.relative_to(ROOT))


def slurm_run(stamp, quick):
    """bench/slurm.py against the recipes' SLURM cluster, through the commands then through
    slurmrestd; the results' paths, or None when the cluster cannot run here."""
    if not (RECIPES_DIR / "start-slurm.sh").exists():
        log("no ../shared/recipes: the SLURM spawner's benchmark is skipped")
        return None
    args = ["--spawn", "3", "--poll-seconds", "10"] if quick else ["--spawn", "10",
                                                                   "--poll-seconds", "30"]
    paths = []
    for backend in ("commands", "slurmrestd"):
        dest = RESULTS / f"slurm-{backend}-{stamp}{'-quick' if quick else ''}.json"
        log(f"SLURM spawner against the recipes' cluster through the {backend} (bench/slurm.py)")
        subprocess.run([sys.executable, str(ROOT / "bench" / "slurm.py"), *args, "--backend",
                        backend, "--bin", str(ROOT / "build-bench" / "ganymede"), "--out",
                        str(dest)], check=True, timeout=3600)
        paths.append(str(dest.relative_to(ROOT)))
    return paths


def postgres_run(stamp, quick):
    """bench/postgres.py: the hub on SQLite and on a local PostgreSQL server; the result's path,
    or None when PostgreSQL's server is not installed."""
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        log("no PostgreSQL server (apt-get install postgresql): its benchmark is skipped")
        return None
    dest = RESULTS / f"postgres-{stamp}{'-quick' if quick else ''}.json"
    log("SQLite and PostgreSQL side by side (bench/postgres.py)")
    subprocess.run([sys.executable, str(ROOT / "bench" / "postgres.py"), "--bin",
                    str(ROOT / "build-bench" / "ganymede"), "--out", str(dest)]
                   + (["--quick"] if quick else []), check=True, timeout=3600)
    return str(dest.relative_to(ROOT))


def spawner_only(quick, name, fn):
    """One spawner's benchmark alone, added to the newest full run's index (with what earlier
    additions to it measured) and report."""
    runs = sorted(p for p in RESULTS.glob("run-*.json") if re.fullmatch(r"run-\d{8}-\d{6}\.json",
                                                                           p.name))
    if not runs:
        raise SystemExit(f"no full run in bench/results to add the {name} figures to")
    index = json.loads(runs[-1].read_text())
    for added in sorted(RESULTS.glob(f"{runs[-1].stem}-*.json")):
        if "-quick" not in added.name:
            index.update({k: v for k, v in json.loads(added.read_text()).items()
                          if k in ("kube", "slurm", "postgres") and v})
    stamp = time.strftime("%Y%m%d-%H%M%S")
    index[name] = fn(stamp, quick)
    dest = RESULTS / f"run-{index['started']}-{name}-{stamp}.json"
    dest.write_text(json.dumps(index, indent=1))
    log("results:", dest)
    subprocess.run([sys.executable, str(ROOT / "bench" / "report.py"), str(dest)], check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", choices=sorted(HUBS))
    ap.add_argument("--kube-only", action="store_true")
    ap.add_argument("--slurm-only", action="store_true")
    ap.add_argument("--postgres-only", action="store_true")
    a = ap.parse_args()
    if a.kube_only or a.slurm_only or a.postgres_only:
        name = "kube" if a.kube_only else "slurm" if a.slurm_only else "postgres"
        spawner_only(a.quick, name, {"kube": kube_run, "slurm": slurm_run,
                                     "postgres": postgres_run}[name])
        return
    ensure_ports_free()
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    params = QUICK if a.quick else FULL
    users = 100 if a.quick else 10000
    runs, duration = (1, 2) if a.quick else (3, 10)
    env = dict(os.environ, BENCH_WORK=str(WORK), NODE_PATH="/usr/share/nodejs")
    env.pop("HUB_URL", None)
    proxy = proxy_on_path(env)
    summary = {"started": stamp, "quick": a.quick, "hubs": {}, "proxy": proxy}
    log(f"configurable-http-proxy {proxy['version']} ({proxy['path']}) for both hubs")
    log("libmicrohttpd floor (../shared/bench/limit)")
    summary["limit"] = limit_run(2 if a.quick else 10, 1 if a.quick else 3)
    for name, cmd in HUBS.items():
        if a.only and name != a.only:
            continue
        out = WORK / f"{name}-{stamp}"
        ensure_ports_free()  # nothing of the previous hub may answer for this one
        log(f"suite against {name} -> {out}")
        henv = dict(env, HUB_START_CMD=cmd)
        harness(["suite"] + params + ["--out", str(out)], henv, 3 * 3600)
        res = json.loads((out / "results.json").read_text())
        log(f"direct POST /hub/login against {name}")
        res["login_direct"] = direct_login(henv, out / "state", users, runs, duration)
        res["proxy"] = dict(proxy, started=proxy_started(out / "state")
                            if name == "ganymede" else None)
        dest = RESULTS / f"{name}-{stamp}{'-quick' if a.quick else ''}.json"
        dest.write_text(json.dumps(res, indent=1, default=str))
        summary["hubs"][name] = str(dest.relative_to(ROOT))
    if not a.only or a.only == "ganymede":
        summary["kube"] = kube_run(stamp, a.quick)
        summary["slurm"] = slurm_run(stamp, a.quick)
        summary["postgres"] = postgres_run(stamp, a.quick)
    summary["finished"] = time.strftime("%Y%m%d-%H%M%S")
    summary["machine"] = {"platform": platform.platform(), "cpus": os.cpu_count()}
    index = RESULTS / f"run-{stamp}{'-quick' if a.quick else ''}.json"
    index.write_text(json.dumps(summary, indent=1))
    log("results:", index)
    if not a.only:
        subprocess.run([sys.executable, str(ROOT / "bench" / "report.py"), str(index)], check=True)


if __name__ == "__main__":
    main()
