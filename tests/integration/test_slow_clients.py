"""Slow clients: a request line and headers sent a byte at a time (slowloris) are cut after
Ganymede.header_timeout, however steadily they come, while the hub answers everyone else; many
idle connections do not stop it either."""
import socket
import time

import requests

from spawn_helpers import wait_for


def trickle(hub, head, every=0.3, limit=30.0):
    """Send @head one byte at a time every @every seconds, then headers forever, until the hub
    closes the connection; returns the seconds it took (None if it never did within @limit)."""
    s = socket.create_connection(("127.0.0.1", hub.port), timeout=5)
    start = time.monotonic()
    data = head + b"".join(b"X-Slow-%d: y\r\n" % i for i in range(10000))
    try:
        for i in range(len(data)):
            if time.monotonic() - start > limit:
                return None
            try:
                s.sendall(data[i:i + 1])
            except OSError:
                return time.monotonic() - start
            s.settimeout(every)
            try:
                if s.recv(1024) == b"":
                    return time.monotonic() - start
            except socket.timeout:
                pass
            except OSError:
                return time.monotonic() - start
        return None
    finally:
        s.close()


def answers_quickly(hub):
    t = time.monotonic()
    r = requests.get(hub.url + "/hub/health", timeout=5)
    return r.status_code == 200 and time.monotonic() - t < 3


def test_headers_sent_slowly_are_cut_and_others_are_served(hub_factory):
    h = hub_factory(args=["--Ganymede.header_timeout=2"])
    took = trickle(h, b"GET /hub/health HTTP/1.1\r\nHost: x\r\n")
    assert took is not None and 1.5 < took < 15, took
    assert answers_quickly(h)
    # The request line itself, sent slowly, is cut the same way.
    took = trickle(h, b"GET /hub/api/users/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n")
    assert took is not None and 1.5 < took < 15, took
    wait_for(lambda: "did not send a request's headers within 2 s" in h.log(), 10,
             what="the log line")

def test_many_idle_connections_neither_block_nor_stay(hub_factory):
    h = hub_factory(args=["--Ganymede.header_timeout=2"])
    socks = [socket.create_connection(("127.0.0.1", h.port), timeout=5) for _ in range(300)]
    try:
        assert answers_quickly(h)
        # Each is cut once its deadline passes (it sent nothing at all).
        def all_closed():
            closed = 0
            for s in socks:
                s.settimeout(0.01)
                try:
                    closed += s.recv(1) == b""
                except socket.timeout:
                    pass
                except OSError:
                    closed += 1
            return closed == len(socks)
        wait_for(all_closed, 20, interval=0.2, what="the idle connections closed")
        assert answers_quickly(h)
    finally:
        for s in socks:
            s.close()


def test_no_header_timeout_leaves_slow_clients_alone(hub_factory):
    h = hub_factory(args=["--Ganymede.header_timeout=0"])
    s = socket.create_connection(("127.0.0.1", h.port), timeout=5)
    try:
        for b in b"GET /hub/health HTTP/1.1\r\nHost: x\r\n\r\n":  # about 4 s
            s.sendall(bytes([b]))
            time.sleep(0.1)
        assert s.recv(1024).startswith(b"HTTP/1.1 200")
    finally:
        s.close()


def test_the_docs_example(hub_factory):
    import re
    from pathlib import Path
    text = (Path(__file__).resolve().parents[2] / "docs" / "reliability.md").read_text()
    example = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    assert "c.Ganymede.header_timeout = 30" in example
    h = hub_factory(config=example, config_name="jupyterhub_config.py")
    assert answers_quickly(h)
    assert "is not a" not in h.log() and "unknown" not in h.log().lower()
