"""Users through the REST API: models, listing with filters and pagination, creation, changes,
deletion, activity, and bad input."""
import datetime
import json
from pathlib import Path

from conftest import ADMIN_TOKEN, CULLER_TOKEN
from helpers.schema import validate

def test_whoami(api_hub):
    r = api_hub.api("GET", "/user")
    assert r.status_code == 200
    me = r.json()
    validate(me, "User")
    assert me["name"] == "admin" and me["admin"] is True and me["kind"] == "user"
    assert "admin" in me["roles"] and "user" in me["roles"]
    assert me["token_id"].startswith("a") and me["session_id"] is None
    assert "admin:users" in me["scopes"] and me["scopes"] == sorted(me["scopes"])
    # A service identifies itself too.
    r = api_hub.api("GET", "/user", token=CULLER_TOKEN)
    svc = r.json()
    assert svc["kind"] == "service" and svc["name"] == "culler"
    assert svc["scopes"] == ["delete:servers", "list:users", "read:servers",
                             "read:users:activity", "read:users:name"]
    # Bad or missing credentials: 403, which jupyterhub-singleuser reads as "not logged in".
    for token in ("nope", ""):
        r = api_hub.api("GET", "/user", token=token)
        assert r.status_code == 403
        assert r.json()["status"] == 403


def test_bearer_and_case(api_hub):
    for scheme in ("token", "Token", "bearer", "Bearer", "BEARER"):
        r = api_hub.request("GET", "/hub/api/user",
                            headers={"Authorization": f"{scheme} {ADMIN_TOKEN}"})
        assert r.status_code == 200, scheme
    # ?token= is not accepted by the hub API.
    r = api_hub.request("GET", f"/hub/api/user?token={ADMIN_TOKEN}")
    assert r.status_code == 403
    r = api_hub.request("GET", "/hub/api/user", headers={"Authorization": f"basic {ADMIN_TOKEN}"})
    assert r.status_code == 403


def test_create_get_patch_delete(api_hub):
    api = api_hub.api
    r = api("POST", "/users", json={"usernames": ["Bob", "carol"], "admin": False})
    assert r.status_code == 201, r.text
    created = r.json()
    assert [u["name"] for u in created] == ["bob", "carol"]  # normalised
    for u in created:
        validate(u, "User")
        assert u["roles"] == ["user"] and u["admin"] is False and u["servers"] == {}
        assert u["created"].endswith("Z")
    # Existing names are skipped; all existing is a conflict.
    r = api("POST", "/users", json={"usernames": ["bob", "dave"]})
    assert r.status_code == 201 and [u["name"] for u in r.json()] == ["dave"]
    r = api("POST", "/users", json={"usernames": ["bob", "carol"]})
    assert r.status_code == 409 and r.json()["message"] == "All 2 users already exist"
    # One user.
    r = api("GET", "/users/bob")
    assert r.status_code == 200 and r.json()["name"] == "bob"
    r = api("POST", "/users/erin", json={"admin": True})
    assert r.status_code == 201 and r.json()["admin"] is True
    assert "admin" in r.json()["roles"]
    r = api("POST", "/users/erin")
    assert r.status_code == 409 and r.json()["message"] == "User erin already exists"
    # Rename and admin flag.
    r = api("PATCH", "/users/bob", json={"name": "robert", "admin": True})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "robert" and r.json()["admin"] is True
    assert "auth_state" in r.json()
    assert api("GET", "/users/bob").status_code == 404
    r = api("PATCH", "/users/robert", json={"admin": False})
    assert r.json()["admin"] is False and "admin" not in r.json()["roles"]
    r = api("PATCH", "/users/robert", json={"name": "carol"})
    assert r.status_code == 400
    assert r.json()["message"] == "User carol already exists, username must be unique"
    # Delete.
    assert api("DELETE", "/users/robert").status_code == 204
    assert api("GET", "/users/robert").status_code == 404
    assert api("DELETE", "/users/robert").status_code == 404
    r = api("DELETE", "/users/admin")
    assert r.status_code == 400 and r.json()["message"] == "Cannot delete yourself!"


