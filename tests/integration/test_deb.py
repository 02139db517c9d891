"""The Debian package of `./dev deb` (debian/, tools/deb/build.sh) on a machine of its own: a
Debian bookworm root booted with systemd in systemd-nspawn (tools/deb/test-root.sh makes it,
with what the package depends on already in, so the install needs no network), reached over
a veth pair in a network namespace of the test's own.

One flow, as an operator lives it: `apt install ./ganymede_*.deb` starts the service (the
`ganymede` system user, the unit's capabilities), a machine user logs in with their password
(PAM) and their server starts as them, without the hub's capabilities; an upgrade of the
package restarts the hub while the server and the proxy run on, and the new hub serves the
server again; removal stops everything and keeps the configuration, purge takes the state.

`./dev test` builds the package and the root (GANYMEDE_DEB, GANYMEDE_DEB_ROOT; about three
minutes on a fresh machine, beside the other preparations) and runs this; when it could not
build them, the test fails, saying so (.test-output/deb.log). Run by hand without them, or with
GANYMEDE_DEB_TEST=0 ./dev test, it skips."""
import os
import re
import shutil
import signal
import subprocess
import tarfile
import time

import pytest
import requests

DEB = os.environ.get("GANYMEDE_DEB", "")
ROOT_TAR = os.environ.get("GANYMEDE_DEB_ROOT", "")
USER, PASSWORD = "alice", "Apt-installed-hub-1"
CAP_SETUID, CAP_SETGID, CAP_KILL, CAP_NET_BIND_SERVICE = 7, 6, 5, 10


def wait_until(what, check, timeout, interval=0.5):
    """Poll @check until it returns a true value (returned), or fail after @timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (requests.RequestException, subprocess.SubprocessError, OSError) as e:
            last = e
        time.sleep(interval)
    pytest.fail(f"{what}: not within {timeout} s (last: {last!r})")


class Machine:
    """A booted Debian root: commands run in it with nsenter; its address is self.ip."""

    def __init__(self, tmp_path):
        self.tag = tag = f"{os.getpid() % 100000}"
        self.netns, self.host_if = f"gmdeb{tag}", f"gmdh{tag}"
        sub = os.getpid() % 250
        self.host_ip, self.ip = f"10.213.{sub}.1", f"10.213.{sub}.2"
        self.root = tmp_path / "root"
        self.root.mkdir()
        with tarfile.open(ROOT_TAR) as t:
            t.extractall(self.root, numeric_owner=True)
        # The machine's identity: systemd wants one, nspawn will not make it.
        (self.root / "etc/machine-id").write_text("")
        (self.root / "etc/hostname").write_text("gmdeb\n")
        self.console = open(tmp_path / "console.log", "w")
        self.nspawn = None

    def boot(self):
        tag = self.tag
        self.run_host(["ip", "netns", "add", self.netns])
        self.run_host(["ip", "link", "add", self.host_if, "type", "veth", "peer", "name",
                       "gmc" + tag])
        self.run_host(["ip", "link", "set", "gmc" + tag, "netns", self.netns])
        self.run_host(["ip", "addr", "add", f"{self.host_ip}/30", "dev", self.host_if])
        self.run_host(["ip", "link", "set", self.host_if, "up"])
        for cmd in (["link", "set", "lo", "up"],
                    ["addr", "add", f"{self.ip}/30", "dev", "gmc" + tag],
                    ["link", "set", "gmc" + tag, "up"]):
            self.run_host(["ip", "-n", self.netns] + cmd)
        self.nspawn = subprocess.Popen(
            ["systemd-nspawn", "-q", "-D", str(self.root), "--boot", "--register=no",
             "--keep-unit", "--console=pipe", f"--network-namespace-path=/run/netns/{self.netns}",
             f"--machine=gmdeb{tag}"],
            stdin=subprocess.DEVNULL, stdout=self.console, stderr=subprocess.STDOUT)
        self.leader = wait_until("the container's init", self._find_leader, 30)
        state = wait_until("systemd in the container to finish booting", lambda: self.sh(
            "systemctl is-system-running --wait", check=False, timeout=60).stdout.strip()
            in ("running", "degraded") and self.sh("systemctl is-system-running",
                                                   check=False).stdout.strip(), 90)
        assert state == "running", self.sh("systemctl --failed --no-legend", check=False).stdout

    def _find_leader(self):
        assert self.nspawn.poll() is None, f"systemd-nspawn exited: {self.console_text()}"
        kids = subprocess.run(["pgrep", "-P", str(self.nspawn.pid)], capture_output=True,
                              text=True).stdout.split()
        for k in kids:
            try:
                if os.readlink(f"/proc/{k}/exe").endswith("/systemd"):
                    return int(k)
            except OSError:
                pass
        return None

    def console_text(self):
        self.console.flush()
        with open(self.console.name, errors="replace") as f:
            return f.read()[-3000:]

    @staticmethod
    def run_host(cmd):
        subprocess.run(cmd, check=True, capture_output=True, timeout=30)

    def sh(self, script, check=True, timeout=120):
        r = subprocess.run(
            ["nsenter", "-t", str(self.leader), "-m", "-u", "-i", "-n", "-p", "-C", "--",
             "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
             "DEBIAN_FRONTEND=noninteractive", "/bin/sh", "-c", script],
            capture_output=True, text=True, timeout=timeout)
        if check:
            assert r.returncode == 0, f"{script}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
        return r

    def journal(self):
        return self.sh("journalctl -u ganymede --no-pager -n 200", check=False).stdout

    def close(self):
        if self.nspawn and self.nspawn.poll() is None:
            self.nspawn.send_signal(signal.SIGTERM)  # nspawn halts the container
            try:
                self.nspawn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.nspawn.kill()
                self.nspawn.wait(timeout=10)
        self.console.close()
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def machine(tmp_path):
    if not DEB and not ROOT_TAR:
        pytest.skip("no package: ./dev test builds it and its root (GANYMEDE_DEB, GANYMEDE_DEB_ROOT)")
    if os.geteuid() != 0 or not shutil.which("systemd-nspawn"):
        pytest.skip("needs root and systemd-nspawn (./dev test installs systemd-container)")
    for what, path in (("package", DEB), ("test root", ROOT_TAR)):
        if not os.path.isfile(path):
            pytest.fail(f"no Debian {what} ({path!r}): ./dev test builds it (see "
                        ".test-output/deb.log)")
    m = Machine(tmp_path)
    try:
        m.boot()
    except BaseException:
        m.close()
        raise
    yield m
    out = os.environ.get("GANYMEDE_TEST_OUTPUT")
    if out:
        with open(os.path.join(out, "deb-journal.log"), "w") as f:
            f.write(m.journal() + "\n--- console ---\n" + m.console_text())
    m.close()


def next_version(deb, out_dir):
    """The same package with a higher version: what an upgrade installs."""
    tree = out_dir / "tree"
    subprocess.run(["dpkg-deb", "-R", deb, tree], check=True)
    control = tree / "DEBIAN/control"
    text = control.read_text()
    version = re.search(r"^Version: (.+)$", text, re.M).group(1)
    control.write_text(text.replace(f"Version: {version}", f"Version: {version}+upgrade1"))
    new = out_dir / "ganymede_upgrade.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", tree, new], check=True,
                   capture_output=True)
    return new, version + "+upgrade1"


def caps(m, pid):
    """The process's capability sets (CapEff, CapPrm, CapAmb...) as ints, and its Uid line."""
    status = m.sh(f"cat /proc/{pid}/status").stdout
    sets = {k: int(v, 16) for k, v in re.findall(r"^(Cap\w+):\s+([0-9a-f]+)$", status, re.M)}
    return sets, re.search(r"^Uid:\s+(\d+)", status, re.M).group(1)


