"""GenericOAuthenticator against a real OpenID Connect provider: the npm oidc-provider started
by ../shared/recipes/start-oidc-provider.sh, once per pytest worker (port 19050 + worker
number, 19059 without xdist, or a free port of 19200-19399 when another session's provider
holds that one), stopped when the session ends.

Callback URL. The provider only redirects to the URIs it was started with, but every hub of
these tests listens on a port chosen when it starts. So each worker first starts a small relay
(fake_oauth.CallbackRelay, on a free port) whose /hub/oauth_callback is the one redirect URI
the provider is started with; the hubs are configured with
OAuthenticator.oauth_callback_url = that relay URL (it is what they send as redirect_uri, in
the authorize redirect and in the code exchange), and the relay sends the browser on to the
hub under test (`relay.target`). The hub's cookies are host cookies of 127.0.0.1, which
browsers and requests send to every port of that host, so the state cookie travels as it
would through a real reverse proxy.

The login is driven at the HTTP level with requests, as a browser would: hub -> provider (its
login form is posted) -> relay -> hub. Bad id_tokens come from fake_oauth.TamperProxy, which
sits in front of the provider's token endpoint (the hub's token_url) and rewrites the id_token
of the real response: re-signed with the provider's own key (read from the recipe's key file
and checked against the provider's JWKS) when one claim is wrong (aud, exp, nonce, iss), left
with the old signature when the payload is changed, unsigned (alg none), HMAC-signed with the
public key (alg confusion), or signed by a key the provider does not publish (unknown kid).
A wrong audience needs no second client: the token is signed by the right key, only `aud`
differs. The JWKS also goes through the proxy, so the tests see when the hub fetches it.
"""
import copy
import re
import time
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from conftest import ADMIN_TOKEN, Api, free_port
from helpers.fake_oauth import (RECIPES, TAMPER_MODES, TamperProxy, acquire_oidc,
                                assert_error_page, assert_hub_serves, finish_login,
                                jwt_decode, login, release_oidc, start_login, state_cookies,
                                walk_to_callback)

CRYPT_KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
ALICE = ("alice", "alice-pw")
BOB = ("bob", "bob-pw")
CAROL = ("carol", "carol-pw")
SORRY = "Ask the Ganymede test admins for access."


@pytest.fixture(scope="session")
def oidc(tmp_path_factory):
    if not (RECIPES / "start-oidc-provider.sh").exists():
        pytest.skip(f"no OpenID provider recipe in {RECIPES}")
    provider, relay = acquire_oidc(tmp_path_factory.mktemp("oidc"))
    yield provider, relay
    release_oidc()


def generic_settings(provider, relay):
    """What a deployment would write for this provider: the issuer, nothing else about URLs."""
    return {
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
        "oidc_issuer": provider.issuer,
        "oauth_callback_url": relay.callback_url,
        "basic_auth": True,  # the provider's client is registered for client_secret_basic
        "scope": ["openid", "profile", "email", "groups"],
        "username_claim": "preferred_username",
        "login_service": "Test IdP",
        "custom_403_message": SORRY,
        "allowed_groups": ["hub-users"],
        "admin_groups": ["admins"],
        "auth_state_groups_key": "oauth_user.groups",
        "http_request_kwargs": {"request_timeout": 5},
    }


@pytest.fixture
def make_hub(hub_factory, oidc):
    """make_hub(generic={...}, authenticator={...}, jupyterhub={...}, drop=(keys), env=...,
    state_dir=...): a hub with GenericOAuthenticator on the provider (generic_settings, updated
    with @generic, or only @generic with replace_generic=True); the relay points at it."""
    provider, relay = oidc

    def make(generic=None, authenticator=None, jupyterhub=None, replace_generic=False,
             drop=(), **kw):
        settings = dict(generic or {}) if replace_generic else \
            {**generic_settings(provider, relay), **(generic or {})}
        for key in drop:
            settings.pop(key, None)
        cfg = {
            "JupyterHub": {"authenticator_class": "generic-oauth", "redirect_to_server": False,
                           "api_tokens": {ADMIN_TOKEN: "admin"}, **(jupyterhub or {})},
            "Authenticator": {"admin_users": ["admin"], "manage_groups": True,
                              **(authenticator or {})},
            "GenericOAuthenticator": settings,
        }
        h = hub_factory(config=cfg, **kw)
        h.api = Api(h)
        relay.target = h.url
        return h

    yield make
    relay.target = None


