"""Groups through the REST API."""
from helpers.schema import validate


def test_group_lifecycle(api_hub):
    api = api_hub.api
    r = api("GET", "/groups")
    assert r.status_code == 200
    staff = r.json()[0]
    validate(staff, "Group")
    assert staff == {"kind": "group", "name": "staff", "roles": [], "users": ["alice"],
                     "properties": {"floor": 3}}
    api("POST", "/users", json={"usernames": ["bob", "carol"]})
    r = api("POST", "/groups", json={"groups": ["red", "blue"], "users": ["bob"]})
    assert r.status_code == 201
    assert [(g["name"], g["users"]) for g in r.json()] == [("red", ["bob"]), ("blue", ["bob"])]
    r = api("POST", "/groups/green", json={"users": ["Carol"]})  # names are normalised
    assert r.status_code == 201 and r.json()["users"] == ["carol"]
    r = api("POST", "/groups/green/users", json={"users": ["bob"]})
    assert r.status_code == 200 and r.json()["users"] == ["carol", "bob"]
    r = api("DELETE", "/groups/green/users", json={"users": ["carol"]})
    assert r.json()["users"] == ["bob"]
    r = api("PUT", "/groups/green/properties", json={"lab": "b12"})
    assert r.json()["properties"] == {"lab": "b12"}
    assert sorted(api("GET", "/users/bob").json()["groups"]) == ["blue", "green", "red"]
    assert api("DELETE", "/groups/green").status_code == 204
    assert api("GET", "/groups/green").status_code == 404
    assert sorted(api("GET", "/users/bob").json()["groups"]) == ["blue", "red"]
    page = api("GET", "/groups?limit=2", headers={
        "Accept": "application/jupyterhub-pagination+json"}).json()
    assert [g["name"] for g in page["items"]] == ["staff", "red"]
    assert page["_pagination"]["total"] == 3


def test_group_bad_input(api_hub):
    api = api_hub.api
    cases = [
        ("POST", "/groups", {"json": {}}, 400, "Must specify at least one group to create"),
        ("POST", "/groups", {"json": {"groups": ["staff"]}}, 409, "Group staff already exists"),
        ("POST", "/groups", {"json": {"groups": ["new"], "users": ["ghost"]}}, 400,
         "No such user: ghost"),
        ("POST", "/groups", {"json": {"groups": [""]}}, 400, "Group names"),
        ("POST", "/groups", {"json": {"groups": ["x" * 300]}}, 400, "Group names"),
        ("POST", "/groups", {"json": {"groups": ["a"], "colour": 1}}, 400, "Invalid JSON keys"),
        ("POST", "/groups/staff", {}, 409, "Group staff already exists"),
        ("POST", "/groups/x", {"json": {"users": "alice"}}, 400, "group.users must be a list"),
        ("POST", "/groups/staff/users", {"json": {}}, 400, "Must specify users to add"),
        ("DELETE", "/groups/staff/users", {"json": {}}, 400, "Must specify users to delete"),
        ("POST", "/groups/nope/users", {"json": {"users": []}}, 404, "No such group: nope"),
        ("PUT", "/groups/staff/properties", {"json": [1]}, 400, "Must specify properties"),
        ("GET", "/groups/nope", {}, 404, "No such group: nope"),
        ("DELETE", "/groups/nope", {}, 404, "No such group: nope"),
    ]
    for method, path, kw, status, message in cases:
        r = api(method, path, **kw)
        assert r.status_code == status, (method, path, r.text)
        assert message in r.json()["message"], (path, r.json())
    # A conflict in a batch creates nothing.
    r = api("POST", "/groups", json={"groups": ["fresh", "staff"]})
    assert r.status_code == 409 and api("GET", "/groups/fresh").status_code == 404
