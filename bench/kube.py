#!/usr/bin/env python3
"""The Kubernetes spawner's benchmark (part of ./dev bench; Ganymede only: Debian has no
KubeSpawner to compare with). Against the API simulator of ../shared/recipes/start-kube-api.sh:

- N servers started at once (POST /hub/api/users/<u>/server for all of them, concurrently),
  each pod running `sleep` (image local/exec) and reached at a fixed backend (pod_connect_ip +
  a fixed port), so what is measured is the hub and its spawner, not a notebook's start-up;
- errors, the time until all are ready, the hub's CPU time per spawn, and the Kubernetes API
  requests per spawn by verb (from /hub/metrics: the goal is the writes a spawn needs and no
  reads beyond the two watches);
- the same with M pods already running in the namespace (made through the API before the hub
  starts, so its caches list them).

    bench/kube.py --spawn 200 --existing 1000 --out bench/results/kube-X.json
"""
import argparse
import concurrent.futures
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
RECIPES = Path(os.environ.get("GANYMEDE_RECIPES") or ROOT.parent / "shared" / "recipes")
TOKEN = "kube-bench-token-0123456789abcdef"
HUB_PORT, PUBLIC_PORT, PROXY_API_PORT, BACKEND_PORT = 18101, 18100, 18102, 18110


def log(*a):
    print("[kube bench]", *a, file=sys.stderr, flush=True)


def recipe(*args):
    p = subprocess.run([str(RECIPES / "start-kube-api.sh"), *args], capture_output=True,
                       text=True, timeout=300)
    if p.returncode != 0:
        raise SystemExit(f"start-kube-api.sh {' '.join(args)} failed: {p.stderr[-800:]}")
    return p.stdout


def call(url, method="GET", body=None, token=None, bearer=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"token {token}")
    if bearer:
        req.add_header("Authorization", f"Bearer {bearer}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read().decode()
            return r.status, text
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metrics(hub):
    _, text = call(hub + "/hub/metrics", token=TOKEN)
    out = {}
    for m in re.finditer(r'^ganymede_kube_api_requests_total\{verb="(\w+)"\} (\S+)$', text, re.M):
        out[m.group(1)] = float(m.group(2))
    return out


def make_existing(api, token, ns, n):
    """@n pods of ours (component label) already running, made straight through the API."""
    def one(i):
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": f"jupyter-old{i}",
                            "labels": {"component": "singleuser-server",
                                       "hub.jupyter.org/username": f"old{i}"}},
               "spec": {"containers": [{"name": "notebook", "image": "local/exec",
                                        "command": ["/bin/sleep", "86400"]}]}}
        return call(f"{api}/api/v1/namespaces/{ns}/pods", "POST", pod, bearer=token)[0]
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        codes = list(ex.map(one, range(n)))
    assert all(c == 201 for c in codes), codes[:10]
    # The simulator leaves a few of a thousand pods made at once Pending for good (its
    # scheduler, not the hub): go on once the count of running ones stops growing.
    deadline, last, still = time.monotonic() + 600, -1, 0
    while time.monotonic() < deadline:
        _, text = call(f"{api}/api/v1/namespaces/{ns}/pods?fieldSelector=status.phase%3DRunning"
                       "&limit=1", bearer=token)
        body = json.loads(text)
        running = body["metadata"].get("remainingItemCount", 0) + len(body["items"])
        if running >= n:
            return running
        still = still + 1 if running == last else 0
        if still >= 30:
            return running
        last = running
        time.sleep(0.5)
    raise SystemExit(f"{n} pods did not run within 600 s")


