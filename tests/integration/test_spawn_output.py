"""What local servers write: a server that exits at start says why in its failure message (the
API's answer, the progress stream, the spawn-pending page and the hub's log), bounded to its last
20 lines and 4 KiB; its output goes on to the hub's log through its file in server-logs/, also
for a server that a restarted hub took over."""
import os
import re

import pytest
import requests

from conftest import Api
from spawn_helpers import (ENV_SERVER, progress_events, server_model, spawn_config, start,
                           wait_for, wait_ready, wait_stopped, with_section)
from test_spawn_pages import login

LINE = "ganymede-test: the flux capacitor is missing"


def python_cmd(code):
    return ["/usr/bin/python3", "-c", code]


def failure_in_log(hub, user):
    """The message of the hub's log line about @user's failed start: all its lines, up to the
    next line of the hub's own (the server's log lines look alike, without "ganymede")."""
    m = re.search(r"\[E [^\]]*\] Failed to start the server of '" + re.escape(user) +
                  r"': (.*?)(?=\n\[[DIWEC] [\d-]+ [\d:.]+ ganymede |\Z)", hub.log(), re.S)
    return m.group(1).rstrip("\n") if m else None


def output_part(message):
    """What follows 'Last lines of its output:' in a failure message."""
    marker = "Last lines of its output:\n"
    assert marker in message, message
    return message.split(marker, 1)[1]


def test_server_that_exits_at_start_says_why(hub_factory, tmp_path):
    code = f"import sys; print('starting up', flush=True); print({LINE!r}, file=sys.stderr); sys.exit(1)"
    hub = hub_factory(config=spawn_config(cmd=python_cmd(code), home=tmp_path / "homes"))
    Api(hub)("POST", "/users/marty")
    r = start(hub, "marty")
    assert r.status_code == 500, r.text
    message = r.json()["message"]
    assert "exited with status 1 before it answered" in message
    assert output_part(message) == f"starting up\n{LINE}"
    assert server_model(hub, "marty") is None

    events = progress_events(hub, "marty")
    assert events[-1]["failed"] is True and LINE in events[-1]["message"], events

    logged = wait_for(lambda: failure_in_log(hub, "marty"), 10, what="the failure in the log")
    assert LINE in logged, logged
    # The output itself went on to the hub's log too, and is in the server's file.
    assert hub.log().count(LINE) >= 2
    path = tmp_path / "server-logs" / "marty.log"
    assert path.read_text() == f"starting up\n{LINE}\n"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(tmp_path / "server-logs").st_mode & 0o777 == 0o700

    # The spawn-pending page of the failed server shows the message once, and promises nothing.
    wait_stopped(hub, "marty")
    s = login(hub, "marty")
    page = s.get(hub.url + "/hub/spawn-pending/marty", timeout=10)
    assert page.status_code == 500
    assert page.text.count(LINE) == 1, page.text
    assert "redirected automatically" not in page.text


def test_the_tail_is_at_most_20_lines_and_4_kib(hub_factory, tmp_path):
    lines = python_cmd("import sys\n"
                       "for i in range(1, 1001): print(f'out-{i:04d}', file=sys.stderr)\n"
                       "sys.exit(2)")
    hub = hub_factory(config=spawn_config(cmd=lines, home=tmp_path / "homes"))
    Api(hub)("POST", "/users/many")
    r = start(hub, "many")
    assert r.status_code == 500, r.text
    tail = output_part(r.json()["message"])
    assert tail.splitlines() == [f"out-{i:04d}" for i in range(981, 1001)], tail

    # 40 lines of 300 bytes: 20 of them would be 6000 bytes, more than fits.
    wide = python_cmd("import sys\n"
                      "for i in range(40): print(f'W{i:02d}-' + 'x' * 295 + '\\u00e9')\n"
                      "sys.exit(3)")
    hub2 = hub_factory(config=spawn_config(cmd=wide, home=tmp_path / "homes"),
                       state_dir=tmp_path / "wide")
    Api(hub2)("POST", "/users/wide")
    r = start(hub2, "wide")
    assert r.status_code == 500, r.text
    tail = output_part(r.json()["message"])
    assert len(tail.encode()) <= 4096, len(tail.encode())
    assert tail.startswith("...") and tail.endswith("W39-" + "x" * 295 + "\u00e9")
    assert "W25-" not in tail and "W30-" in tail
    logged = failure_in_log(hub2, "wide")
    assert logged and logged.endswith(tail), logged


