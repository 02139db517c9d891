"""The authenticator plugin interface beyond `authenticate` (<ganymede/authenticator.h>): a
plugin's own pages under /hub/ and the request API they use, refresh_user (before a spawn and
on use), pre_spawn_start (the server's environment, or a refusal) and logout_url, through the
test-hooks plugin of tests/plugins/test_authenticator.c. The OAuth modules get the same hooks
from the hub's OAuth client (test_oauth_refresh.py)."""
import time

import pytest
import requests

from conftest import ADMIN_TOKEN, Api
from spawn_helpers import ENV_SERVER, progress_events, server_model, wait_for, wait_ready
from test_login import CRYPT_KEY

LOGOUT = "https://idp.example.org/logout"


@pytest.fixture
def hooks_hub(hub_factory, tmp_path):
    def make(**authenticator):
        cfg = {
            "JupyterHub": {"authenticator_class": "test-hooks", "spawner_class": "simple",
                           "redirect_to_server": False, "api_tokens": {ADMIN_TOKEN: "admin"}},
            "Authenticator": {"admin_users": ["admin"], "manage_groups": True,
                              "enable_auth_state": True, "refresh_pre_spawn": True,
                              **authenticator},
            "TestHooks": {"refuse_refresh": ["stale"], "refuse_spawn": ["nospawn"],
                          "logout_url": LOGOUT},
            "Spawner": {"cmd": ENV_SERVER, "args": []},
            "SimpleLocalProcessSpawner": {
                "home_dir_template": str(tmp_path / "homes") + "/{username}"},
        }
        hub = hub_factory(config=cfg, env={"JUPYTERHUB_CRYPT_KEY": CRYPT_KEY})
        hub.api = Api(hub)
        return hub
    return make


def login(hub, name, **params):
    s = requests.Session()
    r = s.get(hub.url + "/hub/test-login", params={"user": name, **params},
              allow_redirects=False, timeout=10)
    return s, r


def model(hub, name):
    r = hub.api("GET", f"/users/{name}")
    assert r.status_code == 200, r.text
    return r.json()


def server_env(hub, name):
    r = requests.get(hub.public_url + f"/user/{name}/env", timeout=10)
    return r.json()["env"] if r.status_code == 200 else None


def test_plugin_pages_and_the_request_api(hooks_hub):
    hub = hooks_hub()
    r = requests.get(hub.url + "/hub/test-echo?a=1&b=two%20words", timeout=10,
                     headers={"X-Test": "hello"}, cookies={"test-cookie": "sent"})
    assert r.status_code == 200, r.text
    assert r.json() == {"method": "GET", "params": {"a": "1", "b": "two words"},
                        "header": "hello", "cookie": "sent",
                        "url": hub.url + "/hub/test-echo"}
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("test-cookie=set") and "HttpOnly" in cookie and "Path=/hub/" in cookie
    # A form posted from another site (an LTI launch is one) reaches the plugin; a name in both
    # the query and the form keeps the query's value, as in tornado.
    r = requests.post(hub.url + "/hub/test-echo?a=query&q=1", data={"a": "form"}, timeout=10,
                      headers={"Origin": "https://lms.example.org"})
    assert r.status_code == 200 and r.json()["params"] == {"a": "query", "q": "1"}, r.text
    r = requests.put(hub.url + "/hub/test-echo", timeout=10)
    assert r.status_code == 405
    # The hub's own pages are still there, and unknown ones are still 404.
    assert requests.get(hub.url + "/hub/login", timeout=10).status_code == 200
    assert requests.get(hub.url + "/hub/test-nothing", timeout=10).status_code == 404


