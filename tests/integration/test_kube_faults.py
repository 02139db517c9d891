"""The Kubernetes spawner when the API server misbehaves: a small fault-injecting HTTP proxy
(FaultProxy, below) sits between the hub (KubeSpawner.k8s_api_host = the proxy, no
credentials) and the simulator's plain-HTTP port, adds the simulator's bearer token itself, and
can be switched at run time to refuse connections (the API is down), accept and never answer
(slow), answer 500 / 429 to chosen requests, answer a watch with an ERROR 410 event, or cut
every watch after a few seconds. Each test checks what the hub does then: a clear message, the
retries of kube_api.c, the list-and-watch recovery of kube_watch.c, no pod left behind.

Every wait is bounded; no test sleeps for an outcome. The proxy's threads are daemons and end
with the test (FaultProxy.close)."""
import json
import re
import select
import socket
import threading
import time
import urllib.parse

import pytest

from conftest import Api, free_port
from spawn_helpers import progress_events, server_model, start, wait_for, wait_stopped
from test_kube_spawner import kube, kube_config, new_user, ns  # noqa: F401,F811 (fixtures)

WAIT = 60  # seconds: the bound of every wait for an outcome


def status_body(code, reason, message):
    return json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {},
                       "status": "Failure", "message": message, "reason": reason,
                       "code": code}).encode()


class Rule:
    """A fault for the requests that match @method and @path (a regex searched in the path
    with its query), @count times (None: until removed). @action: "status" (answer @status
    with a Status body, and Retry-After: @retry_after if set), "hang" (read the request, never
    answer), "gone" (a watch answered 200 with one ERROR 410 event) or "down-after" (forward
    it, then refuse every connection: the API goes away right after this request)."""

    def __init__(self, action, method=None, path=None, count=None, status=500,
                 retry_after=None):
        self.action, self.method, self.path = action, method, path
        self.count, self.status, self.retry_after = count, status, retry_after
        self.hits = 0

    def matches(self, method, target):
        if self.count is not None and self.hits >= self.count:
            return False
        if self.method and self.method != method:
            return False
        return not self.path or re.search(self.path, target)


