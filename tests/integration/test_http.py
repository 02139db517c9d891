"""HTTP basics: the API root, health probes, JupyterHub's headers, JSON errors, OPTIONS, caps
on bodies, URLs and headers, the access log, redirects."""
import re
import socket
import time

import requests

from conftest import ADMIN_TOKEN
from spawn_helpers import wait_for


def raw(hub, data, timeout=10):
    """Send raw bytes and return everything the hub answers before closing or timing out."""
    s = socket.create_connection(("127.0.0.1", hub.port), timeout=timeout)
    s.sendall(data)
    chunks = []
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
            if b"\r\n\r\n" in b"".join(chunks) and b"Content-Length: 0" in b"".join(chunks):
                break
    except socket.timeout:
        pass
    s.close()
    return b"".join(chunks)


def test_api_root(hub):
    for path in ("/hub/api/", "/hub/api"):
        r = hub.get(path)
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "application/json"
        body = r.json()
        assert body["version"] == "5.5.1"
        assert re.match(r"\d+\.\d+\.\d+", body["ganymede"])
        assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_health(hub):
    for path in ("/hub/health", "/hub/api/health"):
        assert hub.get(path).status_code == 200
        r = hub.request("HEAD", path)
        assert r.status_code == 200 and r.content == b""


def test_version_header_on_every_response(hub):
    for method, path in [("GET", "/hub/api/"), ("GET", "/hub/api/nope"), ("GET", "/"),
                         ("GET", "/hub/nope"), ("OPTIONS", "/hub/api/users"),
                         ("DELETE", "/hub/health")]:
        r = hub.request(method, path)
        assert r.headers.get("X-JupyterHub-Version") == "5.5.1", (method, path)
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


def test_unknown_api_path_is_json_404(hub):
    for method in ("GET", "POST", "DELETE", "PATCH"):
        r = hub.request(method, "/hub/api/no/such/thing")
        assert r.status_code == 404
        assert r.json() == {"status": 404, "message": "Not Found"}
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]


def test_unknown_page_is_html_404(hub):
    r = hub.get("/hub/no-such-page")
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("text/html")
    assert "404" in r.text


def test_options_on_api_paths(hub):
    for path in ("/hub/api/users", "/hub/api/", "/hub/api/users/alice/server"):
        r = hub.request("OPTIONS", path)
        assert r.status_code == 200 and r.content == b""
        assert "authorization" in r.headers["Access-Control-Allow-Headers"]


def test_method_not_allowed(hub):
    r = hub.request("DELETE", "/hub/health")
    assert r.status_code == 405
    assert "GET" in r.headers["Allow"]
    # A known API path with a method it does not take: 405, Allow and JupyterHub's JSON error
    # (the API's catch-all 404 is only for paths the API does not have).
    for method, path, allow in [("PUT", "/hub/api/users", {"GET", "POST"}),
                                ("PATCH", "/hub/api/", {"GET"}),
                                ("PUT", "/hub/api/users/alice", {"GET", "POST", "PATCH", "DELETE"}),
                                ("GET", "/hub/api/users/alice/activity", {"POST"}),
                                ("PATCH", "/hub/api/groups/g/properties", {"PUT"}),
                                ("DELETE", "/hub/api/shutdown", {"POST"})]:
        r = hub.request(method, path)
        assert r.status_code == 405, (method, path, r.status_code)
        assert set(m.strip() for m in r.headers["Allow"].split(",")) >= allow, r.headers["Allow"]
        assert r.json() == {"status": 405, "message": f"Method {method} is not allowed here"}
    # Unknown paths stay 404 whatever the method.
    for method in ("GET", "PUT", "PATCH", "DELETE", "POST"):
        r = hub.request(method, "/hub/api/nothing/here")
        assert r.status_code == 404 and r.json()["status"] == 404
    # Pages too: a form page that takes no PUT.
    r = hub.request("PUT", "/hub/login")
    assert r.status_code == 405 and "POST" in r.headers["Allow"]


