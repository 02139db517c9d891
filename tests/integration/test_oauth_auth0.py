"""Auth0OAuthenticator against a fake Auth0 tenant (helpers/fake_oauth.py), pointed at it with
OAuthenticator.authorize_url/token_url/userdata_url/jwks_url: the email as user name, the
verified-email rule (oauthenticator 17.4, CVE-2026-33175) and allow_unverified_email, the
zero-to-jupyterhub config of issue 9 loaded unchanged from YAML, and a provider that fails."""
import json
import re
import sqlite3
import textwrap
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from conftest import ADMIN_TOKEN, Api
from helpers.fake_oauth import (PROVIDER_FAILURES, FakeProvider, assert_error_page,
                                assert_hub_serves, check_provider_failure, login)

HUB_TIMEOUT = 2
SORRY = "This hub is for the Example team."

# The zero-to-jupyterhub hub.config from issue 9, exactly as written there.
Z2JH_CONFIG = (
    '{"Auth0OAuthenticator": {"client_id": "...", "client_secret": "...", "oauth_callback_url":\n'
    '  "https://hub.example.org/hub/oauth_callback", "scope": ["openid", "email"],\n'
    '  "auth0_subdomain": "prod-8ua-1yy9"}, "Authenticator": {"admin_users":\n'
    '  ["devops@example.com"], "auto_login": true}, "JupyterHub": {"authenticator_class":\n'
    '  "auth0"}}'
)


@pytest.fixture
def auth0():
    with FakeProvider("auth0", hang_seconds=12.0) as fake:
        yield fake


@pytest.fixture
def make_hub(hub_factory, auth0):
    def make(settings=None, authenticator=None, class_name="auth0", drop=(), **kw):
        cfg = {
            "JupyterHub": {"authenticator_class": class_name, "redirect_to_server": False,
                           "api_tokens": {ADMIN_TOKEN: "admin"}},
            "Authenticator": {"admin_users": ["admin"], "allow_all": True,
                              **(authenticator or {})},
            "Auth0OAuthenticator": {
                "client_id": auth0.client_id, "client_secret": auth0.client_secret,
                "auth0_domain": auth0.auth0_domain, **auth0.endpoint_config(),
                "scope": ["openid", "email"], "custom_403_message": SORRY,
                "http_request_kwargs": {"request_timeout": HUB_TIMEOUT}, **(settings or {})},
        }
        for key in drop:
            cfg["Auth0OAuthenticator"].pop(key)
        h = hub_factory(config=cfg, **kw)
        h.api = Api(h)
        return h
    return make


def me(session, hub):
    r = session.get(hub.url + "/hub/api/user", timeout=10)
    return r.json()["name"] if r.status_code == 200 else None


@pytest.mark.parametrize("class_name", ["auth0", "oauthenticator.auth0.Auth0OAuthenticator"])
def test_email_is_the_user_name(make_hub, auth0, class_name):
    hub = make_hub(class_name=class_name)
    auth0.login_as("ada")
    s = requests.Session()
    r = login(s, hub.url)
    assert r.status_code == 302, r.text[:800]
    assert me(s, hub) == "ada@example.org"  # Ada@Example.org, normalised
    (auth,) = auth0.requests_for("authorize")
    assert auth.query["scope"].split(" ") == ["openid", "email"]
    assert auth.query["response_type"] == "code"
    (user,) = auth0.requests_for("user")
    assert re.fullmatch(r"(?i:bearer) \S+", user.headers["authorization"])
    assert_hub_serves(hub)


def test_unverified_email_is_refused(make_hub, auth0):
    hub = make_hub()
    auth0.login_as("unverified")
    s = requests.Session()
    r = login(s, hub.url)
    # Before any allow rule (allow_all is on here).
    assert_error_page(r, 403, r"unverified|not verified")
    assert me(s, hub) is None
    assert hub.api("GET", "/users/nobody@example.net").status_code == 404
    assert_hub_serves(hub)
    auth0.login_as("ada")
    assert login(requests.Session(), hub.url).status_code == 302


def test_allow_unverified_email(make_hub, auth0):
    hub = make_hub({"allow_unverified_email": True})
    auth0.login_as("unverified")
    s = requests.Session()
    assert login(s, hub.url).status_code == 302
    assert me(s, hub) == "nobody@example.net"


