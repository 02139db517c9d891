#!/bin/bash
# A throw-away PostgreSQL server for the tests (Debian's postgresql package):
#
#   tools/pg-test-server.sh start DIR   initdb in DIR/data (the first time), start the server on
#                                       127.0.0.1 and on a unix socket in DIR, print the admin
#                                       URL postgresql://ganymede:<pw>@127.0.0.1:<port>/postgres
#                                       and write it to DIR/url (mode 0600)
#   tools/pg-test-server.sh stop DIR    stop it (fast shutdown); nothing to do is not an error
#
# The role `ganymede` is the cluster's superuser, with the password $PGPASSWORD or a generated
# one; every connection, local or TCP, needs it (scram-sha-256). The port is $PGPORT or a free
# one. fsync stays on: the tests check durability. initdb refuses to run as root, so under root
# the cluster belongs to the `postgres` user (made by the postgresql-common package) and DIR is
# handed to it; any other user keeps its cluster for itself.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
dir=$2

die() {
  echo "pg-test-server: $*" >&2
  exit 1
}

# The server's programs: $PG_BINDIR, else the newest /usr/lib/postgresql/N/bin, else PATH.
bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
  while read -r d; do
    [ -x "$d/initdb" ] && bindir=$d
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

pg() { (cd "$dir" && as_owner "$bindir/$1" "${@:2}"); }

running() {
  [ -f "$dir/data/postmaster.pid" ] && pg pg_ctl -D "$dir/data" status >/dev/null 2>&1
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
# the integration tests give their hubs and proxies) that a bind() accepts now.
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

start() {
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  # The socket's path must fit in sun_path (107 bytes).
  [ ${#dir} -le 80 ] || die "DIR is too long for a unix socket path (${#dir} > 80): $dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown "$owner:" "$dir"
    chmod 0700 "$dir"
    as_owner test -w "$dir" ||
      die "user $owner cannot reach $dir (a parent directory is closed to it); pick another DIR"
  fi

  if [ -f "$dir/url" ] && running; then
    cat "$dir/url"
    return
  fi

  local pw port
  if [ -f "$dir/data/PG_VERSION" ]; then
    # Made before: the same password and port as then.
    [ -f "$dir/password" ] || die "$dir/data exists but $dir/password does not"
    pw=$(cat "$dir/password")
    port=$(cat "$dir/port")
  else
    [ ! -e "$dir/data" ] || die "$dir/data exists and is not a PostgreSQL cluster"
    pw=${PGPASSWORD:-$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 24)}
    (umask 077 && printf '%s\n' "$pw" >"$dir/password")
    chown "$owner:" "$dir/password"
    pg initdb -D "$dir/data" -U ganymede --pwfile="$dir/password" --auth=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      {
        cat "$dir/initdb.log" >&2
        die "initdb failed"
      }
    port=$(pick_port)
    echo "$port" >"$dir/port"
    # Only the address and socket; fsync and synchronous_commit keep their defaults (on).
    cat >>"$dir/data/postgresql.conf" <<EOF

# tools/pg-test-server.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
password_encryption = 'scram-sha-256'
log_min_messages = warning
EOF
    cat >"$dir/data/pg_hba.conf" <<EOF
# tools/pg-test-server.sh: a password for every connection
local all all               scram-sha-256
host  all all 127.0.0.1/32  scram-sha-256
EOF
  fi

  local tries=0
  until pg pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null; do
    # Someone took the port since: another one, unless it was asked for.
    tries=$((tries + 1))
    if [ -z "${PGPORT:-}" ] && [ $tries -lt 5 ] &&
      grep -q 'could not bind\|Address already in use' "$dir/server.log" 2>/dev/null; then
      port=$(pick_port)
      echo "$port" >"$dir/port"
      sed -i "s/^port = .*/port = $port/" "$dir/data/postgresql.conf"
      continue
    fi
    tail -20 "$dir/server.log" >&2 || true
    die "the server did not start (log: $dir/server.log)"
  done

  local url
  url="postgresql://ganymede:$(urlencode "$pw")@127.0.0.1:$port/postgres"
  (umask 077 && printf '%s\n' "$url" >"$dir/url")
  echo "$url"
}

stop() {
  [ -d "$dir/data" ] || return 0
  if running; then
    pg pg_ctl -D "$dir/data" -m fast -w -t 60 stop >/dev/null
  fi
}

case $cmd in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
