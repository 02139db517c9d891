"""Browser login without a browser: the login form, cookies, sessions, XSRF, next redirects,
logout, the built-in authenticators and auth_state."""
import base64
import json
import os
import re
import shutil
import subprocess
import time
import uuid

import pytest
import requests

from conftest import ADMIN_TOKEN, API_CONFIG, Api, run_ganymede
from secrets_seen import remember

PASSWORD = "shared-password-123"
ADMIN_PASSWORD = "admin-password-that-is-long-enough-123"
CRYPT_KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
remember(PASSWORD, CRYPT_KEY)

SHARED = {
    "JupyterHub": {"authenticator_class": "shared-password", "redirect_to_server": False,
                   "api_tokens": {ADMIN_TOKEN: "admin"}},
    "Authenticator": {"admin_users": ["admin"], "allow_all": True,
                      "blocked_users": ["mallory"]},
    "SharedPasswordAuthenticator": {"user_password": PASSWORD, "admin_password": ADMIN_PASSWORD},
}


def form(html, name):
    m = re.search(r'name="%s" value="([^"]*)"' % name, html)
    return m.group(1) if m else None


def login(hub, s, user, password, next_=None, xsrf=True):
    """Log in like a browser: fetch the form (for its _xsrf cookie and field), post it."""
    url = hub.url + "/hub/login" + (f"?next={requests.utils.quote(next_, safe='')}" if next_ else "")
    page = s.get(url, allow_redirects=False)
    data = {"username": user, "password": password}
    if xsrf:
        data["_xsrf"] = form(page.text, "_xsrf")
    return s.post(url, data=data, allow_redirects=False)


@pytest.fixture
def shared_hub(hub_factory):
    h = hub_factory(config=SHARED)
    h.api = Api(h)
    return h


def test_login_page_keeps_jupyterhub_fields(shared_hub):
    r = shared_hub.get("/hub/login")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    html = r.text
    for needle in ('name="username"', 'name="password"', 'name="_xsrf"', 'id="username_input"',
                   'id="password_input"', 'id="login_submit"', 'id="login-main"'):
        assert needle in html
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("_xsrf=") and "Path=/hub/" in cookie
    # Static assets are served without any CDN.
    css = re.search(r'href="(/hub/static/css/style.css\?v=\w+)"', html).group(1)
    r = shared_hub.get(css)
    assert r.status_code == 200 and "immutable" in r.headers["Cache-Control"]
    assert shared_hub.get("/hub/static/css/style.css").headers["Cache-Control"] == "no-cache"
    # Revalidation: the same version answers 304 without a body; another version the file.
    etag = r.headers["ETag"]
    assert re.fullmatch(r'"\w{16}"', etag), etag
    for match in (etag, f'W/{etag}', f'"other", {etag}', "*"):
        r = shared_hub.get("/hub/static/css/style.css", headers={"If-None-Match": match})
        assert r.status_code == 304 and r.content == b"", match
        assert r.headers["ETag"] == etag and r.headers["Cache-Control"] == "no-cache"
    r = shared_hub.get("/hub/static/css/style.css", headers={"If-None-Match": '"0000000000000000"'})
    assert r.status_code == 200 and len(r.content) > 100
    r = shared_hub.get("/hub/logo", headers={"If-None-Match": etag})
    assert r.status_code == 304