def test_prefix_redirects(hub):
    r = hub.get("/some/where?x=1")
    assert r.status_code == 302 and r.headers["Location"] == "/hub/some/where?x=1"
    r = hub.get("/user/alice")
    assert r.headers["Location"] == "/hub/user/alice/"
    r = hub.get("/hub")
    assert r.headers["Location"] == "/hub/"


def test_huge_body_refused_without_reading(hub):
    # Content-Length far beyond the cap (past what the hub reads and drops, 128 MiB): the answer
    # comes before any body byte is sent.
    head = (b"POST /hub/api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1073741824\r\n\r\n")
    out = raw(hub, head, timeout=5)
    assert out.startswith(b"HTTP/1.1 413"), out[:200]
    assert b'"status":413' in out
    # A chunked body that grows past the cap is cut off with 413 too.
    s = socket.create_connection(("127.0.0.1", hub.port), timeout=10)
    s.sendall(b"POST /hub/api/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * 65536
    got = b""
    try:
        for _ in range(400):  # up to 25 MiB, well past the 10 MiB default
            s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        got = s.recv(4096)
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    assert got == b"" or got.startswith(b"HTTP/1.1 413"), got[:200]
    assert hub.get("/hub/health").status_code == 200  # and the hub carries on


BODY_ROUTES = [  # every route that takes a body: (method, path)
    ("POST", "/hub/api/users"), ("POST", "/hub/api/users/admin"),
    ("PATCH", "/hub/api/users/admin"), ("POST", "/hub/api/users/admin/activity"),
    ("POST", "/hub/api/users/admin/server"), ("POST", "/hub/api/users/admin/servers/x"),
    ("DELETE", "/hub/api/users/admin/server"), ("POST", "/hub/api/users/admin/tokens"),
    ("POST", "/hub/api/groups"), ("POST", "/hub/api/groups/g"),
    ("POST", "/hub/api/groups/g/users"), ("DELETE", "/hub/api/groups/g/users"),
    ("PUT", "/hub/api/groups/g/properties"), ("POST", "/hub/api/proxy"),
    ("PATCH", "/hub/api/proxy"), ("POST", "/hub/api/services/s"),
    ("POST", "/hub/api/oauth2/token"), ("POST", "/hub/api/oauth2/authorize"),
    ("POST", "/hub/api/shutdown"), ("POST", "/hub/login"), ("POST", "/hub/spawn"),
    ("POST", "/hub/spawn/admin/x"),
]


def test_oversized_bodies_get_413_through_the_proxy(hub_factory):
    # A client behind configurable-http-proxy must see the 413 (JupyterHub's JSON error on the
    # API, a page for the browser), not the proxy's 503 for a backend that hung up mid-upload.
    h = hub_factory(config={"JupyterHub": {"api_tokens": {ADMIN_TOKEN: "admin"}},
                            "Authenticator": {"admin_users": ["admin"]}})
    auth = {"Authorization": f"token {ADMIN_TOKEN}"}
    users_before = requests.get(h.public_url + "/hub/api/users", headers=auth, timeout=30).json()
    big = b"\x00garbage\xff" * (20 * 1024 * 1024 // 10)  # 20 MB, past the 10 MiB default
    as_json = ('{"last_activity": "' + "9" * (20 * 1024 * 1024) + '"}').encode()
    cases = [("POST", "/hub/api/users", big, None),
             ("PATCH", "/hub/api/users/admin", as_json, "application/json"),
             ("POST", "/hub/api/users/admin/activity", as_json, "application/json"),
             ("POST", "/hub/login", big, "application/x-www-form-urlencoded")]
    for method, path, body, ctype in cases:
        headers = dict(auth, **({"Content-Type": ctype} if ctype else {}))
        r = requests.request(method, h.public_url + path, data=body, headers=headers, timeout=60)
        assert r.status_code == 413, (method, path, r.status_code, r.text[:300])
        if "/api/" in path:
            assert r.json()["status"] == 413
            assert "larger than the hub accepts" in r.json()["message"]
        else:
            assert "text/html" in r.headers["Content-Type"]
            assert "larger than the hub accepts" in r.text
    # Also sent in chunks, with no length announced.
    r = requests.post(h.public_url + "/hub/api/users", data=iter([big[:1 << 20]] * 20),
                      headers=auth, timeout=60)
    assert r.status_code == 413 and r.json()["status"] == 413
    # Nothing was applied, and the hub and the proxy carry on.
    r = requests.get(h.public_url + "/hub/api/users", headers=auth, timeout=30)
    assert r.status_code == 200 and r.json() == users_before


def test_every_body_route_refuses_an_oversized_body(hub_factory):
    h = hub_factory(config={"JupyterHub": {"api_tokens": {ADMIN_TOKEN: "admin"}},
                            "Authenticator": {"admin_users": ["admin"]}},
                    args=["--Ganymede.max_body_size=100000"])
    body = b"x" * 300000
    for method, path in BODY_ROUTES:
        r = requests.request(method, h.public_url + path, data=body, timeout=60,
                             headers={"Authorization": f"token {ADMIN_TOKEN}"})
        assert r.status_code == 413, (method, path, r.status_code, r.text[:300])
    assert requests.get(h.public_url + "/hub/api/users", timeout=30,
                        headers={"Authorization": f"token {ADMIN_TOKEN}"}).status_code == 200


def test_body_cap_is_configurable(hub_factory):
    h = hub_factory(args=["--Ganymede.max_body_size=100"])
    r = h.request("POST", "/hub/api/users", data=b"x" * 101)
    assert r.status_code == 413
    assert r.json()["message"].startswith("The request body is larger than the hub accepts")


def test_url_too_long(hub):
    r = hub.get("/hub/api/" + "a" * 9000)
    assert r.status_code == 414
    assert r.json()["status"] == 414


def test_header_too_large_and_garbage(hub):
    out = raw(hub, b"GET /hub/api/ HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 4"), out[:100]
    out = raw(hub, b"\x00\x01garbage\r\n\r\n", timeout=3)
    assert out == b"" or out.startswith(b"HTTP/1.1 400"), out[:100]
    out = raw(hub, b"GET /hub/api/ HTTP/1.1\r\n" + b"Host: x\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200")
    assert hub.get("/hub/health").status_code == 200


def test_bad_percent_encoding(hub):
    out = raw(hub, b"GET /hub/api/users/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400") or out.startswith(b"HTTP/1.1 404"), out[:100]


def test_access_log_line_and_secret_masking(hub):
    hub.get("/hub/api/?token=supersecret&other=1&_xsrf=abc")
    hub.get("/hub/api/missing")
    # The access-log line is written when the hub completes the request, which can come after
    # the client has read its answer: wait (bounded) for the second request's line.
    wait_for(lambda: "/hub/api/missing" in hub.log(), 30, interval=0.02,
             what="the access-log line of the second request")
    log = hub.log()
    assert re.search(r"\[I \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} ganymede server:\d+\] 200 GET "
                     r"/hub/api/\?token=\[secret\]&other=1&_xsrf=\[secret\] \(@127\.0\.0\.1\) "
                     r"\d+\.\d\dms", log), log
    assert re.search(r"\[W .*\] 404 GET /hub/api/missing \(@127\.0\.0\.1\)", log)
    assert "supersecret" not in log
    # Health probes log at debug level only.
    assert "GET /hub/health" not in log.split("Ganymede is listening", 1)[1]


def test_keep_alive_many_requests(hub):
    with requests.Session() as s:
        for _ in range(200):
            assert s.get(hub.url + "/hub/api/", timeout=5).status_code == 200
