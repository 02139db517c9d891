"""LTI 1.3 launches (authenticator_class "lti13") from the real LTI platform of
../shared/recipes/start-lti-platform.sh (npm jose, RS256, its own keys and JWKS).

The platform's own flow (its course link, the hub's login initiation, its authorization
endpoint, its auto-submitted form_post) needs the hub at the address the platform registered
(127.0.0.1:19000): those tests take that port under a lock, one at a time. They log the user
in with the launch's claims as auth_state, roles to admin and groups, through requests and
through chromium into the notebook.

The bad launches are the hub's login initiation followed by an id_token the test signs itself
with the platform's key (PyJWT, Debian's python3-jwt) and changes one thing in: wrong issuer,
unknown audience, expired, issued in the future, wrong nonce, replayed, payload changed after
signing, alg none, HMAC keyed with the public key, an unknown kid, missing LTI claims, missing
or foreign state cookie, a platform whose JWKS endpoint is down or never answers. Each is a
readable 4xx page, no user is made, the log says why, and the hub answers others meanwhile."""
import base64
import fcntl
import html
import json
import re
import socket
import threading
import time
import urllib.parse
import uuid

import jwt
import pytest
import requests
from jwt.algorithms import RSAAlgorithm

from conftest import ADMIN_TOKEN, RECIPES_STATE, Api, free_port, run_browser
from spawn_helpers import server_model, spawn_config, wait_stopped, with_section
from test_lti11 import PLATFORM_PORT, lti_platform  # noqa: F401
from secrets_seen import remember
from test_login import CRYPT_KEY

ISSUER = f"http://127.0.0.1:{PLATFORM_PORT}"
CLIENT_ID = "hubtest-lti13"
L = "https://purl.imsglobal.org/spec/lti/claim/"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
REGISTERED_PORT = 19000  # the platform's LTI13_LOGIN_URL and redirect_uri point there


def lti13_settings(**more):
    s = {"issuer": ISSUER, "authorize_url": f"{ISSUER}/lti13/auth",
         "jwks_endpoint": f"{ISSUER}/.well-known/jwks.json", "client_id": [CLIENT_ID],
         "admin_roles": ["Instructor"], "role_groups": {INSTRUCTOR: "teachers",
                                                        LEARNER: "students"}}
    s.update(more)
    return s


def lti13_config(spawn=None, **more):
    cfg = spawn or {"JupyterHub": {"api_tokens": {ADMIN_TOKEN: "admin"},
                                   "redirect_to_server": False}}
    cfg = with_section(cfg, "JupyterHub", authenticator_class="lti13")
    cfg = with_section(cfg, "Authenticator", admin_users=["admin"], enable_auth_state=True,
                       manage_groups=True)
    cfg.pop("SharedPasswordAuthenticator", None)
    return with_section(cfg, "LTI13Authenticator", **lti13_settings(**more))


@pytest.fixture
def lti13_hub(hub_factory, lti_platform):  # noqa: F811
    def make(port=None, spawn=None, **more):
        hub = hub_factory(config=lti13_config(spawn, **more),
                          env={"JUPYTERHUB_CRYPT_KEY": CRYPT_KEY}, start=False)
        if port:
            hub.proxy_port = port
            hub.public_url = f"http://127.0.0.1:{port}"
        hub.start()
        hub.api = Api(hub)
        return hub
    return make


