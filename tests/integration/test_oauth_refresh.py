"""An OAuth login refreshed before a server starts (Authenticator.refresh_pre_spawn, on by
default with auth_state), and auth_state values in the server's environment
(OAuthenticator.auth_state_env), against the real OpenID provider of test_oauth_generic.py.

The provider issues refresh tokens for scope offline_access with prompt=consent. A stale access
token (as after expiry) is made by storing a wrong one through the API (PATCH auth_state, as
JupyterHub allows admins): the hub must then use the refresh token. Revoking the refresh
token at the provider (RFC 7009) ends the grant: the user must log in again, and the start
fails saying so (403, as JupyterHub's "auth has expired")."""
import pytest
import requests

from conftest import ADMIN_TOKEN, Api
from helpers.fake_oauth import login
from spawn_helpers import ENV_SERVER, progress_events, server_model, wait_for, wait_ready
from test_oauth_generic import ALICE, CRYPT_KEY, generic_settings, oidc  # noqa: F401

ENV_NAME = "JUPYTERHUB_TEST_ACCESS_TOKEN"  # the env server shows JUPYTERHUB_* variables


@pytest.fixture
def spawning_hub(hub_factory, oidc, tmp_path):
    """spawning_hub(**authenticator): generic-oauth on the provider, auth_state kept, and the
    simple spawner running the env server."""
    provider, relay = oidc

    def make(**authenticator):
        generic = generic_settings(provider, relay)
        generic.update(scope=["openid", "profile", "email", "groups", "offline_access"],
                       extra_authorize_params={"prompt": "consent"},
                       auth_state_env={ENV_NAME: "access_token"})
        cfg = {
            "JupyterHub": {"authenticator_class": "generic-oauth", "spawner_class": "simple",
                           "redirect_to_server": False, "api_tokens": {ADMIN_TOKEN: "admin"}},
            "Authenticator": {"admin_users": ["admin"], "manage_groups": True,
                              "enable_auth_state": True, **authenticator},
            "GenericOAuthenticator": generic,
            "Spawner": {"cmd": ENV_SERVER, "args": []},
            "SimpleLocalProcessSpawner": {
                "home_dir_template": str(tmp_path / "homes") + "/{username}"},
        }
        hub = hub_factory(config=cfg, env={"JUPYTERHUB_CRYPT_KEY": CRYPT_KEY})
        hub.api = Api(hub)
        relay.target = hub.url
        return hub

    yield make
    relay.target = None


def auth_state(hub, name="alice"):
    return hub.api("GET", f"/users/{name}").json()["auth_state"]


def revoke(provider, token, hint):
    r = requests.post(provider.discovery()["revocation_endpoint"], timeout=10,
                      auth=(provider.client_id, provider.client_secret),
                      data={"token": token, "token_type_hint": hint})
    assert r.status_code == 200, r.text


def server_env(hub, name="alice"):
    r = requests.get(hub.public_url + f"/user/{name}/env", timeout=10)
    return r.json()["env"] if r.status_code == 200 else None


def start(hub, name="alice"):
    r = hub.api("POST", f"/users/{name}/server")
    assert r.status_code in (201, 202), r.text
    return r


def test_fresh_login_reaches_the_server(spawning_hub, oidc):
    provider, _ = oidc
    hub = spawning_hub()
    assert login(requests.Session(), hub.url, ALICE).status_code == 302
    state = auth_state(hub)
    assert state["refresh_token"], "the provider gave no refresh token"
    start(hub)
    wait_ready(hub, "alice")
    assert "Refreshed the login of 'alice'" in hub.log()
    # The token in the server's environment is the (still valid) stored one.
    env = wait_for(lambda: server_env(hub), 20, what="the env server answers")
    assert env[ENV_NAME] == auth_state(hub)["access_token"]
    assert env[ENV_NAME] not in hub.log()


def test_stale_access_token_is_renewed_with_the_refresh_token(spawning_hub, oidc):
    provider, _ = oidc
    hub = spawning_hub()
    assert login(requests.Session(), hub.url, ALICE).status_code == 302
    before = auth_state(hub)
    stale = dict(before, access_token="expired-" + before["access_token"][:8])
    assert hub.api("PATCH", "/users/alice", json={"auth_state": stale}).status_code == 200
    start(hub)
    wait_ready(hub, "alice")
    after = auth_state(hub)
    assert after["access_token"] != before["access_token"]
    # The new token works at the provider, and the server got it.
    info = requests.get(provider.discovery()["userinfo_endpoint"], timeout=10,
                        headers={"Authorization": "Bearer " + after["access_token"]})
    assert info.status_code == 200 and info.json()["sub"] == "alice"
    env = wait_for(lambda: server_env(hub), 20, what="the env server answers")
    assert env[ENV_NAME] == after["access_token"]


