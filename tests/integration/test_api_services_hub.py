"""Services, /info, /shutdown and /hub/metrics."""
import signal

from conftest import ADMIN_TOKEN, API_CONFIG, CULLER_TOKEN, Api
from helpers.schema import validate


def test_services(api_hub):
    api = api_hub.api
    services = api("GET", "/services").json()
    assert list(services) == ["culler"]
    validate(services["culler"], "Service")
    assert services["culler"]["roles"] == ["culler"]
    assert api("GET", "/services/culler").json()["name"] == "culler"
    assert api("GET", "/services/nope").status_code == 404
    # Runtime services: created, listed, deleted; config services cannot be deleted.
    r = api("POST", "/services/dash", json={"url": "http://127.0.0.1:9999", "info": {"a": 1}})
    assert r.status_code == 201, r.text
    assert r.json()["url"] == "http://127.0.0.1:9999" and r.json()["prefix"] == "/services/dash/"
    assert api("POST", "/services/dash", json={}).status_code == 409
    r = api("POST", "/services/x", json={"command": ["sleep", "1"]})
    assert r.status_code == 400 and "Can not create managed service" in r.json()["message"]
    r = api("POST", "/services/y", json={"colour": "red"})
    assert r.status_code == 400 and r.json()["message"] == "No such service field: colour"
    r = api("POST", "/services/y", json={"url": "ftp://x"})
    assert r.status_code == 400 and "Must be http[s]" in r.json()["message"]
    assert api("DELETE", "/services/culler").status_code == 405
    assert api("DELETE", "/services/dash").status_code == 200
    assert api("GET", "/services/dash").status_code == 404
    # The culler may not list services.
    assert api("GET", "/services", token=CULLER_TOKEN).status_code == 403


def test_service_token_and_role(api_hub):
    api = api_hub.api
    api("POST", "/users", json={"usernames": ["bob"]})
    users = api("GET", "/users", token=CULLER_TOKEN).json()
    assert {u["name"] for u in users} == {"admin", "alice", "bob"}
    # The culler sees names, activity and servers, not groups or roles.
    assert set(users[0]) == {"kind", "name", "admin", "last_activity", "servers"}
    assert api("POST", "/users", token=CULLER_TOKEN,
               json={"usernames": ["x"]}).status_code == 403


def test_info(api_hub):
    r = api_hub.api("GET", "/info")
    assert r.status_code == 200
    info = r.json()
    assert info["version"] == "5.5.1"
    assert set(info) >= {"version", "python", "sys_executable", "authenticator", "spawner"}
    assert api_hub.api("GET", "/info", token=CULLER_TOKEN).status_code == 403


def test_metrics(api_hub):
    api_hub.api("GET", "/users")
    r = api_hub.get("/hub/metrics", headers={"Authorization": f"token {ADMIN_TOKEN}"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = r.text
    for name in ("jupyterhub_total_users 2", 'jupyterhub_active_users{period="24h"}',
                 "jupyterhub_running_servers 0", "# TYPE jupyterhub_request_duration_seconds "
                 "histogram", 'jupyterhub_request_duration_seconds_bucket{code="200",'
                 'handler="hub/api/users",method="GET",le="0.005"}',
                 "# TYPE jupyterhub_server_spawn_duration_seconds histogram",
                 "process_resident_memory_bytes"):
        assert name in text, name
    assert api_hub.get("/hub/metrics").status_code == 403
    assert api_hub.get("/hub/metrics", headers={
        "Authorization": f"token {CULLER_TOKEN}"}).status_code == 403


def test_metrics_without_auth(hub_factory):
    h = hub_factory(args=["--JupyterHub.authenticate_prometheus=False"])
    assert h.get("/hub/metrics").status_code == 200


def test_shutdown(api_hub):
    api = api_hub.api
    r = api("POST", "/shutdown", json={"servers": "yes"})
    assert r.status_code == 400 and "servers must be true or false" in r.json()["message"]
    assert api("POST", "/shutdown", token=CULLER_TOKEN).status_code == 403
    r = api("POST", "/shutdown", json={"servers": False, "proxy": False})
    assert r.status_code == 202 and r.json() == {"message": "Shutting down Hub"}
    assert api_hub.wait(timeout=20) == 0
    api_hub.stop()
