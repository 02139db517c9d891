#!/bin/bash
# A throw-away PostgreSQL server for the tests (Debian's postgresql package):
#
#   tools/pg-test-server.sh start DIR   initdb in DIR/data (the first time), start the server on
#                                       127.0.0.1 and on a unix socket in DIR, print the admin
#                                       URL postgresql://ganymede:<pw>@127.0.0.1:<port>/postgres
#                                       and write it to DIR/url (mode 0600)
#   tools/pg-test-server.sh stop DIR    stop it (fast shutdown); nothing to do is not an error
#   tools/pg-test-server.sh ctl DIR ARG...
#                                       pg_ctl ARG... on that cluster, as its owner, waiting at
#                                       most 60 s (restart -m immediate is a crash; start and
#                                       restart log to DIR/server.log)
#
# The role `ganymede` is the cluster's superuser, with the password $PGPASSWORD or a generated
# one; every connection, local or TCP, needs it (scram-sha-256). The port is $PGPORT or a free
# one. fsync stays on: the tests check durability. initdb refuses to run as root, so under root
# the cluster belongs to the `postgres` user (made by the postgresql-common package) and DIR is
# handed to it; any other user keeps its cluster for itself. When that user cannot reach DIR
# (pytest's /tmp/pytest-of-root is 0700) or DIR is too long for a socket path, the cluster lives
# in /tmp/ganymede-pg.XXXXXXXX instead, with DIR/data, DIR/server.log and the socket linked to
# it; such a directory is removed by a later start once its DIR is gone.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop DIR | ctl DIR PG_CTL_ARG..." >&2
  exit 2
}
[ $# -ge 2 ] || usage
cmd=$1
dir=$2
shift 2
[ "$cmd" = ctl ] || [ $# -eq 0 ] || usage

die() {
  echo "pg-test-server: $*" >&2
  exit 1
}

# The server's programs: $PG_BINDIR, else the newest /usr/lib/postgresql/N/bin, else PATH.
bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
  while read -r d; do
    if [ -x "$d/initdb" ]; then bindir=$d; fi
  done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
fi
if [ -z "$bindir" ]; then
  initdb_path=$(command -v initdb || true)
  [ -n "$initdb_path" ] || die "no PostgreSQL server found (apt-get install postgresql)"
  bindir=$(dirname "$initdb_path")
fi

# Who runs the server.
if [ "$(id -u)" -eq 0 ]; then
  owner=postgres
  id "$owner" >/dev/null 2>&1 || die "there is no '$owner' user (apt-get install postgresql)"
  as_owner() { runuser -u "$owner" -- "$@"; }
else
  owner=$(id -un)
  as_owner() { "$@"; }
fi

# Where the cluster is: DIR, or the directory DIR/cluster names.
home=
find_home() {
  home=$dir
  if [ -f "$dir/cluster" ]; then
    home=$(cat "$dir/cluster")
  fi
}

pg() { (cd "$home" && as_owner "$bindir/$1" "${@:2}"); }

running() {
  [ -f "$home/data/postmaster.pid" ] && pg pg_ctl -D "$home/data" status >/dev/null 2>&1
}

# Percent-encode for the password part of a URL.
urlencode() {
  local s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [A-Za-z0-9._~-]) out+=$c ;;
      *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}

# A port nothing listens on: $PGPORT, else one at random in 40000-59999 (out of the ranges
# the integration tests give their hubs and proxies) that nothing answers on now.
pick_port() {
  if [ -n "${PGPORT:-}" ]; then
    echo "$PGPORT"
    return
  fi
  local p
  for _ in $(seq 50); do
    p=$((40000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  die "no free port found"
}

# Clusters made outside their DIR whose DIR is gone (or points elsewhere now): stopped, removed.
collect_orphans() {
  local h d
  for h in /tmp/ganymede-pg.*; do
    if [ ! -f "$h/for" ] || [ ! -O "$h/for" ]; then continue; fi
    d=$(cat "$h/for")
    [ "$(cat "$d/cluster" 2>/dev/null || true)" = "$h" ] && continue
    if [ -f "$h/data/postmaster.pid" ]; then
      (cd "$h" && as_owner "$bindir/pg_ctl" -D "$h/data" -m immediate -w -t 60 stop) \
        >/dev/null 2>&1 || true
    fi
    rm -rf "$h"
  done
}

start() {
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  collect_orphans
  find_home
  if [ "$home" != "$dir" ] && [ ! -d "$home/data" ]; then
    rm -f "$dir/cluster" # its cluster went away: make a new one
    home=$dir
  fi
  if [ "$home" = "$dir" ] && [ ! -d "$dir/data" ]; then
    # The socket's path must fit in sun_path (107 bytes), and the owner must reach DIR.
    if [ ${#dir} -gt 80 ] || ! as_owner test -x "$(dirname "$dir")" 2>/dev/null; then
      home=$(mktemp -d /tmp/ganymede-pg.XXXXXXXX)
      printf '%s\n' "$dir" >"$home/for" # the mark of its DIR, for collect_orphans
      printf '%s\n' "$home" >"$dir/cluster"
    fi
  fi
  if [ "$(id -u)" -eq 0 ]; then
    chown "$owner:" "$home"
  fi
  chmod 0700 "$home"
  as_owner test -w "$home" || die "user $owner cannot write to $home"

  if [ -f "$dir/url" ] && running; then
    cat "$dir/url"
    return
  fi

  local pw port
  if [ -f "$home/data/PG_VERSION" ]; then
    # Made before: the same password and port as then.
    pw=$(cat "$home/password")
    port=$(cat "$dir/port")
  else
    [ ! -e "$home/data" ] || die "$home/data exists and is not a PostgreSQL cluster"
    pw=${PGPASSWORD:-$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 24)}
    (umask 077 && printf '%s\n' "$pw" >"$home/password")
    chown "$owner:" "$home/password"
    pg initdb -D "$home/data" -U ganymede --pwfile="$home/password" --auth=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      {
        cat "$dir/initdb.log" >&2
        die "initdb failed"
      }
    port=$(pick_port)
    echo "$port" >"$dir/port"
    # Only the address and socket; fsync and synchronous_commit keep their defaults (on).
    cat >>"$home/data/postgresql.conf" <<EOF

# tools/pg-test-server.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$home'
max_connections = 300
password_encryption = 'scram-sha-256'
log_min_messages = warning
EOF
    cat >"$home/data/pg_hba.conf" <<EOF
# tools/pg-test-server.sh: a password for every connection
local all all               scram-sha-256
host  all all 127.0.0.1/32  scram-sha-256
EOF
    if [ "$home" != "$dir" ]; then
      ln -sfn "$home/data" "$dir/data"
      ln -sfn "$home/server.log" "$dir/server.log"
    fi
  fi

  local tries=0
  until pg pg_ctl -D "$home/data" -l "$home/server.log" -w -t 60 start >/dev/null; do
    # Someone took the port since: another one, unless it was asked for.
    tries=$((tries + 1))
    if [ -z "${PGPORT:-}" ] && [ $tries -lt 5 ] &&
      grep -q 'could not bind\|Address already in use' "$home/server.log" 2>/dev/null; then
      port=$(pick_port)
      echo "$port" >"$dir/port"
      sed -i "s/^port = .*/port = $port/" "$home/data/postgresql.conf"
      continue
    fi
    tail -20 "$home/server.log" >&2 || true
    die "the server did not start (log: $home/server.log)"
  done
  if [ "$home" != "$dir" ] && [ $((${#dir} + 20)) -le 107 ]; then
    ln -sfn "$home/.s.PGSQL.$port" "$dir/.s.PGSQL.$port"
  fi

  local url
  url="postgresql://ganymede:$(urlencode "$pw")@127.0.0.1:$port/postgres"
  (umask 077 && printf '%s\n' "$url" >"$dir/url")
  echo "$url"
}

stop() {
  find_home
  [ -d "$home/data" ] || return 0
  if running; then
    pg pg_ctl -D "$home/data" -m fast -w -t 60 stop >/dev/null
  fi
}

ctl() {
  find_home
  [ -d "$home/data" ] || die "no cluster in $dir (start it first)"
  local log=()
  case ${1:-} in start | restart) log=(-l "$home/server.log") ;; esac
  pg pg_ctl -D "$home/data" -w -t 60 "${log[@]}" "$@"
}

case $cmd in
  start) start ;;
  stop) stop ;;
  ctl) ctl "$@" ;;
  *) usage ;;
esac