def test_login_success_sets_cookies(shared_hub):
    s = requests.Session()
    r = login(shared_hub, s, "Alice", PASSWORD)
    assert r.status_code == 302, r.text[:500]
    assert r.headers["Location"] == "/hub/home"
    cookies = r.headers.get("Set-Cookie")
    raw = r.raw.headers.getlist("Set-Cookie")
    login_cookie = next(c for c in raw if c.startswith("jupyterhub-hub-login="))
    session_cookie = next(c for c in raw if c.startswith("jupyterhub-session-id="))
    assert "Path=/hub/" in login_cookie and "HttpOnly" in login_cookie
    assert "SameSite=Lax" in login_cookie and "Secure" not in login_cookie
    assert "Path=/;" in session_cookie and "HttpOnly" in session_cookie
    assert re.match(r"jupyterhub-session-id=[0-9a-f]{32};", session_cookie)
    # The cookie works for pages and for the API, and the user was created (normalised).
    home = s.get(shared_hub.url + "/hub/home")
    assert home.status_code == 200 and 'id="start"' in home.text and "alice" in home.text
    me = s.get(shared_hub.url + "/hub/api/user")
    assert me.status_code == 200 and me.json()["name"] == "alice"
    assert me.json()["session_id"] == s.cookies["jupyterhub-session-id"]
    assert me.json()["token_id"] is None


def test_wrong_password_sets_no_cookie(shared_hub):
    s = requests.Session()
    r = login(shared_hub, s, "bob", "wrong")
    assert r.status_code == 403
    assert "Invalid username or password" in r.text and 'name="password"' in r.text
    assert 'value="bob"' in r.text
    assert "jupyterhub-hub-login" not in r.headers.get("Set-Cookie", "")
    assert shared_hub.api("GET", "/users/bob").status_code == 404  # nothing else changed


def test_admin_password_and_blocked(shared_hub):
    s = requests.Session()
    assert login(shared_hub, s, "admin", PASSWORD).status_code == 403  # admins need theirs
    assert login(shared_hub, s, "admin", ADMIN_PASSWORD).status_code == 302
    assert s.get(shared_hub.url + "/hub/api/user").json()["admin"] is True
    r = login(shared_hub, requests.Session(), "mallory", PASSWORD)
    assert r.status_code == 403 and "not allowed to log in" in r.text


def test_not_allowed_without_allow_config(hub_factory):
    cfg = json.loads(json.dumps(SHARED))
    del cfg["Authenticator"]["allow_all"]
    cfg["Authenticator"]["allowed_users"] = ["ann"]
    h = hub_factory(config=cfg)
    assert login(h, requests.Session(), "ann", PASSWORD).status_code == 302
    r = login(h, requests.Session(), "zed", PASSWORD)
    assert r.status_code == 403 and "not allowed" in r.text
    # admins are allowed when an allowed list exists
    assert login(h, requests.Session(), "admin", ADMIN_PASSWORD).status_code == 302


def test_xsrf_on_login_form(shared_hub):
    s = requests.Session()
    s.get(shared_hub.url + "/hub/login")
    # A wrong token is refused even with the right password.
    r = s.post(shared_hub.url + "/hub/login",
               data={"username": "x", "password": PASSWORD, "_xsrf": "forged"},
               allow_redirects=False)
    assert r.status_code == 403 and "Login form invalid or expired" in r.text
    # A cross-site post without a token is refused; a script without Origin is accepted.
    r = requests.post(shared_hub.url + "/hub/login", data={"username": "x", "password": PASSWORD},
                      headers={"Origin": "https://evil.example"}, allow_redirects=False)
    assert r.status_code == 403
    r = requests.post(shared_hub.url + "/hub/login", data={"username": "x", "password": PASSWORD},
                      allow_redirects=False)
    assert r.status_code == 302


