"""API tokens: creation with scopes, roles, notes and expiry; listing, reading, revoking;
JupyterHub's hash format (a database made by JupyterHub keeps working); config tokens."""
import sqlite3
import time

import pytest

from conftest import ADMIN_TOKEN, API_CONFIG, Api, run_ganymede
from spawn_helpers import wait_for
from helpers.jupyterhub_db import make_jupyterhub_3_db
from helpers.schema import validate


def test_create_list_get_delete(api_hub):
    api = api_hub.api
    r = api("POST", "/users/alice/tokens", json={"note": "for my script", "expires_in": 3600})
    assert r.status_code == 201, r.text
    t = r.json()
    validate(t, "NewToken")
    assert len(t["token"]) == 32 and t["user"] == "alice" and t["note"] == "for my script"
    assert t["kind"] == "api_token" and t["id"].startswith("a") and t["expires_at"]
    assert t["oauth_client"] == "JupyterHub"
    # It works, and inherits alice's scopes.
    me = api("GET", "/user", token=t["token"]).json()
    assert me["name"] == "alice" and "read:users!user=alice" in me["scopes"]
    # Listed (without the secret), readable by id, then revoked.
    tokens = api("GET", "/users/alice/tokens").json()["api_tokens"]
    assert [x["id"] for x in tokens] == [t["id"]] and "token" not in tokens[0]
    validate(tokens[0], "Token")
    assert api("GET", f"/users/alice/tokens/{t['id']}").json()["note"] == "for my script"
    assert api("DELETE", f"/users/alice/tokens/{t['id']}").status_code == 204
    assert api("GET", "/user", token=t["token"]).status_code == 403
    assert api("GET", f"/users/alice/tokens/{t['id']}").status_code == 404
    r = api("GET", "/users/alice/tokens/b1")
    assert r.status_code == 404 and r.json()["message"] == "No such token b1 for user alice"


def test_default_notes(api_hub):
    api = api_hub.api
    r = api("POST", "/users/alice/tokens")
    assert r.json()["note"] == "Requested via api by user admin"
    alice = r.json()["token"]
    r = api("POST", "/users/alice/tokens", token=alice, json={})
    assert r.status_code == 201 and r.json()["note"] == "Requested via api"


def test_scopes_and_roles(api_hub):
    api = api_hub.api
    t = api.token_for("alice", scopes=["read:users!user=alice"])
    me = api("GET", "/user", token=t).json()
    assert me["scopes"] == ["read:users!user=alice", "read:users:activity!user=alice",
                            "read:users:groups!user=alice", "read:users:name!user=alice"]
    # A narrowed token cannot do what its owner can.
    assert api("GET", "/users/alice/tokens", token=t).status_code == 403
    # Roles turn into their scopes.
    r = api("POST", "/users/alice/tokens", json={"roles": ["user"]})
    assert r.status_code == 201
    # Scopes beyond the owner's are refused with JupyterHub's message.
    r = api("POST", "/users/alice/tokens", json={"scopes": ["admin:users"]})
    assert r.status_code == 400
    assert "Not assigning requested scopes" in r.json()["message"]
    assert "not held by User alice" in r.json()["message"]
    for body, msg in [
        ({"scopes": ["read:nonsense"]}, "Scope 'read:nonsense' for token does not exist"),
        ({"scopes": ["all"]}, "Draft scope 'all' is now called 'inherit'"),
        ({"scopes": "read:users"}, "token scopes must be null or a list of strings"),
        ({"roles": ["nope"]}, "No such role: nope"),
        ({"roles": ["user"], "scopes": ["self"]}, "Can only assign one of scopes or roles"),
        ({"expires_in": "soon"}, "token expires_in must be null or integer"),
        ({"expires_in": 0}, "expires_in must be a positive integer or null"),
        ({"note": "x" * 2000}, "at most 1023 characters"),
    ]:
        r = api("POST", "/users/alice/tokens", json=body)
        assert r.status_code == 400 and msg in r.json()["message"], (body, r.text)
    r = api("POST", "/users/alice/tokens", data=b"[1]")
    assert r.status_code == 400 and r.json()["message"] == "Body must be a JSON dict or empty"


