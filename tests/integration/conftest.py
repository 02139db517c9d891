"""Fixtures that run the real ganymede binary on a free loopback port with a temporary state
directory, wait until it answers, and stop it, checking that it exited cleanly and that the
sanitizers found nothing."""
import atexit
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

import pg
from secrets_seen import check_secrets, remember, remember_response, remember_state_dir

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("GANYMEDE_BIN", str(ROOT / "build-test" / "ganymede"))
OUTPUT = Path(os.environ.get("GANYMEDE_TEST_OUTPUT", ROOT / ".test-output"))
# Ganymede's own version, as the build takes it (meson.build's project version).
VERSION = re.search(r"version: '([^']+)'", (ROOT / "meson.build").read_text()).group(1)

# The proxy: the configurable-http-proxy pinned in tools/proxy (installed there by ./dev test),
# first on the PATH of every hub the tests start, so that the hub's default command finds it;
# without it the hubs run whichever one is on PATH (Debian's /usr/bin/configurable-http-proxy).
PINNED_PROXY = ROOT / "tools" / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
DEBIAN_PROXY = Path("/usr/bin/configurable-http-proxy")
if PINNED_PROXY.exists() and \
        os.environ.get("PATH", "").split(":")[0] != str(PINNED_PROXY.parent):
    os.environ["PATH"] = f"{PINNED_PROXY.parent}:{os.environ.get('PATH', '')}"