def test_login_through_a_plugin_page(hooks_hub):
    hub = hooks_hub()
    s, r = login(hub, "Alice", groups="physics,chemistry", next="/hub/token")
    assert r.status_code == 302 and r.headers["Location"] == "/hub/token", r.text
    who = s.get(hub.url + "/hub/api/user", timeout=10).json()
    assert who["name"] == "alice"  # normalised by the hub
    alice = model(hub, "alice")
    assert sorted(alice["groups"]) == ["chemistry", "physics"]
    assert alice["auth_state"] == {"token": "tok-Alice", "generation": 0}
    # next must stay on the hub.
    _, r = login(hub, "bob", next="https://evil.example.org/")
    assert r.status_code == 302 and "evil" not in r.headers["Location"]
    # The plugin's refusal, and a request it rejects itself.
    _, r = login(hub, "nobody")
    assert r.status_code == 403 and "does not let nobody in" in r.text
    assert "<html" in r.text.lower()
    r = requests.get(hub.url + "/hub/test-login", timeout=10)
    assert r.status_code == 400 and "Which user?" in r.text
    # The hub's rules still apply to a plugin's logins.
    hub.stop()
    hub2 = hooks_hub(blocked_users=["mallory"])
    _, r = login(hub2, "mallory")
    assert r.status_code == 403


def test_refresh_and_environment_before_a_spawn(hooks_hub):
    hub = hooks_hub()
    login(hub, "alice", groups="physics")
    r = hub.api("POST", "/users/alice/server")
    assert r.status_code in (201, 202), r.text
    wait_ready(hub, "alice")
    env = wait_for(lambda: server_env(hub, "alice"), 20, what="the env server answers")
    # refresh_user ran first (generation 1), then pre_spawn_start passed its state on.
    assert env["JUPYTERHUB_TEST_TOKEN"] == "tok-alice"
    assert env["JUPYTERHUB_TEST_GENERATION"] == "1"
    alice = model(hub, "alice")
    assert alice["auth_state"]["generation"] == 1
    assert alice["groups"] == ["refreshed"]  # a refresh's groups are applied as at login


def test_refused_refresh_or_spawn_fails_the_start_clearly(hooks_hub):
    hub = hooks_hub()
    login(hub, "stale")
    r = hub.api("POST", "/users/stale/server")
    assert r.status_code == 403 and "log in again" in r.json()["message"], r.text
    assert "refuses this refresh" in r.json()["message"]
    wait_for(lambda: server_model(hub, "stale") is None, 20, what="the failed start cleaned up")
    login(hub, "nospawn")
    r = hub.api("POST", "/users/nospawn/server")
    assert r.status_code == 500, r.text
    assert "does not start servers for nospawn" in r.json()["message"]
    events = progress_events(hub, "nospawn")
    assert events[-1].get("failed") and "nospawn" in events[-1]["message"], events
    wait_for(lambda: server_model(hub, "nospawn") is None, 20, what="the failed start cleaned up")
    # Neither start reached the spawner.
    assert "Started the server of 'stale'" not in hub.log()
    assert "Started the server of 'nospawn'" not in hub.log()


def test_refresh_on_use(hooks_hub):
    hub = hooks_hub(auth_refresh_age=1)
    alice, _ = login(hub, "alice")
    stale, _ = login(hub, "stale")
    time.sleep(1.1)  # the logins must be older than auth_refresh_age
    # The request that finds the login old is answered at once; the refresh runs beside it.
    assert alice.get(hub.url + "/hub/api/user", timeout=10).status_code == 200
    wait_for(lambda: model(hub, "alice")["auth_state"]["generation"] == 1, 30,
             what="alice's login refreshed")
    assert stale.get(hub.url + "/hub/api/user", timeout=10).status_code == 200
    # The refused refresh ends the session at the next request.
    wait_for(lambda: stale.get(hub.url + "/hub/api/user", timeout=10).status_code == 403, 30,
             what="stale's session ended")
    assert "stale has stale auth info" in hub.log()
    # A new login works again.
    stale, _ = login(hub, "stale")
    assert stale.get(hub.url + "/hub/api/user", timeout=10).status_code == 200


def test_logout_goes_to_the_plugins_url(hooks_hub):
    hub = hooks_hub()
    s, _ = login(hub, "alice")
    r = s.get(hub.url + "/hub/logout", allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"] == LOGOUT + "?token=tok-alice"
    assert s.get(hub.url + "/hub/api/user", timeout=10).status_code == 403
    # Nobody logged in: the plugin's URL without a user's state.
    r = requests.get(hub.url + "/hub/logout", allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"] == LOGOUT + "?token="
