#!/bin/bash
# HUB_START_CMD for ../shared/bench/hubbench.py: runs Ganymede in the foreground with the
# harness's contract (see ../shared/bench/README.md and reference/jupyterhub_config.py there):
# state in $BENCH_STATE_DIR, the BENCH_* ports, tokens, password and spawner mode. SIGTERM stops
# the hub, the proxy it started and the servers (cleanup_servers/cleanup_proxy), as the harness
# expects of every hub it measures.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${BENCH_STATE_DIR:?BENCH_STATE_DIR must be set}"
bin="${GANYMEDE_BIN:-$here/../build-bench/ganymede}"
mkdir -p "$BENCH_STATE_DIR"
cd "$BENCH_STATE_DIR"
rm -f jupyterhub.pid jupyterhub-proxy.pid

E() { local v="${!1:-}"; echo "${v:-$2}"; }
public_port=$(E BENCH_PUBLIC_PORT 18000)
hub_port=$(E BENCH_HUB_PORT 18001)
proxy_api_port=$(E BENCH_PROXY_API_PORT 18002)
admin_user=$(E BENCH_ADMIN_USER benchadmin)
mode=$(E BENCH_SPAWNER fixed)

case "$mode" in
fixed)
  spawner='"spawner_class": "test-fixed"'
  spawner_conf="\"FixedSpawner\": {\"target\": \"$(E BENCH_FIXED_TARGET http://127.0.0.1:18010)\"},"
  ;;
process)
  # Each server is `python3 -m http.server` on the port the hub picked (bench/http-server.sh).
  mkdir -p empty-www
  spawner='"spawner_class": "simple"'
  spawner_conf="\"Spawner\": {\"cmd\": [\"$here/http-server.sh\"], \"args\": []},
    \"SimpleLocalProcessSpawner\": {\"home_dir_template\": \"$BENCH_STATE_DIR/www/{username}\"},"
  ;;
*)
  echo "start-ganymede.sh: BENCH_SPAWNER must be fixed or process, not '$mode'" >&2
  exit 2
  ;;
esac

cat >ganymede_bench.json <<JSON
{
  "JupyterHub": {
    "bind_url": "http://127.0.0.1:$public_port",
    "hub_bind_url": "http://127.0.0.1:$hub_port",
    "hub_connect_url": "http://127.0.0.1:$hub_port",
    "db_url": "sqlite:///$BENCH_STATE_DIR/jupyterhub.sqlite",
    "cookie_secret_file": "$BENCH_STATE_DIR/jupyterhub_cookie_secret",
    "pid_file": "$BENCH_STATE_DIR/jupyterhub.pid",
    "log_level": "$(E BENCH_LOG_LEVEL INFO)",
    "authenticator_class": "dummy",
    "api_tokens": {"$(E BENCH_ADMIN_TOKEN bench-admin-token-0123456789abcdef)": "$admin_user"},
    "concurrent_spawn_limit": $(E BENCH_CONCURRENT_SPAWN_LIMIT 100),
    "api_page_max_limit": $(E BENCH_API_PAGE_MAX_LIMIT 20000),
    "cleanup_servers": true,
    "cleanup_proxy": true,
    $spawner
  },
  $spawner_conf
  "ConfigurableHTTPProxy": {
    "should_start": true,
    "api_url": "http://127.0.0.1:$proxy_api_port",
    "auth_token": "$(E BENCH_PROXY_TOKEN bench-proxy-token-0123456789abcdef)",
    "pid_file": "$BENCH_STATE_DIR/jupyterhub-proxy.pid"
  },
  "DummyAuthenticator": {"password": "$(E BENCH_PASSWORD benchpass)"},
  "Authenticator": {"admin_users": ["$admin_user"], "allow_all": true}
}
JSON
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"
exec "$bin" -f ganymede_bench.json "$@"
