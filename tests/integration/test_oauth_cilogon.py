"""CILogonOAuthenticator against a fake CILogon (helpers/fake_oauth.py), pointed at it with
OAuthenticator.authorize_url/token_url/userdata_url/jwks_url: per-IdP username derivation
(strip_idp_domain, prefix), allow_all and allowed_domains per IdP, IdPs that are not
configured, a userinfo without `idp`, selected_idp and skin in the authorize redirect, the
deprecated allowed_idps, and a provider that fails."""
import re

import pytest
import requests

from conftest import ADMIN_TOKEN, Api
from helpers.fake_oauth import (IDP_EDU, IDP_GITHUB, IDP_GOOGLE, IDP_ORCID, PROVIDER_FAILURES,
                                FakeProvider, assert_error_page, assert_hub_serves,
                                check_provider_failure, login)

HUB_TIMEOUT = 2
SORRY = "Sign in with your university account."

# GitHub first, but the university is the default: selected_idp must list it first.
IDPS = {
    IDP_GITHUB: {
        "username_derivation": {"username_claim": "email", "action": "prefix", "prefix": "gh"},
        "allowed_domains": ["*.example.org", "example.com"],
    },
    IDP_EDU: {
        "username_derivation": {"username_claim": "eppn", "action": "strip_idp_domain",
                                "domain": "example.edu"},
        "allow_all": True,
        "default": True,
    },
    IDP_GOOGLE: {"username_derivation": {"username_claim": "email"}},
}


@pytest.fixture
def cilogon():
    with FakeProvider("cilogon", hang_seconds=12.0) as fake:
        yield fake


@pytest.fixture
def make_hub(hub_factory, cilogon):
    def make(settings=None, authenticator=None, class_name="cilogon", idps_key="idps", **kw):
        cfg = {
            "JupyterHub": {"authenticator_class": class_name, "redirect_to_server": False,
                           "api_tokens": {ADMIN_TOKEN: "admin"}},
            "Authenticator": {"admin_users": ["admin"], **(authenticator or {})},
            "CILogonOAuthenticator": {
                "client_id": cilogon.client_id, "client_secret": cilogon.client_secret,
                **cilogon.endpoint_config(), idps_key: IDPS, "skin": "ganymede-blue",
                "custom_403_message": SORRY,
                "http_request_kwargs": {"request_timeout": HUB_TIMEOUT}, **(settings or {})},
        }
        h = hub_factory(config=cfg, **kw)
        h.api = Api(h)
        return h
    return make


def me(session, hub):
    r = session.get(hub.url + "/hub/api/user", timeout=10)
    return r.json()["name"] if r.status_code == 200 else None


@pytest.mark.parametrize("class_name", ["cilogon",
                                        "oauthenticator.cilogon.CILogonOAuthenticator"])
def test_authorize_redirect_and_strip_idp_domain(make_hub, cilogon, class_name):
    # Only email and profile configured: the hub adds what the idp claim needs.
    hub = make_hub({"scope": ["email", "profile"]}, class_name=class_name)
    page = hub.get("/hub/login")
    assert page.status_code == 200 and "Sign in with CILogon" in re.sub(r"\s+", " ", page.text)
    cilogon.login_as("edu-alice")
    s = requests.Session()
    r = login(s, hub.url)
    assert r.status_code == 302, r.text[:800]
    # eppn Alice@Example.EDU: the domain goes (case-insensitively), the name is normalised.
    assert me(s, hub) == "alice"
    (auth,) = cilogon.requests_for("authorize")
    q = auth.query
    assert q["selected_idp"] == ",".join([IDP_EDU, IDP_GITHUB, IDP_GOOGLE])
    assert q["skin"] == "ganymede-blue"
    assert {"openid", "org.cilogon.userinfo", "email", "profile"} <= set(q["scope"].split(" "))
    (user,) = cilogon.requests_for("user")
    assert user.path == "/oauth2/userinfo"
    assert_hub_serves(hub)


def test_prefix_and_allowed_domains(make_hub, cilogon):
    hub = make_hub()
    cilogon.login_as("gh-bob")
    s = requests.Session()
    assert login(s, hub.url).status_code == 302
    assert me(s, hub) == "gh:bob@lab.example.org"  # *.example.org matches lab.example.org
    cilogon.login_as("gh-mallory")
    s = requests.Session()
    assert_error_page(login(s, hub.url), 403, re.escape(SORRY))
    assert me(s, hub) is None
    assert hub.api("GET", "/users/gh:mallory@elsewhere.example").status_code == 404
    assert_hub_serves(hub)


def test_configured_idp_without_allow_rule(make_hub, cilogon):
    hub = make_hub(authenticator={"allowed_users": ["gina@gmail.example"]})
    cilogon.login_as("google-gina")
    s = requests.Session()
    assert login(s, hub.url).status_code == 302
    assert me(s, hub) == "gina@gmail.example"
    hub.stop()
    hub = make_hub(state_dir=hub.state_dir / "strict")
    assert_error_page(login(requests.Session(), hub.url), 403, re.escape(SORRY))


def test_idp_not_configured(make_hub, cilogon):
    hub = make_hub()
    cilogon.login_as("orcid-olga")
    s = requests.Session()
    r = login(s, hub.url)
    assert_error_page(r, 403, re.escape(f"Login with identity provider {IDP_ORCID} is not "
                                        "pre-configured"))
    assert me(s, hub) is None
    assert_hub_serves(hub)


def test_missing_idp_claim(make_hub, cilogon):
    hub = make_hub()
    cilogon.login_as("no-idp")
    s = requests.Session()
    r = login(s, hub.url)
    # oauthenticator answers 500 "'idp' claim was not part of the response to the
    # userdata_url"; a provider's answer the hub cannot use may also be a 502.
    assert_error_page(r, (403, 500, 502), r"\bidp\b")
    assert me(s, hub) is None
    assert_hub_serves(hub)


def test_deprecated_allowed_idps(make_hub, cilogon):
    hub = make_hub(idps_key="allowed_idps")
    cilogon.login_as("edu-alice")
    s = requests.Session()
    assert login(s, hub.url).status_code == 302
    assert me(s, hub) == "alice"


@pytest.mark.parametrize("endpoint,mode", PROVIDER_FAILURES, ids=lambda v: v)
def test_provider_failures(make_hub, cilogon, endpoint, mode):
    hub = make_hub()
    cilogon.login_as("edu-alice")
    check_provider_failure(hub, cilogon, endpoint, mode, HUB_TIMEOUT)