@pytest.fixture
def tamper(oidc):
    provider, _ = oidc
    with TamperProxy(provider.issuer, provider.key) as proxy:
        yield proxy


def logged_in_as(session, hub):
    r = session.get(hub.url + "/hub/api/user", timeout=10)
    return r.json()["name"] if r.status_code == 200 else None


def test_login_flow_creates_user_with_groups_and_admin(make_hub, oidc):
    provider, relay = oidc
    hub = make_hub()
    s = requests.Session()
    r = start_login(s, hub.url, next_="/hub/token")
    assert r.status_code == 302, r.text[:500]
    loc = urlsplit(r.headers["Location"])
    q = {k: v[0] for k, v in parse_qs(loc.query).items()}
    # The authorize endpoint comes from the issuer's discovery document.
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == \
        provider.discovery()["authorization_endpoint"]
    assert q["client_id"] == provider.client_id and q["response_type"] == "code"
    assert q["redirect_uri"] == relay.callback_url
    assert set(q["scope"].split(" ")) == {"openid", "profile", "email", "groups"}
    assert q["code_challenge_method"] == "S256"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", q["code_challenge"]), q["code_challenge"]
    assert q["state"] and q.get("nonce"), "OpenID logins carry a state and a nonce"
    # The state cookie: HttpOnly, for /hub/ only.
    raw = [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("oauthenticator-state")]
    assert len(raw) == 1 and "HttpOnly" in raw[0] and "Path=/hub/" in raw[0], raw

    cb = walk_to_callback(s, r.headers["Location"], ALICE)
    cbq = parse_qs(urlsplit(cb).query)
    assert cbq["state"] == [q["state"]] and cbq["code"]
    r = finish_login(s, cb)
    assert r.status_code == 302, r.text[:800]
    assert urljoin(hub.url + "/hub/", r.headers["Location"]) == hub.url + "/hub/token"
    set_cookies = r.raw.headers.getlist("Set-Cookie")
    assert any(c.startswith("jupyterhub-hub-login=") and "HttpOnly" in c for c in set_cookies)
    assert not any(c.value for c in state_cookies(s)), "the state cookie outlived the login"

    me = s.get(hub.url + "/hub/api/user", timeout=10).json()
    assert me["name"] == "alice" and me["admin"] is True
    assert sorted(me["groups"]) == ["admins", "hub-users"]
    groups = {g["name"]: sorted(g["users"]) for g in hub.api("GET", "/groups").json()}
    assert groups["admins"] == ["alice"] and groups["hub-users"] == ["alice"]
    assert_hub_serves(hub)


def test_groups_decide_admin_and_access(make_hub):
    hub = make_hub()
    r = login(requests.Session(), hub.url, BOB)
    assert r.status_code == 302, r.text[:800]
    bob = hub.api("GET", "/users/bob").json()
    assert bob["admin"] is False and bob["groups"] == ["hub-users"]
    # carol is only in "visitors": not in allowed_groups.
    s = requests.Session()
    r = login(s, hub.url, CAROL)
    assert_error_page(r, 403, re.escape(SORRY))
    assert logged_in_as(s, hub) is None
    assert hub.api("GET", "/users/carol").status_code == 404
    assert_hub_serves(hub)


def test_groups_claim_by_default(make_hub):
    """oauthenticator 17's GenericOAuthenticator reads groups from the `groups` claim when
    nothing says otherwise (claim_groups_key defaults to "groups", so auth_state_groups_key
    to "oauth_user.groups"): configs that rely on it keep working."""
    hub = make_hub(drop=("auth_state_groups_key",))
    s = requests.Session()
    assert login(s, hub.url, ALICE).status_code == 302
    assert sorted(hub.api("GET", "/users/alice").json()["groups"]) == ["admins", "hub-users"]
    assert_error_page(login(requests.Session(), hub.url, CAROL), 403, re.escape(SORRY))