def run_hub(binary, state, ns, env):
    cfg = {
        "JupyterHub": {"bind_url": f"http://127.0.0.1:{PUBLIC_PORT}",
                       "hub_bind_url": f"http://127.0.0.1:{HUB_PORT}",
                       "authenticator_class": "dummy", "spawner_class": "kubespawner",
                       "api_tokens": {TOKEN: "benchadmin"}, "concurrent_spawn_limit": 0,
                       "cleanup_servers": True, "cleanup_proxy": True, "log_level": "WARNING",
                       "tornado_settings": {"slow_spawn_timeout": 0}},
        "ConfigurableHTTPProxy": {"api_url": f"http://127.0.0.1:{PROXY_API_PORT}"},
        "Authenticator": {"admin_users": ["benchadmin"], "allow_all": True},
        "Spawner": {"start_timeout": 120, "http_timeout": 120, "poll_interval": 30},
        # The simulator is one Python process: with a thousand pods it can take seconds to
        # answer a burst of creates, which a real API server answers in milliseconds; a longer
        # request timeout than KubeSpawner's 3 s keeps its slowness out of the error count.
        "KubeSpawner": {"namespace": ns, "image": "local/exec",
                        "k8s_api_request_timeout": 30, "k8s_api_request_retry_timeout": 120,
                        "cmd": ["/bin/sleep", "86400"], "port": BACKEND_PORT,
                        "pod_connect_ip": "127.0.0.1", "events_enabled": True},
    }
    (state / "bench_config.json").write_text(json.dumps(cfg))
    log_file = open(state / "hub.log", "w")
    p = subprocess.Popen([binary, "-f", "bench_config.json"], cwd=state, env=env,
                         stdout=log_file, stderr=subprocess.STDOUT)
    hub = f"http://127.0.0.1:{HUB_PORT}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, text = call(hub + "/hub/health", timeout=5)
            if status == 200 and json.loads(text or "{}").get("spawner", {}).get("ok"):
                return p, hub
        except (OSError, ValueError):
            pass
        if p.poll() is not None:
            raise SystemExit(f"the hub exited: {(state / 'hub.log').read_text()[-2000:]}")
        time.sleep(0.1)
    raise SystemExit("the hub's watches did not sync in 60 s")


