"""Starting, stopping and restarting: signals, in-flight requests, pid file, restarting on the
same database and cookie secret."""
import os
import signal
import socket
import stat
import threading
import time

import requests

from spawn_helpers import wait_for


def test_sigterm_and_sigint_exit_cleanly(hub_factory, tmp_path):
    h = hub_factory()
    h.stop()  # SIGTERM → exit 0, checked by stop()
    assert "Ganymede stopped" in h.log()
    h = hub_factory(state_dir=tmp_path / "b")
    h.signal(signal.SIGINT)
    assert h.wait() == 0


def test_sigterm_with_requests_in_flight(hub_factory):
    h = hub_factory()
    # A client in the middle of sending its request, and a stream of complete requests.
    slow = socket.create_connection(("127.0.0.1", h.port))
    slow.sendall(b"POST /hub/api/users HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    results = []
    stop = threading.Event()

    def hammer():
        with requests.Session() as s:
            while not stop.is_set():
                try:
                    results.append(s.get(h.url + "/hub/api/", timeout=5).status_code)
                except requests.RequestException:
                    results.append("refused")
                    time.sleep(0.01)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    # SIGTERM once the stream is well under way (not after a fixed time, which a busy machine
    # may spend before the first answer).
    wait_for(lambda: results.count(200) > 10, 60, interval=0.01, what="answers before SIGTERM")
    h.signal(signal.SIGTERM)
    code = h.wait(timeout=30)
    stop.set()
    for t in threads:
        t.join()
    slow.close()
    assert code == 0, h.log()
    # Every answer was a success or a refused connection, never an error from the hub.
    assert results and all(r in (200, "refused") for r in results), set(results)
    assert results.count(200) > 10
    h.stop()  # checks the sanitizers


def test_restart_on_same_state(hub_factory, tmp_path):
    h = hub_factory()
    assert "Created the database" in h.log()
    secret = (tmp_path / "jupyterhub_cookie_secret").read_text()
    mode = stat.S_IMODE(os.stat(tmp_path / "jupyterhub_cookie_secret").st_mode)
    assert mode == 0o600
    assert len(secret.strip()) == 64
    h.stop()
    h2 = hub_factory()
    assert "Created the database" not in h2.log()
    assert "Loading cookie_secret from jupyterhub_cookie_secret" in h2.log()
    assert (tmp_path / "jupyterhub_cookie_secret").read_text() == secret
    assert h2.get("/hub/api/").status_code == 200


def test_pid_file(hub_factory, tmp_path):
    h = hub_factory(args=["--pid-file=hub.pid"])
    assert (tmp_path / "hub.pid").read_text().strip() == str(h.proc.pid)
    h.stop()
    assert not (tmp_path / "hub.pid").exists()


def test_cookie_secret_sources(hub_factory, tmp_path):
    # Too open: refused, as JupyterHub does.
    d = tmp_path / "open"
    d.mkdir()
    (d / "jupyterhub_cookie_secret").write_text("ab" * 32 + "\n")
    os.chmod(d / "jupyterhub_cookie_secret", 0o644)
    h = hub_factory(state_dir=d, start=False)
    h.start(wait=False)
    assert h.wait() == 1
    assert "can be read or written by anybody" in h.log()
    assert "ab" * 32 not in h.log()
    # From the environment: nothing is written.
    d = tmp_path / "env"
    h = hub_factory(state_dir=d, env={"JPY_COOKIE_SECRET": "cd" * 32})
    assert "Loading cookie_secret from env[JPY_COOKIE_SECRET]" in h.log()
    assert not (d / "jupyterhub_cookie_secret").exists()
    h.stop()
    d = tmp_path / "badenv"
    h = hub_factory(state_dir=d, env={"JPY_COOKIE_SECRET": "not-hex"}, start=False)
    h.start(wait=False)
    assert h.wait() == 1
    assert "JPY_COOKIE_SECRET is not a hex-encoded secret" in h.log()


def test_port_in_use_is_a_clear_error(hub_factory, tmp_path):
    h = hub_factory()
    other = hub_factory(state_dir=tmp_path / "other", start=False,
                        args=[f"--JupyterHub.hub_bind_url=http://127.0.0.1:{h.port}"])
    other.start(wait=False)
    assert other.wait() == 1
    assert f"cannot listen on 127.0.0.1:{h.port}: Address already in use" in other.log()