def test_allow_rules_still_apply_to_verified_emails(make_hub, auth0):
    hub = make_hub(authenticator={"allow_all": False, "allowed_users": ["devops@example.com"]})
    auth0.login_as("ada")
    assert_error_page(login(requests.Session(), hub.url), 403, re.escape(SORRY))
    auth0.login_as("devops")
    assert login(requests.Session(), hub.url).status_code == 302


def test_default_scope_asks_for_the_email(make_hub, auth0):
    """Auth0's /userinfo has no email without the `email` scope, and the email is the user
    name: without a configured scope the hub must still ask for openid and email."""
    hub = make_hub(drop=("scope",))
    auth0.login_as("ada")
    s = requests.Session()
    r = login(s, hub.url)
    (auth,) = auth0.requests_for("authorize")
    assert {"openid", "email"} <= set(auth.query.get("scope", "").split(" ")), auth.query
    assert r.status_code == 302, r.text[:800]
    assert me(s, hub) == "ada@example.org"


@pytest.mark.parametrize("form", ["hub-config.yaml", "values.yaml"])
@pytest.mark.sqlite_only
def test_z2jh_config_loads_unchanged(hub_factory, tmp_path, form):
    if form == "values.yaml":
        # As zero-to-jupyterhub users write it: under hub.config in their values file.
        text = "hub:\n  config:\n" + textwrap.indent(
            json.dumps(json.loads(Z2JH_CONFIG), indent=2), "    ") + "\n"
    else:
        text = Z2JH_CONFIG + "\n"  # JSON is YAML: the snippet pasted as is
    (tmp_path / form).write_text(text)
    hub = hub_factory(args=["--config", form])
    assert "Auth0OAuthenticator" in hub.log()
    # auto_login: the login page sends the browser on to oauth_login...
    r = hub.get("/hub/login?next=%2Fhub%2Fhome")
    assert r.status_code == 302, r.text[:500]
    loc = urlsplit(urljoin(hub.url + "/hub/", r.headers["Location"]))
    assert loc.path == "/hub/oauth_login", r.headers["Location"]
    assert parse_qs(loc.query).get("next") == ["/hub/home"]
    # ...which sends it to the tenant's authorize endpoint (not followed).
    r = hub.get(loc.path + "?" + loc.query)
    assert r.status_code == 302
    assert r.headers["Location"].startswith("https://prod-8ua-1yy9.auth0.com/authorize?")
    q = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["Location"]).query).items()}
    assert q["client_id"] == "..." and q["response_type"] == "code"
    assert q["redirect_uri"] == "https://hub.example.org/hub/oauth_callback"
    assert q["scope"].split(" ") == ["openid", "email"] and q["state"]
    # admin_users reached the database (JupyterHub makes admin users at start).
    db = sqlite3.connect(tmp_path / "jupyterhub.sqlite")
    assert db.execute("SELECT admin FROM users WHERE name = 'devops@example.com'").fetchall() \
        == [(1,)]


def test_logout_goes_through_auth0(make_hub, auth0):
    """oauthenticator's default logout_redirect_url for Auth0: https://<domain>/v2/logout."""
    hub = make_hub()
    s = requests.Session()
    assert login(s, hub.url).status_code == 302
    r = s.get(hub.url + "/hub/logout", allow_redirects=False, timeout=10)
    assert r.status_code == 302
    assert r.headers["Location"].startswith(f"https://{auth0.auth0_domain}/v2/logout")
    assert me(s, hub) is None


def test_logout_without_a_session_goes_through_auth0(make_hub, auth0):
    """oauthenticator's logout handler sends every /hub/logout to logout_redirect_url, signed
    in or not (the browser may still have a session at Auth0)."""
    hub = make_hub()
    r = hub.get("/hub/logout")
    assert r.status_code == 302, r.text[:300]
    assert r.headers["Location"].startswith(f"https://{auth0.auth0_domain}/v2/logout")


@pytest.mark.parametrize("endpoint,mode", PROVIDER_FAILURES, ids=lambda v: v)
def test_provider_failures(make_hub, auth0, endpoint, mode):
    hub = make_hub()
    auth0.login_as("ada")
    check_provider_failure(hub, auth0, endpoint, mode, HUB_TIMEOUT)