def test_managed_groups_drop_stale_membership(make_hub, tmp_path):
    """A hub that managed groups by hand, then switched to the provider's: the next login
    makes the user's groups exactly the provider's."""
    hub = make_hub(authenticator={"manage_groups": False}, generic={"allow_all": True},
                   drop=("allowed_groups", "admin_groups", "auth_state_groups_key"))
    assert hub.api("POST", "/users/alice").status_code == 201
    assert hub.api("POST", "/groups/stale", json={"users": ["alice"]}).status_code == 201
    hub.stop()
    hub = make_hub()
    r = login(requests.Session(), hub.url, ALICE)
    assert r.status_code == 302, r.text[:800]
    assert sorted(hub.api("GET", "/users/alice").json()["groups"]) == ["admins", "hub-users"]
    assert hub.api("GET", "/groups/stale").json()["users"] == []


def test_auth_state_is_stored_and_shown_to_admins(make_hub, oidc):
    provider, _ = oidc
    hub = make_hub(authenticator={"enable_auth_state": True},
                   env={"JUPYTERHUB_CRYPT_KEY": CRYPT_KEY})
    s = requests.Session()
    r = start_login(s, hub.url)
    nonce = parse_qs(urlsplit(r.headers["Location"]).query)["nonce"][0]
    r = finish_login(s, walk_to_callback(s, r.headers["Location"], ALICE))
    assert r.status_code == 302, r.text[:800]
    state = hub.api("GET", "/users/alice").json()["auth_state"]
    assert state, "no auth_state for alice"
    user = state["oauth_user"]
    assert user["sub"] == "alice" and user["preferred_username"] == "alice"
    assert user["email"] == "alice@example.org" and user["groups"] == ["hub-users", "admins"]
    assert "openid" in state["scope"] and isinstance(state["scope"], list)
    assert state["token_response"]["token_type"].lower() == "bearer"
    assert state["token_response"]["access_token"] == state["access_token"]
    _, claims, _ = jwt_decode(state["id_token"])
    assert claims["aud"] == provider.client_id and claims["nonce"] == nonce
    # The access token is the provider's own: its userinfo endpoint answers for alice.
    info = requests.get(provider.discovery()["userinfo_endpoint"], timeout=10,
                        headers={"Authorization": "Bearer " + state["access_token"]})
    assert info.status_code == 200 and info.json()["sub"] == "alice"
    # Only admin:auth_state sees it (alice is an admin: her token here has less than she
    # has); no secret reaches the log.
    token = hub.api.token_for("alice", scopes=["read:users"])
    assert "auth_state" not in hub.api("GET", "/users/alice", token=token).json()
    log = hub.log()
    for secret in (state["access_token"], state["id_token"], provider.client_secret):
        assert secret not in log


def test_discovery_from_the_issuer_alone(make_hub, oidc):
    """Only the issuer: authorize, token, userinfo and JWKS URLs all come from discovery."""
    provider, relay = oidc
    hub = make_hub(replace_generic=True, authenticator={"manage_groups": False},
                   generic={"client_id": provider.client_id,
                            "client_secret": provider.client_secret,
                            "oidc_issuer": provider.issuer, "basic_auth": True,
                            "oauth_callback_url": relay.callback_url,
                            "scope": ["openid", "profile"],
                            "username_claim": "preferred_username", "allow_all": True})
    s = requests.Session()
    r = start_login(s, hub.url)
    assert r.headers["Location"].startswith(provider.discovery()["authorization_endpoint"] + "?")
    r = finish_login(s, walk_to_callback(s, r.headers["Location"], BOB))
    assert r.status_code == 302, r.text[:800]
    assert logged_in_as(s, hub) == "bob"