def test_cookie_api_requests_need_xsrf(shared_hub):
    s = requests.Session()
    login(shared_hub, s, "carol", PASSWORD)
    api = shared_hub.url + "/hub/api"
    # fetch()-style requests (not navigations) with the cookie need the token...
    r = s.post(api + "/users/carol/tokens", json={"note": "x"},
               headers={"Sec-Fetch-Mode": "cors"})
    assert r.status_code == 403 and "_xsrf" in r.json()["message"]
    r = s.get(api + "/users/carol", headers={"Sec-Fetch-Mode": "cors"})
    assert r.status_code == 403
    # ...with it they work; a navigation GET needs none.
    xsrf = s.cookies.get("_xsrf", path="/hub/")
    r = s.post(api + "/users/carol/tokens", json={"note": "x"},
               headers={"X-XSRFToken": xsrf, "Sec-Fetch-Mode": "cors"})
    assert r.status_code == 201, r.text
    assert s.get(api + "/users/carol", headers={"Sec-Fetch-Mode": "navigate"}).status_code == 200
    r = s.get(api + "/users/carol?_xsrf=" + xsrf, headers={"Sec-Fetch-Mode": "cors"})
    assert r.status_code == 200
    # A cookie POST that is not JSON counts as unauthenticated (cross-site forms).
    r = s.post(api + "/users/carol/tokens", data='{"note": "x"}',
               headers={"X-XSRFToken": xsrf, "Content-Type": "text/plain"})
    assert r.status_code == 403
    # Token-authenticated requests are exempt.
    r = requests.post(api + "/users/carol/tokens", json={},
                      headers={"Authorization": f"token {ADMIN_TOKEN}", "Sec-Fetch-Mode": "cors"})
    assert r.status_code == 201


@pytest.mark.parametrize("next_,expected", [
    ("/hub/token", "/hub/token"),
    ("/user/carol/lab?x=1", "/user/carol/lab?x=1"),
    ("//evil.example/x", "/hub/home"),
    ("https://evil.example/", "/hub/home"),
    ("/\\evil.example", "/%5Cevil.example"),
    ("\\\\evil.example", "/hub/home"),
    ("/\t/evil.example", "/hub/home"),
    ("javascript:alert(1)", "/hub/home"),
    ("http:/evil.example", "/hub/home"),
])
def test_next_stays_on_the_hub(shared_hub, next_, expected):
    s = requests.Session()
    r = login(shared_hub, s, "dave", PASSWORD, next_=next_)
    assert r.status_code == 302 and r.headers["Location"] == expected, r.headers["Location"]


def test_next_absolute_same_host(shared_hub):
    s = requests.Session()
    host = shared_hub.url.split("://")[1]
    r = login(shared_hub, s, "dave", PASSWORD, next_=f"http://{host}/hub/token")
    assert r.headers["Location"] == "/hub/token"