def test_login_that_cannot_be_refreshed_must_log_in_again(spawning_hub, oidc):
    provider, _ = oidc
    hub = spawning_hub()
    assert login(requests.Session(), hub.url, ALICE).status_code == 302
    state = auth_state(hub)
    revoke(provider, state["refresh_token"], "refresh_token")
    stale = dict(state, access_token="expired")
    assert hub.api("PATCH", "/users/alice", json={"auth_state": stale}).status_code == 200
    r = hub.api("POST", "/users/alice/server")
    assert r.status_code == 403 and "log in again" in r.json()["message"], r.text
    events = progress_events(hub, "alice")
    assert events[-1].get("failed"), events
    assert "log in again" in events[-1]["message"], events[-1]
    wait_for(lambda: server_model(hub, "alice") is None, 20, what="the failed start cleaned up")
    # Logging in again makes it work.
    assert login(requests.Session(), hub.url, ALICE).status_code == 302
    start(hub)
    wait_ready(hub, "alice")


def test_refresh_can_be_turned_off(spawning_hub, oidc):
    provider, _ = oidc
    hub = spawning_hub(refresh_pre_spawn=False)
    assert login(requests.Session(), hub.url, ALICE).status_code == 302
    stale = dict(auth_state(hub), access_token="expired")
    assert hub.api("PATCH", "/users/alice", json={"auth_state": stale}).status_code == 200
    start(hub)
    wait_ready(hub, "alice")
    assert "Refreshed the login" not in hub.log()
    env = wait_for(lambda: server_env(hub), 20, what="the env server answers")
    assert env[ENV_NAME] == "expired"  # what was stored, unchecked


def test_old_login_is_refreshed_on_use(spawning_hub, oidc):
    """Authenticator.auth_refresh_age: a request with an old login refreshes it beside the
    request (the request itself is not held up)."""
    hub = spawning_hub(auth_refresh_age=1)
    s = requests.Session()
    assert login(s, hub.url, ALICE).status_code == 302
    before = auth_state(hub)
    stale = dict(before, access_token="expired")
    assert hub.api("PATCH", "/users/alice", json={"auth_state": stale}).status_code == 200
    # Requests keep working while, after a second, one of them starts the refresh.
    refreshed = wait_for(
        lambda: s.get(hub.url + "/hub/api/user", timeout=10).status_code == 200 and
        auth_state(hub)["access_token"] not in ("expired", before["access_token"]) and
        auth_state(hub), 20, interval=0.3, what="the login refreshed with the refresh token")
    assert refreshed["refresh_token"]
    assert s.get(hub.url + "/hub/api/user", timeout=10).json()["name"] == "alice"


def test_refused_refresh_logs_the_user_out(spawning_hub, oidc):
    provider, _ = oidc
    hub = spawning_hub(auth_refresh_age=1)
    s = requests.Session()
    assert login(s, hub.url, ALICE).status_code == 302
    user_token = hub.api("POST", "/users/alice/tokens", json={}).json()["token"]
    state = auth_state(hub)
    revoke(provider, state["refresh_token"], "refresh_token")
    stale = dict(state, access_token="expired")
    assert hub.api("PATCH", "/users/alice", json={"auth_state": stale}).status_code == 200

    def logged_out():
        return s.get(hub.url + "/hub/api/user", timeout=10).status_code == 403

    wait_for(logged_out, 20, interval=0.3, what="the stale login refused")
    assert "has stale auth info" in hub.log()
    # The user's own API tokens stop too; the home page asks to log in.
    r = requests.get(hub.url + "/hub/api/user", timeout=10,
                     headers={"Authorization": "token " + user_token})
    assert r.status_code == 403
    r = s.get(hub.url + "/hub/home", allow_redirects=False, timeout=10)
    assert r.status_code == 302 and "/hub/login" in r.headers["Location"]
    # Logging in again is the cure.
    assert login(s, hub.url, ALICE).status_code == 302
    assert s.get(hub.url + "/hub/api/user", timeout=10).json()["name"] == "alice"


def test_refresh_brings_groups_and_admin_up_to_date(spawning_hub, oidc):
    """A refresh derives groups (manage_groups) and admin (admin_groups) from the provider's
    answer as a login does: changes made meanwhile on the hub side are put back in line."""
    hub = spawning_hub()
    assert login(requests.Session(), hub.url, ALICE).status_code == 302
    assert hub.api("DELETE", "/groups/hub-users/users",
                   json={"users": ["alice"]}).status_code == 200
    assert hub.api("PATCH", "/users/alice", json={"admin": False}).status_code == 200
    alice = hub.api("GET", "/users/alice").json()
    assert alice["groups"] == ["admins"] and alice["admin"] is False
    start(hub)
    wait_ready(hub, "alice")
    alice = hub.api("GET", "/users/alice").json()
    assert sorted(alice["groups"]) == ["admins", "hub-users"]
    assert alice["admin"] is True
