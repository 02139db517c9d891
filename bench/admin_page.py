#!/usr/bin/env python3
"""How fast the admin panel (/hub/admin) is with 10,000 users, in a real browser.

Starts a hub with its proxy (or uses a running one), creates 10,000 users through
POST /hub/api/users in batches of 500, then drives Debian's chromium (bench/admin_page.mjs,
with tests/browser's playwright-core) to measure, inside the page:

  first_page  navigation start to the first page of users drawn (cold cache, then warm)
  search      typing a name to its result drawn; also the part after the search debounce
  next_page   a click on Next to the next page drawn

and prints them as one JSON line (milliseconds, medians over RUNS runs, min and max too).

    python3 bench/admin_page.py                        # starts build-bench/ or build/ ganymede
    GANYMEDE_BIN=/path/to/ganymede python3 bench/admin_page.py
    HUB_URL=http://127.0.0.1:8000 TOKEN=<admin token> ADMIN_USER=admin \\
        ADMIN_PASSWORD=<password> python3 bench/admin_page.py   # a hub that runs already

Environment: USERS (10000), BATCH (500), RUNS (7), PAGE_LIMIT (the hub's default page size if
unset), CHROMIUM (/usr/bin/chromium). Only the standard library is used here. The binary must
embed the current web/ (rebuild after changing it); use a build without sanitizers for
meaningful figures.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
USERS = int(os.environ.get("USERS", "10000"))
BATCH = int(os.environ.get("BATCH", "500"))
RUNS = int(os.environ.get("RUNS", "7"))
ADMIN_PASSWORD = "bench-admin-password-0123456789abcdef"
TOKEN = "bench-admin-token-0123456789abcdef"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_binary():
    if os.environ.get("GANYMEDE_BIN"):
        return Path(os.environ["GANYMEDE_BIN"])
    for candidate in ("build-bench", "build"):
        path = ROOT / candidate / "ganymede"
        if path.exists():
            return path
    sys.exit("admin_page.py: no ganymede binary; run ./dev build or set GANYMEDE_BIN")


class LocalHub:
    """A hub with its own proxy in a temporary directory; stopped by stop()."""

    def __init__(self, binary):
        self.dir = Path(tempfile.mkdtemp(prefix="admin-bench-"))
        self.public_port, self.api_port = free_port(), free_port()
        config = {
            "JupyterHub": {"authenticator_class": "shared-password",
                           "api_tokens": {TOKEN: "admin"}, "redirect_to_server": False},
            "Authenticator": {"admin_users": ["admin"], "allow_all": True},
            "SharedPasswordAuthenticator": {"admin_password": ADMIN_PASSWORD},
        }
        (self.dir / "jupyterhub_config.json").write_text(json.dumps(config))
        self.log_path = self.dir / "hub.log"
        env = {k: v for k, v in os.environ.items()
               if k not in ("JPY_COOKIE_SECRET", "CONFIGPROXY_AUTH_TOKEN")}
        self.proc = subprocess.Popen(
            [str(binary), "-f", "jupyterhub_config.json",
             "--JupyterHub.hub_bind_url=http://127.0.0.1:0",
             f"--JupyterHub.bind_url=http://127.0.0.1:{self.public_port}",
             f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{self.api_port}",
             "--JupyterHub.cleanup_servers=True", "--JupyterHub.cleanup_proxy=True"],
            cwd=self.dir, env=env, stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.public_port}"
        self.api_url = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            log = self.log_path.read_text(errors="replace")
            m = re.search(r"listening on (http://[^ ]+:\d+)(/\S*)hub/ ", log)
            if m and not self.api_url:
                self.api_url = m.group(1) + m.group(2)
            if self.api_url and "Ganymede is running at" in log:
                return
            if self.proc.poll() is not None:
                sys.exit(f"admin_page.py: the hub exited:\n{log[-3000:]}")
            time.sleep(0.05)
        self.stop()
        sys.exit("admin_page.py: the hub did not start in 60 s")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def call(api_url, token, method, path, body=None, timeout=300):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(api_url + "hub/api" + path, data=data, method=method,
                                 headers={"Authorization": f"token {token}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def create_users(api_url, token):
    """USERS users named bench-00000…, in batches; those that exist already are kept."""
    created = 0
    t = time.monotonic()
    for start in range(0, USERS, BATCH):
        names = [f"bench-{i:05d}" for i in range(start, min(USERS, start + BATCH))]
        status, body = call(api_url, token, "POST", "/users", {"usernames": names})
        if status == 201:
            created += len(body)
        elif status != 409:
            sys.exit(f"admin_page.py: POST /users answered {status}: {body}")
    return created, time.monotonic() - t


def main():
    hub = None
    if os.environ.get("HUB_URL"):
        url = os.environ["HUB_URL"].rstrip("/")
        api_url = url + "/"
        token = os.environ.get("TOKEN") or sys.exit("admin_page.py: set TOKEN with HUB_URL")
        user = os.environ.get("ADMIN_USER", "admin")
        password = os.environ.get("ADMIN_PASSWORD") or sys.exit(
            "admin_page.py: set ADMIN_PASSWORD (the browser logs in with the form)")
        binary = None
    else:
        binary = find_binary()
        hub = LocalHub(binary)
        url, api_url, token, user, password = hub.url, hub.api_url, TOKEN, "admin", \
            ADMIN_PASSWORD
    try:
        created, create_s = create_users(api_url, token)
        args = {"url": url, "user": user, "password": password, "runs": RUNS,
                "search": f"bench-{USERS - 1:05d}"}
        if os.environ.get("PAGE_LIMIT"):
            args["limit"] = int(os.environ["PAGE_LIMIT"])
        p = subprocess.run(["node", str(ROOT / "bench" / "admin_page.mjs"), json.dumps(args)],
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            sys.exit(f"admin_page.py: the browser run failed:\n{p.stderr[-3000:]}")
        figures = json.loads(p.stdout.strip().splitlines()[-1])
        result = {"bench": "admin_page", "users_created": created,
                  "create_users_s": round(create_s, 2), **figures,
                  "hub": str(binary) if binary else url}
        print(json.dumps(result))
    finally:
        if hub:
            hub.stop()


if __name__ == "__main__":
    main()