def test_logout(shared_hub):
    s = requests.Session()
    login(shared_hub, s, "erin", PASSWORD)
    xsrf = s.cookies.get("_xsrf", path="/hub/")
    # A token tied to this browser session goes with it (as OAuth tokens do).
    r = s.get(shared_hub.url + "/hub/logout", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/hub/login"
    raw = r.raw.headers.getlist("Set-Cookie")
    assert any(c.startswith("jupyterhub-hub-login=;") and "Max-Age=0" in c for c in raw)
    assert any(c.startswith("jupyterhub-session-id=;") for c in raw)
    assert s.get(shared_hub.url + "/hub/api/user").status_code == 403
    r = s.get(shared_hub.url + "/hub/home", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].startswith("/hub/login?next=")


def test_pages_and_redirects(shared_hub):
    r = shared_hub.get("/hub/")
    assert r.status_code == 302 and r.headers["Location"] == "/hub/login?next=%2Fhub%2F"
    r = shared_hub.get("/hub/home")
    assert r.status_code == 302 and r.headers["Location"] == "/hub/login?next=%2Fhub%2Fhome"
    s = requests.Session()
    login(shared_hub, s, "fay", PASSWORD)
    assert s.get(shared_hub.url + "/hub/", allow_redirects=False).headers["Location"] == \
        "/hub/home"
    r = s.get(shared_hub.url + "/hub/login", allow_redirects=False)
    assert r.status_code == 302  # already logged in
    token_page = s.get(shared_hub.url + "/hub/token").text
    for needle in ('id="request-token-form"', 'id="token-note"', 'id="token-area"',
                   'id="token-result"', 'id="token-expiration-seconds"'):
        assert needle in token_page
    r = s.get(shared_hub.url + "/hub/nope")
    assert r.status_code == 404 and "404" in r.text and 'id="login_widget"' in r.text
    assert shared_hub.get("/hub/logo").headers["Content-Type"] == "image/svg+xml"
    for bad in ("/hub/static/../jupyterhub.sqlite", "/hub/static/%2e%2e/x",
                "/hub/static/css/nope.css", "/hub/static/%2Fetc%2Fpasswd"):
        assert shared_hub.get(bad).status_code == 404, bad


def test_bad_forms(shared_hub):
    url = shared_hub.url + "/hub/login"
    r = requests.post(url, data=b"x" * 70000,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and "too large" in r.text
    r = requests.post(url, json={"username": "x"})
    assert r.status_code == 400
    r = requests.post(url, data=b"username=%ff%fe&password=x",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code in (400, 403)
    assert shared_hub.get("/hub/health").status_code == 200


def test_token_through_authenticator(shared_hub):
    r = requests.post(shared_hub.url + "/hub/api/users/gina/tokens",
                      json={"auth": {"username": "gina", "password": PASSWORD}, "note": "cli"})
    assert r.status_code == 201, r.text
    t = r.json()["token"]
    assert shared_hub.api("GET", "/user", token=t).json()["name"] == "gina"
    r = requests.post(shared_hub.url + "/hub/api/users/gina/tokens",
                      json={"auth": {"username": "gina", "password": "wrong"}})
    assert r.status_code == 403
    r = requests.post(shared_hub.url + "/hub/api/users/admin/tokens",
                      json={"auth": {"username": "gina", "password": PASSWORD}})
    assert r.status_code == 403


def test_shared_password_checks(tmp_path):
    for section, msg in [
        ({"user_password": "short"}, "must be at least 8 characters long"),
        ({"user_password": PASSWORD, "admin_password": "short-admin"},
         "admin_password must be at least 32 characters"),
        ({"user_password": ADMIN_PASSWORD, "admin_password": ADMIN_PASSWORD}, "cannot be the same"),
    ]:
        (tmp_path / "c.json").write_text(json.dumps({
            "JupyterHub": {"authenticator_class": "shared-password"},
            "SharedPasswordAuthenticator": section}))
        p = run_ganymede(["-f", "c.json", "--JupyterHub.hub_bind_url=http://127.0.0.1:0"],
                         tmp_path)
        assert p.returncode == 1 and msg in p.stderr, p.stderr[-400:]
    p = run_ganymede(["--JupyterHub.authenticator_class=ldap",
                      "--JupyterHub.hub_bind_url=http://127.0.0.1:0"], tmp_path)
    assert p.returncode == 1 and "unknown authenticator 'ldap'" in p.stderr


def test_dummy_and_null(hub_factory, tmp_path):
    h = hub_factory(args=["--JupyterHub.authenticator_class=dummy",
                          "--JupyterHub.redirect_to_server=False"])
    assert login(h, requests.Session(), "anyone", "anything").status_code == 302
    assert "not meant for production" in h.log()
    h.stop()
    h = hub_factory(state_dir=tmp_path / "n", args=["--JupyterHub.authenticator_class=null"])
    r = h.get("/hub/login")
    assert r.status_code == 200 and 'name="password"' not in r.text and "API token" in r.text
    assert requests.post(h.url + "/hub/login", data={"username": "a", "password": "b"}
                         ).status_code == 404


def test_builtin_default_login(hub_factory, tmp_path):
    h = hub_factory()
    password = (tmp_path / "ganymede_password").read_text().strip()
    assert len(password) >= 8 and password not in h.log()
    assert oct((tmp_path / "ganymede_password").stat().st_mode & 0o777) == "0o600"
    assert login(h, requests.Session(), "newcomer", password).status_code == 302


@pytest.mark.sqlite_only
def test_auth_state_is_fernet(hub_factory):
    cfg = json.loads(json.dumps(SHARED))
    cfg["Authenticator"]["enable_auth_state"] = True
    h = hub_factory(config=cfg, env={"JUPYTERHUB_CRYPT_KEY": CRYPT_KEY})
    api = Api(h)
    api("POST", "/users", json={"usernames": ["hana"]})
    r = api("PATCH", "/users/hana", json={"auth_state": {"access_token": "secret-value"}})
    assert r.status_code == 200 and r.json()["auth_state"] == {"access_token": "secret-value"}
    assert api("GET", "/users/hana").json()["auth_state"] == {"access_token": "secret-value"}
    assert "secret-value" not in h.log()
    # The stored value is a Fernet token that Python's cryptography (JupyterHub's) opens.
    import sqlite3
    blob = sqlite3.connect(h.state_dir / "jupyterhub.sqlite").execute(
        "SELECT encrypted_auth_state FROM users WHERE name = 'hana'").fetchone()[0]
    from cryptography.fernet import Fernet
    key = base64.urlsafe_b64encode(bytes.fromhex(CRYPT_KEY))
    assert json.loads(Fernet(key).decrypt(blob)) == {"access_token": "secret-value"}
    # A user without admin:auth_state never sees it.
    t = api.token_for("hana")
    assert "auth_state" not in api("GET", "/users/hana", token=t).json()


def test_crypt_key_problems(tmp_path):
    cfg = {"Authenticator": {"enable_auth_state": True}}
    (tmp_path / "c.json").write_text(json.dumps(cfg))
    env = dict(os.environ)
    env.pop("JUPYTERHUB_CRYPT_KEY", None)
    p = run_ganymede(["-f", "c.json", "--JupyterHub.hub_bind_url=http://127.0.0.1:0"], tmp_path,
                     env=env)
    assert p.returncode == 1 and "JUPYTERHUB_CRYPT_KEY" in p.stderr
    env["JUPYTERHUB_CRYPT_KEY"] = "not-a-key"
    p = run_ganymede(["-f", "c.json", "--JupyterHub.hub_bind_url=http://127.0.0.1:0"], tmp_path,
                     env=env)
    assert p.returncode == 1 and "key 1 is not 32 bytes" in p.stderr
    assert "not-a-key" not in p.stderr


def test_template_overrides_and_vars(hub_factory, tmp_path):
    custom = tmp_path / "templates"
    custom.mkdir()
    (custom / "login.html").write_text('<p id="custom-login">Welcome to {{hub_name}}</p>'
                                       '{{undefined_variable}}')
    cfg = json.loads(json.dumps(SHARED))
    cfg["JupyterHub"]["template_paths"] = [str(custom)]
    cfg["JupyterHub"]["template_vars"] = {"hub_name": "Ganymede Lab",
                                          "announcement": "Maintenance <b>tonight</b>"}
    h = hub_factory(config=cfg, state_dir=tmp_path / "s")
    r = h.get("/hub/login")
    assert '<p id="custom-login">Welcome to Ganymede Lab</p>' in r.text
    assert "Maintenance <b>tonight</b>" in r.text  # announcements are HTML by design


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("useradd"),
                    reason="needs root to create a system user for PAM")
def test_pam_login(hub_factory):
    user = "gmpam" + uuid.uuid4().hex[:6]
    subprocess.run(["useradd", "--no-create-home", user], check=True)
    try:
        subprocess.run(["chpasswd"], input=f"{user}:pam-pass-123\n", text=True, check=True)
        h = hub_factory(config={"JupyterHub": {"authenticator_class": "pam",
                                               "redirect_to_server": False},
                                "Authenticator": {"allow_all": True}})
        assert login(h, requests.Session(), user, "pam-pass-123").status_code == 302
        r = login(h, requests.Session(), user, "wrong-password")
        assert r.status_code == 403 and "Invalid username or password" in r.text
        r = login(h, requests.Session(), "nosuchuser-xyz", "whatever")
        assert r.status_code == 403
    finally:
        subprocess.run(["userdel", user], check=False)
