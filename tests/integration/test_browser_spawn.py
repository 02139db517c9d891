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


def test_browser_spawn_failure_says_why_once(hub_factory, tmp_path):
    line = "ganymede-test: no such notebook, the server says"
    homes = tmp_path / "homes"
    # Fails only when the browser has the progress page open (the scenario writes $HOME/go).
    cmd = ["/bin/sh", "-c",
           f'while [ ! -e "$HOME/go" ]; do sleep 0.05; done; echo "{line}" >&2; exit 1']
    cfg = with_section(spawn_config(cmd=cmd, home=homes), "Spawner", http_timeout=90,
                       start_timeout=90)
    hub = hub_factory(config=cfg)
    found = run_browser("spawn-failed", url=hub.public_url, user="alice", password=PASSWORD,
                        trigger=str(homes / "alice" / "go"), line=line)
    live = found["live"]
    assert live["heading"] == "Spawn failed"
    assert line in live["error"] and "exited with status 1 before it answered" in live["error"]
    assert live["lineCount"] == 1, found
    assert live["redirectPromised"] is False, found
    assert live["retryVisible"] is True
    reloaded = found["reloaded"]
    assert reloaded["heading"] == "Spawn failed"
    assert reloaded["lineCount"] == 1 and reloaded["redirectPromised"] is False, found
    assert found["consoleErrors"] == [], found["consoleErrors"]
