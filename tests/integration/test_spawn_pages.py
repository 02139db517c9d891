"""The pages around starting a server: the options form, spawn-pending, the not-running page
for /hub/user/... (never a redirect loop), user-redirect and the proxy's error pages."""
import re

import requests

from conftest import Api
from spawn_helpers import (PASSWORD, server_model, spawn_config, start, wait_ready,
                           wait_stopped, with_section)


def login(hub, user, base=None):
    s = requests.Session()
    base = base or hub.url
    page = s.get(base + "/hub/login", timeout=10)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    r = s.post(base + "/hub/login", data={"username": user, "password": PASSWORD, "_xsrf": xsrf},
               allow_redirects=False, timeout=10)
    assert r.status_code == 302
    s.xsrf = s.cookies.get("_xsrf")
    return s


def form_xsrf(html):
    return re.search(r'name="_xsrf" value="([^"]+)"', html).group(1)


def test_spawn_with_options_form(hub_factory, tmp_path):
    form = ('<label for="size">Size</label><select name="size" id="size">'
            '<option value="small">small</option><option value="large">large</option></select>')
    cfg = with_section(spawn_config(home=tmp_path / "homes"), "Spawner", options_form=form)
    hub = hub_factory(config=cfg)
    s = login(hub, "alice")
    r = s.get(hub.url + "/hub/spawn", timeout=10)
    assert r.status_code == 200 and 'id="spawn_form"' in r.text and 'name="size"' in r.text
    # Without the form's _xsrf the post is refused; with it the server starts with the choice.
    r = s.post(hub.url + "/hub/spawn", data={"size": "large"}, allow_redirects=False, timeout=10)
    assert r.status_code == 403
    xsrf = form_xsrf(s.get(hub.url + "/hub/spawn").text)
    r = s.post(hub.url + "/hub/spawn", data={"size": "large", "_xsrf": xsrf},
               allow_redirects=False, timeout=30)
    assert r.status_code == 302
    assert r.headers["Location"] in ("/user/alice/", "/hub/spawn-pending/alice")
    wait_ready(hub, "alice")
    assert server_model(hub, "alice")["user_options"] == {"size": ["large"]}
    # Running: /hub/spawn goes to the server.
    r = s.get(hub.url + "/hub/spawn", allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"] == "/user/alice/"


def test_query_options_and_next(hub_factory, tmp_path):
    hub = hub_factory(config=spawn_config(home=tmp_path / "homes"))
    s = login(hub, "bob")
    r = s.get(hub.url + "/hub/spawn?image=big&next=%2Fuser%2Fbob%2Ftree", allow_redirects=False,
              timeout=30)
    assert r.status_code == 302
    wait_ready(hub, "bob")
    assert server_model(hub, "bob")["user_options"] == {"image": ["big"]}
    r = s.get(hub.url + "/hub/spawn-pending/bob?next=%2Fuser%2Fbob%2Ftree", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/user/bob/tree"
    # An off-site next is not followed.
    r = s.get(hub.url + "/hub/spawn?next=https%3A%2F%2Fevil.example%2F", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/user/bob/"


def test_failed_spawn_page(hub_factory, tmp_path):
    cfg = spawn_config(cmd=["/usr/bin/python3", "-c", "raise SystemExit(7)"],
                       home=tmp_path / "homes")
    hub = hub_factory(config=cfg)
    s = login(hub, "carol")
    r = s.get(hub.url + "/hub/spawn", allow_redirects=False, timeout=30)
    assert r.status_code == 302 and r.headers["Location"] == "/hub/spawn-pending/carol"
    wait_stopped(hub, "carol")
    r = s.get(hub.url + "/hub/spawn-pending/carol", timeout=10)
    assert r.status_code == 500
    assert 'id="failed-message"' in r.text and "exited with status 7" in r.text
    assert 'href="/hub/spawn/carol"' in r.text  # relaunch link
    # /hub/user/carol/ sends a failed server's user to the failure, not into a loop.
    r = s.get(hub.url + "/hub/user/carol/tree", allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"].startswith("/hub/spawn-pending/carol")


def test_not_running_page_and_json(hub_factory, tmp_path):
    hub = hub_factory(config=spawn_config(home=tmp_path / "homes"))
    s = login(hub, "dan")
    r = s.get(hub.url + "/hub/user/dan/tree?x=1", allow_redirects=False, timeout=10)
    assert r.status_code == 424
    assert 'id="start"' in r.text
    assert "/hub/spawn/dan?next=%2Fuser%2Fdan%2Ftree%3Fx%3D1" in r.text
    r = s.get(hub.url + "/hub/user/dan/api/contents", allow_redirects=False, timeout=10)
    assert r.status_code == 424 and "Restart the server at /hub/spawn/dan" in r.json()["message"]
    r = s.post(hub.url + "/hub/user/dan/api/contents", allow_redirects=False, timeout=10)
    assert r.status_code == 424
    # Through the proxy: /user/dan/ has no route, the hub's default route takes it.
    r = s.get(hub.public_url + "/user/dan/tree", allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"] == "/hub/user/dan/tree"
    # Someone else's server: nothing to see.
    other = login(hub, "eve")
    r = other.get(hub.url + "/hub/user/dan/tree", allow_redirects=False, timeout=10)
    assert r.status_code == 404
    # Not logged in: the login page.
    r = requests.get(hub.url + "/hub/user/dan/tree", allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"].startswith("/hub/login?next=")


def test_ready_server_behind_a_lagging_proxy(hub_factory, tmp_path):
    """The hub says ready but the request reached the hub: back to /user/..., with a bounded
    number of redirects."""
    hub = hub_factory(config=spawn_config(home=tmp_path / "homes"))
    s = login(hub, "fay")
    Api(hub)("POST", "/users/fay")
    assert start(hub, "fay").status_code == 201
    r = s.get(hub.url + "/hub/user/fay/tree", allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"] == "/user/fay/tree?redirects=1"
    r = s.get(hub.url + "/hub/user/fay/tree?redirects=4", allow_redirects=False, timeout=10)
    assert r.status_code == 500 and "Redirect loop detected" in r.text


def test_user_redirect_and_proxy_errors(hub_factory, tmp_path):
    hub = hub_factory(config=spawn_config(home=tmp_path / "homes"))
    s = login(hub, "gus")
    r = s.get(hub.url + "/hub/user-redirect/notebooks/a.ipynb?x=1", allow_redirects=False)
    assert r.status_code == 302
    assert r.headers["Location"] == \
        "/hub/spawn/gus?next=%2Fuser%2Fgus%2Fnotebooks%2Fa.ipynb%3Fx%3D1"
    r = requests.get(hub.url + "/hub/error/503?url=/user/gus/", timeout=10)
    assert r.status_code == 200 and "Your server appears to be down" in r.text
    r = requests.get(hub.url + "/hub/error/404", timeout=10)
    assert r.status_code == 200 and "404" in r.text
    r = requests.get(hub.url + "/hub/error/banana", timeout=10)
    assert r.status_code == 200 and "500" in r.text


def test_admin_spawns_for_another_user(hub_factory, tmp_path):
    cfg = spawn_config(home=tmp_path / "homes")
    cfg["SharedPasswordAuthenticator"]["admin_password"] = "admin-password-long-enough-01234"
    hub = hub_factory(config=cfg)
    admin = requests.Session()
    page = admin.get(hub.url + "/hub/login")
    admin.post(hub.url + "/hub/login", data={"username": "admin",
                                             "password": "admin-password-long-enough-01234",
                                             "_xsrf": form_xsrf(page.text)})
    Api(hub)("POST", "/users/hal")
    r = admin.get(hub.url + "/hub/spawn/hal", allow_redirects=False, timeout=30)
    assert r.status_code == 302
    wait_ready(hub, "hal")
    # A plain user may not.
    s = login(hub, "ivy")
    r = s.get(hub.url + "/hub/spawn/hal", allow_redirects=False, timeout=10)
    assert r.status_code in (403, 404)
    r = s.get(hub.url + "/hub/spawn/nobody-here", allow_redirects=False, timeout=10)
    assert r.status_code in (403, 404)
