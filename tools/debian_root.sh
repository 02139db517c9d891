#!/usr/bin/env bash
# A Debian bookworm root as a tar, cached per package list: debootstrap (minbase), then apt in
# a chroot for the packages (apt resolves what debootstrap's --include does not), then what a
# root made for an image or a test does not need (apt lists, docs, man pages, locales) removed.
# Used by tools/image/build.sh (the hub image) and tools/deb/test-root.sh (the Debian
# package's test machine).
#
#   tools/debian_root.sh OUTDIR NAME PACKAGE...     prints the tar's path
#
# The tar is OUTDIR/NAME-<hash of the package list>.tar; the log of a build goes to
# OUTDIR/NAME.log. Needs root (debootstrap, chroot). Env: DEBIAN_MIRROR (default: the apt
# configuration's bookworm source).
set -euo pipefail
out=${1:?usage: debian_root.sh OUTDIR NAME PACKAGE...}
name=${2:?usage: debian_root.sh OUTDIR NAME PACKAGE...}
shift 2
mkdir -p "$out"
tar="$out/$name-$(printf '%s\n' "$@" | sort | sha256sum | cut -c1-12).tar"
log="$out/$name.log"
if [ -s "$tar" ]; then
  echo "$tar"
  exit 0
fi
mirror=${DEBIAN_MIRROR:-$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' |
  awk '$2=="bookworm"{print $1; exit}')}
[ -n "$mirror" ] || { echo "no bookworm mirror in the apt configuration; set DEBIAN_MIRROR" >&2; exit 1; }
root="$out/$name-root"
rm -rf "$root"
printf '\033[1m==> %s\033[0m\n' "debootstrap --variant=minbase bookworm, then apt-get install $* (a minute or more)" >&2
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$log" 2>&1 ||
  { echo "debootstrap failed: see $log" >&2; tail -5 "$log" >&2; exit 1; }
# No daemon starts in the root meanwhile.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"
trap 'mountpoint -q "$root/proc" && umount "$root/proc"' EXIT
apto=(-o Acquire::Retries=3 -o APT::Install-Recommends=false)
{ chroot "$root" apt-get "${apto[@]}" update -qq &&
  chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get "${apto[@]}" install -y -qq "$@"; } \
  >>"$log" 2>&1 ||
  { echo "apt-get install in the root failed: see $log" >&2; tail -5 "$log" >&2; exit 1; }
umount "$root/proc"
trap - EXIT
rm -f "$root/usr/sbin/policy-rc.d"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
  "$root"/usr/share/locale/* "$root"/var/log/*.log "$root"/var/cache/debconf/*-old
tar --numeric-owner -C "$root" -cf "$tar.part" . && mv "$tar.part" "$tar"
rm -rf "$root"
echo "$tar"