def test_bad_input(api_hub):
    api = api_hub.api
    cases = [
        ("POST", "/users", {"data": b"{not json"}, 400, "Invalid JSON"),
        ("POST", "/users", {"json": {}}, 400, "Must specify at least one user to create"),
        ("POST", "/users", {"json": {"usernames": []}}, 400, "Must specify at least one user"),
        ("POST", "/users", {"json": {"usernames": "bob"}}, 400, "Must specify at least one user"),
        ("POST", "/users", {"json": {"usernames": [1]}}, 400, "usernames must be a list of strings"),
        ("POST", "/users", {"json": {"usernames": ["a/b"]}}, 400, "Invalid username: a/b"),
        ("POST", "/users", {"json": {"usernames": [" x"]}}, 400, "Invalid username"),
        ("POST", "/users", {"json": {"usernames": [""]}}, 400, "Invalid username"),
        ("POST", "/users", {"json": {"usernames": ["x" * 300]}}, 400, "Invalid username"),
        ("POST", "/users", {"json": {"usernames": ["ok1", "bad/1", "bad/2"]}}, 400,
         "Invalid usernames: bad/1, bad/2"),
        ("POST", "/users", {"json": {"usernames": ["z"], "colour": "red"}}, 400,
         "Invalid JSON keys"),
        ("POST", "/users", {"json": {"usernames": ["z"], "admin": "yes"}}, 400,
         "user.admin must be a boolean"),
        ("POST", "/users", {"json": ["a", "b"]}, 400, "Must specify at least one user"),
        ("PATCH", "/users/alice", {"json": {"admin": 1}}, 400, "user.admin must be a boolean"),
        ("PATCH", "/users/alice", {"json": {"name": "a/b"}}, 400, "Invalid username"),
        ("PATCH", "/users/alice", {"json": {"groups": ["x"]}}, 400, "groups and roles"),
        ("PATCH", "/users/alice", {"json": []}, 400, "must be a dict"),
        ("PATCH", "/users/nobody", {"json": {"admin": True}}, 404, "Not Found"),
        ("POST", "/users/a%2Fb", {}, 400, "Invalid username"),
        ("GET", "/users?state=sleeping", {}, 400, "Unrecognized state filter: 'sleeping'"),
        ("GET", "/users?sort=age", {}, 400, "sort must be 'id', 'name', or 'last_activity'"),
        ("GET", "/users?offset=x", {}, 400, "offset and limit must be integers"),
        ("GET", "/users?limit=1.5", {}, 400, "offset and limit must be integers"),
    ]
    for method, path, kw, status, message in cases:
        r = api(method, path, **kw)
        assert r.status_code == status, (method, path, kw, r.text)
        body = r.json()
        assert body["status"] == status and message in body["message"], (path, body)
    # A deeply nested body is refused before parsing.
    r = api("POST", "/users", data=b"[" * 100 + b"]" * 100)
    assert r.status_code == 400 and "nested" in r.json()["message"]
    assert api("GET", "/user").status_code == 200  # still serving