@pytest.fixture
def registered_port():
    """The address the platform registered, to one test at a time."""
    RECIPES_STATE.mkdir(parents=True, exist_ok=True)
    with open(RECIPES_STATE / ".ganymede-lti13-port.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield REGISTERED_PORT


def platform_key():
    """The platform's signing key (the recipe keeps it in its state directory)."""
    jwk = json.loads((RECIPES_STATE / "lti-platform" / "keys.json").read_text())["keys"][0]
    return jwk["kid"], RSAAlgorithm.from_jwk(json.dumps(jwk))


def public_pem():
    from cryptography.hazmat.primitives import serialization
    _, key = platform_key()
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def claims_for(user, nonce, **changes):
    now = int(time.time())
    c = {"iss": ISSUER, "sub": user, "aud": CLIENT_ID, "azp": CLIENT_ID, "iat": now,
         "exp": now + 600, "nonce": nonce, "email": f"{user}@example.org",
         L + "message_type": "LtiResourceLinkRequest", L + "version": "1.3.0",
         L + "deployment_id": "1", L + "target_link_uri": "http://127.0.0.1/hub/",
         L + "resource_link": {"id": "link-1"}, L + "roles": [LEARNER],
         L + "context": {"id": "course-1", "label": "HUB101", "title": "Hub testing 101"}}
    for k, v in changes.items():
        k = k.replace("LTI_", L)
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def sign(claims, kid=None, alg="RS256"):
    k, key = platform_key()
    token = jwt.encode(claims, key, algorithm=alg, headers={"kid": kid or k})
    remember(token)
    return token


def b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def login_initiation(hub, session, **params):
    """The hub's login initiation, as the platform starts it: (the redirect's query, the
    response)."""
    q = {"iss": ISSUER, "login_hint": "x", "target_link_uri": hub.public_url + "/hub/",
         "client_id": CLIENT_ID, "lti_message_hint": "m-1"}
    q.update({k: v for k, v in params.items() if v is not None})
    for k in [k for k, v in params.items() if v is None]:
        q.pop(k, None)
    r = session.get(hub.url + "/hub/lti13/oauth_login", params=q, allow_redirects=False,
                    timeout=10)
    if r.status_code != 302:
        return None, r
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).query)), r


def post_launch(hub, session, id_token, state):
    return session.post(hub.url + "/hub/lti13/oauth_callback",
                        data={"id_token": id_token, "state": state}, allow_redirects=False,
                        timeout=30)


def page_text(r):
    return html.unescape(re.sub(r"<[^>]+>", " ", r.text))


def user_exists(hub, name):
    return hub.api("GET", f"/users/{name}").status_code == 200


# The platform's own flow.

def follow_platform(hub, session, user):
    """The platform's course link for @user, followed as a browser would without scripts:
    the redirects, then the auto-submitted form_post. The hub's answer to it."""
    r = session.get(f"{ISSUER}/lti13/start", params={"user": user}, allow_redirects=False,
                    timeout=10)
    assert r.status_code == 302, r.text
    login = r.headers["Location"]
    assert login.startswith(hub.public_url + "/hub/lti13/oauth_login?"), login
    r = session.get(login, allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    auth = r.headers["Location"]
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(auth).query))
    assert {k: q[k] for k in ("scope", "response_type", "response_mode", "prompt", "client_id",
                              "redirect_uri")} == {
        "scope": "openid", "response_type": "id_token", "response_mode": "form_post",
        "prompt": "none", "client_id": CLIENT_ID,
        "redirect_uri": hub.public_url + "/hub/lti13/oauth_callback"}, q
    # The nonce is SHA-256 of what the cookie keeps (OpenID Connect Core 15.5.2).
    assert re.fullmatch(r"[0-9a-f]{32}", q["state"]) and re.fullmatch(r"[0-9a-f]{64}", q["nonce"])
    assert q["lti_message_hint"] and q["login_hint"] == user
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith(f"lti13-state-{q['state']}="), cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie  # http: Lax, not None
    page = session.get(auth, allow_redirects=False, timeout=10)
    assert page.status_code == 200, page.text
    action = html.unescape(re.search(r'action="([^"]+)"', page.text).group(1))
    fields = {m.group(1): html.unescape(m.group(2)) for m in
              re.finditer(r'name="([^"]+)" value="([^"]*)"', page.text)}
    assert action == hub.public_url + "/hub/lti13/oauth_callback" and fields["state"] == q["state"]
    return session.post(action, data=fields, allow_redirects=False, timeout=30), fields


