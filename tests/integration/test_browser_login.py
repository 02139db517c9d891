"""Login, logout, next= and the token page in a real browser (Debian chromium)."""
from conftest import ADMIN_TOKEN, Api, run_browser
from secrets_seen import remember

PASSWORD = "shared-password-123"
remember(PASSWORD)
CONFIG = {
    "JupyterHub": {"authenticator_class": "shared-password", "redirect_to_server": False,
                   "api_tokens": {ADMIN_TOKEN: "admin"}},
    "Authenticator": {"allow_all": True, "admin_users": ["admin"]},
    "SharedPasswordAuthenticator": {"user_password": PASSWORD},
}


def test_browser_login_logout_and_next(hub_factory):
    hub = hub_factory(config=CONFIG)
    found = run_browser("login", url=hub.url, user="ada", password=PASSWORD)
    assert "Invalid username or password" in found["wrongPasswordError"]
    assert "jupyterhub-hub-login" not in found["wrongPasswordCookies"]
    assert found["wrongPasswordUsername"] == "ada"  # the form keeps the name typed
    assert found["afterLoginUrl"] == hub.url + "/hub/token"
    login_cookie = [c for c in found["loginCookies"] if c["name"] == "jupyterhub-hub-login"]
    assert login_cookie and login_cookie[0]["path"] == "/hub/" and login_cookie[0]["httpOnly"]
    assert found["jhdataUser"] == "ada"
    assert found["homeUrl"] == hub.url + "/hub/home" and found["navUser"] == "ada"
    assert found["missingStatus"] == 404 and found["missingHeading"]
    assert found["missingNavUser"] == "ada"
    assert found["signedInEvilNextUrl"] == hub.url + "/hub/home"
    assert found["evilNextUrl"] == hub.url + "/hub/home", found["evilNextUrl"]
    assert found["logoutUrl"].startswith(hub.url + "/hub/")
    assert found["afterLogoutUrl"].startswith(hub.url + "/hub/login"), found["afterLogoutUrl"]
    assert found["consoleErrors"] == []
    # The only HTTP error is the refused login, with JupyterHub's status.
    assert found["failedResponses"] == [{"url": hub.url + "/hub/login", "status": 403},
                                        {"url": hub.url + "/hub/no-such-page", "status": 404}]


def test_browser_token_page(hub_factory):
    hub = hub_factory(config=CONFIG)
    found = run_browser("token", url=hub.url, user="ada", password=PASSWORD)
    before, after = found["whoamiBeforeRevoke"], found["whoamiAfterRevoke"]
    assert before["status"] == 200 and before["body"]["name"] == "ada"
    # As in JupyterHub, every token also carries its owner's identify scopes.
    assert before["body"]["scopes"] == ["read:users:groups!user=ada", "read:users:name!user=ada"]
    assert "no-such-scope" in found["badScopeError"]
    assert found["rowsBeforeRevoke"] == 1 and found["rowsAfterRevoke"] == 0
    assert after["status"] == 403
    assert Api(hub)("GET", "/users/ada/tokens").json()["api_tokens"] == []
    assert found["consoleErrors"] == []
    assert found["failedResponses"] == [
        {"url": hub.url + "/hub/api/users/ada/tokens", "status": 400}]