def test_explicit_urls_without_discovery(make_hub, oidc):
    """oauthenticator's way: every URL given, no issuer (so no id_token verification), groups
    through the deprecated claim_groups_key."""
    provider, relay = oidc
    d = provider.discovery()
    hub = make_hub(replace_generic=True, generic={
        "client_id": provider.client_id, "client_secret": provider.client_secret,
        "authorize_url": d["authorization_endpoint"], "token_url": d["token_endpoint"],
        "userdata_url": d["userinfo_endpoint"], "basic_auth": True,
        "oauth_callback_url": relay.callback_url, "scope": ["openid", "profile", "groups"],
        "username_claim": "preferred_username", "claim_groups_key": "groups",
        "allowed_groups": ["hub-users"], "admin_groups": ["admins"],
        "custom_403_message": SORRY})
    s = requests.Session()
    r = login(s, hub.url, ALICE)
    assert r.status_code == 302, r.text[:800]
    me = s.get(hub.url + "/hub/api/user", timeout=10).json()
    assert me["name"] == "alice" and me["admin"] is True
    assert sorted(me["groups"]) == ["admins", "hub-users"]
    assert_error_page(login(requests.Session(), hub.url, CAROL), 403, re.escape(SORRY))


def test_userdata_from_id_token(make_hub):
    hub = make_hub(generic={"userdata_from_id_token": True})
    s = requests.Session()
    r = login(s, hub.url, BOB)
    assert r.status_code == 302, r.text[:800]
    assert logged_in_as(s, hub) == "bob"
    assert hub.api("GET", "/users/bob").json()["groups"] == ["hub-users"]


