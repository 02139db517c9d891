#!/usr/bin/env python3
"""Write docs/benchmarks.md from a bench/results/run-*.json index (made by bench/run.py): the
figures issue 8 asks to lead, each with JupyterHub's value from the same run and the ratio,
then the harness's full side-by-side table.

    bench/report.py bench/results/run-<stamp>.json [--out docs/benchmarks.md]"""
import argparse
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from run import HARNESS  # noqa: E402


def load_harness():
    spec = importlib.util.spec_from_file_location("hubbench", HARNESS / "hubbench.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def get(d, *path):
    for p in path:
        if d is None:
            return None
        d = d.get(p) if isinstance(d, dict) else None
    return d


def med(values):
    values = sorted(v for v in values if v is not None)
    return values[len(values) // 2] if values else None


def top_level(res):
    levels = sorted(res.get("levels", {}), key=int)
    return levels[-1] if levels else None


def spawn_rate(runs):
    if isinstance(runs, dict):
        runs = [runs]
    return med([get(r, "start", "per_s") for r in runs or []])


def spawn_429(runs):
    if isinstance(runs, dict):
        runs = [runs]
    return sum(r.get("throttled_429", 0) for r in runs or [])


# (label, extractor, better: "high" or "low", target ratio or None, unit format)
def figures(res, limit):
    n = top_level(res)
    L = get(res, "levels", n) or {}
    d = L.get("api_direct") or {}
    lim = [r for r in limit if r["threads"] == 1 and r["wrk"] == "lua"]
    rows = [
        ("GET /hub/api/user, user token: req/s", get(d, "whoami_user", "rps_median"), "high", 30),
        ("GET /hub/api/user, user token: hub CPU ms/request",
         get(d, "whoami_user", "hub_cpu_ms_per_req"), "low", 40),
        ("GET /hub/api/user, user token: p99 ms", get(d, "whoami_user", "p99_ms_median"), "low",
         None),
        ("GET /hub/api/user, admin token: req/s", get(d, "whoami_admin", "rps_median"), "high",
         None),
        ("GET /hub/api/user, admin token: p99 ms", get(d, "whoami_admin", "p99_ms_median"),
         "low", None),
        ("GET /hub/api/users/{name}: hub CPU ms/request", get(d, "user_model", "hub_cpu_ms_per_req"),
         "low", 40),
        ("GET /hub/api/users/{name}: p99 ms", get(d, "user_model", "p99_ms_median"), "low", None),
        ("GET /hub/api/users?limit=100: hub CPU ms/request",
         get(d, "users_limit100", "hub_cpu_ms_per_req"), "low", 40),
        ("GET /hub/api/users?limit=100: p99 ms", get(d, "users_limit100", "p99_ms_median"), "low",
         None),
        (f"GET /hub/api/users, all {n}: s", get(d, "users_all", "median_s"), "low", 20),
        ("POST /hub/login (direct): logins/s", get(res, "login_direct", "rps_median"), "high", 20),
        ("POST /hub/login (direct): p99 ms", get(res, "login_direct", "p99_ms_median"), "low",
         None),
        (f"start-up with {n} users (to /hub/health through the proxy): s",
         L.get("startup_s_median"), "low", None),
        (f"start-up with {n} users (the hub's own port answers /hub/health): s",
         med([x.get("direct_health_s") for x in L.get("startup") or []
              if x.get("direct_health_s") is not None]), "low", None),
        (f"hub RSS, idle, {n} users: MiB", (L.get("hub_rss_kb_median") or 0) / 1024 or None,
         "low", 8),
        (f"hub RSS after the load runs, {n} users: MiB",
         (L.get("hub_rss_kb_after_load") or 0) / 1024 or None, "low", 8),
        ("hub RSS with 1,000 running servers: MiB",
         (get(res, "routes", "hub_rss_kb") or 0) / 1024 or None, "low", 8),
        ("spawn 200 at once, no-op spawner, concurrent_spawn_limit 100: servers/s",
         spawn_rate(get(res, "spawn", "200")), "high", 10),
        ("  same: 429 responses", spawn_429(get(res, "spawn", "200")), "low", None),
        ("spawn 200 at once, no-op spawner, no limit: servers/s",
         spawn_rate(get(res, "spawn_unlimited", "200")), "high", 10),
        ("spawn 50, a process per server (python3 -m http.server): servers/s",
         spawn_rate(get(res, "spawn_process", "50")), "high", None),
        ("GET /hub/api/ (direct): req/s", get(d, "api_root", "rps_median"), "high", None),
        ("GET /hub/api/ (direct): p99 ms", get(d, "api_root", "p99_ms_median"), "low", None),
        ("through the proxy, 1,000 routes: GET /hub/health req/s",
         get(res, "routes", "health_with_routes", "rps_median"), "high", None),
        ("proxy killed: new proxy answering after s",
         get(res, "routes", "proxy_restart", "new_proxy_api_s"), "low", None),
        ("proxy killed: its routes back after a further s",
         get(res, "routes", "proxy_restart", "readd_s"), "low", None),
    ]
    if lim:
        rows.append(("bare libmicrohttpd answer (limit/hello.c, 1 thread): req/s",
                     med([r["rps"] for r in lim]), "high", None))
    return rows


def fmt(v):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:,.0f}"
    return f"{v:,}"


def ratio(g, j, better):
    if g in (None, 0) or j in (None, 0):
        return None
    return j / g if better == "low" else g / j


def absolute_targets(gf):
    """The targets that are not ratios: p99 under 5 ms, start-up under 0.1 s, GET /hub/api/
    within 1.5x of the bare libmicrohttpd answer."""
    v = {label: value for label, value, _, _ in gf}
    p99 = [(label, value) for label, value in v.items()
           if label.endswith("p99 ms") and value is not None]
    worst = max(p99, key=lambda x: x[1]) if p99 else None
    start = next((value for label, value in v.items()
                  if "own port answers" in label and value is not None), None)
    api = next((value for label, value in v.items()
                if label.startswith("GET /hub/api/ (direct): req/s")), None)
    floor = next((value for label, value in v.items()
                  if label.startswith("bare libmicrohttpd answer")), None)
    lines = ["Targets that are not ratios (Ganymede):", ""]
    if worst:
        lines.append(f"- p99 under 5 ms at 32 connections for every API endpoint above: worst "
                     f"{worst[1]:.2f} ms ({worst[0].split(':')[0]}) "
                     f"{'✓' if worst[1] < 5 else '✗'}")
    if start is not None:
        lines.append(f"- start-up with 10,000 users under 0.1 s: {start:.3f} s until the hub's "
                     f"own port answers {'✓' if start < 0.1 else '✗'} (through the proxy the "
                     "time includes starting configurable-http-proxy, a node process)")
    if api and floor:
        lines.append(f"- `GET /hub/api/` within 1.5x of a bare libmicrohttpd answer: {api:,.0f} "
                     f"vs {floor:,.0f} req/s, {floor / api:.2f}x {'✓' if floor / api <= 1.5 else '✗'}")
    return lines


def proxy_line(index, g, machine):
    """Which configurable-http-proxy both hubs ran (bench/run.py), and what Ganymede's log says
    it started."""
    proxy = index.get("proxy") or g.get("proxy") or {}
    if not proxy:  # runs before bench/run.py noted it: the harness's note of the one on PATH
        return (f"- Proxy, for both hubs: configurable-http-proxy "
                f"{machine.get('configurable-http-proxy', '?')} (the first on PATH)")
    started = (g.get("proxy") or {}).get("started")
    seen = f"; Ganymede's log: started {', '.join(started)}" if started else ""
    return (f"- Proxy, for both hubs: configurable-http-proxy {proxy.get('version', '?')} "
            f"(`{proxy.get('path', '?')}`, their default command found first on PATH){seen}")



def slurm_section(index):
    """The SLURM spawner's figures (bench/slurm.py), when the run has them: one result (older
    runs) or one for each backend."""
    if not index.get("slurm"):
        return []
    paths = [index["slurm"]] if isinstance(index["slurm"], str) else index["slurm"]
    runs = [(path, json.loads((ROOT / path).read_text())) for path in paths]
    out = ["", "## SLURM spawner (Ganymede only)", "",
           "bench/slurm.py against the real one-node SLURM 22.05 cluster of "
           "`../shared/recipes/start-slurm.sh` (Debian has no batchspawner to run beside it): "
           "servers started one after the other through the REST API, each a SLURM job running "
           "the real `jupyterhub-singleuser` as a local user; the phases come from the hub's "
           "log. Then, with those servers running and `Spawner.poll_interval` 1 s, the hub's "
           "CPU time per poll and the query's wall time, from `/hub/metrics`. Through the "
           "commands, a poll is one `sudo squeue` run on the loop; through slurmrestd "
           "(`SlurmSpawner.slurmrestd_url`), one HTTP request. Raw results: " +
           ", ".join(f"`{path}` ({k['started']})" for path, k in runs) + ".",
           "",
           "| backend | spawns | POST to reachable through the proxy, median (max) | submit | "
           "submitted to port reported (SLURM's scheduling and the server's start) | port to "
           "ready (HTTP check, route) |",
           "|---|---:|---:|---:|---:|---:|"]
    for _, k in runs:
        s = k["summary"]
        out.append(f"| {k.get('backend', 'commands')} | {s['spawns']} | {s['median_s']:.2f} s "
                   f"({s['max_s']:.2f} s) | {s.get('sbatch_s_median', 0) * 1000:.0f} ms | "
                   f"{s.get('submitted_to_port_s_median', 0):.2f} s | "
                   f"{s.get('port_to_ready_s_median', 0) * 1000:.0f} ms |")
    out += ["",
            "| backend | servers polled | queries | hub CPU per poll | query wall time | "
            "failures | hub RSS |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for _, k in runs:
        p = k["polls"]
        out.append(f"| {k.get('backend', 'commands')} | {p['servers']} | {p['queries']} in "
                   f"{p['seconds']:.0f} s | {p['hub_cpu_ms_per_poll']:.3f} ms | "
                   f"{p['query_wall_ms']:.1f} ms | {p['failures']} | {p['hub_rss_mb']:.1f} MB |")
    return out


def postgres_section(index):
    """SQLite against PostgreSQL (bench/postgres.py), when the run has them."""
    if not index.get("postgres"):
        return []
    r = json.loads((ROOT / index["postgres"]).read_text())
    s, p = r["sqlite"], r["postgres"]
    rows = [
        ("POST /hub/api/users/{new}, 1 client: req/s", ("post_1", "rps")),
        ("POST /hub/api/users/{new}, 1 client: p50 ms", ("post_1", "p50_ms")),
        ("POST /hub/api/users/{new}, 1 client: p99 ms", ("post_1", "p99_ms")),
        ("POST /hub/api/users/{new}, 32 clients: req/s", ("post_32", "rps")),
        ("POST /hub/api/users/{new}, 32 clients: p99 ms", ("post_32", "p99_ms")),
        ("POST, 32 clients: hub CPU ms/request", ("post_32", "hub_cpu_ms_per_req")),
        ("POST, 32 clients: PostgreSQL CPU ms/request", ("post_32", "postgres_cpu_ms_per_req")),
        ("POST, 32 clients: errors", ("post_32", "errors")),
        ("GET /hub/api/users/{name}, 32 clients: req/s", ("get_32", "rps")),
        ("GET /hub/api/users/{name}, 32 clients: p99 ms", ("get_32", "p99_ms")),
        ("users the POST runs made", "users"),
        ("hub RSS after the runs (with those users): MiB", None),
    ]
    out = ["", "## SQLite and PostgreSQL", "",
           f"bench/postgres.py: the same release build on SQLite (WAL) and on PostgreSQL "
           f"{r.get('postgresql', '?')} (Debian's, local, over TCP, fsync and synchronous_commit "
           f"on), wrk {r['seconds']} s per row straight at the hub's port. Each POST creates a "
           "user: its answer waits until the row is durable (docs/database.md). Raw results: "
           f"`{index['postgres']}`.", "",
           "| figure | SQLite | PostgreSQL |", "|---|---:|---:|"]
    for label, path in rows:
        if path is None:
            sv, pv = (s.get("hub_rss_kb") or 0) / 1024, (p.get("hub_rss_kb") or 0) / 1024
        elif path == "users":
            sv, pv = (sum(get(x, k, "requests") or 0 for k in ("post_1", "post_32"))
                      for x in (s, p))
        else:
            sv, pv = get(s, *path), get(p, *path)
        out.append(f"| {label} | {fmt(sv)} | {fmt(pv)} |")
    t = r.get("takeover")
    if t:
        out += ["", "### Standby takeover", "",
                f"Two hubs on the PostgreSQL database and one configurable-http-proxy run apart "
                f"(docs/database.md, \"Two hubs\"), the default lease of {t['lease_s']:g} s. The "
                f"active hub is killed with `kill -9` {t['rounds']} times, each time just after "
                "a change; the killed hub comes back as the next standby. JupyterHub cannot run "
                "a second hub on its database: its downtime is the hub's restart.", "",
                "| from `kill -9` until the standby | median | worst |", "|---|---:|---:|",
                f"| answers `/hub/health` with 200 | {t['answering_median_s']:.2f} s | "
                f"{t['answering_worst_s']:.2f} s |",
                f"| has checked the proxy's routes (\"Ganymede is running\") | "
                f"{t['running_median_s']:.2f} s | {t['running_worst_s']:.2f} s |"]
    return out


def kube_section(index):
    """The Kubernetes spawner's figures (bench/kube.py), when the run has them."""
    if not index.get("kube"):
        return []
    k = json.loads((ROOT / index["kube"]).read_text())
    out = ["", "## Kubernetes spawner (Ganymede only)", "",
           "bench/kube.py against the Kubernetes API simulator of "
           "`../shared/recipes/start-kube-api.sh` (Debian has no KubeSpawner to run beside it): "
           "all servers started at once through the REST API, each pod running `sleep` and "
           "reached at a fixed backend, so the figures are the hub's and its spawner's, not a "
           "notebook's start-up. API requests per spawn come from the hub's own counters "
           f"(`/hub/metrics`). Raw results: `{index['kube']}` ({k['started']}).", "",
           "Times and CPU are until the last server that came up was ready; a pod the "
           "simulator never scheduled (its own limit with a thousand pods: no node, no event) "
           "is counted apart from the hub's errors.", "",
           "| pods already running | spawns | errors | all ready after (s) | spawns/s | "
           "hub CPU per spawn (ms) | API requests per spawn | hub RSS (MB) |",
           "|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in k["rounds"]:
        per = r["api_requests_per_spawn"]
        reqs = ", ".join(f"{v} {n:g}" for v, n in per.items() if n) or "0"
        reads = per.get("get", 0) + per.get("list", 0)
        reqs += " (no reads: the watches serve them)" if not reads else f" ({reads:g} reads)"
        made = r["existing_pods"]
        ran = r.get("existing_running", made)
        existing = f"{made}" + (f" ({ran} ran: the simulator left the rest Pending)"
                                if ran != made else "")
        lost = r.get("unscheduled_by_the_simulator", 0)
        errors = f"{r['errors']}" + (f" (+{lost} never scheduled)" if lost else "")
        out.append(f"| {existing} | {r['spawns']} | {errors} | "
                   f"{r['seconds_until_all_ready']:.2f} | {r['spawns_per_second']:.1f} | "
                   f"{r['hub_cpu_ms_per_spawn']:.2f} | {reqs} | {r['hub_rss_mb']:.1f} |")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("index")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    a = ap.parse_args()
    index = json.loads(Path(a.index).read_text())
    res = {name: json.loads((ROOT / path).read_text()) for name, path in index["hubs"].items()}
    limit = index.get("limit", [])
    g, j = res.get("ganymede", {}), res.get("jupyterhub", {})
    gf, jf = figures(g, limit), figures(j, limit)
    machine = g.get("machine") or j.get("machine") or {}
    out = [
        "# Benchmarks: Ganymede and JupyterHub, same machine, same run",
        "",
        "Generated by `./dev bench` (bench/run.py, bench/report.py) with the harness in "
        "`../shared/bench` (hubbench.py): both hubs are driven over HTTP only, one after the "
        "other, with the same load. Requests go straight to each hub's own port unless a row "
        "says otherwise (through configurable-http-proxy every hub is capped by the proxy). "
        "Raw results: " + ", ".join(f"`{p}`" for p in index["hubs"].values()) + ".",
        "",
        f"- Run: {index['started']} – {index.get('finished', '?')}"
        + (" (**quick smoke run: the figures are not meaningful**)" if index.get("quick") else ""),
        f"- Machine: {machine.get('platform', '?')}, {machine.get('cpus', '?')} cores "
        f"({machine.get('cpu_model', '?')}), {machine.get('mem_total', '?')}",
        f"- JupyterHub {machine.get('jupyterhub', '?')} (Debian), "
        f"{machine.get('wrk', '?').split(' Copyright')[0]}, node {machine.get('node', '?')}",
        proxy_line(index, g, machine),
        "- Load: wrk -t2 -c32 (the harness's settings), median of the runs; CPU per request is "
        "the hub process's CPU time divided by the requests served.",
        "",
        "| figure | JupyterHub | Ganymede | ratio | target |",
        "|---|---:|---:|---:|---:|",
    ]
    for (label, gv, better, target), (_, jv, _, _) in zip(gf, jf):
        r = ratio(gv, jv, better)
        met = ""
        if target is not None and r is not None:
            met = f"≥{target}x {'✓' if r >= target else '✗'}"
        out.append(f"| {label} | {fmt(jv)} | {fmt(gv)} | {fmt(r) + 'x' if r else '–'} | {met} |")
    out += [
        "",
        "Ratios are JupyterHub ÷ Ganymede for times, CPU and memory, Ganymede ÷ JupyterHub "
        "for rates: above 1 means Ganymede is better.",
        "",
    ]
    out += absolute_targets(gf)
    out += kube_section(index)
    out += slurm_section(index)
    out += postgres_section(index)
    out += [
        "",
        "## Everything the harness measured",
        "",
    ]
    hb = load_harness()
    names = list(res)
    keys, table = [], {}
    for i, name in enumerate(names):
        for k, v in hb.report_rows(res[name]):
            if k not in table:
                keys.append(k)
                table[k] = [""] * len(names)
            table[k][i] = v
    out.append("| metric | " + " | ".join(names) + " |")
    out.append("|---|" + "---|" * len(names))
    for k in keys:
        out.append(f"| {k} | " + " | ".join(table[k]) + " |")
    out.append("")
    notes = ROOT / "bench" / "profiling.md"
    if notes.exists():
        out.append(notes.read_text().rstrip())
        out.append("")
    Path(a.out).write_text("\n".join(out) + "\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
