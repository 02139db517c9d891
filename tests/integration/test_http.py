"""HTTP basics: the API root, health probes, JupyterHub's headers, JSON errors, OPTIONS, caps
on bodies, URLs and headers, the access log, redirects."""
import re
import socket
import time

import requests


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


def test_prefix_redirects(hub):
    r = hub.get("/some/where?x=1")
    assert r.status_code == 302 and r.headers["Location"] == "/hub/some/where?x=1"
    r = hub.get("/user/alice")
    assert r.headers["Location"] == "/hub/user/alice/"
    r = hub.get("/hub")
    assert r.headers["Location"] == "/hub/"


def test_oversized_body_refused_without_reading(hub):
    # Content-Length beyond the cap: the answer comes before any body byte is sent.
    head = (b"POST /hub/api/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 104857600\r\n\r\n")
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
    time.sleep(0.1)
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
