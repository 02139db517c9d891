"""Config files in the three formats, precedence, and clear errors for bad configs."""
import textwrap

import pytest

from conftest import Hub, run_ganymede


def refused(tmp_path, config_name, text, *args):
    (tmp_path / config_name).write_text(textwrap.dedent(text))
    p = run_ganymede(["-f", config_name] + list(args), tmp_path)
    assert p.returncode == 1, p.stdout + p.stderr
    return p.stdout + p.stderr


def test_py_config(hub_factory):
    h = hub_factory(config_name="jupyterhub_config.py", config=textwrap.dedent("""\
        # A config as JupyterHub admins write them.
        c = get_config()  # noqa
        c.JupyterHub.base_url = '/py/'
        c.JupyterHub.db_url = 'sqlite:///py.sqlite'
        c.Ganymede.max_url_length = 4 * 1024
        c.JupyterHub.log_level = 'DEBUG'
        """))
    assert h.get("/py/hub/api/").status_code == 200
    assert (h.state_dir / "py.sqlite").exists()


def test_json_and_yaml_configs(hub_factory, tmp_path):
    h = hub_factory(config={"JupyterHub": {"base_url": "/js/"}},
                    config_name="jupyterhub_config.json")
    assert h.get("/js/hub/api/").status_code == 200
    h.stop()
    h = hub_factory(config="JupyterHub:\n  base_url: /ya/\n", config_name="config.yaml",
                    state_dir=tmp_path / "y")
    assert h.get("/ya/hub/api/").status_code == 200


def test_z2jh_values_file(hub_factory):
    values = textwrap.dedent("""\
        proxy:
          secretToken: not-read
        hub:
          config:
            JupyterHub:
              base_url: /z2jh/
              admin_access: true
            Authenticator:
              admin_users: [admin]
        """)
    h = hub_factory(config=values, config_name="values.yaml")
    assert h.get("/z2jh/hub/api/").status_code == 200
    assert "zero-to-jupyterhub" in h.log()


def test_command_line_wins_over_file(hub_factory):
    h = hub_factory(config={"JupyterHub": {"base_url": "/file/"}},
                    args=["--JupyterHub.base_url=/flag/"])
    assert h.get("/flag/hub/api/").status_code == 200


def test_type_error_names_key_place_and_type(tmp_path):
    out = refused(tmp_path, "c.py", """\
        c.JupyterHub.base_url = '/'
        c.JupyterHub.hub_port = 'eighty'
        """)
    assert "JupyterHub.hub_port (c.py:2) must be an integer, not a string" in out
    out = refused(tmp_path, "c.json", '{"JupyterHub": {"upgrade_db": "yes"}}')
    assert "JupyterHub.upgrade_db (c.json) must be a boolean, not a string" in out


def test_typo_gets_closest_key(tmp_path):
    out = refused(tmp_path, "c.py", "c.JupyterHub.bind_ulr = 'http://:8000'\n")
    assert "unknown setting JupyterHub.bind_ulr (c.py:1); did you mean JupyterHub.bind_url?" in out
    out = refused(tmp_path, "c.py", "c.JupyterHb.base_url = '/'\n")
    assert "unknown class JupyterHb (c.py:1); did you mean JupyterHub?" in out


def test_unimplemented_jupyterhub_setting_is_a_warning(hub_factory):
    h = hub_factory(config_name="jupyterhub_config.py", config=textwrap.dedent("""\
        c.JupyterHub.statsd_host = 'localhost'
        c.Spawner.pre_spawn_hook = None
        c.NativeAuthenticator.open_signup = True
        """))
    log = h.log()
    assert "JupyterHub.statsd_host (jupyterhub_config.py:1) is a JupyterHub setting that " \
           "Ganymede does not implement; it is ignored" in log
    assert "NativeAuthenticator" in log


def test_python_code_is_refused_with_line_and_construct(tmp_path):
    out = refused(tmp_path, "jupyterhub_config.py", """\
        c = get_config()
        import os
        c.JupyterHub.base_url = os.environ['BASE']
        """)
    assert "jupyterhub_config.py:2: `import` is not supported" in out
    assert "JSON config file" in out
    out = refused(tmp_path, "c.py", "c.Spawner.cmd = ['a', 'b'] + EXTRA\n")
    assert "c.py:1: 'EXTRA' is not a literal" in out


def test_missing_and_malformed_files(tmp_path):
    p = run_ganymede(["-f", "nowhere.py"], tmp_path)
    assert p.returncode == 1 and "cannot read config file nowhere.py" in p.stderr
    out = refused(tmp_path, "bad.json", '{"JupyterHub": {"base_url": }')
    assert "bad.json:1" in out and "not valid JSON" in out
    out = refused(tmp_path, "bad.yaml", "JupyterHub:\n  base_url: [unclosed\n")
    assert "bad.yaml:" in out
    out = refused(tmp_path, "bad.json", '["not", "a", "mapping"]')
    assert "must be a mapping of classes" in out


def test_bad_values(tmp_path):
    out = refused(tmp_path, "c.json", '{"JupyterHub": {"bind_url": "8000"}}')
    assert "JupyterHub.bind_url (c.json) is not a URL" in out
    out = refused(tmp_path, "c.json", '{"JupyterHub": {"log_level": "LOUD"}}')
    assert "JupyterHub.log_level" in out and "DEBUG, INFO" in out
    out = refused(tmp_path, "c.json", '{"Ganymede": {"max_body_size": -1}}')
    assert "must be a positive number" in out
    out = refused(tmp_path, "c.json", '{"JupyterHub": {"hub_bind_url": "http://hub.example:8081"}}')
    assert "give an IP address to listen on" in out