def test_launch_from_the_platform(lti13_hub, registered_port):
    hub = lti13_hub(port=registered_port)
    s = requests.Session()
    r, fields = follow_platform(hub, s, "alice")
    assert r.status_code == 302, page_text(r)
    assert r.headers["Location"].endswith("/hub/home"), r.headers["Location"]
    # The platform's alice: email as the name, Instructor (an admin), in "teachers".
    user = hub.api("GET", "/users/alice@example.org").json()
    assert user["admin"] is True and user["groups"] == ["teachers"], user
    state = hub.api("GET", "/users/alice@example.org", params={"include_auth_state": 1}).json()
    claims = state["auth_state"]
    assert claims[L + "context"]["label"] == "HUB101", claims
    assert claims[L + "resource_link"]["id"] == "hubtest-resource-1"
    assert claims[L + "roles"] == [INSTRUCTOR]
    home = s.get(hub.public_url + "/hub/home", timeout=10)
    assert home.status_code == 200 and "alice@example.org" in home.text
    # The same form posted again: its state cookie is spent.
    again = requests.Session()
    again.cookies.update(s.cookies)
    r = post_launch(hub, again, fields["id_token"], fields["state"])
    assert r.status_code == 400 and "state cookie is missing" in page_text(r), page_text(r)
    # A learner: no admin, in "students".
    r, _ = follow_platform(hub, requests.Session(), "bob")
    assert r.status_code == 302
    bob = hub.api("GET", "/users/bob@example.org").json()
    assert bob["admin"] is False and bob["groups"] == ["students"], bob
    assert "LTI 1.3 launch verified for alice@example.org" in hub.log()


def test_launch_in_a_browser_into_the_notebook(lti13_hub, registered_port, tmp_path):
    import os
    spawn = spawn_config(cmd=["jupyterhub-singleuser"], home=tmp_path / "homes")
    spawn = with_section(spawn, "Spawner", args=["--allow-root"] if os.geteuid() == 0 else [],
                         http_timeout=60)
    hub = lti13_hub(port=registered_port, spawn=spawn, username_key="sub")
    found = run_browser("lti13-launch", platform=ISSUER, user="bob")
    assert found["landed"].startswith(hub.public_url + "/user/bob/"), found
    # The platform's auto-submitting page, then the hub's (the redirects between leave no page).
    assert found["pages"][0] == "/lti13/auth", found
    assert found["consoleErrors"] == [], found["consoleErrors"]
    assert server_model(hub, "bob")["ready"] is True
    assert hub.api("DELETE", "/users/bob/server").status_code in (202, 204)
    wait_stopped(hub, "bob")


# The hub's own pages.

