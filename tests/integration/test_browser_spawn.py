"""Spawn → progress → notebook in a real browser, through the proxy, with the real
jupyterhub-singleuser; screenshots of each page go to the test output."""
import os

from conftest import run_browser
from spawn_helpers import PASSWORD, spawn_config, with_section, wait_stopped


def test_browser_spawn_to_notebook(hub_factory, tmp_path):
    # The server takes a moment more than the spawn request waits (1 s), so that the browser
    # always sees the progress page: a server ready within that second is opened directly.
    slow = ["/bin/sh", "-c", 'sleep 1.5; exec "$0" "$@"', "jupyterhub-singleuser"]
    cfg = spawn_config(cmd=slow, home=tmp_path / "homes")
    cfg = with_section(cfg, "Spawner", args=["--allow-root"] if os.geteuid() == 0 else [],
                       http_timeout=60)
    hub = hub_factory(config=cfg)
    found = run_browser("spawn", url=hub.public_url, user="alice", password=PASSWORD)
    assert found["notebookUrl"].startswith(hub.public_url + "/user/alice/tree")
    assert "Home" in found["notebookTitle"]
    pages = found["pages"]
    assert "/hub/spawn-pending/alice" in pages, pages
    assert any(p.startswith("/user/alice/") for p in pages)
    assert found["startText"] == "Start My Server"
    wait_stopped(hub, "alice")
    assert found["consoleErrors"] == [], found["consoleErrors"]