class FaultProxy:
    """HTTP/1.1 between the hub and the simulator, one request per connection (the answer says
    Connection: close), bodies forwarded as they come (watches are chunked streams)."""

    def __init__(self, upstream_url, token):
        u = urllib.parse.urlsplit(upstream_url)
        self.upstream = (u.hostname, u.port)
        self.token = token
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.rules = []
        self.seen = []  # (monotonic time, method, target) of each request read
        self.cut_watches_after = None  # seconds: a watch is cut this long after it started
        self.want_up = True
        self.listening = threading.Event()
        self.closed_ev = threading.Event()
        self.stopping = threading.Event()
        self.socks = set()
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()
        assert self.listening.wait(10), "the fault proxy did not start listening"

    # Switches.
    def add(self, rule):
        with self.lock:
            self.rules.append(rule)
        return rule

    def clear(self):
        with self.lock:
            self.rules.clear()
            self.cut_watches_after = None

    def down(self):
        """Refuse connections from now on, and drop the open ones (watches included)."""
        self.want_up = False
        assert self.closed_ev.wait(10), "the fault proxy did not stop listening"
        self._drop_all()

    def up(self):
        self.want_up = True
        assert self.listening.wait(10), "the fault proxy did not listen again"

    def close(self):
        self.stopping.set()
        self.want_up = False
        self._drop_all()
        self.thread.join(10)

    # What the hub asked.
    def requests(self, method=None, path=None):
        with self.lock:
            seen = list(self.seen)
        return [s for s in seen if (not method or s[1] == method) and
                (not path or re.search(path, s[2]))]

    def lists(self):
        """The LIST calls: GETs of a collection without watch."""
        out = []
        for _, method, target in self.requests("GET"):
            p, _, q = target.partition("?")
            params = urllib.parse.parse_qs(q)
            if params.get("watch", [""])[0] in ("1", "true"):
                continue
            if re.fullmatch(r"/api/v1/(namespaces/[^/]+/)?[a-z]+", p) and \
                    p != "/api/v1/namespaces":
                out.append(target)
        return out

    # Inside.
    def _drop_all(self):
        with self.lock:
            socks, self.socks = list(self.socks), set()
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _track(self, s):
        with self.lock:
            self.socks.add(s)

    def _accept_loop(self):
        listener = None
        while not self.stopping.is_set():
            if self.want_up and listener is None:
                listener = socket.socket()
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                listener.bind(("127.0.0.1", self.port))
                listener.listen(64)
                listener.settimeout(0.05)
                self.closed_ev.clear()
                self.listening.set()
            elif not self.want_up and listener is not None:
                listener.close()
                listener = None
                self.listening.clear()
                self.closed_ev.set()
            if listener is None:
                self.closed_ev.set()
                time.sleep(0.05)
                continue
            try:
                c, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                continue
            if not self.want_up:  # went down between the check and the accept
                c.close()
                continue
            self._track(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()
        if listener is not None:
            listener.close()

    def _read_request(self, c):
        c.settimeout(30)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = c.recv(65536)
            if not chunk:
                return None
            data += chunk
            if len(data) > 1 << 20:
                return None
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = [tuple(x.strip() for x in line.split(":", 1))
                   for line in lines[1:] if ":" in line]
        length = 0
        for k, v in headers:
            if k.lower() == "content-length":
                length = int(v)
        while len(body) < length:
            chunk = c.recv(65536)
            if not chunk:
                return None
            body += chunk
        return lines[0], headers, body

    def _serve(self, c):
        try:
            req = self._read_request(c)
            if req is None:
                return
            first, headers, body = req
            method, target, _ = first.split(" ", 2)
            with self.lock:
                self.seen.append((time.monotonic(), method, target))
                rule = next((r for r in self.rules if r.matches(method, target)), None)
                if rule:
                    rule.hits += 1
            watch = re.search(r"[?&]watch=(1|true)\b", target) is not None
            if rule is None or rule.action == "down-after":
                self._forward(c, method, target, headers, body, watch)
                if rule is not None:
                    self.want_up = False  # the accept loop stops listening
                    self.closed_ev.wait(10)
                    self._drop_all()
            elif rule.action == "status":
                payload = status_body(rule.status, "TooManyRequests" if rule.status == 429
                                      else "InternalError", f"injected fault: HTTP {rule.status}")
                extra = "" if rule.retry_after is None else \
                    f"Retry-After: {rule.retry_after}\r\n"
                c.sendall((f"HTTP/1.1 {rule.status} Injected\r\nContent-Type: application/json\r\n"
                           f"{extra}Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
                           ).encode() + payload)
            elif rule.action == "hang":
                deadline = time.monotonic() + 120
                c.settimeout(0.2)
                while time.monotonic() < deadline and not self.stopping.is_set():
                    try:
                        if not c.recv(4096):
                            break  # the client gave up
                    except socket.timeout:
                        continue
            elif rule.action == "gone":
                line = json.dumps({"type": "ERROR", "object": json.loads(status_body(
                    410, "Expired", "too old resource version: 1 (999999)"))}).encode() + b"\n"
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
                          b"%x\r\n%s\r\n0\r\n\r\n" % (len(line), line))
        except OSError:
            pass
        finally:
            with self.lock:
                self.socks.discard(c)
            c.close()

    def _forward(self, c, method, target, headers, body, watch):
        up = socket.create_connection(self.upstream, timeout=30)
        self._track(up)
        try:
            keep = [(k, v) for k, v in headers
                    if k.lower() not in ("authorization", "connection", "keep-alive")]
            keep += [("Authorization", f"Bearer {self.token}"), ("Connection", "close")]
            up.sendall((f"{method} {target} HTTP/1.1\r\n" +
                        "".join(f"{k}: {v}\r\n" for k, v in keep) + "\r\n").encode("latin-1") +
                       body)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = up.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            lines = [line for line in head.split(b"\r\n")
                     if not line.lower().startswith((b"connection:", b"keep-alive:"))]
            c.sendall(b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n" + rest)
            started = time.monotonic()
            while not self.stopping.is_set():
                cut = self.cut_watches_after if watch else None  # read each time: a switch
                left = started + (cut if cut is not None else 3600) - time.monotonic()
                if left <= 0:
                    return  # a watch that drops: both sides closed in the middle of the stream
                ready, _, _ = select.select([up], [], [], min(left, 0.5))
                if not ready:
                    continue
                chunk = up.recv(65536)
                if not chunk:
                    return
                c.sendall(chunk)
        finally:
            with self.lock:
                self.socks.discard(up)
            up.close()


@pytest.fixture
def proxy(kube):
    p = FaultProxy(kube.url, kube.token)
    yield p
    p.close()


def faults_hub(hub_factory, tmp_path, proxy, ns, spawner=None, kubespawner=None, **kw):
    """A hub whose Kubernetes spawner talks to @proxy without credentials: not in a cluster
    and no kubeconfig (KUBECONFIG names a file that does not exist), only k8s_api_host."""
    ks = {"k8s_api_host": proxy.url, "k8s_api_request_timeout": 3,
          "k8s_api_request_retry_timeout": 10}
    ks.update(kubespawner or {})
    cfg = kube_config(ns, spawner=spawner, kubespawner=ks)
    env = {"KUBERNETES_SERVICE_HOST": "", "KUBERNETES_SERVICE_PORT": "",
           "KUBECONFIG": str(tmp_path / "no-kubeconfig")}
    return hub_factory(config=cfg, env=env, **kw)


def wait_synced(hub, timeout=WAIT):
    wait_for(lambda: re.search(r"Kubernetes pods cache: \d+ objects", hub.log()), timeout,
             interval=0.2, what="the pods cache's first list")


def spawn_ok(hub, user):
    Api(hub)("POST", f"/users/{user}")
    r = start(hub, user)
    assert r.status_code in (201, 202), r.text
    events = progress_events(hub, user, timeout=90)
    assert events[-1].get("ready") is True, events
    return events


def stop_ok(hub, user):
    assert Api(hub)("DELETE", f"/users/{user}/server").status_code in (202, 204)
    wait_stopped(hub, user, timeout=WAIT)


def failed_start(hub, user):
    """Start @user's server and expect it to fail; returns the failure's message once the
    server is gone. (From the hub's log: a start that fails at once may be over before its
    progress stream can be read.)"""
    r = start(hub, user)
    assert r.status_code in (202, 500), r.text
    pattern = re.compile(rf"Failed to start the server of '{user}': (.*)")
    m = wait_for(lambda: pattern.search(hub.log()), 90, interval=0.2, what="the start's failure")
    wait_stopped(hub, user, timeout=WAIT)
    return m.group(1)


def no_pods_left(kube, ns, timeout=30):
    wait_for(lambda: kube.pods(ns) == [], timeout, interval=0.2,
             what=f"no pod left in {ns}")


def test_api_down_when_the_hub_starts_a_spawn_fails_clearly(kube, ns, proxy, hub_factory,
                                                            tmp_path):
    proxy.down()
    hub = faults_hub(hub_factory, tmp_path, proxy, ns, spawner={"start_timeout": 15},
                     kubespawner={"k8s_api_request_timeout": 2,
                                  "k8s_api_request_retry_timeout": 4})
    # The hub started anyway (the fixture waited for it to answer).
    assert Api(hub)("GET", "/info").status_code == 200
    user = new_user("d")
    Api(hub)("POST", f"/users/{user}")
    t0 = time.monotonic()
    message = failed_start(hub, user)
    took = time.monotonic() - t0
    proxy.up()  # so that the hub's stop at the end is not in the middle of a list's retries
    wait_synced(hub)
    assert took < 15 + 10, f"the start failed only after {took:.0f} s (start_timeout 15)"
    # A clear message that names the API server (not only the hub's generic timeout).
    assert proxy.url in message, message


def test_api_down_when_the_hub_starts_then_back(kube, ns, proxy, hub_factory, tmp_path):
    proxy.down()
    hub = faults_hub(hub_factory, tmp_path, proxy, ns,
                     kubespawner={"k8s_api_request_timeout": 2,
                                  "k8s_api_request_retry_timeout": 4})
    assert Api(hub)("GET", "/info").status_code == 200
    wait_for(lambda: re.search(r"Listing Kubernetes pods failed", hub.log()), WAIT, interval=0.2,
             what="a failed list")
    user = new_user("d")
    Api(hub)("POST", f"/users/{user}")
    r = start(hub, user)  # while the API is down: it waits for the cache
    assert r.status_code in (201, 202), r.text
    proxy.up()
    wait_synced(hub)  # the pods cache's list-and-watch recovered by itself
    events = progress_events(hub, user, timeout=90)
    assert events[-1].get("ready") is True, events
    stop_ok(hub, user)
    user2 = new_user("d")
    spawn_ok(hub, user2)
    stop_ok(hub, user2)
    no_pods_left(kube, ns)


def test_api_down_mid_spawn(kube, ns, proxy, hub_factory, tmp_path):
    hub = faults_hub(hub_factory, tmp_path, proxy, ns)
    wait_synced(hub)
    user = new_user("m")
    Api(hub)("POST", f"/users/{user}")
    # The pod create goes through, then the API is unreachable for a while.
    proxy.add(Rule("down-after", "POST", r"/namespaces/[^/]+/pods(\?|$)", count=1))
    assert start(hub, user).status_code in (201, 202, 500)
    wait_for(lambda: not proxy.want_up, 30, what="the pod create")
    assert wait_for(lambda: kube.pods(ns), 30, what="the pod made")  # it was made
    # Bounded outage, then the API comes back; the start ends one way or the other.
    time.sleep(3)  # the outage's length (not a wait for an outcome)
    proxy.up()
    events = progress_events(hub, user, timeout=90)
    last = events[-1]
    assert last.get("ready") is True or (last.get("failed") and last.get("message")), events
    if last.get("ready"):
        assert Api(hub)("DELETE", f"/users/{user}/server").status_code in (202, 204)
    wait_stopped(hub, user, timeout=WAIT)
    no_pods_left(kube, ns)


def test_api_down_past_start_timeout_leaves_no_pod(kube, ns, proxy, hub_factory, tmp_path):
    """The API goes away after the pod create for longer than start_timeout: the start fails,
    and the pod it made must not outlive the failed start once the API is back."""
    hub = faults_hub(hub_factory, tmp_path, proxy, ns, spawner={"start_timeout": 8},
                     kubespawner={"k8s_api_request_timeout": 2,
                                  "k8s_api_request_retry_timeout": 4})
    wait_synced(hub)
    user = new_user("p")
    Api(hub)("POST", f"/users/{user}")
    proxy.add(Rule("down-after", "POST", r"/namespaces/[^/]+/pods(\?|$)", count=1))
    assert start(hub, user).status_code in (201, 202, 500)
    events = progress_events(hub, user, timeout=90)
    assert events[-1].get("failed") is True, events
    proxy.up()
    wait_stopped(hub, user, timeout=WAIT)
    no_pods_left(kube, ns, timeout=WAIT)


def test_slow_api_fails_in_time(kube, ns, proxy, hub_factory, tmp_path):
    hub = faults_hub(hub_factory, tmp_path, proxy, ns,
                     kubespawner={"k8s_api_request_timeout": 1,
                                  "k8s_api_request_retry_timeout": 3})
    wait_synced(hub)
    user = new_user("s")
    Api(hub)("POST", f"/users/{user}")
    proxy.add(Rule("hang", "POST", r"/pods(\?|$)"))
    t0 = time.monotonic()
    message = failed_start(hub, user)
    took = time.monotonic() - t0
    assert "did not answer in time" in message, message
    assert proxy.url in message, message
    assert took < 3 + 5, f"the start took {took:.1f} s to fail"
    # A create that got no answer may have been done: it is not sent again.
    assert len(proxy.requests("POST", r"/pods(\?|$)")) == 1


def test_slow_api_delete_is_retried_until_the_retry_timeout(kube, ns, proxy, hub_factory,
                                                            tmp_path):
    hub = faults_hub(hub_factory, tmp_path, proxy, ns,
                     kubespawner={"k8s_api_request_timeout": 1,
                                  "k8s_api_request_retry_timeout": 3})
    wait_synced(hub)
    user = new_user("s")
    spawn_ok(hub, user)
    pod_name = f"jupyter-{user}"
    rule = proxy.add(Rule("hang", "DELETE", r"/pods/"))
    t0 = time.monotonic()
    Api(hub)("DELETE", f"/users/{user}/server", timeout=30)
    # The DELETE is idempotent: sent again after each timeout until the retry timeout (3 s),
    # then the stop reports it; JupyterHub drops the server anyway (User.stop), so the pod
    # is left, as with KubeSpawner, and the next start deletes it first.
    wait_stopped(hub, user, timeout=WAIT)
    took = time.monotonic() - t0
    assert 2 <= rule.hits <= 4, rule.hits
    assert 2.5 <= took < 3 + 5, f"the stop took {took:.1f} s"
    wait_for(lambda: re.search(r"did not answer in time while deleting the pod", hub.log()), 10,
             what="the stop's message")
    assert kube.pod(ns, pod_name) is not None
    proxy.clear()
    events = spawn_ok(hub, user)
    assert any("Deleting the previous pod" in e["message"] for e in events), events
    stop_ok(hub, user)
    no_pods_left(kube, ns)


def test_500s_then_success(kube, ns, proxy, hub_factory, tmp_path):
    # The first LIST of pods gets two 500s: retried, and the cache syncs.
    lst = proxy.add(Rule("status", "GET", r"/pods\?(?!.*watch=)", count=2, status=500))
    hub = faults_hub(hub_factory, tmp_path, proxy, ns)
    wait_synced(hub)
    assert lst.hits == 2
    assert "listed again" not in hub.log()
    user = new_user("f")
    spawn_ok(hub, user)
    # The stop's DELETE gets two 500s: retried, the stop succeeds.
    dele = proxy.add(Rule("status", "DELETE", r"/pods/", count=2, status=500))
    stop_ok(hub, user)
    assert dele.hits == 2
    assert len(proxy.requests("DELETE", r"/pods/")) == 3
    no_pods_left(kube, ns)

    # A create that got a 500 is not sent again blindly: the start fails and says why.
    user2 = new_user("f")
    Api(hub)("POST", f"/users/{user2}")
    proxy.add(Rule("status", "POST", r"/pods(\?|$)", count=1, status=500))
    message = failed_start(hub, user2)
    assert "The Kubernetes API refused creating the pod" in message, message
    assert "HTTP 500" in message, message
    assert len(proxy.requests("POST", r"/pods(\?|$)")) == 2  # user's, and user2's one
    no_pods_left(kube, ns)


def test_429_with_retry_after(kube, ns, proxy, hub_factory, tmp_path):
    hub = faults_hub(hub_factory, tmp_path, proxy, ns)
    wait_synced(hub)
    user = new_user("r")
    rule = proxy.add(Rule("status", "POST", r"/pods(\?|$)", count=1, status=429, retry_after=1))
    spawn_ok(hub, user)
    assert rule.hits == 1
    posts = proxy.requests("POST", r"/pods(\?|$)")
    assert len(posts) == 2, posts
    assert posts[1][0] - posts[0][0] >= 0.9, "Retry-After: 1 was not waited for"
    dele = proxy.add(Rule("status", "DELETE", r"/pods/", count=1, status=429, retry_after=1))
    stop_ok(hub, user)
    assert dele.hits == 1 and len(proxy.requests("DELETE", r"/pods/")) == 2
    no_pods_left(kube, ns)


def test_410_gone_lists_again_and_notices_a_deleted_pod(kube, ns, proxy, hub_factory,
                                                        tmp_path):
    hub = faults_hub(hub_factory, tmp_path, proxy, ns, spawner={"poll_interval": 1})
    wait_synced(hub)
    user = new_user("g")
    spawn_ok(hub, user)
    pod_name = f"jupyter-{user}"
    # The API goes away; meanwhile the pod is deleted behind the hub's back.
    proxy.down()
    status, body = kube.call("DELETE", f"/api/v1/namespaces/{ns}/pods/{pod_name}",
                             gracePeriodSeconds=0)
    assert status == 200, body
    wait_for(lambda: kube.pod(ns, pod_name) is None, 30, what="the pod gone")
    # While the API is unreachable the server is not dropped (the hub cannot know).
    assert server_model(hub, user) is not None
    # It comes back, but the watch's resourceVersion is too old: 410 → list again.
    gone = proxy.add(Rule("gone", "GET", r"/pods\?.*watch=1", count=1))
    proxy.up()
    wait_for(lambda: "listed again" in hub.log(), WAIT, interval=0.2, what="a relist")
    assert gone.hits == 1
    # The relist told the hub the pod went: it drops the server (poll_interval 1).
    wait_stopped(hub, user, timeout=WAIT)
    # And keeps working.
    user2 = new_user("g")
    spawn_ok(hub, user2)
    stop_ok(hub, user2)
    no_pods_left(kube, ns)


def test_watches_that_drop_do_not_make_the_hub_list(kube, ns, proxy, hub_factory, tmp_path):
    hub = faults_hub(hub_factory, tmp_path, proxy, ns, spawner={"poll_interval": 1})
    wait_synced(hub)
    wait_for(lambda: re.search(r"Kubernetes events cache: \d+ objects", hub.log()), WAIT,
             interval=0.2, what="the events cache's first list")
    lists_before = proxy.lists()
    assert len(lists_before) == 2, lists_before  # one per cache: pods and events
    proxy.cut_watches_after = 2
    t0 = time.monotonic()
    watches0 = len(proxy.requests("GET", r"watch=1"))
    n = 0
    while time.monotonic() - t0 < 20:
        user = new_user("w")
        spawn_ok(hub, user)
        stop_ok(hub, user)
        n += 1
    proxy.clear()
    assert n >= 1
    # The watches were cut and resumed (several times each)...
    assert len(proxy.requests("GET", r"watch=1")) - watches0 >= 6
    # ... from their resourceVersion: never a new LIST (kubespawner#753).
    assert proxy.lists() == lists_before, proxy.lists()
    assert "listed again" not in hub.log()
    no_pods_left(kube, ns)
