"""GitHubOAuthenticator against a fake GitHub (helpers/fake_oauth.py) in the GitHub Enterprise
layout: the hub is configured with github_url = the fake, and so calls its API under
{github_url}/api/v3. Covers the flow as GitHub sees it (PKCE, Accept: application/json, client
authentication, the API's token and User-Agent), allowed_organizations with `org` and
`org:team`, populate_teams_in_auth_state across two pages of /user/teams, the email from
/user/emails, and a provider that fails."""
import re
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from conftest import ADMIN_TOKEN, Api
from helpers.fake_oauth import (PROVIDER_FAILURES, FakeProvider, assert_error_page,
                                assert_hub_serves, check_provider_failure, finish_login, login,
                                pkce_challenge, start_login, walk_to_callback)

CRYPT_KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
HUB_TIMEOUT = 2  # the hub's http_request_kwargs.request_timeout; the fake hangs for 12 s
SORRY = "Only members of the right GitHub team may use this hub."


@pytest.fixture
def github():
    with FakeProvider("github", hang_seconds=12.0) as gh:
        yield gh


@pytest.fixture
def make_hub(hub_factory, github):
    def make(settings=None, authenticator=None, class_name="github", **kw):
        cfg = {
            "JupyterHub": {"authenticator_class": class_name, "redirect_to_server": False,
                           "api_tokens": {ADMIN_TOKEN: "admin"}},
            "Authenticator": {"admin_users": ["admin"], **(authenticator or {})},
            "GitHubOAuthenticator": {
                "client_id": github.client_id, "client_secret": github.client_secret,
                "github_url": github.url, "custom_403_message": SORRY,
                "http_request_kwargs": {"request_timeout": HUB_TIMEOUT}, **(settings or {})},
        }
        h = hub_factory(config=cfg, **kw)
        h.api = Api(h)
        return h
    return make


def me(session, hub):
    r = session.get(hub.url + "/hub/api/user", timeout=10)
    return r.json()["name"] if r.status_code == 200 else None


@pytest.mark.parametrize("class_name", ["github", "oauthenticator.github.GitHubOAuthenticator"])
def test_login_flow_as_github_sees_it(make_hub, github, class_name):
    hub = make_hub({"scope": ["read:org", "user:email"]},
                   authenticator={"allowed_users": ["octo-cat"]}, class_name=class_name)
    github.login_as("octo-cat")
    s = requests.Session()
    r = start_login(s, hub.url, next_="/hub/token")
    assert r.status_code == 302 and r.headers["Location"].startswith(
        github.url + "/login/oauth/authorize?"), r.headers.get("Location")
    r = finish_login(s, walk_to_callback(s, r.headers["Location"]))
    assert r.status_code == 302, r.text[:800]
    assert urljoin(hub.url + "/hub/", r.headers["Location"]) == hub.url + "/hub/token"
    # GitHub's login "Octo-Cat", normalised.
    assert me(s, hub) == "octo-cat"

    (auth,) = github.requests_for("authorize")
    q = auth.query
    assert q["client_id"] == github.client_id
    # Without oauth_callback_url the hub guesses it from the request, as oauthenticator does.
    assert q["redirect_uri"] == hub.url + "/hub/oauth_callback"
    assert q["scope"].split(" ") == ["read:org", "user:email"]
    assert q["code_challenge_method"] == "S256" and q["state"]

    (tok,) = github.requests_for("token")
    assert "application/json" in tok.headers.get("accept", "")
    assert tok.form["grant_type"] == "authorization_code"
    assert tok.form["redirect_uri"] == q["redirect_uri"]
    assert pkce_challenge(tok.form["code_verifier"]) == q["code_challenge"]
    # basic_auth is False by default: client_secret_post.
    assert tok.form["client_id"] == github.client_id
    assert tok.form["client_secret"] == github.client_secret
    assert tok.auth is None

    (user,) = github.requests_for("user")
    assert user.path == "/api/v3/user"
    assert re.fullmatch(r"(?i:bearer|token) gho_\w+", user.headers["authorization"])
    assert user.headers.get("user-agent"), "GitHub refuses API requests without a User-Agent"
    token = user.headers["authorization"].split()[1]
    assert token not in hub.log() and github.client_secret not in hub.log()
    # octo-cat's email is public: no /user/emails call is needed.
    assert github.requests_for("emails") == []
    assert_hub_serves(hub)


