#!/usr/bin/env bash
# The machine tests/integration/test_deb.py installs the package on: a Debian bookworm root
# that boots with systemd (systemd-nspawn --boot) and already has what the package depends on
# and recommends, so that `apt install ./ganymede_*.deb` in it needs no network.
#
#   tools/deb/test-root.sh DEB OUTDIR        prints the root's tar (cached per package list)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
deb=${1:?usage: test-root.sh DEB OUTDIR}
out=${2:?usage: test-root.sh DEB OUTDIR}
# The package's Depends and Recommends, first choice of each alternative, without versions.
mapfile -t deps < <(dpkg-deb -f "$deb" Depends Recommends | sed 's/^[A-Za-z-]*://' |
  tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' | grep -v '^$' | sort -u)
exec "$here/../debian_root.sh" "$out" deb-test-root systemd systemd-sysv dbus iproute2 procps \
  "${deps[@]}"
