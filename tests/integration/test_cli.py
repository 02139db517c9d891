"""The ganymede command line: help, version, the generated settings reference and config file,
bad flags."""
import re
import subprocess

from conftest import BIN, Hub, run_ganymede


def test_version_and_help(tmp_path):
    p = run_ganymede(["--version"], tmp_path)
    assert p.returncode == 0
    assert re.match(r"ganymede \d+\.\d+\.\d+ \(JupyterHub API 5\.5\.1\)", p.stdout)
    p = run_ganymede(["--help"], tmp_path)
    assert p.returncode == 0
    for word in ("--config", "--Class.trait=VALUE", "upgrade-db", "--help-config",
                 "--generate-config", "--debug", "--log-level"):
        assert word in p.stdout


def test_help_config_lists_every_setting(tmp_path):
    p = run_ganymede(["--help-config"], tmp_path)
    assert p.returncode == 0
    # Every key with its type, default and help.
    assert "--JupyterHub.bind_url=<str>  (default: \"http://:8000\")" in p.stdout
    assert "--JupyterHub.hub_port=<int>  (default: 8081)" in p.stdout
    assert "--Ganymede.max_body_size=<int>  (default: 10485760)" in p.stdout
    blocks = re.findall(r"  --(\S+)=<\w+>  \(default: .*\)\n      (.+)\n", p.stdout)
    assert len(blocks) >= 20
    for key, help_text in blocks:
        assert help_text.strip().endswith("."), f"{key}: help is not a sentence"
    md = run_ganymede(["--help-config=markdown"], tmp_path)
    assert md.returncode == 0 and "| `JupyterHub.db_url` | str |" in md.stdout
    bad = run_ganymede(["--help-config=html"], tmp_path)
    assert bad.returncode == 2 and "text, markdown or py" in bad.stderr


def test_generate_config(tmp_path, hub_factory):
    p = run_ganymede(["--generate-config"], tmp_path)
    assert p.returncode == 0, p.stderr
    text = (tmp_path / "jupyterhub_config.py").read_text()
    assert "c = get_config()" in text
    assert "# c.JupyterHub.bind_url = 'http://:8000'" in text
    assert "# c.JupyterHub.upgrade_db = False" in text
    # It refuses to overwrite without -y, and -y overwrites.
    p = run_ganymede(["--generate-config"], tmp_path)
    assert p.returncode == 1 and "add -y" in p.stderr
    p = run_ganymede(["--generate-config", "-y"], tmp_path)
    assert p.returncode == 0
    p = run_ganymede(["--generate-config", "-f", "-"], tmp_path)
    assert p.stdout == text
    # The generated file, with a line uncommented, is a working config.
    text = text.replace("# c.JupyterHub.base_url = '/'", "c.JupyterHub.base_url = '/gen/'")
    (tmp_path / "jupyterhub_config.py").write_text(text)
    h = hub_factory()  # reads ./jupyterhub_config.py by default, as JupyterHub does
    assert h.get("/gen/hub/api/").status_code == 200


def test_bad_flags(tmp_path):
    for args, message in [
        (["--no-such-flag=1"], "unknown option '--no-such-flag=1'"),
        (["--JupyterHub.hub_port=abc"], "'abc' is not an integer"),
        (["--JupyterHub.upgrade_db=maybe"], "is not a boolean"),
        (["frobnicate"], "unknown subcommand 'frobnicate'"),
        (["--config"], "needs a value"),
    ]:
        p = run_ganymede(args, tmp_path)
        assert p.returncode == 2, (args, p.stderr)
        assert message in p.stderr, (args, p.stderr)


def test_flags_and_aliases(hub_factory):
    h = hub_factory(args=["--base-url=/alias/", "--db=sqlite:///other.sqlite", "--debug"])
    assert h.get("/alias/hub/api/").json()["version"] == "5.5.1"
    assert (h.state_dir / "other.sqlite").exists()
    assert "[D " in h.log()  # --debug lowers the log level
    r = h.get("/hub/api/")
    assert r.status_code == 404  # outside base_url