def login(session, url):
    page = session.get(url + "/hub/login", timeout=10)
    xsrf = re.search(r'name="_xsrf" value="([^"]*)"', page.text)
    data = {"username": USER, "password": PASSWORD}
    if xsrf:
        data["_xsrf"] = xsrf.group(1)
    return session.post(url + "/hub/login", data=data, allow_redirects=False, timeout=30)


def server_status(session, url):
    """The user's own notebook page through the proxy (after its OAuth round trip); Debian's
    classic notebook refuses cookie-authenticated API calls without its XSRF cookie."""
    r = session.get(url + f"/user/{USER}/tree", timeout=15)
    return r.status_code == 200 and r.url.endswith(f"/user/{USER}/tree") and \
        "Jupyter" in r.text and r.text


def singleuser_pid(m):
    r = m.sh(f"pgrep -u {USER} -f jupyterhub-singleuser", check=False)
    pids = r.stdout.split()
    return int(pids[0]) if len(pids) == 1 else None


def main_pid(m):
    return int(m.sh("systemctl show -p MainPID --value ganymede").stdout.strip())


def test_install_login_spawn_upgrade_remove(machine, tmp_path):
    m = machine
    url = f"http://{m.ip}:8000"
    m.sh(f"useradd -m -s /bin/bash {USER} && echo '{USER}:{PASSWORD}' | chpasswd")
    shutil.copy(DEB, m.root / "root/ganymede.deb")

    # Install: the service is enabled and started by the package, as the ganymede user.
    r = m.sh("apt-get install -y /root/ganymede.deb", check=False,
             timeout=300)
    assert r.returncode == 0, f"apt install failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    assert m.sh("systemctl is-enabled ganymede").stdout.strip() == "enabled"
    assert m.sh("systemctl is-active ganymede", check=False).stdout.strip() == "active", \
        m.journal()
    hub_pid = main_pid(m)
    assert m.sh(f"ps -o user= -p {hub_pid}").stdout.strip() == "ganymede"
    hub_caps, _ = caps(m, hub_pid)
    for cap in (CAP_SETUID, CAP_SETGID, CAP_KILL):
        assert hub_caps["CapEff"] >> cap & 1, f"the hub lacks capability {cap}: {hub_caps}"
    secret = m.sh("stat -c '%U %a' /var/lib/ganymede/jupyterhub_cookie_secret").stdout.split()
    assert secret == ["ganymede", "600"], secret
    api = wait_until("the hub through the proxy", lambda: requests.get(
        url + "/hub/api/", timeout=5).ok, 60)
    assert api

    # Log in with the machine account's password (PAM, through the shadow group).
    s = requests.Session()
    bad = requests.Session()
    r = bad.post(url + "/hub/login", data={"username": USER, "password": "wrong"},
                 allow_redirects=False, timeout=30)
    assert r.status_code in (403, 200) and "jupyterhub-hub-login" not in bad.cookies
    r = login(s, url)
    assert r.status_code == 302, f"login: {r.status_code} {r.text[:500]}\n{m.journal()}"
    assert "jupyterhub-hub-login" in s.cookies

    # Spawn: the spawn page starts the server; it answers as alice's own.
    r = s.get(url + "/hub/spawn", timeout=30)
    assert r.status_code == 200, r.text[:500]
    status = wait_until("alice's server through the proxy", lambda: server_status(s, url), 120,
                        interval=1)
    assert f"/user/{USER}/" in status, status[:500]
    pid = singleuser_pid(m)
    assert pid, m.sh("ps -ef", check=False).stdout
    server_caps, uid = caps(m, pid)
    assert uid == m.sh(f"id -u {USER}").stdout.strip()
    for k in ("CapEff", "CapPrm", "CapInh", "CapAmb"):
        assert server_caps[k] == 0, f"the user's server has {k}={server_caps[k]:x}"
    proxy_pid = int(m.sh("pgrep -u ganymede -f configurable-http-proxy").stdout.split()[0])
    proxy_caps, _ = caps(m, proxy_pid)
    assert not proxy_caps["CapEff"] >> CAP_SETUID & 1 and not proxy_caps["CapAmb"] >> CAP_SETUID & 1, \
        f"the proxy can switch users: {proxy_caps}"
    assert proxy_caps["CapAmb"] >> CAP_NET_BIND_SERVICE & 1, proxy_caps

    # Upgrade with the server running: the hub restarts, the server and proxy run on.
    new, version = next_version(DEB, tmp_path)
    shutil.copy(new, m.root / "root/ganymede_upgrade.deb")
    r = m.sh("apt-get install -y /root/ganymede_upgrade.deb", check=False,
             timeout=300)
    assert r.returncode == 0, f"the upgrade failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    assert m.sh("dpkg-query -W -f '${Version}' ganymede").stdout == version
    assert m.sh("systemctl is-active ganymede", check=False).stdout.strip() == "active", \
        m.journal()
    assert main_pid(m) != hub_pid, "the upgrade did not restart the hub"
    assert singleuser_pid(m) == pid, "the server did not survive the upgrade"
    assert int(m.sh("pgrep -u ganymede -f configurable-http-proxy").stdout.split()[0]) == proxy_pid
    assert wait_until("alice's server after the upgrade", lambda: server_status(s, url), 60)
    r = s.get(url + f"/hub/api/users/{USER}", timeout=10)
    assert r.status_code == 200 and r.json()["servers"][""]["ready"], r.text[:500]

    # Remove: the hub, its servers and the proxy stop; the configuration stays.
    r = m.sh("apt-get remove -y ganymede", check=False, timeout=300)
    assert r.returncode == 0, f"apt remove failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    assert m.sh("systemctl is-active ganymede", check=False).stdout.strip() != "active"
    wait_until("the user's server to stop after removal", lambda: singleuser_pid(m) is None, 30)
    wait_until("the proxy to stop after removal", lambda: m.sh(
        "pgrep -u ganymede -f configurable-http-proxy", check=False).returncode == 1, 30)
    assert m.sh("test ! -e /usr/bin/ganymede && test -f /etc/ganymede/jupyterhub_config.py "
                "&& test -f /var/lib/ganymede/jupyterhub.sqlite", check=False).returncode == 0
    m.sh("apt-get purge -y ganymede", timeout=300)
    assert m.sh("test ! -e /etc/ganymede && test ! -e /var/lib/ganymede",
                check=False).returncode == 0
