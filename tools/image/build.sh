#!/usr/bin/env bash
# ./dev image: the Ganymede hub image, built from Debian's packages and the project's release
# build, without a registry or a Dockerfile:
#
#   debootstrap (minbase) a bookworm root with the hub's run-time libraries, Debian's
#   configurable-http-proxy and ca-certificates → the release binary as /usr/local/bin/ganymede
#   (and `jupyterhub`, the command zero-to-jupyterhub's hub Deployment runs) → what an image
#   does not need (apt lists, docs, man pages, locales) removed → a tar of the root, imported
#   into the Docker engine at $DOCKER_HOST as $IMAGE_TAG, and an OCI image layout archive.
#
#   tools/image/build.sh BINARY OUTDIR        (./dev image calls it; root: debootstrap, chroot)
#
# The root's tar is cached per package list in OUTDIR (tools/debian_root.sh), so a rebuild
# after a code change only copies the binary in again (seconds). Env: IMAGE_TAG
# (ganymede/hub:dev), DEBIAN_MIRROR (the apt configuration's bookworm source), DOCKER_HOST (no
# import when unset).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
binary=${1:?usage: build.sh BINARY OUTDIR}
out=${2:?usage: build.sh BINARY OUTDIR}
tag=${IMAGE_TAG:-ganymede/hub:dev}
mkdir -p "$out"

# The hub's run-time libraries (ldd of the release binary), the proxy and TLS roots.
pkgs=(ca-certificates libmicrohttpd12 libuv1 libcurl4 libsqlite3-0 libpq5 libjansson4 libssl3
  libyaml-0-2 libpcre2-8-0 libpam0g libpam-modules node-configurable-http-proxy tini)
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

base=$("$here/../debian_root.sh" "$out" base "${pkgs[@]}")

say "the image: $tag"
layer="$out/rootfs.tar"
stage="$out/stage"
rm -rf "$stage"
mkdir -p "$stage/usr/local/bin" "$stage/srv/jupyterhub" "$stage/usr/local/etc/jupyterhub"
install -m 0755 "$binary" "$stage/usr/local/bin/ganymede"
ln -sf ganymede "$stage/usr/local/bin/jupyterhub"
cp "$base" "$layer"
# Only what the base has not (the engine refuses a tar with a path twice).
tar --numeric-owner --owner=0 --group=0 --no-recursion -C "$stage" -rf "$layer" \
  ./usr/local/bin/ganymede ./usr/local/bin/jupyterhub ./srv/jupyterhub ./usr/local/etc/jupyterhub
rm -rf "$stage"

# The image's settings: what zero-to-jupyterhub's hub image has (its working directory, the
# hub's port), `ganymede` with its embedded defaults when run without arguments.
python3 "$here/oci.py" "$layer" "$out/ganymede-hub.oci.tar" "$tag"
if [ -n "${DOCKER_HOST:-}" ]; then
  sock=${DOCKER_HOST#unix://}
  q='fromSrc=-&repo='"${tag%:*}"'&tag='"${tag##*:}"
  for c in 'WORKDIR /srv/jupyterhub' 'ENTRYPOINT ["tini", "--"]' 'CMD ["ganymede"]' \
    'EXPOSE 8000 8081' 'ENV LANG=C.UTF-8' 'ENV NODE_PATH=/usr/share/nodejs'; do
    q="$q&changes=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$c")"
  done
  r=$(curl -sS --max-time 600 --unix-socket "$sock" -X POST -H 'Content-Type: application/x-tar' \
    --data-binary @"$layer" "http://d/v1.41/images/create?$q")
  echo "$r" | grep -q '"status":"sha256:' || { echo "docker import failed: $r" >&2; exit 1; }
  say "imported $tag into the engine at $DOCKER_HOST"
fi
size=$(stat -c %s "$out/ganymede-hub.oci.tar")
say "OCI archive $out/ganymede-hub.oci.tar ($((size / 1048576)) MiB compressed)"