def test_permissions(api_hub):
    api = api_hub.api
    alice = api.token_for("alice")
    api("POST", "/users", json={"usernames": ["bob"]})
    r = api("POST", "/users/bob/tokens", token=alice)
    assert r.status_code == 403
    assert r.json()["message"] == "User bob not found or no permissions to generate tokens"
    r = api("POST", "/users/nobody/tokens")
    assert r.status_code == 403
    assert api("GET", "/users/bob/tokens", token=alice).status_code == 404
    assert api("POST", "/users/alice/tokens", token="").status_code == 403


def test_expiry(api_hub):
    api = api_hub.api
    t0 = time.monotonic()
    t = api("POST", "/users/alice/tokens", json={"expires_in": 3}).json()
    r = api("GET", "/user", token=t["token"])
    if time.monotonic() - t0 < 3:  # a busy machine may have spent the 3 s already
        assert r.status_code == 200
    # Refused once it expires (polled with a deadline, not slept for), and never before.
    wait_for(lambda: api("GET", "/user", token=t["token"]).status_code == 403, 30,
             interval=0.1, what="the token expired")
    assert time.monotonic() - t0 >= 2, "the token was refused before it expired"
    # Expired tokens are dropped from listings.
    ids = [x["id"] for x in api("GET", "/users/alice/tokens").json()["api_tokens"]]
    assert t["id"] not in ids


def test_max_expiry(hub_factory):
    cfg = {**API_CONFIG, "JupyterHub": {**API_CONFIG["JupyterHub"],
                                        "token_expires_in_max_seconds": 60}}
    h = hub_factory(config=cfg)
    api = Api(h)
    r = api("POST", "/users/alice/tokens", json={"expires_in": 61})
    assert r.status_code == 400 and r.json()["message"] == \
        "token expires_in: 61 must not exceed 60"
    r = api("POST", "/users/alice/tokens", json={})
    assert r.status_code == 201 and r.json()["expires_at"] is not None


def test_token_of_deleted_user(api_hub):
    api = api_hub.api
    api("POST", "/users", json={"usernames": ["temp"]})
    t = api.token_for("temp")
    assert api("GET", "/user", token=t).status_code == 200
    assert api("DELETE", "/users/temp").status_code == 204
    assert api("GET", "/user", token=t).status_code == 403
    api("POST", "/users", json={"usernames": ["temp"]})  # a new user of the same name
    assert api("GET", "/user", token=t).status_code == 403


@pytest.mark.sqlite_only
def test_tokens_are_hashed_as_jupyterhub_does(api_hub):
    t = api_hub.api.token_for("alice", note="check the row")
    con = sqlite3.connect(api_hub.state_dir / "jupyterhub.sqlite")
    prefix, hashed, client, scopes = con.execute(
        "SELECT prefix, hashed, client_id, scopes FROM api_tokens WHERE note = 'check the row'"
    ).fetchone()
    con.close()
    assert prefix == t[:4] and client == "jupyterhub" and scopes == '["inherit"]'
    algo, rounds, salt, digest = hashed.split(":")
    import hashlib
    assert algo == "sha512" and rounds == "1"
    assert hashlib.sha512(salt.encode() + t.encode()).hexdigest() == digest
    assert t not in hashed


@pytest.mark.sqlite_only
def test_config_tokens_use_16384_rounds(api_hub):
    con = sqlite3.connect(api_hub.state_dir / "jupyterhub.sqlite")
    rows = con.execute("SELECT hashed FROM api_tokens WHERE note = 'from config'").fetchall()
    con.close()
    assert len(rows) == 2 and all(h.startswith("sha512:16384:") for (h,) in rows)
    # Used many times, they stay fast (verified once, then remembered): just works.
    for _ in range(20):
        assert api_hub.api("GET", "/user").status_code == 200


@pytest.mark.sqlite_only
def test_token_from_a_jupyterhub_database(hub_factory, tmp_path):
    made = make_jupyterhub_3_db(tmp_path / "jupyterhub.sqlite", users={"alice": True})
    assert run_ganymede(["upgrade-db"], tmp_path).returncode == 0
    h = hub_factory()
    api = Api(h, token=made["tokens"]["alice"])
    r = api("GET", "/user")
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "alice" and r.json()["admin"] is True
    assert api("GET", "/users").status_code == 200