@pytest.mark.parametrize("next_,expected", [
    ("/user/octo-cat/lab?x=1", "/user/octo-cat/lab?x=1"),
    ("https://evil.example/x", "/hub/home"),
    ("//evil.example/x", "/hub/home"),
])
def test_next_survives_the_provider_but_stays_on_the_hub(make_hub, github, next_, expected):
    hub = make_hub(authenticator={"allow_all": True})
    r = login(requests.Session(), hub.url, next_=next_)
    assert r.status_code == 302, r.text[:500]
    assert urljoin(hub.url + "/hub/", r.headers["Location"]) == hub.url + expected
    # next= travels in the signed cookie, never through the provider.
    (auth,) = github.requests_for("authorize")
    assert "evil" not in auth.query["redirect_uri"] and "lab" not in auth.query["redirect_uri"]


def test_client_secret_basic(make_hub, github):
    hub = make_hub({"basic_auth": True}, authenticator={"allow_all": True})
    github.login_as("outsider")
    assert login(requests.Session(), hub.url).status_code == 302
    (tok,) = github.requests_for("token")
    assert tok.auth == (github.client_id, github.client_secret)
    assert "client_secret" not in tok.form


@pytest.mark.parametrize("orgs,user,scope,allowed", [
    (["jupyter"], "octo-cat", ["read:org"], True),
    (["jupyter"], "outsider", ["read:org"], False),
    (["jupyter:hub-team"], "private-pat", ["read:org"], True),
    (["jupyter:hub-team"], "teamless", ["read:org"], False),
    (["bigorg", "jupyter:hub-team"], "private-pat", ["read:org"], True),
    # Without read:org GitHub hides private members: the check answers 302 to the public
    # list, where teamless is not. Only a 204 counts.
    (["jupyter"], "teamless", [], False),
    # A public member is visible without read:org (oauthenticator follows the 302 and gets
    # 204 from public_members).
    (["jupyter"], "public-pam", [], True),
], ids=["org-member", "org-outsider", "team-member", "team-outsider", "second-entry",
        "private-member-no-read-org", "public-member-no-read-org"])
def test_allowed_organizations(make_hub, github, orgs, user, scope, allowed):
    hub = make_hub({"allowed_organizations": orgs, "scope": scope})
    github.login_as(user)
    s = requests.Session()
    r = login(s, hub.url)
    # GitHub logins are case-insensitive in URLs: Octo-Cat and octo-cat are the same user.
    checks = [rec.path.lower() for rec in github.requests_for("membership")]
    assert checks, "the hub did not ask GitHub about membership"
    first = orgs[0]
    if ":" in first:
        org, team = first.split(":")
        assert f"/api/v3/orgs/{org}/teams/{team}/members/{user}" in checks
    else:
        assert f"/api/v3/orgs/{first}/members/{user}" in checks
    if allowed:
        assert r.status_code == 302, r.text[:800]
        assert me(s, hub) == user
    else:
        assert_error_page(r, 403, re.escape(SORRY))
        assert me(s, hub) is None
        assert hub.api("GET", f"/users/{user}").status_code == 404
        assert_hub_serves(hub)


def test_populate_teams_in_auth_state(make_hub, github):
    hub = make_hub({"scope": ["read:org"], "allowed_organizations": ["jupyter"],
                    "populate_teams_in_auth_state": True},
                   authenticator={"enable_auth_state": True},
                   env={"JUPYTERHUB_CRYPT_KEY": CRYPT_KEY})
    github.login_as("octo-cat")
    assert login(requests.Session(), hub.url).status_code == 302
    pages = github.requests_for("teams")
    assert [p.query.get("page", "1") for p in pages] == ["1", "2"], [p.query for p in pages]
    assert pages[0].query["per_page"] == "100"
    state = hub.api("GET", "/users/octo-cat").json()["auth_state"]
    slugs = [t["slug"] for t in state["teams"]]
    assert len(slugs) == 151 and "hub-team" in slugs and "team-149" in slugs
    assert state["teams"][0]["organization"]["login"] in ("bigorg", "jupyter")
    assert state["github_user"]["login"] == "Octo-Cat"
    assert state["scope"] == ["read:org"]
    assert state["token_response"]["token_type"] == "bearer"
    assert state["access_token"].startswith("gho_")


