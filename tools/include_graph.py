#!/usr/bin/env python3
"""The include graph of src/, by directory, against the hub's layers.

    tools/include_graph.py --check      fail on an include that goes up a layer (or a cycle)
    tools/include_graph.py --markdown   print docs/architecture.md (./dev docs writes it)

A file may include headers of its own directory and of the layers below it. The exceptions
that remain are listed in KNOWN_UPWARD, each with its reason; a new one fails `./dev test`
(the `layers` check) until it is removed or added there with a reason."""
import argparse
import collections
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

# Lowest first: each directory may include itself and what comes before it.
LAYERS = [
    ("util", "containers, strings, time: no knowledge of the hub"),
    ("loop", "libuv and libmicrohttpd glue: timers, processes, commands, HTTP fetches"),
    ("db", "SQLite rows and migrations"),
    ("core", "the hub's state (the store of users, groups, tokens, servers) and its config"),
    ("http", "the HTTP server, requests, the router, metrics"),
    ("auth", "authentication, sessions, scopes and roles, the OAuth client and provider"),
    ("services", "JupyterHub services, managed and external"),
    ("spawn", "the spawner host: starting, watching and stopping servers"),
    ("proxy", "configurable-http-proxy: its process and its routes"),
    ("api", "the REST API at /hub/api"),
    ("pages", "the HTML pages and their templates"),
    ("app", "the composition root: builds the hub from its parts and runs it"),
    ("main", "the command line: reads the config, builds and runs the hub"),
]
RANK = {name: i for i, (name, _) in enumerate(LAYERS)}

# (file, included header) -> why it stays. A "leaf header" includes nothing of src/ but util/
# (the check makes sure): the include brings types down, never the layer's code.
KNOWN_UPWARD = {
    ("core/hub.h", "auth/authenticator.h"):
        "struct hub holds the authenticator by value (a leaf header)",
    ("core/hub.h", "auth/cookie_secret.h"):
        "struct hub holds the cookie secret by value (a leaf header)",
    ("core/hub.h", "auth/crypt.h"):
        "struct hub holds the auth_state keys by value (a leaf header)",
    ("core/hub.h", "auth/scopes.h"):
        "struct hub holds the scope tables by value (a leaf header)",
    ("core/hub.h", "auth/usernames.h"):
        "struct hub holds the username normalisation rules (a leaf header)",
    ("core/hub.h", "http/metrics.h"):
        "struct hub holds the metrics counters by value (a leaf header)",
    ("core/hub.h", "spawn/spawn.h"):
        "struct hub holds the spawner host's state by value (a leaf header)",
    ("core/store.h", "auth/scopes.h"):
        "tokens and roles in the store keep parsed scope sets (a leaf header)",
    ("core/tokens.c", "auth/token_hash.h"):
        "the store hashes tokens as JupyterHub does when it writes them",
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"(\w+)/([\w.]+)"', re.M)


def layer_of(path):
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def scan():
    """[(file relative to src/, its layer, included header, its layer)]."""
    out = []
    for f in sorted(SRC.rglob("*.[ch]")):
        src = layer_of(f)
        rel = str(f.relative_to(SRC))
        for m in INCLUDE.finditer(f.read_text(errors="replace")):
            dst = m.group(1)
            if dst in RANK or dst == src:
                out.append((rel, src, f"{dst}/{m.group(2)}", dst))
    return out


def upward(edges):
    return [(f, h) for f, s, h, d in edges if s != d and RANK.get(d, -1) > RANK.get(s, -1)]


def cycles(edges):
    """Directory cycles that do not go only through KNOWN_UPWARD includes."""
    graph = collections.defaultdict(set)
    for f, s, h, d in edges:
        if s != d and (f, h) not in KNOWN_UPWARD:
            graph[s].add(d)
    found, state = [], {}

    def visit(n, stack):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                found.append(stack[stack.index(m):] + [m])
            elif not state.get(m):
                visit(m, stack)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if not state.get(n):
            visit(n, [])
    return found


def check(edges):
    problems = []
    for f, h in upward(edges):
        if (f, h) not in KNOWN_UPWARD:
            problems.append(f"src/{f} includes {h}: {h.split('/')[0]} is above "
                            f"{layer_of(SRC / f)} (see tools/include_graph.py LAYERS)")
    live = {(f, h) for f, s, h, d in edges}
    for key in KNOWN_UPWARD:
        if key not in live:
            problems.append(f"KNOWN_UPWARD lists src/{key[0]} -> {key[1]}, which is gone: "
                            "remove the entry")
    for (f, h), why in KNOWN_UPWARD.items():
        pulled = [hh for x, s, hh, d in edges if x == h and d not in ("util", s)]
        if "leaf header" in why and pulled:
            problems.append(f"KNOWN_UPWARD says {h} is a leaf header, but it includes "
                            + ", ".join(pulled))
    for c in cycles(edges):
        problems.append("directory cycle: " + " -> ".join(c))
    for p in problems:
        print(p)
    return 1 if problems else 0


def markdown(edges):
    deps = collections.defaultdict(set)
    for f, s, h, d in edges:
        if s != d:
            deps[s].add(d)
    lines = [
        "# Architecture: the layers of src/",
        "",
        "Generated by `tools/include_graph.py --markdown` (`./dev docs`); `./dev test` fails when",
        "it is out of date, and its `layers` check fails on an include that goes up a layer.",
        "",
        "Each directory of `src/` is a layer; a file includes headers of its own layer and of",
        "layers below it. Plugins (`authenticators/`, `spawners/`, `tests/plugins/`) include only",
        "`include/ganymede/`, the toolkit, which the hub implements (see plugins.md). From the",
        "bottom up:",
        "",
        "| layer | what it holds | includes |",
        "|---|---|---|",
    ]
    for name, what in LAYERS:
        below = ", ".join(sorted(deps.get(name, ()), key=lambda d: RANK.get(d, 99))) or "—"
        where = "`src/main.c`" if name == "main" else f"`src/{name}/`"
        lines.append(f"| {where} | {what} | {below} |")
    lines += ["", "```mermaid", "graph TD"]
    for name, _ in reversed(LAYERS):
        for d in sorted(deps.get(name, ()), key=lambda d: -RANK.get(d, 99)):
            up = RANK.get(d, -1) > RANK[name]
            lines.append(f"    {name} {'-.->' if up else '-->'} {d}")
    lines += ["```", "",
              "Dotted arrows are the includes that go up a layer, all of them listed here with",
              "the reason they stay:", ""]
    for (f, h), why in sorted(KNOWN_UPWARD.items()):
        lines.append(f"- `src/{f}` → `{h}`: {why}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--check", action="store_true")
    g.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    edges = scan()
    if a.check:
        return check(edges)
    sys.stdout.write(markdown(edges))
    return 0


if __name__ == "__main__":
    sys.exit(main())
