"""OAuth login in a real browser (Debian chromium): through the real OpenID provider's login
form (GenericOAuthenticator, see test_oauth_generic.py for the provider and its callback
relay), and through the fake GitHub, which shows no form."""
import pytest

from conftest import ADMIN_TOKEN, Api, run_browser
from helpers.fake_oauth import RECIPES, FakeProvider, acquire_oidc, release_oidc


@pytest.fixture(scope="session")
def oidc(tmp_path_factory):
    if not (RECIPES / "start-oidc-provider.sh").exists():
        pytest.skip(f"no OpenID provider recipe in {RECIPES}")
    provider, relay = acquire_oidc(tmp_path_factory.mktemp("oidc"))
    yield provider, relay
    release_oidc()


def check_signed_in(found, hub, user):
    assert found["homeUrl"] == hub.url + "/hub/home", found["homeUrl"]
    assert found["navUser"] == user and found["jhdataUser"] == user
    login_cookie = [c for c in found["cookies"] if c["name"] == "jupyterhub-hub-login"]
    assert login_cookie and login_cookie[0]["path"] == "/hub/" and login_cookie[0]["httpOnly"]
    # The state cookie is spent once the callback has run.
    assert not [c for c in found["cookies"] if c["name"].startswith("oauthenticator-state")]
    assert found["consoleErrors"] == []
    assert found["failedResponses"] == []


def test_browser_oidc_login(hub_factory, oidc):
    provider, relay = oidc
    hub = hub_factory(config={
        "JupyterHub": {"authenticator_class": "generic-oauth", "redirect_to_server": False,
                       "api_tokens": {ADMIN_TOKEN: "admin"}},
        "Authenticator": {"admin_users": ["admin"], "manage_groups": True},
        "GenericOAuthenticator": {
            "client_id": provider.client_id, "client_secret": provider.client_secret,
            "oidc_issuer": provider.issuer, "oauth_callback_url": relay.callback_url,
            "basic_auth": True, "scope": ["openid", "profile", "email", "groups"],
            "username_claim": "preferred_username", "login_service": "Test IdP",
            "allowed_groups": ["hub-users"], "admin_groups": ["admins"],
            "auth_state_groups_key": "oauth_user.groups"},
    })
    relay.target = hub.url
    try:
        found = run_browser("oauth-login", url=hub.url, provider="oidc", user="alice",
                            password="alice-pw")
    finally:
        relay.target = None
    assert found["buttonText"] == "Sign in with Test IdP"
    assert found["providerUrl"].startswith(provider.issuer + "/interaction/")
    # Through the relay's callback URL (the registered one), on to the hub's.
    hops = found["navigations"]
    assert any(u.startswith(relay.callback_url + "?code=") for u in hops), hops
    assert any(u.startswith(hub.url + "/hub/oauth_callback?code=") for u in hops), hops
    check_signed_in(found, hub, "alice")
    alice = Api(hub)("GET", "/users/alice").json()
    assert alice["admin"] is True and sorted(alice["groups"]) == ["admins", "hub-users"]


def test_browser_github_login(hub_factory):
    with FakeProvider("github") as github:
        github.login_as("octo-cat")
        hub = hub_factory(config={
            "JupyterHub": {"authenticator_class": "github", "redirect_to_server": False},
            "Authenticator": {"allowed_users": ["octo-cat"]},
            "GitHubOAuthenticator": {"client_id": github.client_id,
                                     "client_secret": github.client_secret,
                                     "github_url": github.url, "scope": ["read:org"]},
        })
        found = run_browser("oauth-login", url=hub.url, provider="github")
        assert len(github.requests_for("authorize")) == 1
        assert len(github.requests_for("token")) == 1
    assert found["buttonText"] == "Sign in with GitHub"
    check_signed_in(found, hub, "octo-cat")
