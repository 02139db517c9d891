#!/usr/bin/env bash
# ./dev deb: the Debian package, built by dpkg-buildpackage from debian/ on a copy of the tree
# (the files git knows, committed or not), then checked by lintian.
#
#   tools/deb/build.sh OUTDIR        → OUTDIR/ganymede_<version>_<arch>.deb, OUTDIR/lintian.log
#
# Fails when the build fails or lintian reports an error or a warning.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:?usage: build.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# dpkg-buildpackage writes its results beside the source directory: a staging directory of
# our own, not the checkout's parent.
stage="$out/src"
rm -rf "$stage"
mkdir -p "$stage/ganymede"
git -C "$top" ls-files -z --cached --others --exclude-standard |
  (cd "$top" && xargs -0 tar --no-recursion -cf - 2>/dev/null) | tar -C "$stage/ganymede" -xf -
say "dpkg-buildpackage (log in $out/build.log)"
(cd "$stage/ganymede" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$out/build.log" 2>&1 ||
  { echo "dpkg-buildpackage failed: see $out/build.log" >&2; tail -20 "$out/build.log" >&2; exit 1; }
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
deb=$(ls "$stage"/ganymede_*.deb)
mv "$stage"/*.deb "$stage"/*.changes "$stage"/*.buildinfo "$out/"
deb="$out/$(basename "$deb")"
say "lintian $(basename "$deb")"
if ! lintian --fail-on error,warning --tag-display-limit 0 "$out"/ganymede_*.changes \
  >"$out/lintian.log" 2>&1; then
  cat "$out/lintian.log" >&2
  echo "lintian is not clean: see $out/lintian.log" >&2
  exit 1
fi
cat "$out/lintian.log" >&2
rm -rf "$stage"
say "$deb ($(($(stat -c %s "$deb") / 1024)) KiB)"
