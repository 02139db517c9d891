#!/usr/bin/env python3
"""An OCI image layout archive (oci-layout, index.json, blobs) from one root filesystem tar:
what `skopeo copy oci-archive:...` or `podman load` take, written without either.

    oci.py ROOTFS.tar OUT.oci.tar REPO:TAG"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
import time


def blob(tf, data, media):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo("blobs/sha256/" + digest.split(":")[1])
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
    tf.addfile(info, io.BytesIO(data))
    return {"mediaType": media, "digest": digest, "size": len(data)}


def main():
    rootfs, out, ref = sys.argv[1:4]
    raw = open(rootfs, "rb").read()
    diff_id = "sha256:" + hashlib.sha256(raw).hexdigest()
    layer = gzip.compress(raw, compresslevel=6, mtime=0)
    config = {
        "architecture": "amd64", "os": "linux",
        "config": {"WorkingDir": "/srv/jupyterhub", "Entrypoint": ["tini", "--"],
                   "Cmd": ["ganymede"], "ExposedPorts": {"8000/tcp": {}, "8081/tcp": {}},
                   "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                           "LANG=C.UTF-8", "NODE_PATH=/usr/share/nodejs"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "tools/image/build.sh (debootstrap + the release binary)"}],
    }
    tmp = out + ".part"
    with tarfile.open(tmp, "w") as tf:
        lay = blob(tf, layer, "application/vnd.oci.image.layer.v1.tar+gzip")
        cfg = blob(tf, json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json")
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": cfg, "layers": [lay]}
        man = blob(tf, json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json")
        man["annotations"] = {"org.opencontainers.image.ref.name": ref.split(":")[-1],
                              "io.containerd.image.name": ref}
        for name, data in (("oci-layout", {"imageLayoutVersion": "1.0.0"}),
                           ("index.json", {"schemaVersion": 2, "manifests": [man]})):
            b = json.dumps(data).encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(b), int(time.time()), 0o644
            tf.addfile(info, io.BytesIO(b))
    os.replace(tmp, out)
    print(json.dumps({"layer_bytes": lay["size"], "rootfs_bytes": len(raw)}))


if __name__ == "__main__":
    main()