def spawn_round(hub, pid, n, prefix, api, token, ns):
    users = [f"{prefix}{i}" for i in range(n)]
    status, text = call(hub + "/hub/api/users", "POST", {"usernames": users}, token=TOKEN)
    assert status == 201, text
    before_cpu, before = cpu_seconds(pid), metrics(hub)
    t0 = time.monotonic()

    def go(u):
        return call(f"{hub}/hub/api/users/{u}/server", "POST", {}, token=TOKEN)[0]
    with concurrent.futures.ThreadPoolExecutor(50) as ex:
        codes = list(ex.map(go, users))
    errors = sum(c not in (201, 202) for c in codes)
    pending, failed, unscheduled = set(users), set(), set()
    deadline = time.monotonic() + 900
    last_ready, cpu_at_last_ready, progress = None, None, time.monotonic()
    while pending and time.monotonic() < deadline:
        _, text = call(hub + "/hub/api/users?state=ready&limit=20000", token=TOKEN)
        ready = {u["name"] for u in json.loads(text)} & pending
        if ready:
            last_ready, cpu_at_last_ready = time.monotonic(), cpu_seconds(pid)
            progress = last_ready
        pending -= ready
        # Nothing new for 20 s: the pods the simulator never scheduled (no node, no event: its
        # own limit with a thousand pods) are set apart, while they still exist.
        if pending and time.monotonic() - progress > 20:
            for u in list(pending):
                _, text = call(f"{api}/api/v1/namespaces/{ns}/pods/jupyter-{u}", bearer=token)
                try:
                    pod = json.loads(text)
                except ValueError:
                    pod = {}
                if pod.get("kind") == "Pod" and not pod["spec"].get("nodeName"):
                    unscheduled.add(u)
            pending -= unscheduled
            progress = time.monotonic()
        # A start that failed leaves the user with no server at all: not worth waiting for.
        _, text = call(hub + "/hub/api/users?state=active&limit=20000", token=TOKEN)
        active = {u["name"] for u in json.loads(text)}
        failed |= {u for u in pending if u not in active}
        pending -= failed
        if pending:
            time.sleep(0.2)
    after = metrics(hub)
    per_spawn = {v: (after.get(v, 0) - before.get(v, 0)) / n for v in after}
    ok = n - len(pending) - len(failed) - len(unscheduled)
    elapsed = (last_ready or time.monotonic()) - t0
    cpu = (cpu_at_last_ready if cpu_at_last_ready is not None else cpu_seconds(pid)) - before_cpu
    # Stop them all again (not measured).
    with concurrent.futures.ThreadPoolExecutor(50) as ex:
        list(ex.map(lambda u: call(f"{hub}/hub/api/users/{u}/server", "DELETE", token=TOKEN),
                    users))
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        _, text = call(hub + "/hub/api/users?state=active&limit=20000", token=TOKEN)
        if not any(u["name"].startswith(prefix) for u in json.loads(text)):
            break
        time.sleep(0.5)
    return {"spawns": n, "errors": errors + len(pending) + len(failed),
            "unscheduled_by_the_simulator": len(unscheduled), "ready": ok,
            "seconds_until_all_ready": elapsed,
            "spawns_per_second": ok / elapsed, "hub_cpu_ms_per_spawn": 1000 * cpu / max(ok, 1),
            "api_requests_per_spawn": per_spawn}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spawn", type=int, default=200)
    ap.add_argument("--existing", type=int, default=1000)
    ap.add_argument("--bin", default=str(ROOT / "build-bench" / "ganymede"))
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    recipe()
    env_text = recipe("env")
    kenv = dict(re.findall(r"(\w+)='?([^' \n]*)'?", env_text.replace("export ", "")))
    api, token = kenv["KUBE_API_URL"], kenv["KUBE_API_TOKEN"]
    backend = subprocess.Popen([sys.executable, "-m", "http.server", str(BACKEND_PORT),
                                "--bind", "127.0.0.1"], cwd=tempfile.mkdtemp(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result = {"started": time.strftime("%Y%m%d-%H%M%S"), "rounds": []}
    env = dict(os.environ, KUBERNETES_SERVICE_HOST=kenv["KUBERNETES_SERVICE_HOST"],
               KUBERNETES_SERVICE_PORT=kenv["KUBERNETES_SERVICE_PORT"],
               GANYMEDE_KUBE_SA_DIR=kenv["KUBE_SA_DIR"])
    try:
        for existing in (0, a.existing):
            ns = "bench-" + uuid.uuid4().hex[:8]
            status, text = call(f"{api}/api/v1/namespaces", "POST",
                                {"apiVersion": "v1", "kind": "Namespace",
                                 "metadata": {"name": ns}}, bearer=token)
            assert status == 201, text
            running = 0
            try:
                if existing:
                    log(f"making {existing} pods in {ns}")
                    running = make_existing(api, token, ns, existing)
                    log(f"{running} of them running")
                state = Path(tempfile.mkdtemp(prefix="kube-bench-"))
                p, hub = run_hub(a.bin, state, ns, env)
                try:
                    log(f"{a.spawn} spawns at once, {existing} pods already running")
                    r = spawn_round(hub, p.pid, a.spawn, "u", api, token, ns)
                    r["existing_pods"] = existing
                    r["existing_running"] = running if existing else 0
                    r["hub_rss_mb"] = int(Path(f"/proc/{p.pid}/status").read_text().split(
                        "VmRSS:")[1].split()[0]) / 1024
                    result["rounds"].append(r)
                    log(json.dumps(r))
                finally:
                    p.send_signal(signal.SIGTERM)
                    p.wait(120)
            finally:
                call(f"{api}/api/v1/namespaces/{ns}", "DELETE", bearer=token)
    finally:
        backend.terminate()
        backend.wait(10)
    result["finished"] = time.strftime("%Y%m%d-%H%M%S")
    Path(a.out).write_text(json.dumps(result, indent=1))
    log("wrote", a.out)


if __name__ == "__main__":
    main()