def test_email_from_user_emails(make_hub, github):
    hub = make_hub({"scope": ["user:email"]}, authenticator={
        "enable_auth_state": True, "allowed_users": ["private-pat"]},
        env={"JUPYTERHUB_CRYPT_KEY": CRYPT_KEY})
    github.login_as("private-pat")
    assert login(requests.Session(), hub.url).status_code == 302
    assert len(github.requests_for("emails")) == 1
    state = hub.api("GET", "/users/private-pat").json()["auth_state"]
    assert state["github_user"]["email"] == "pat@example.org"  # the primary one
    # The user granted less than asked: no user:email, no call to /user/emails.
    github.clear_requests()
    github.granted_scope = ["read:user"]
    assert login(requests.Session(), hub.url).status_code == 302
    assert github.requests_for("emails") == []
    state = hub.api("GET", "/users/private-pat").json()["auth_state"]
    assert state["github_user"]["email"] is None and state["scope"] == ["read:user"]


def test_forged_state_cookie(make_hub, github):
    hub = make_hub(authenticator={"allow_all": True})
    s = requests.Session()
    r = start_login(s, hub.url)
    cb = walk_to_callback(s, r.headers["Location"])
    (cookie,) = [c for c in s.cookies if c.name.startswith("oauthenticator-state")]
    # Another next= (or code_verifier) would need a new signature: change one character.
    cookie.value = cookie.value[:-1] + ("A" if cookie.value[-1] != "A" else "B")
    r = finish_login(s, cb)
    assert_error_page(r, 400, r"state")
    assert me(s, hub) is None and github.requests_for("token") == []
    assert_hub_serves(hub)


def test_user_denies_access(make_hub, github):
    hub = make_hub(authenticator={"allow_all": True})
    github.deny_next()
    s = requests.Session()
    r = login(s, hub.url)
    assert_error_page(r, 400, r"denied your application access|access_denied")
    assert me(s, hub) is None and github.requests_for("token") == []
    assert_hub_serves(hub)


@pytest.mark.parametrize("endpoint,mode", PROVIDER_FAILURES + [("emails", "500"),
                                                               ("membership", "timeout")],
                         ids=lambda v: v)
def test_provider_failures(make_hub, github, endpoint, mode):
    settings = {"scope": ["read:org", "user:email"]}
    if endpoint == "membership":
        settings["allowed_organizations"] = ["jupyter"]
        authenticator = {}
    else:
        authenticator = {"allow_all": True}
    hub = make_hub(settings, authenticator=authenticator)
    github.login_as("private-pat")  # private email: /user/emails is called
    check_provider_failure(hub, github, endpoint, mode, HUB_TIMEOUT)


def test_spent_code_is_refused(make_hub, github):
    """A code used twice (with a valid state of its own): GitHub refuses it with its HTTP 200
    error document, whose description the hub shows."""
    hub = make_hub(authenticator={"allow_all": True})
    s = requests.Session()
    r = start_login(s, hub.url)
    cb = walk_to_callback(s, r.headers["Location"])
    code = parse_qs(urlsplit(cb).query)["code"][0]
    assert finish_login(s, cb).status_code == 302
    # A second browser replays code and state with a fresh state cookie of its own.
    s2 = requests.Session()
    r = start_login(s2, hub.url)
    state2 = parse_qs(urlsplit(r.headers["Location"]).query)["state"][0]
    r = finish_login(s2, f"{hub.url}/hub/oauth_callback?code={code}&state={state2}")
    assert_error_page(r, (400, 403, 502), re.escape(github.token_error_description))
    assert me(s2, hub) is None


def test_deprecated_setting_names(hub_factory, github):
    """Configs from oauthenticator < 16 keep working: github_client_id, github_client_secret
    and github_organization_whitelist."""
    cfg = {
        "JupyterHub": {"authenticator_class": "github", "redirect_to_server": False},
        "GitHubOAuthenticator": {
            "github_client_id": github.client_id, "github_client_secret": github.client_secret,
            "github_url": github.url, "github_organization_whitelist": ["jupyter"],
            "scope": ["read:org"], "custom_403_message": SORRY},
    }
    hub = hub_factory(config=cfg)
    github.login_as("octo-cat")
    s = requests.Session()
    assert login(s, hub.url).status_code == 302
    assert me(s, hub) == "octo-cat"
    (tok,) = github.requests_for("token")
    assert tok.form["client_id"] == github.client_id
    github.login_as("outsider")
    assert_error_page(login(requests.Session(), hub.url), 403, re.escape(SORRY))
