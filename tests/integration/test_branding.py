"""Whose product the pages show: Ganymede's name in the tab title and its logo in the
navigation bar, served at /hub/logo unless JupyterHub.logo_file replaces it, while the ids,
classes and URLs that template overrides and JupyterHub's clients rely on stay as they were."""
import re

import requests

from conftest import VERSION
from test_login import PASSWORD, SHARED, login

# The smallest valid PNG (1x1, transparent), for a logo_file in a format other than SVG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def title(html):
    return re.search(r"<title>([^<]*)</title>", html).group(1)


def test_pages_name_ganymede(hub_factory):
    hub = hub_factory(config=SHARED)
    page = hub.get("/hub/login").text
    assert title(page) == "Sign in · Ganymede"
    # The navigation bar keeps JupyterHub's logo markup (overrides and CSS select on it).
    logo = re.search(r'<span id="jupyterhub-logo"[^>]*>\s*<a href="/">'
                     r'<img src="/hub/logo" alt="([^"]*)" class="jpy-logo"', page)
    assert logo, page[:2000]
    assert logo.group(1) == "Ganymede logo"
    assert "JupyterHub" not in page
    s = requests.Session()
    assert login(hub, s, "alice", PASSWORD).status_code == 302
    home = s.get(hub.url + "/hub/home").text
    assert title(home) == "Home · Ganymede"
    assert 'id="jupyterhub-logo"' in home and 'src="/hub/logo"' in home
    assert title(s.get(hub.url + "/hub/token").text) == "Token · Ganymede"
    assert title(s.get(hub.url + "/hub/nope").text) == "404 · Ganymede"
    # The API keeps answering as JupyterHub 5.5.1 for its clients.
    assert hub.get("/hub/api/").json() == {"version": "5.5.1", "ganymede": VERSION}


def test_logo_is_ganymedes(hub_factory):
    hub = hub_factory(config=SHARED)
    r = hub.get("/hub/logo")
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/svg+xml"
    svg = r.text
    assert svg.startswith("<svg") and 'aria-label="Ganymede"' in svg
    assert ">Ganymede</text>" in svg
    assert "Jupyter" not in svg
    # The same file as the static one, at its static URL too.
    assert hub.get("/hub/static/images/logo.svg").content == r.content
    assert "Jupyter" not in hub.get("/hub/static/images/favicon.svg").text


def test_logo_file_replaces_the_logo(hub_factory, tmp_path):
    for name, data, ctype in (("brand.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>',
                               "image/svg+xml"),
                              ("brand.png", PNG, "image/png"),
                              ("brand.jpeg", b"\xff\xd8\xff\xe0fake-jpeg", "image/jpeg"),
                              ("brand-no-suffix", PNG, "image/png")):
        (tmp_path / name).write_bytes(data)
        cfg = {**SHARED, "JupyterHub": {**SHARED["JupyterHub"], "logo_file": str(tmp_path / name)}}
        hub = hub_factory(config=cfg, state_dir=tmp_path / f"state-{name}")
        r = hub.get("/hub/logo")
        assert r.status_code == 200 and r.content == data, name
        assert r.headers["Content-Type"] == ctype, (name, r.headers["Content-Type"])
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        # The pages point at /hub/logo as before, so the deployment's logo is the one shown.
        assert 'src="/hub/logo"' in hub.get("/hub/login").text
        hub.stop()
