"""LTI 1.1 launches (authenticator_class "lti11") signed by the real LTI platform of
../shared/recipes/start-lti-platform.sh (npm oauth-1.0a HMAC-SHA1, as Canvas and Moodle sign):
the launch logs the user in with the launch fields as auth_state (the OAuth parameters in the form or in an Authorization
header); a changed field, a replay,
an unknown key, a stale timestamp, a missing field and the wrong scheme behind a TLS proxy are
refused with a readable page; the platform's auto-submitted form works in a real browser."""
import base64
import fcntl
import hashlib
import hmac
import os
import subprocess
import time
import urllib.parse

import pytest
import requests

from conftest import ADMIN_TOKEN, RECIPES, RECIPES_STATE, Api, run_browser, run_ganymede
from secrets_seen import remember
from test_login import CRYPT_KEY

KEY, SECRET = "hubtest-key", "hubtest-secret"
remember(SECRET)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


# One platform for the whole run, on the recipe's port (the recipe keeps one pid file): started
# by the first worker that needs it, stopped by conftest once the run is over.
PLATFORM_PORT = 19060


def platform(*args, timeout=120):
    env = dict(os.environ, LTI_PORT=str(PLATFORM_PORT), LTI11_KEY=KEY, LTI11_SECRET=SECRET,
               RECIPES_STATE=str(RECIPES_STATE))
    RECIPES_STATE.mkdir(parents=True, exist_ok=True)
    # The recipe's first npm install must not run twice at once.
    with open(RECIPES_STATE / ".ganymede-lti.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        p = subprocess.run(["bash", str(RECIPES / "start-lti-platform.sh"), *args], env=env,
                           capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"start-lti-platform.sh {args[0]} failed:\n{p.stderr[-2000:]}"
    return p.stdout


@pytest.fixture(scope="session")
def lti_platform():
    if RECIPES is None or not (RECIPES / "start-lti-platform.sh").exists():
        pytest.skip(f"no LTI platform recipe in {RECIPES}")
    platform("start")
    return f"http://127.0.0.1:{PLATFORM_PORT}"


def sign(url, **fields):
    """A launch body signed by the platform for @url."""
    return platform("sign11", url, *[f"{k}={v}" for k, v in fields.items()])


def lti_config(**lti):
    return {
        "JupyterHub": {"authenticator_class": "lti11", "api_tokens": {ADMIN_TOKEN: "admin"},
                       "redirect_to_server": False},
        "Authenticator": {"admin_users": ["admin"], "enable_auth_state": True},
        "LTI11Authenticator": {"consumers": {KEY: SECRET}, "username_key": "user_id", **lti},
    }


@pytest.fixture
def lti_hub(hub_factory):
    def make(**lti):
        hub = hub_factory(config=lti_config(**lti), env={"JUPYTERHUB_CRYPT_KEY": CRYPT_KEY})
        hub.launch = hub.url + "/hub/lti/launch"
        return hub
    return make


def launch(hub, body, session=None, headers=None):
    s = session or requests.Session()
    return s.post(hub.launch, data=body, headers={**FORM, **(headers or {})},
                  allow_redirects=False, timeout=10)


def test_signed_launch_logs_the_user_in(lti_hub, lti_platform):
    hub = lti_hub()
    s = requests.Session()
    r = launch(hub, sign(hub.launch, user_id="bob"), s)
    assert r.status_code == 302, r.text
    assert r.headers["Location"] == "/hub/home"
    assert s.get(hub.url + "/hub/api/user", timeout=10).json()["name"] == "bob"
    state = Api(hub)("GET", "/users/bob").json()["auth_state"]
    assert state["lis_person_contact_email_primary"] == "bob@example.org"
    assert state["roles"] == "Learner" and state["context_label"] == "HUB101"
    assert not [k for k in state if k.startswith("oauth_")]
    assert "hubtest-secret" not in hub.log()


def test_oauth_parameters_in_an_authorization_header(lti_hub, lti_platform):
    """RFC 5849 3.5.1: the same signed launch with its oauth_* parameters in an
    `Authorization: OAuth ...` header instead of the form."""
    hub = lti_hub()
    fields = urllib.parse.parse_qsl(sign(hub.launch, user_id="dora"), keep_blank_values=True)
    oauth = [(k, v) for k, v in fields if k.startswith("oauth_")]
    form = urllib.parse.urlencode([(k, v) for k, v in fields if not k.startswith("oauth_")])
    header = "OAuth realm=\"\", " + ", ".join(
        f'{k}="{urllib.parse.quote(v, safe="")}"' for k, v in oauth)
    r = launch(hub, form, headers={"Authorization": header})
    assert r.status_code == 302, r.text
    assert Api(hub)("GET", "/users/dora").status_code == 200
    # Changed after signing, in the header this time.
    fields = urllib.parse.parse_qsl(sign(hub.launch, user_id="erik"), keep_blank_values=True)
    oauth = [(k, v if k != "oauth_nonce" else v + "x") for k, v in fields
             if k.startswith("oauth_")]
    form = urllib.parse.urlencode([(k, v) for k, v in fields if not k.startswith("oauth_")])
    header = "OAuth " + ", ".join(f'{k}="{urllib.parse.quote(v, safe="")}"' for k, v in oauth)
    r = launch(hub, form, headers={"Authorization": header})
    assert r.status_code == 401 and "Invalid oauth_signature" in r.text
    # Given twice, or not a header at all.
    r = launch(hub, sign(hub.launch, user_id="erik"),
               headers={"Authorization": 'OAuth oauth_nonce="1"'})
    assert r.status_code == 400 and "both in its Authorization header and its form" in r.text
    r = launch(hub, form, headers={"Authorization": 'OAuth oauth_nonce="%zz"'})
    assert r.status_code == 400 and "not percent-encoded" in r.text
    r = launch(hub, form, headers={"Authorization": 'OAuth oauth_nonce="1", oauth_nonce="2"'})
    assert r.status_code == 400 and "gives oauth_nonce twice" in r.text
    assert Api(hub)("GET", "/users/erik").status_code == 404


def test_username_key_and_next(lti_hub, lti_platform):
    hub = lti_hub(username_key="lis_person_contact_email_primary")
    r = launch(hub, sign(hub.launch, user_id="alice", custom_next="/hub/token"))
    assert r.status_code == 302 and r.headers["Location"] == "/hub/token", r.text
    assert Api(hub)("GET", "/users/alice@example.org").status_code == 200
    # A missing username_key falls back to user_id; next must stay on the hub.
    hub.stop()
    hub2 = lti_hub(username_key="custom_canvas_user_id")
    r = launch(hub2, sign(hub2.launch, user_id="carol", custom_next="https://evil.example.org/"))
    assert r.status_code == 302 and "evil" not in r.headers["Location"]
    assert Api(hub2)("GET", "/users/carol").status_code == 200


def test_bad_launches_are_refused_clearly(lti_hub, lti_platform):
    hub = lti_hub()
    body = sign(hub.launch, user_id="bob")
    # A field changed after signing (the user, here).
    r = launch(hub, body.replace("user_id=bob", "user_id=mallory"))
    assert r.status_code == 401 and "Invalid oauth_signature" in r.text
    assert "<html" in r.text.lower()
    # The same launch twice.
    assert launch(hub, body).status_code == 302
    r = launch(hub, body)
    assert r.status_code == 401 and "already used" in r.text
    # Signed for another URL (the platform was told another address).
    r = launch(hub, sign(hub.url + "/hub/lti/other", user_id="bob"))
    assert r.status_code == 401 and "Invalid oauth_signature" in r.text
    # A field LTI requires, missing.
    fields = dict(urllib.parse.parse_qsl(sign(hub.launch, user_id="bob")))
    del fields["resource_link_id"]
    r = launch(hub, urllib.parse.urlencode(fields))
    assert r.status_code == 400 and "has no resource_link_id" in r.text
    # Nothing at all, and a GET.
    assert launch(hub, "").status_code == 400
    assert requests.get(hub.launch, timeout=10).status_code == 405
    assert Api(hub)("GET", "/users/mallory").status_code == 404


def own_signature(url, fields, secret):
    """RFC 5849 HMAC-SHA1, written independently of the hub, for launches the platform
    will not make (an old timestamp)."""
    q = lambda s: urllib.parse.quote(s, safe="-._~")  # noqa: E731
    pairs = sorted((q(k), q(v)) for k, v in fields.items())
    base = "&".join(["POST", q(url), q("&".join(f"{k}={v}" for k, v in pairs))])
    mac = hmac.new(f"{q(secret)}&".encode(), base.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def test_keys_and_clocks(lti_hub, lti_platform):
    hub = lti_hub(consumers={"another-key": "another-secret"})
    r = launch(hub, sign(hub.launch, user_id="bob"))
    assert r.status_code == 401 and "Unknown oauth_consumer_key" in r.text
    hub.stop()
    hub = lti_hub()
    fields = dict(urllib.parse.parse_qsl(sign(hub.launch, user_id="bob")))
    del fields["oauth_signature"]
    for ts, status in ((int(time.time()) - 120, 401), (int(time.time()), 302)):
        fields.update(oauth_timestamp=str(ts), oauth_nonce=f"n{ts}")
        body = dict(fields, oauth_signature=own_signature(hub.launch, fields, SECRET))
        r = launch(hub, urllib.parse.urlencode(body))
        assert r.status_code == status, r.text
    assert "oauth_timestamp" in launch(hub, urllib.parse.urlencode(
        dict(fields, oauth_timestamp="12", oauth_signature="x"))).text


def test_behind_a_tls_proxy(lti_hub, lti_platform):
    """The platform signed https://...: the hub rebuilds that URL from X-Forwarded-Proto (or
    uri_scheme), the classic cause of 'Invalid oauth_signature' behind a proxy."""
    hub = lti_hub()
    host = hub.url.split("://")[1]
    body = sign(f"https://{host}/hub/lti/launch", user_id="bob")
    assert launch(hub, body).status_code == 401
    assert launch(hub, body, headers={"X-Forwarded-Proto": "https"}).status_code == 302
    hub.stop()
    hub = lti_hub(uri_scheme="https")
    body = sign(f"https://{host}/hub/lti/launch".replace(host, hub.url.split("://")[1]),
                user_id="bob")
    assert launch(hub, body).status_code == 302


def test_config_page_and_login_page(lti_hub, lti_platform):
    hub = lti_hub(config_title="Data <Science> 101")
    r = requests.get(hub.url + "/hub/lti11/config", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/xml")
    assert "<blti:title>Data &lt;Science&gt; 101</blti:title>" in r.text
    assert f"<blti:launch_url>{hub.launch}</blti:launch_url>" in r.text
    r = requests.get(hub.url + "/hub/login", timeout=10)
    assert "follow the link there to sign in" in r.text
    assert 'name="password"' not in r.text


def test_empty_consumers_are_refused_at_start(tmp_path):
    import json
    cfg = tmp_path / "lti.json"
    cfg.write_text(json.dumps({"JupyterHub": {"authenticator_class": "lti11"}}))
    p = run_ganymede(["-f", str(cfg)], cwd=tmp_path)
    assert p.returncode != 0
    assert "LTI11Authenticator.consumers is empty" in p.stderr + p.stdout


def test_launch_from_the_platform_in_a_browser(lti_hub, lti_platform):
    hub = lti_hub()
    found = run_browser("lti-launch", platform=lti_platform, launch=hub.launch, user="alice")
    assert found["landed"] == hub.url + "/hub/home"
    assert found["navUser"] == "alice"
    assert found["consoleErrors"] == []
