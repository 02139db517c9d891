#!/bin/bash
# A benchmark "server" for BENCH_SPAWNER=process: python3's http.server on the address the hub
# gave it in JUPYTERHUB_SERVICE_URL (http://127.0.0.1:PORT/user/NAME/), as the reference
# BenchSpawner runs it. Its 404 for /user/NAME/api counts as up for the hub's readiness check.
set -euo pipefail
url="${JUPYTERHUB_SERVICE_URL:?}"
hostport="${url#http://}"
hostport="${hostport%%/*}"
exec python3 -m http.server "${hostport##*:}" --bind "${hostport%:*}" --directory "$HOME"
