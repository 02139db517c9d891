"""The scope matrix: what an admin, a plain user, a service with a role and a token with a
narrowed scope may see and do, with JupyterHub's 403-versus-404 rules and roles from config."""
from conftest import API_CONFIG, CULLER_TOKEN, Api


def test_plain_user(api_hub):
    api = api_hub.api
    api("POST", "/users", json={"usernames": ["bob"]})
    alice = Api(api_hub, token=api.token_for("alice"))
    # Her own model, tokens and activity.
    assert alice("GET", "/users/alice").json()["name"] == "alice"
    assert alice("GET", "/users/alice/tokens").status_code == 200
    # Others: filtered scopes → 404, indistinguishable from a missing user.
    r = alice("GET", "/users/bob")
    assert r.status_code == 404
    assert r.json()["message"] == "No access to resources or resources not found"
    assert alice("GET", "/users/ghost").status_code == 404
    # Scopes she does not hold at all → 403 naming them.
    r = alice("GET", "/users")
    assert r.status_code == 403
    assert r.json()["message"] == ("Action is not authorized with current scopes; requires any "
                                   "of [list:users]")
    assert alice("GET", "/groups").status_code == 403
    assert alice("DELETE", "/users/bob").status_code == 403
    assert alice("POST", "/users", json={"usernames": ["x"]}).status_code == 403
    assert alice("GET", "/info").status_code == 403
    assert alice("POST", "/shutdown").status_code == 403
    # A user may not change her own model (admin:users).
    assert alice("PATCH", "/users/alice", json={"admin": True}).status_code == 403


def test_narrow_token(api_hub):
    api = api_hub.api
    t = Api(api_hub, token=api.token_for("admin", scopes=["read:users:name"]))
    users = t("GET", "/users/alice").json()
    assert users == {"kind": "user", "name": "alice", "admin": False}
    assert t("GET", "/users").status_code == 403  # list:users is not held
    assert t("POST", "/users", json={"usernames": ["z"]}).status_code == 403
    assert t("GET", "/groups/staff").status_code == 403


def test_group_filtered_role(hub_factory):
    cfg = {**API_CONFIG}
    cfg["JupyterHub"] = {**API_CONFIG["JupyterHub"], "load_roles": [
        {"name": "culler", "scopes": ["list:users"], "services": ["culler"]},
        {"name": "staff-reader", "scopes": ["list:users!group=staff", "read:users!group=staff",
                                            "admin:groups!group=staff"],
         "users": ["reader"]},
    ]}
    h = hub_factory(config=cfg)
    api = Api(h)
    api("POST", "/users", json={"usernames": ["bob"]})
    reader = Api(h, token=api.token_for("reader"))
    names = [u["name"] for u in reader("GET", "/users").json()]
    assert names == ["alice"]  # only members of staff
    assert reader("GET", "/users/alice").json()["groups"] == ["staff"]
    assert reader("GET", "/users/bob").status_code == 404
    assert reader("POST", "/groups/staff/users", json={"users": ["bob"]}).status_code == 200
    # bob joined staff, so the reader now sees him.
    assert reader("GET", "/users/bob").status_code == 200
    assert reader("GET", "/groups").status_code == 200
    me = reader("GET", "/user").json()
    assert "read:users!group=staff" in me["scopes"]
    assert reader("DELETE", "/groups/staff").status_code == 204  # delete:groups!group=staff


def test_roles_from_config_are_exact(hub_factory, tmp_path):
    cfg = {"JupyterHub": {**API_CONFIG["JupyterHub"]}, "Authenticator": {"admin_users": ["admin"]}}
    cfg["JupyterHub"]["load_roles"] = API_CONFIG["JupyterHub"]["load_roles"] + [
        {"name": "auditors", "scopes": ["read:users"], "users": ["ann", "ben"]}]
    h = hub_factory(config=cfg)
    api = Api(h)
    assert api("GET", "/users/ann").json()["roles"] == ["auditors"]
    h.stop()
    cfg["JupyterHub"]["load_roles"][-1]["users"] = ["ben"]
    h = hub_factory(config=cfg)
    api = Api(h)
    assert api("GET", "/users/ann").json()["roles"] == []
    assert api("GET", "/users/ben").json()["roles"] == ["auditors"]
    h.stop()
    cfg["JupyterHub"]["load_roles"] = API_CONFIG["JupyterHub"]["load_roles"]
    h = hub_factory(config=cfg)
    assert "Deleting role auditors" in h.log()
    assert Api(h)("GET", "/users/ben").json()["roles"] == []


def test_bad_roles_refuse_to_start(tmp_path):
    from conftest import run_ganymede
    import json
    for roles, msg in [
        ([{"name": "Bad Name", "scopes": []}], "invalid role name 'Bad Name'"),
        ([{"name": "readers", "scopes": ["read:everything"]}],
         "Scope 'read:everything' for role readers does not exist"),
        ([{"name": "admin", "scopes": ["read:users"]}], "Cannot override admin role admin.scopes"),
        ([{"name": "dup", "scopes": []}, {"name": "dup", "scopes": []}],
         "Role dup multiply defined"),
        ([{"name": "svc", "scopes": [], "services": ["ghost"]}],
         "Found undefined service ghost in role svc"),
        ([{"scopes": []}], "must be a list of role dicts"),
    ]:
        (tmp_path / "c.json").write_text(json.dumps({"JupyterHub": {"load_roles": roles}}))
        p = run_ganymede(["-f", "c.json", "--JupyterHub.hub_bind_url=http://127.0.0.1:0"],
                         tmp_path)
        assert p.returncode == 1 and msg in p.stderr, (roles, p.stderr[-500:])
