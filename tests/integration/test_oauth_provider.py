"""The hub as OAuth2 provider (reference/jupyterhub.md §4.3), driven by hand: the authorize
page's checks, the consent page, the token endpoint and its errors, and services."""
import re
import time
from urllib.parse import parse_qs, urlparse

import requests

from conftest import ADMIN_TOKEN, Api, free_port
from spawn_helpers import ENV_SERVER, PASSWORD, spawn_config, start, wait_for

ADMIN_PASSWORD = "admin-password-long-enough-012345"


def login(hub, user, password=PASSWORD):
    s = requests.Session()
    page = s.get(hub.url + "/hub/login", timeout=10)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    r = s.post(hub.url + "/hub/login", data={"username": user, "password": password,
                                             "_xsrf": xsrf}, allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    return s


def authorize_url(hub, client_id, redirect_uri, **extra):
    q = {"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code",
         "state": "st-123", **extra}
    return hub.url + "/hub/api/oauth2/authorize?" + "&".join(
        f"{k}={requests.utils.quote(v, safe='')}" for k, v in q.items())


def exchange(hub, **form):
    return requests.post(hub.url + "/hub/api/oauth2/token", data=form, timeout=10)


def server_secret(hub, user):
    env = requests.get(hub.public_url + f"/user/{user}/env", timeout=10).json()["env"]
    return env["JUPYTERHUB_API_TOKEN"]


def test_authorization_code_flow_for_own_server(hub_factory, tmp_path):
    hub = hub_factory(config=spawn_config(home=tmp_path / "homes"))
    Api(hub)("POST", "/users/alice")
    assert start(hub, "alice").status_code == 201
    secret = server_secret(hub, "alice")
    client, redirect = "jupyterhub-user-alice", "/user/alice/oauth_callback"

    # Not logged in: the login page, coming back here afterwards.
    r = requests.get(authorize_url(hub, client, redirect), allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"].startswith("/hub/login?next=")

    s = login(hub, "alice")
    r = s.get(authorize_url(hub, client, redirect), allow_redirects=False, timeout=10)
    assert r.status_code == 302
    loc = urlparse(r.headers["Location"])
    q = parse_qs(loc.query)
    assert loc.path == redirect and q["state"] == ["st-123"] and len(q["code"][0]) == 30
    code = q["code"][0]

    # The token endpoint: client authentication, the grant, the code's single use.
    assert exchange(hub, client_id=client, client_secret="wrong", grant_type="authorization_code",
                    code=code, redirect_uri=redirect).status_code == 401
    r = exchange(hub, client_id=client, client_secret=secret, grant_type="password", code=code)
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = exchange(hub, client_id=client, client_secret=secret, grant_type="authorization_code",
                 code=code, redirect_uri="/elsewhere")
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    # That attempt used the code up: a new one.
    r = s.get(authorize_url(hub, client, redirect), allow_redirects=False, timeout=10)
    code = parse_qs(urlparse(r.headers["Location"]).query)["code"][0]
    r = exchange(hub, client_id=client, client_secret=secret, grant_type="authorization_code",
                 code=code, redirect_uri=redirect)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Pragma"] == "no-cache"
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 14 * 86400
    assert set(body["scope"].split()) == {"access:servers!server=alice/",
                                          "read:users:groups!user", "read:users:name!user"}
    assert len(body["access_token"]) == 30
    r = exchange(hub, client_id=client, client_secret=secret, grant_type="authorization_code",
                 code=code, redirect_uri=redirect)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"

    # What jupyterhub-singleuser asks next: who is this?
    me = requests.get(hub.url + "/hub/api/user", timeout=10,
                      headers={"Authorization": f"token {body['access_token']}"}).json()
    assert me["name"] == "alice" and "access:servers!server=alice/" in me["scopes"]
    assert me["session_id"] == s.cookies.get("jupyterhub-session-id")

    # HTTP Basic client authentication works too.
    r = s.get(authorize_url(hub, client, redirect), allow_redirects=False, timeout=10)
    code = parse_qs(urlparse(r.headers["Location"]).query)["code"][0]
    r = requests.post(hub.url + "/hub/api/oauth2/token", auth=(client, secret), timeout=10,
                      data={"grant_type": "authorization_code", "code": code,
                            "redirect_uri": redirect})
    assert r.status_code == 200, r.text


def test_authorize_refusals(hub_factory, tmp_path):
    hub = hub_factory(config=spawn_config(home=tmp_path / "homes"))
    Api(hub)("POST", "/users/bob")
    assert start(hub, "bob").status_code == 201
    s = login(hub, "bob")
    r = s.get(authorize_url(hub, "no-such-client", "/x"), allow_redirects=False)
    assert r.status_code == 400 and "No such OAuth client" in r.text
    r = s.get(authorize_url(hub, "jupyterhub-user-bob", "https://evil.example/cb"),
              allow_redirects=False)
    assert r.status_code == 400 and "redirect_uri does not match" in r.text
    r = s.get(authorize_url(hub, "jupyterhub-user-bob", "/user/bob/oauth_callback",
                            response_type="token"), allow_redirects=False)
    assert r.status_code == 302
    q = parse_qs(urlparse(r.headers["Location"]).query)
    assert q["error"] == ["unsupported_response_type"] and q["state"] == ["st-123"]
    # Another user's server: no access.
    other = login(hub, "carl")
    r = other.get(authorize_url(hub, "jupyterhub-user-bob", "/user/bob/oauth_callback"),
                  allow_redirects=False)
    assert r.status_code == 403
    # The token endpoint wants a form.
    r = requests.post(hub.url + "/hub/api/oauth2/token", json={"code": "x"}, timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


def test_consent_page_for_someone_elses_server(hub_factory, tmp_path):
    cfg = spawn_config(home=tmp_path / "homes")
    cfg["SharedPasswordAuthenticator"]["admin_password"] = ADMIN_PASSWORD
    hub = hub_factory(config=cfg)
    Api(hub)("POST", "/users/dora")
    assert start(hub, "dora").status_code == 201
    admin = login(hub, "admin", ADMIN_PASSWORD)
    url = authorize_url(hub, "jupyterhub-user-dora", "/user/dora/oauth_callback")
    r = admin.get(url, allow_redirects=False)
    assert r.status_code == 200 and 'id="oauth-authorize"' in r.text
    assert "Server at /user/dora/" in r.text
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', r.text).group(1)
    r = admin.post(url, data={"scopes": "access:servers!server=dora/"}, allow_redirects=False)
    assert r.status_code == 403  # no _xsrf
    r = admin.post(url, data={"_xsrf": xsrf}, allow_redirects=False)
    assert r.status_code == 302 and "code=" in r.headers["Location"]


def test_services_managed_and_oauth(hub_factory, tmp_path):
    port = free_port()
    cfg = spawn_config(home=tmp_path / "homes")
    cfg["JupyterHub"]["services"] = [
        {"name": "echo", "url": f"http://127.0.0.1:{port}", "command": ENV_SERVER,
         "oauth_no_confirm": True, "environment": {"ECHO_MODE": "test"}},
        {"name": "external", "url": "http://127.0.0.1:9", "api_token": "external-token-0123456789"},
    ]
    # As in JupyterHub 2+, users reach services only with access:services.
    cfg["JupyterHub"]["load_roles"] = [{"name": "user", "scopes": ["self", "access:services"]}]
    hub = hub_factory(config=cfg)
    api = Api(hub)

    def up():
        try:
            return requests.get(hub.public_url + "/services/echo/api", timeout=10).status_code == 200
        except (requests.ConnectionError, requests.Timeout):
            return False

    wait_for(up, 30, what="the managed service behind the proxy")
    env = requests.get(hub.public_url + "/services/echo/env", timeout=10).json()["env"]
    assert env["JUPYTERHUB_SERVICE_NAME"] == "echo"
    assert env["JUPYTERHUB_SERVICE_PREFIX"] == "/services/echo/"
    assert env["JUPYTERHUB_CLIENT_ID"] == "service-echo"
    assert env["JUPYTERHUB_OAUTH_CALLBACK_URL"] == "/services/echo/oauth_callback"
    assert env["JUPYTERHUB_SERVICE_URL"] == f"http://127.0.0.1:{port}"
    token = env["JUPYTERHUB_API_TOKEN"]
    me = requests.get(hub.url + "/hub/api/user", headers={"Authorization": f"token {token}"},
                      timeout=10).json()
    assert me["kind"] == "service" and me["name"] == "echo"
    model = api("GET", "/services/echo").json()
    assert model["pid"] > 0 and model["url"] == f"http://127.0.0.1:{port}"
    routes = api("GET", "/proxy").json()
    assert routes["/services/echo/"]["data"]["service"] == "echo"
    assert routes["/services/external/"]["target"] == "http://127.0.0.1:9"

    # OAuth for the service, without a consent page (oauth_no_confirm).
    s = login(hub, "erin")
    r = s.get(authorize_url(hub, "service-echo", "/services/echo/oauth_callback"),
              allow_redirects=False)
    assert r.status_code == 302 and "code=" in r.headers["Location"]
    code = parse_qs(urlparse(r.headers["Location"]).query)["code"][0]
    r = exchange(hub, client_id="service-echo", client_secret=token,
                 grant_type="authorization_code", code=code,
                 redirect_uri="/services/echo/oauth_callback")
    assert r.status_code == 200
    assert "access:services!service=echo" in r.json()["scope"].split()

    # A managed service that dies is started again.
    pid = model["pid"]
    import os
    import signal
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: api("GET", "/services/echo").json()["pid"] not in (0, pid), 30,
             what="the service restarted")
    wait_for(up, 30, what="the restarted service")