def test_a_server_that_writes_nothing(hub_factory, tmp_path):
    hub = hub_factory(config=spawn_config(cmd=["/bin/false"], home=tmp_path / "homes"))
    Api(hub)("POST", "/users/quiet")
    r = start(hub, "quiet")
    assert r.status_code == 500, r.text
    assert r.json()["message"].endswith("exited with status 1 before it answered; "
                                        "it wrote no output"), r.text


@pytest.mark.skipif(os.geteuid() != 0, reason="jupyterhub-singleuser refuses only root")
def test_singleuser_as_root_says_so(hub_factory, tmp_path):
    # Without --allow-root the real server refuses to run as root; the user and the admin see
    # its own words instead of a bare exit status.
    cfg = with_section(spawn_config(cmd=["jupyterhub-singleuser"], home=tmp_path / "homes"),
                       "Spawner", args=[], http_timeout=60, start_timeout=60)
    hub = hub_factory(config=cfg)
    Api(hub)("POST", "/users/rooty")
    r = start(hub, "rooty")
    if r.status_code == 202:  # a slow machine: the start goes on past the request's wait
        events = progress_events(hub, "rooty", timeout=90)
        message = events[-1]["message"]
        assert events[-1]["failed"] is True, events
    else:
        assert r.status_code == 500, r.text
        message = r.json()["message"]
    assert "Running as root is not recommended. Use --allow-root to bypass." in message, message
    logged = wait_for(lambda: failure_in_log(hub, "rooty"), 30, what="the failure in the log")
    assert "Running as root is not recommended" in logged


def say(base, user, text):
    r = requests.get(f"{base}/user/{user}/say", params={"text": text}, timeout=10)
    assert r.status_code == 200, r.text


def test_output_goes_on_through_a_hub_restart(hub_factory, tmp_path):
    cfg = with_section(spawn_config(cmd=ENV_SERVER, home=tmp_path / "homes"), "Spawner",
                       poll_interval=0.5)
    keep = ["--JupyterHub.cleanup_servers=False", "--JupyterHub.cleanup_proxy=False"]
    hub = hub_factory(config=cfg, args=keep)
    Api(hub)("POST", "/users/doc")
    assert start(hub, "doc").status_code == 201
    pid = server_model(hub, "doc")["state"]["pid"]
    say(hub.public_url, "doc", "first-words")
    wait_for(lambda: "first-words (stdout)" in hub.log() and "first-words (stderr)" in hub.log(),
             10, what="the server's output in the hub's log")
    hub.stop()

    # No hub: the server writes on (to its file) without a care.
    say(hub.public_url, "doc", "while-no-hub")
    path = tmp_path / "server-logs" / "doc.log"
    assert "while-no-hub (stderr)" in path.read_text()

    hub2 = hub_factory(config=cfg, state_dir=tmp_path, name="hub2", start=False, args=keep)
    hub2.proxy_port, hub2.proxy_api_port = hub.proxy_port, hub.proxy_api_port
    hub2.public_url = hub.public_url
    hub2.start()
    wait_ready(hub2, "doc")
    assert server_model(hub2, "doc")["state"]["pid"] == pid
    say(hub2.public_url, "doc", "after-restart")
    wait_for(lambda: "after-restart (stderr)" in hub2.log(), 10,
             what="the adopted server's output in the new hub's log")
    assert "after-restart" not in hub.log()
    assert "while-no-hub" not in hub2.log()  # forwarded from where the new hub found the file

    # It still runs, and when it ends the new hub notices.
    assert os.path.exists(f"/proc/{pid}")
    r = requests.get(f"{hub2.public_url}/user/doc/exit", params={"code": "4"}, timeout=10)
    assert r.status_code == 200
    wait_stopped(hub2, "doc", timeout=30)
    text = path.read_text()
    assert text.index("first-words") < text.index("while-no-hub") < text.index("after-restart")
