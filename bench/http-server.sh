#!/bin/bash
# A benchmark "server" for BENCH_SPAWNER=process: Debian's python3 http.server (the interpreter
# the reference BenchSpawner uses, sys.executable of Debian's JupyterHub; not a python3 found first
# on PATH, such as a pyenv shim, whose start-up costs more than the server's) on the address the hub
# gave it in JUPYTERHUB_SERVICE_URL (http://127.0.0.1:PORT/user/NAME/), as the reference
# BenchSpawner runs it. Its 404 for /user/NAME/api counts as up for the hub's readiness check.
set -euo pipefail
url="${JUPYTERHUB_SERVICE_URL:?}"
hostport="${url#http://}"
hostport="${hostport%%/*}"
exec /usr/bin/python3 -m http.server "${hostport##*:}" --bind "${hostport%:*}" --directory "$HOME"