def test_listing_filters_sort_pagination(api_hub):
    api = api_hub.api
    names = [f"user{i:02d}" for i in range(30)]
    assert api("POST", "/users", json={"usernames": names}).status_code == 201
    # Without the pagination header: a plain list, capped at api_page_max_limit (200).
    r = api("GET", "/users")
    users = r.json()
    assert isinstance(users, list) and len(users) == 32  # + admin, alice
    for u in users:
        validate(u, "User")
    # With it: the envelope, default limit 50, absolute next URL.
    page = api("GET", "/users?limit=10&offset=5",
               headers={"Accept": "application/jupyterhub-pagination+json"}).json()
    assert [u["name"] for u in page["items"]] == [u["name"] for u in users[5:15]]
    p = page["_pagination"]
    assert p["offset"] == 5 and p["limit"] == 10 and p["total"] == 32
    assert p["next"]["offset"] == 15 and p["next"]["url"].startswith("http://127.0.0.1:")
    assert "offset=15" in p["next"]["url"] and "limit=10" in p["next"]["url"]
    import requests
    nxt = requests.get(p["next"]["url"], headers={
        "Authorization": f"token {ADMIN_TOKEN}",
        "Accept": "application/jupyterhub-pagination+json"}).json()
    assert nxt["items"][0]["name"] == users[15]["name"]
    last = api("GET", "/users?offset=30", headers={
        "Accept": "application/jupyterhub-pagination+json"}).json()
    assert last["_pagination"]["next"] is None and len(last["items"]) == 2
    default = api("GET", "/users", headers={
        "Accept": "text/html, application/jupyterhub-pagination+json"}).json()
    assert default["_pagination"]["limit"] == 50
    # limit is clamped to [1, max]
    assert len(api("GET", "/users?limit=0").json()) == 1
    assert len(api("GET", "/users?limit=-3").json()) == 3
    # name_filter (case-insensitive substring) and sort.
    assert [u["name"] for u in api("GET", "/users?name_filter=USER1").json()] == \
        [f"user1{i}" for i in range(10)]
    by_name = [u["name"] for u in api("GET", "/users?sort=name").json()]
    assert by_name == sorted(by_name)
    desc = [u["name"] for u in api("GET", "/users?sort=-name").json()]
    assert desc == sorted(by_name, reverse=True)
    # last_activity: users never active come first ascending, last descending.
    act = [u["name"] for u in api("GET", "/users?sort=-last_activity").json()]
    assert act[0] == "admin"
    # state filters: nobody has a server running.
    assert api("GET", "/users?state=active").json() == []
    assert api("GET", "/users?state=ready").json() == []
    assert len(api("GET", "/users?state=inactive").json()) == 32


def test_activity(api_hub):
    api = api_hub.api
    now = datetime.datetime.utcnow()
    stamp = now.isoformat() + "Z"
    r = api("POST", "/users/alice/activity", json={"last_activity": stamp})
    assert r.status_code == 200, r.text
    got = api("GET", "/users/alice").json()["last_activity"]
    assert got == stamp.replace("000Z", "Z") or got[:19] == stamp[:19]
    # Only forward.
    older = (now - datetime.timedelta(hours=1)).isoformat() + "Z"
    api("POST", "/users/alice/activity", json={"last_activity": older})
    assert api("GET", "/users/alice").json()["last_activity"][:19] == stamp[:19]
    future = (now + datetime.timedelta(hours=2)).isoformat() + "Z"
    for body, msg in [
        ({"last_activity": future}, "Rejecting activity from more than an hour in the future"),
        ({"last_activity": "yesterday"}, "Not a valid timestamp"),
        ({}, "body must contain at least one of `last_activity` or `servers`"),
        ({"servers": {"nope": {"last_activity": stamp}}}, "No such server 'nope' for user alice"),
        ({"servers": ["x"]}, "servers must be a dict"),
        ([1], "body must be a json dict"),
    ]:
        r = api("POST", "/users/alice/activity", json=body)
        assert r.status_code == 400 and msg in r.json()["message"], (body, r.text)
    r = api("POST", "/users/nobody/activity", json={"last_activity": stamp})
    assert r.status_code == 404


def test_state_persists_across_restart(hub_factory):
    from conftest import API_CONFIG, Api
    h = hub_factory(config=API_CONFIG)
    api = Api(h)
    api("POST", "/users", json={"usernames": ["keep"]})
    token = api.token_for("keep", note="survives")
    api("POST", "/groups/team", json={"users": ["keep"]})
    h.stop()
    h2 = hub_factory(config=API_CONFIG)
    api2 = Api(h2)
    r = api2("GET", "/user", token=token)
    assert r.status_code == 200 and r.json()["name"] == "keep"
    assert r.json()["groups"] == ["team"]