def find_recipes():
    """../shared/recipes (scripts that start real external systems: an OpenID provider, a
    Docker engine): GANYMEDE_RECIPES, else next to this checkout, else next to the checkout
    this one was cloned from (a fresh `git clone . /tmp/x` still finds them), else next to the
    checkout whose worktree this is."""
    if os.environ.get("GANYMEDE_RECIPES"):
        return Path(os.environ["GANYMEDE_RECIPES"])
    candidates = [ROOT.parent / "shared" / "recipes"]
    try:
        origin = subprocess.run(["git", "-C", str(ROOT), "config", "remote.origin.url"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        origin = ""
    if origin.startswith("/") or origin.startswith("file://"):
        candidates.append(Path(origin.removeprefix("file://")).resolve().parent / "shared" /
                          "recipes")
    try:  # a worktree of a checkout: next to the checkout that holds the repository
        common = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--git-common-dir"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        common = ""
    if common:
        candidates.append((ROOT / common).resolve().parent.parent / "shared" / "recipes")
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[0]


RECIPES = find_recipes()
# Where the recipes keep their state, as their _common.sh says.
RECIPES_STATE = Path(os.environ.get("RECIPES_STATE") or
                     Path(os.environ.get("TMPDIR", "/tmp")) / "hub-recipes")
START_TIMEOUT = 60  # seconds; sanitizer builds start slower, and CI machines are busy
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "SUMMARY: UndefinedBehaviorSanitizer",
                   "The event loop still had open handles at exit")


def sanitizer_env():
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1")
    env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    for k in ("JPY_COOKIE_SECRET", "CONFIGPROXY_AUTH_TOKEN", "JUPYTERHUB_CRYPT_KEY"):
        env.pop(k, None)
    # Debian's jupyterhub-singleuser 3.0 runs on the classic notebook (debian-notes.md); the
    # local spawners pass this on (Spawner.env_keep).
    env["JUPYTERHUB_SINGLEUSER_APP"] = "notebook.notebookapp.NotebookApp"
    return env


# Ports for proxies: each pytest-xdist worker takes its own range so that two workers never
# pick the same free port at the same time, and claims each port with a file that names its
# pid, so that test sessions running at the same time (a developer's and a helper's) do not
# hand the same port to two proxies either.
_next_port = [None]
PORT_CLAIMS = Path(tempfile.gettempdir()) / "ganymede-test-ports"
_claimed = []


def _claim(port):
    PORT_CLAIMS.mkdir(exist_ok=True)
    path = PORT_CLAIMS / str(port)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                owner = int(path.read_text() or "0")
                os.kill(owner, 0)
                return False  # another live session has it
            except (ValueError, ProcessLookupError, FileNotFoundError):
                path.unlink(missing_ok=True)  # left by a session that is gone
                continue
            except PermissionError:
                return False
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        _claimed.append(path)
        return True
    return False


@atexit.register
def _release_claims():
    for path in _claimed:
        try:
            if path.read_text() == str(os.getpid()):
                path.unlink()
        except OSError:
            pass


def free_port():
    if _next_port[0] is None:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw9")
        n = int(worker[2:]) if worker[2:].isdigit() else 9
        _next_port[0] = 20000 + n * 1000
    for _ in range(1000):
        port = _next_port[0]
        _next_port[0] += 1
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        if _claim(port):
            return port
    raise AssertionError("no free port")


def run_ganymede(args, cwd, env=None, timeout=60):
    """Run ganymede to completion (for --help, upgrade-db, refused starts)."""
    p = subprocess.run([BIN] + list(args), cwd=cwd, env=env or sanitizer_env(),
                       capture_output=True, text=True, timeout=timeout)
    check_sanitizers(p.stdout + p.stderr)
    return p


def check_sanitizers(text):
    for mark in SANITIZER_MARKS:
        assert mark not in text, f"sanitizer report in hub output:\n{text[-4000:]}"


class Hub:
    """A running ganymede. `url` is the hub's own address (http://127.0.0.1:PORT)."""

    def __init__(self, state_dir, args=(), config=None, config_name="jupyterhub_config.json",
                 env=None, name="hub"):
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.args = list(args)
        self.env = sanitizer_env()
        self.env.update(env or {})
        self.name = name
        if config is not None:
            path = self.state_dir / config_name
            if isinstance(config, str):
                path.write_text(config)
            else:
                path.write_text(json.dumps(config))
            self.args = ["-f", config_name] + self.args  # relative: cwd is state_dir
        self.proc = None
        self.log_path = None
        self.url = None
        self.port = None
        # The proxy this hub starts (unless the test configures its own).
        self.proxy_port = free_port()
        self.proxy_api_port = free_port()
        self.public_url = f"http://127.0.0.1:{self.proxy_port}"

    def start(self, wait=True):
        self.log_path = self.state_dir / f"{self.name}-{int(time.time() * 1000)}.log"
        self.log_file = open(self.log_path, "w")
        cmd = [BIN, "--JupyterHub.hub_bind_url=http://127.0.0.1:0",
               f"--JupyterHub.bind_url=http://127.0.0.1:{self.proxy_port}",
               f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{self.proxy_api_port}",
               "--JupyterHub.cleanup_servers=True", "--JupyterHub.cleanup_proxy=True"]
        # With GANYMEDE_TEST_PG_URL: this state directory's own PostgreSQL database (pg.py).
        cmd += pg.hub_args(self.state_dir, self.args) + self.args
        self.proc = subprocess.Popen(cmd, cwd=self.state_dir, env=self.env,
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()
        return self

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            m = re.search(r"listening on http://[^ ]+:(\d+)(/\S*)hub/ ", self.log())
            if m:
                self.port = int(m.group(1))
                self.base_url = m.group(2)
                self.url = f"http://127.0.0.1:{self.port}"
                break
            if self.proc.poll() is not None:
                raise AssertionError(f"hub exited with {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.02)
        else:
            raise AssertionError(f"hub did not start in {START_TIMEOUT}s:\n{self.log()}")
        while time.monotonic() < deadline:
            try:
                r = requests.get(self.url + self.base_url + "hub/health", timeout=10)
                if r.status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.02)
        else:
            raise AssertionError(f"hub did not answer /hub/health:\n{self.log()}")
        # Ready for users once the proxy runs and has the hub's route.
        while time.monotonic() < deadline:
            if "Ganymede is running at" in self.log():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"hub exited with {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.02)
        raise AssertionError(f"the proxy did not start:\n{self.log()}")

    def get(self, path, **kw):
        kw.setdefault("timeout", 10)
        kw.setdefault("allow_redirects", False)
        return requests.get(self.url + path, **kw)

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 10)
        kw.setdefault("allow_redirects", False)
        r = requests.request(method, self.url + path, **kw)
        remember_response(r)
        return r

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def wait(self, timeout=20):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"hub did not exit within {timeout}s:\n{self.log()}")

    def stop(self, expect_code=0):
        """SIGTERM (if still running), wait, and check the exit code and the sanitizers."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
        code = self.wait()
        if not self.log_file.closed:
            self.log_file.close()
        text = self.log()
        check_sanitizers(text)
        remember_state_dir(self.state_dir)
        check_secrets(text, f"the log of {self.name} ({self.log_path.name})")
        if expect_code is not None:
            assert code == expect_code, f"hub exited with {code}:\n{text[-4000:]}"
        return code


@pytest.fixture
def hub_factory(tmp_path, request):
    """Make hubs in a temporary state directory; each is stopped (exit 0 checked) at the end."""
    hubs = []

    def make(config=None, args=(), env=None, state_dir=None, start=True, **kw):
        h = Hub(state_dir or tmp_path, args=args, config=config, env=env, **kw)
        hubs.append(h)
        if start:
            h.start()
        return h

    yield make
    for h in hubs:
        if h.proc is not None and h.proc.poll() is None:
            h.stop()
        elif h.proc is not None:
            check_sanitizers(h.log())
            remember_state_dir(h.state_dir)
            check_secrets(h.log(), f"the log of {h.name}")
    for state in {h.state_dir for h in hubs}:
        reap_leftovers(state)
        pg.forget(state)  # its PostgreSQL database, if it had one
    # Keep the logs of failed tests with the test output.
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        dest = OUTPUT / "failed" / request.node.name
        dest.mkdir(parents=True, exist_ok=True)
        for h in hubs:
            if h.log_path and h.log_path.exists():
                (dest / h.log_path.name).write_text(h.log())


def reap_leftovers(state_dir):
    """The proxy and servers outlive their hub by design; a hub that crashed or left them
    running on purpose must not leave them behind after the test."""
    pids = []
    pidfile = Path(state_dir) / "jupyterhub-proxy.pid"
    if pidfile.exists():
        try:
            pids.append(int(pidfile.read_text()))
        except ValueError:
            pass
    db = Path(state_dir) / "jupyterhub.sqlite"
    if db.exists():
        import sqlite3
        try:
            with sqlite3.connect(db, timeout=5) as conn:
                for (state,) in conn.execute("SELECT state FROM spawners WHERE state IS NOT NULL"):
                    pid = json.loads(state).get("pid") if state else None
                    if isinstance(pid, int):
                        pids.append(pid)
        except sqlite3.Error:
            pass
    for state in pg.spawner_states(state_dir):
        try:
            pid = json.loads(state).get("pid")
        except (ValueError, AttributeError):
            continue
        if isinstance(pid, int):
            pids.append(pid)
    for pid in pids:
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
        except OSError:
            continue
        # Only what a hub would have started: never an unrelated process that reused the pid.
        if any(w in cmdline for w in (b"configurable-http-proxy", b"python3", b"singleuser",
                                      b"sleep")):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


@pytest.fixture
def hub(hub_factory):
    """A hub with the built-in defaults."""
    return hub_factory()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


# A hub set up for the REST API tests: an admin token from the config, a service with a role
# (the idle culler's scopes), a group.
ADMIN_TOKEN = "admin-token-0123456789abcdef"
remember(ADMIN_TOKEN)
CULLER_TOKEN = "culler-token-0123456789abcdef"

API_CONFIG = {
    "JupyterHub": {
        "api_tokens": {ADMIN_TOKEN: "admin"},
        "services": [{"name": "culler", "api_token": CULLER_TOKEN}],
        "load_roles": [{
            "name": "culler",
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            "services": ["culler"],
        }],
        "load_groups": {"staff": {"users": ["alice"], "properties": {"floor": 3}}},
    },
    "Authenticator": {"admin_users": ["admin"]},
}


class Api:
    """Calls to /hub/api with a token."""

    def __init__(self, hub, token=ADMIN_TOKEN):
        self.hub = hub
        self.token = token

    def __call__(self, method, path, token=None, **kw):
        headers = kw.pop("headers", {})
        tok = self.token if token is None else token
        if tok:
            headers["Authorization"] = f"token {tok}"
        return self.hub.request(method, "/hub/api" + path, headers=headers, **kw)

    def token_for(self, user, **body):
        """A new token for @user (made by the admin), with optional scopes/roles/note."""
        r = self("POST", f"/users/{user}/tokens", json=body)
        assert r.status_code == 201, r.text
        return r.json()["token"]


@pytest.fixture
def api_hub(hub_factory):
    h = hub_factory(config=API_CONFIG)
    h.api = Api(h)
    return h


# Browser scenarios: tests/browser/<name>.mjs, run by node with playwright-core in Debian's
# chromium. ./dev test installs both; run outside it, the tests skip when either is missing.
BROWSER_DIR = ROOT / "tests" / "browser"


def run_browser(name, **args):
    """Run one browser scenario and return the JSON findings it printed."""
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        pytest.skip("playwright-core is not installed (./dev test installs it)")
    if not Path(os.environ.get("CHROMIUM", "/usr/bin/chromium")).exists():
        pytest.skip("chromium is not installed (./dev test installs it)")
    env = dict(os.environ, GANYMEDE_TEST_OUTPUT=str(OUTPUT))
    p = subprocess.run(["node", str(BROWSER_DIR / f"{name}.mjs"), json.dumps(args)],
                       capture_output=True, text=True, timeout=240, env=env)
    assert p.returncode == 0, f"browser scenario {name} failed:\n{p.stderr[-4000:]}"
    return json.loads(p.stdout.strip().splitlines()[-1])


# Long-lived systems of the recipes that tests start when they need them (the Docker engine,
# the LTI platform, the SLURM cluster): stopped once the whole run is over if they were not
# running before (by
# the controller, after every pytest-xdist worker finished).
def _recipe_services():
    engine = os.environ.get("DOCKER_ENGINE", "docker")
    return {"start-docker-api.sh": RECIPES_STATE / engine / f"{engine}.pid",
            "start-lti-platform.sh": RECIPES_STATE / "lti-platform" / "lti-platform.pid",
            "start-slurm.sh": RECIPES_STATE / "slurm" / "slurmctld.pid"}


def _running(pidfile):
    try:
        os.kill(int(pidfile.read_text().strip()), 0)
        return True
    except (OSError, ValueError):
        return False


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sqlite_only: the test opens the hub's SQLite file itself; skipped when the "
        "hubs run on PostgreSQL (GANYMEDE_TEST_PG_URL, pg.py)")


def pytest_collection_modifyitems(config, items):
    if not pg.enabled():
        return
    skip = pytest.mark.skip(reason="reads or writes the SQLite file (GANYMEDE_TEST_PG_URL is set)")
    for item in items:
        if item.get_closest_marker("sqlite_only"):
            item.add_marker(skip)


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):
        session.config.ganymede_services_up = {
            script for script, pidfile in _recipe_services().items() if _running(pidfile)}


def pytest_sessionfinish(session, exitstatus):
    pg.drop_all()  # the databases this process (a worker, or the only one) made
    if hasattr(session.config, "workerinput") or RECIPES is None:
        return
    was_up = getattr(session.config, "ganymede_services_up", None)
    for script, pidfile in _recipe_services().items():
        if was_up is not None and script not in was_up and _running(pidfile):
            subprocess.run([str(RECIPES / script), "stop"], capture_output=True, timeout=120)