def test_config_page_and_direct_visits(lti13_hub):
    hub = lti13_hub()
    r = requests.get(hub.url + "/hub/lti13/config", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    doc = r.json()
    assert doc["title"] == "JupyterHub" and doc["target_link_uri"] == hub.url
    assert doc["oidc_initiation_url"] == hub.url + "/hub/lti13/oauth_login"
    assert doc["extensions"][0]["platform"] == "canvas.instructure.com"
    r = requests.get(hub.url + "/hub/lti13/oauth_callback", timeout=10)
    assert r.status_code == 405 and "cannot be opened directly" in page_text(r)
    # The login page offers no form: the course link is the way in.
    r = requests.get(hub.url + "/hub/login", timeout=10)
    assert "follow the link there" in page_text(r)
    # A login form naming a launch the callback never checked.
    s = requests.Session()
    page = s.get(hub.url + "/hub/login", timeout=10)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
    data = {"lti13_launch": uuid.uuid4().hex, "username": "mallory", "password": "x"}
    if xsrf:
        data["_xsrf"] = xsrf.group(1)
    r = s.post(hub.url + "/hub/login", data=data, allow_redirects=False, timeout=10)
    assert r.status_code != 302 or "/hub/home" not in r.headers.get("Location", "")
    assert not user_exists(hub, "mallory")


@pytest.mark.parametrize("params, says", [
    ({"iss": "https://evil.example"}, "not the platform this hub trusts"),
    ({"client_id": "someone-else"}, "not one of this hub's"),
    ({"login_hint": None}, "has no login_hint"),
    ({"target_link_uri": None}, "has no target_link_uri"),
    ({"login_hint": "x" * 5000}, "longer than 4096 bytes"),
])
def test_bad_login_initiation(lti13_hub, params, says):
    hub = lti13_hub()
    q, r = login_initiation(hub, requests.Session(), **params)
    assert q is None and r.status_code == 400, r.status_code
    assert says in page_text(r), page_text(r)


# Bad launches.

def kid_and_nonce(hub, session):
    q, r = login_initiation(hub, session)
    assert q, r.text
    return q["state"], q["nonce"]


def hmac_with_public_key(claims):
    header = {"alg": "HS256", "typ": "JWT", "kid": platform_key()[0]}
    import hashlib
    import hmac
    signing = f"{b64(header)}.{b64(claims)}".encode()
    sig = hmac.new(public_pem(), signing, hashlib.sha256).digest()
    return signing.decode() + "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()


CASES = {
    "ok": (lambda n: sign(claims_for("carol", n)), None),
    "wrong issuer": (lambda n: sign(claims_for("carol", n, iss="https://evil.example")), "iss"),
    "unknown client_id": (lambda n: sign(claims_for("carol", n, aud="other", azp="other")),
                          "aud"),
    "several audiences, azp foreign": (
        lambda n: sign(claims_for("carol", n, aud=[CLIENT_ID, "other"], azp="other")), "aud"),
    "expired": (lambda n: sign(claims_for("carol", n, exp=int(time.time()) - 120)), "exp"),
    "issued in the future": (lambda n: sign(claims_for("carol", n, iat=int(time.time()) + 600)),
                             "iat"),
    "not yet valid": (lambda n: sign(claims_for("carol", n, nbf=int(time.time()) + 600)), "nbf"),
    "wrong nonce": (lambda n: sign(claims_for("carol", "not-" + n)), "nonce"),
    "changed payload": (lambda n: ".".join([sign(claims_for("carol", n)).split(".")[0],
                                            b64(claims_for("root", n)),
                                            sign(claims_for("carol", n)).split(".")[2]]),
                        "signature"),
    "alg none": (lambda n: f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims_for('carol', n))}.",
                 "none"),
    "HMAC with the public key": (lambda n: hmac_with_public_key(claims_for("carol", n)), "HS256"),
    "unknown kid": (lambda n: sign(claims_for("carol", n), kid="no-such-key"), "no-such-key"),
    "no deployment_id": (lambda n: sign(claims_for("carol", n, LTI_deployment_id=None)),
                         "deployment_id"),
    "LTI 1.1 version": (lambda n: sign(claims_for("carol", n, LTI_version="1.1")), "1.3.0"),
    "not a JWT": (lambda n: "this-is-not-a-token", "JWS"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_launch(lti13_hub, case):
    hub = lti13_hub()
    s = requests.Session()
    state, nonce = kid_and_nonce(hub, s)
    token = CASES[case][0](nonce)
    r = post_launch(hub, s, token, state)
    if case == "ok":
        assert r.status_code == 302, page_text(r)
        assert user_exists(hub, "carol@example.org")
        return
    says = CASES[case][1]
    text = page_text(r)
    assert r.status_code in (400, 401, 403), (r.status_code, text)
    assert "The launch could not be verified" in text or "launch" in text.lower(), text
    assert says in text, text
    assert not user_exists(hub, "carol@example.org") and not user_exists(hub, "root@example.org")
    assert "LTI 1.3 launch refused" in hub.log()
    assert "jupyterhub-session-id" not in r.headers.get("Set-Cookie", "")
    assert token not in hub.log()


def test_replayed_launch(lti13_hub):
    hub = lti13_hub()
    s = requests.Session()
    state, nonce = kid_and_nonce(hub, s)
    token = sign(claims_for("dave", nonce))
    cookie = s.cookies.get(f"lti13-state-{state}")
    assert post_launch(hub, s, token, state).status_code == 302
    # The same launch and its cookie, posted again by someone who kept both.
    thief = requests.Session()
    thief.cookies.set(f"lti13-state-{state}", cookie)
    r = post_launch(hub, thief, token, state)
    assert r.status_code == 403 and "used already" in page_text(r), page_text(r)
    assert "jupyterhub-session-id" not in r.headers.get("Set-Cookie", "")


def test_stolen_token_with_a_forged_cookie(lti13_hub):
    """Someone holding another's unused id_token makes a state and a cookie of their own: the
    cookie cannot give the token's nonce (its hash), so the launch is refused."""
    hub = lti13_hub()
    _, nonce = kid_and_nonce(hub, requests.Session())
    token = sign(claims_for("hank", nonce))
    thief = requests.Session()
    state = uuid.uuid4().hex
    for r_value in (uuid.uuid4().hex, nonce[:32]):
        thief.cookies.set(f"lti13-state-{state}", r_value + ".")
        r = post_launch(hub, thief, token, state)
        assert r.status_code == 403 and "nonce" in page_text(r), page_text(r)
    thief.cookies.set(f"lti13-state-{state}", nonce + ".")
    r = post_launch(hub, thief, token, state)
    assert r.status_code == 400 and "not one this hub set" in page_text(r), page_text(r)
    assert not user_exists(hub, "hank@example.org")


@pytest.mark.parametrize("case", ["no cookie", "foreign cookie", "state not ours"])
def test_state_cookie(lti13_hub, case):
    hub = lti13_hub()
    s = requests.Session()
    state, nonce = kid_and_nonce(hub, s)
    token = sign(claims_for("erin", nonce))
    if case == "no cookie":
        s.cookies.clear()
        says = "state cookie is missing"
    elif case == "foreign cookie":
        other, _ = kid_and_nonce(hub, requests.Session())
        value = s.cookies.get(f"lti13-state-{state}")
        s.cookies.clear()
        s.cookies.set(f"lti13-state-{other}", value)
        says = "state cookie is missing"
    else:
        state = "../" + state
        says = "not one this hub made"
    r = post_launch(hub, s, token, state)
    assert r.status_code == 400 and says in page_text(r), page_text(r)
    assert not user_exists(hub, "erin@example.org")


class SilentServer:
    """A port that accepts connections and never answers (a JWKS endpoint that hangs)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
                self.held.append(c)
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.thread.join(5)
        for c in self.held:
            c.close()
        self.sock.close()


@pytest.mark.parametrize("endpoint", ["down", "silent"])
def test_platform_keys_unreachable(lti13_hub, endpoint):
    silent = SilentServer() if endpoint == "silent" else None
    try:
        port = silent.port if silent else free_port()
        hub = lti13_hub(jwks_endpoint=f"http://127.0.0.1:{port}/jwks")
        s = requests.Session()
        state, nonce = kid_and_nonce(hub, s)
        result = {}

        def launch():
            t0 = time.monotonic()
            result["r"] = post_launch(hub, s, sign(claims_for("frank", nonce)), state)
            result["took"] = time.monotonic() - t0
        t = threading.Thread(target=launch)
        t.start()
        # Others are served while the launch waits for the keys.
        for _ in range(5):
            t0 = time.monotonic()
            assert requests.get(hub.url + "/hub/api/", timeout=5).status_code == 200
            assert time.monotonic() - t0 < 2
        t.join(60)
        assert not t.is_alive()
        r = result["r"]
        assert r.status_code == 403, page_text(r)
        assert "could not be fetched" in page_text(r), page_text(r)
        assert result["took"] < 40, result["took"]
        assert not user_exists(hub, "frank@example.org")
    finally:
        if silent:
            silent.close()


@pytest.mark.parametrize("settings, message", [
    ({"issuer": ""}, "LTI13Authenticator.issuer is not set"),
    ({"client_id": []}, "LTI13Authenticator.client_id is empty"),
    ({"jwks_endpoint": "file:///etc/keys"}, "LTI13Authenticator.jwks_endpoint 'file:///etc/keys' "
                                            "is not an http(s) URL"),
    ({"jwks_algorithms": ["RS256", "HS256"]}, "'HS256' is not an asymmetric signature"),
])
def test_bad_settings_refused_at_startup(hub_factory, settings, message):
    hub = hub_factory(config=lti13_config(**settings), env={"JUPYTERHUB_CRYPT_KEY": CRYPT_KEY},
                      start=False)
    hub.start(wait=False)
    assert hub.wait(30) != 0
    assert message in hub.log(), hub.log()[-2000:]


def test_launch_validator_settings(lti13_hub):
    """c.LTI13LaunchValidator.max_age, as ltiauthenticator names it, applies."""
    hub = lti13_hub()
    hub.stop()
    cfg = json.loads((hub.state_dir / "jupyterhub_config.json").read_text())
    cfg["LTI13LaunchValidator"] = {"max_age": 5}
    (hub.state_dir / "jupyterhub_config.json").write_text(json.dumps(cfg))
    hub.start()
    s = requests.Session()
    state, nonce = kid_and_nonce(hub, s)
    r = post_launch(hub, s, sign(claims_for("gina", nonce, iat=int(time.time()) - 30)), state)
    assert r.status_code == 403 and "more than 5 s ago" in page_text(r), page_text(r)