def test_logout_at_the_provider(make_hub, oidc):
    """RP-initiated logout: without logout_redirect_url the browser goes on to the provider's
    end_session_endpoint with the id_token as a hint, and the provider accepts it."""
    provider, relay = oidc
    back = relay.callback_url.split("/hub/")[0] + "/"  # registered: the relay's origin + "/"
    hub = make_hub(generic={"oidc_post_logout_redirect_uri": back},
                   authenticator={"enable_auth_state": True},
                   env={"JUPYTERHUB_CRYPT_KEY": CRYPT_KEY})
    s = requests.Session()
    assert login(s, hub.url, ALICE).status_code == 302
    id_token = hub.api("GET", "/users/alice").json()["auth_state"]["id_token"]
    r = s.get(hub.url + "/hub/logout", allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text[:500]
    loc = urlsplit(r.headers["Location"])
    end_session = urlsplit(provider.discovery()["end_session_endpoint"])
    assert (loc.netloc, loc.path) == (end_session.netloc, end_session.path)
    q = parse_qs(loc.query)
    assert q["client_id"] == [provider.client_id] and q["id_token_hint"] == [id_token]
    assert q["post_logout_redirect_uri"] == [back]
    assert logged_in_as(s, hub) is None
    # The provider takes it: its logout confirmation, not an error.
    page = s.get(r.headers["Location"], timeout=10)
    assert page.status_code == 200, page.text[:500]
    # Turned off: back to the hub's own login page.
    hub.stop()
    hub = make_hub(generic={"oidc_logout": False}, state_dir=hub.state_dir / "off")
    s = requests.Session()
    assert login(s, hub.url, ALICE).status_code == 302
    r = s.get(hub.url + "/hub/logout", allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"] == "/hub/login"


def test_login_page_auto_login_and_logout(make_hub, tmp_path):
    hub = make_hub(generic={"logout_redirect_url": "http://127.0.0.1:1/signed-out"})
    r = hub.get("/hub/login?next=%2Fhub%2Ftoken")
    assert r.status_code == 200
    assert "Sign in with Test IdP" in re.sub(r"\s+", " ", r.text)
    hrefs = re.findall(r'href="([^"]*oauth_login[^"]*)"', r.text)
    assert hrefs and "next=%2Fhub%2Ftoken" in hrefs[0], hrefs
    s = requests.Session()
    assert login(s, hub.url, ALICE).status_code == 302
    r = s.get(hub.url + "/hub/logout", allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"] == "http://127.0.0.1:1/signed-out"
    assert logged_in_as(s, hub) is None
    hub.stop()
    hub = make_hub(authenticator={"auto_login": True}, state_dir=tmp_path / "auto")
    r = hub.get("/hub/login?next=%2Fhub%2Ftoken")
    assert r.status_code == 302
    loc = urlsplit(urljoin(hub.url + "/hub/", r.headers["Location"]))
    assert loc.path == "/hub/oauth_login" and parse_qs(loc.query)["next"] == ["/hub/token"]


TAMPER_EXPECT = {
    "payload": r"signature",
    "aud": r"aud",
    "expired": r"expir",
    "nonce": r"nonce",
    "iss": r"iss",
    "alg-none": r"alg|sign",
    "alg-confusion": r"alg|sign",
    "unknown-kid": r"key|kid",
}


@pytest.mark.parametrize("mode", TAMPER_MODES)
def test_bad_id_token_is_refused(make_hub, tamper, mode):
    # The JWKS also goes through the proxy, so its fetches can be counted.
    hub = make_hub(generic={"token_url": tamper.url + "/token", "jwks_url": tamper.url + "/jwks"})
    if mode == "unknown-kid":
        # A good login first, so that the keys are cached: an unknown kid must make the hub
        # fetch them again before refusing.
        assert login(requests.Session(), hub.url, BOB).status_code == 302
    jwks_before = len([r for r in tamper.requests if r.path == "/jwks"])
    tamper.mode = mode
    s = requests.Session()
    r = login(s, hub.url, ALICE)
    assert tamper.tampered, "the hub's token request did not go through the proxy"
    text = assert_error_page(r, 403, r"id[ _-]?token")
    assert re.search(TAMPER_EXPECT[mode], text, re.I), f"{mode}: {text[:600]}"
    assert logged_in_as(s, hub) is None
    for name in ("alice", "mallory"):
        assert hub.api("GET", f"/users/{name}").status_code == 404
    if mode == "unknown-kid":
        assert len([r for r in tamper.requests if r.path == "/jwks"]) > jwks_before, \
            "an unknown kid did not make the hub refresh the provider's keys"
    # The hub keeps serving, and the same login goes through once the token is genuine.
    assert_hub_serves(hub)
    tamper.mode = None
    r = login(s, hub.url, ALICE)
    assert r.status_code == 302, r.text[:800]
    assert logged_in_as(s, hub) == "alice"


def test_replayed_callback_is_refused(make_hub):
    hub = make_hub()
    s = requests.Session()
    r = start_login(s, hub.url)
    cb = walk_to_callback(s, r.headers["Location"], ALICE)
    kept = [copy.copy(c) for c in state_cookies(s)]
    assert kept, "no state cookie"
    assert finish_login(s, cb).status_code == 302
    # The same callback URL again in the same browser: the state was spent.
    assert_error_page(finish_login(s, cb), 400, r"state")
    # An attacker who kept the state cookie as well: the code was spent too.
    s2 = requests.Session()
    for c in kept:
        s2.cookies.set_cookie(c)
    r = finish_login(s2, cb)
    assert_error_page(r, (400, 401, 403), r"state|code|grant|token")
    assert logged_in_as(s2, hub) is None
    assert_hub_serves(hub)


def test_missing_state_cookie(make_hub):
    hub = make_hub()
    s = requests.Session()
    r = start_login(s, hub.url)
    cb = walk_to_callback(s, r.headers["Location"], ALICE)
    for c in state_cookies(s):
        s.cookies.clear(c.domain, c.path, c.name)
    assert_error_page(finish_login(s, cb), 400, r"state")
    assert logged_in_as(s, hub) is None
    # No state in the URL at all.
    relay_url = cb.split("?")[0]
    code = parse_qs(urlsplit(cb).query)["code"][0]
    assert_error_page(finish_login(requests.Session(), f"{relay_url}?code={code}"), 400,
                      r"state")
    assert_hub_serves(hub)


def test_state_of_another_login_is_refused(make_hub):
    hub = make_hub()
    mine, theirs = requests.Session(), requests.Session()
    r = start_login(mine, hub.url)
    cb = walk_to_callback(mine, r.headers["Location"], ALICE)
    start_login(theirs, hub.url)
    for c in state_cookies(mine):
        mine.cookies.clear(c.domain, c.path, c.name)
    for c in state_cookies(theirs):
        mine.cookies.set_cookie(copy.copy(c))
    assert_error_page(finish_login(mine, cb), 400, r"state")
    assert logged_in_as(mine, hub) is None


def test_error_from_the_provider(make_hub, oidc):
    _, relay = oidc
    hub = make_hub()
    s = requests.Session()
    r = start_login(s, hub.url)
    state = parse_qs(urlsplit(r.headers["Location"]).query)["state"][0]
    r = finish_login(s, f"{relay.callback_url}?error=access_denied&error_description="
                        f"The+user+said+no&state={state}")
    assert_error_page(r, 400, r"The user said no|access_denied")
    assert logged_in_as(s, hub) is None
    assert_hub_serves(hub)


def test_real_provider_error_prompt_none(make_hub):
    """prompt=none without a session at the provider: it answers login_required."""
    hub = make_hub(generic={"extra_authorize_params": {"prompt": "none"}})
    s = requests.Session()
    r = start_login(s, hub.url)
    assert "prompt=none" in r.headers["Location"]
    cb = walk_to_callback(s, r.headers["Location"])
    assert "error=login_required" in cb, cb
    assert_error_page(finish_login(s, cb), 400, r"login_required|authentication is required")
    assert_hub_serves(hub)


def test_login_hint_through_extra_authorize_params(make_hub):
    """extra_authorize_params reach the provider: login_hint signs bob in without the form."""
    hub = make_hub(generic={"extra_authorize_params": {"login_hint": "bob"}})
    s = requests.Session()
    r = login(s, hub.url)  # no credentials: walk_to_callback fails if the form shows
    assert r.status_code == 302, r.text[:800]
    assert logged_in_as(s, hub) == "bob"


def test_missing_username_claim(make_hub):
    hub = make_hub(generic={"username_claim": "employee_number"})
    s = requests.Session()
    r = login(s, hub.url, ALICE)
    # oauthenticator raises (a 500); any clear refusal that names the claim will do.
    assert_error_page(r, (400, 403, 500, 502), r"employee_number")
    assert logged_in_as(s, hub) is None
    assert_hub_serves(hub)


def test_blocked_user_is_refused_even_as_admin(make_hub):
    """blocked_users comes before every allow rule, admin_groups included."""
    hub = make_hub(authenticator={"blocked_users": ["alice"]})
    s = requests.Session()
    assert_error_page(login(s, hub.url, ALICE), 403)
    assert logged_in_as(s, hub) is None
    assert hub.api("GET", "/users/alice").status_code == 404
    assert login(requests.Session(), hub.url, BOB).status_code == 302


def test_issuer_that_does_not_answer(hub_factory, tmp_path, oidc):
    """An issuer whose discovery document cannot be had: the hub either refuses to start,
    saying so, or starts and refuses logins with a clear 5xx page while it keeps serving."""
    provider, relay = oidc
    dead = f"http://127.0.0.1:{free_port()}"
    settings = {**generic_settings(provider, relay), "oidc_issuer": dead}
    hub = hub_factory(config={
        "JupyterHub": {"authenticator_class": "generic-oauth"},
        "Authenticator": {"manage_groups": True},
        "GenericOAuthenticator": settings}, start=False)
    hub.start(wait=False)
    deadline = time.monotonic() + 30
    while hub.proc.poll() is None and "Ganymede is running at" not in hub.log() and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    if hub.proc.poll() is not None:
        assert hub.proc.returncode != 0
        assert dead in hub.log() and re.search(r"discover|openid-configuration", hub.log(), re.I)
        return  # refused to start, saying why (hub_factory checks the sanitizers)
    hub.wait_ready()
    s = requests.Session()
    r = start_login(s, hub.url)
    assert_error_page(r, (502, 503, 504), r"provider|issuer|discover|openid")
    assert_hub_serves(hub)
