"""The database: JupyterHub 5.x's schema, WAL mode, databases made by a real JupyterHub 3.0
upgraded after a backup, and refusals."""
import sqlite3
from pathlib import Path

import pytest

from conftest import ROOT, run_ganymede
from helpers.jupyterhub_db import make_jupyterhub_3_db


def schema(path):
    """{table: [columns]} of a SQLite file."""
    con = sqlite3.connect(path)
    tables = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    out = {t: sorted(r[1] for r in con.execute(f"PRAGMA table_info('{t}')")) for t in tables}
    con.close()
    return out


def reference_schema(tmp_path):
    ref = tmp_path / "ref.sqlite"
    con = sqlite3.connect(ref)
    con.executescript((ROOT / "tests/fixtures/jupyterhub-5.5.1-schema.sql").read_text())
    con.close()
    return schema(ref)


@pytest.mark.sqlite_only
def test_new_database_has_jupyterhub_5_schema(hub_factory, tmp_path):
    h = hub_factory()
    db = tmp_path / "jupyterhub.sqlite"
    assert schema(db) == reference_schema(tmp_path)
    con = sqlite3.connect(db)
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [("4621fec11365",)]
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()
    assert (db.stat().st_mode & 0o077) == 0  # the database holds token hashes


@pytest.mark.sqlite_only
def test_jupyterhub_3_database_upgrade(hub_factory, tmp_path):
    db = tmp_path / "jupyterhub.sqlite"
    made = make_jupyterhub_3_db(db, users={"alice": True, "bob": False},
                                groups={"staff": ["alice"]})
    assert made["tokens"]["alice"]
    # Starting refuses, names the version, says what to run and leaves the file alone.
    h = hub_factory(start=False)
    h.start(wait=False)
    assert h.wait() == 1
    assert "was made by JupyterHub 3.x (651f5419b74d)" in h.log()
    assert "ganymede upgrade-db" in h.log()
    assert sqlite3.connect(db).execute(
        "SELECT version_num FROM alembic_version").fetchone()[0] == "651f5419b74d"
    # upgrade-db writes a backup and brings the schema to 5.x with the data kept.
    p = run_ganymede(["upgrade-db"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert "Upgraded jupyterhub.sqlite from JupyterHub 3.x" in p.stderr
    backups = [f for f in tmp_path.iterdir() if f.name.startswith("jupyterhub.sqlite.2")]
    assert len(backups) == 1
    assert sqlite3.connect(backups[0]).execute(
        "SELECT version_num FROM alembic_version").fetchone()[0] == "651f5419b74d"
    upgraded = schema(db)
    ref = reference_schema(tmp_path)
    assert set(upgraded) == set(ref)
    for table, cols in ref.items():
        assert set(cols) == set(upgraded[table]), table
    con = sqlite3.connect(db)
    assert sorted(r[0] for r in con.execute("SELECT name FROM users")) == ["alice", "bob"]
    assert con.execute("SELECT count(*) FROM user_group_map").fetchone()[0] == 1
    con.close()
    # Now the hub starts on it, and a second upgrade-db has nothing to do.
    h = hub_factory()
    assert h.get("/hub/api/").status_code == 200
    h.stop()
    p = run_ganymede(["upgrade-db"], tmp_path)
    assert p.returncode == 0 and "is up to date" in p.stderr


@pytest.mark.sqlite_only
def test_upgrade_at_start_when_configured(hub_factory, tmp_path):
    make_jupyterhub_3_db(tmp_path / "jupyterhub.sqlite", users={"alice": True})
    h = hub_factory(args=["--upgrade-db"])
    assert "Upgraded the database jupyterhub.sqlite from JupyterHub 3.x" in h.log()


def test_refused_databases(tmp_path):
    con = sqlite3.connect(tmp_path / "newer.sqlite")
    con.executescript("CREATE TABLE alembic_version (version_num VARCHAR(32));"
                      "INSERT INTO alembic_version VALUES ('f460b0348206');")
    con.close()
    p = run_ganymede(["--db=sqlite:///newer.sqlite", "upgrade-db"], tmp_path)
    assert p.returncode == 1 and "made by JupyterHub 6" in p.stderr
    p = run_ganymede(["--db=mysql://user:s3cret-pw@db/hub"], tmp_path)
    assert p.returncode == 1
    assert "supports sqlite:// and postgresql:// databases, not mysql://" in p.stderr
    assert "s3cret-pw" not in p.stderr
    # A PostgreSQL server that is not there: the message names the URL, not the password.
    p = run_ganymede(["--db=postgresql://user:s3cret-pw@127.0.0.1:1/hub"], tmp_path)
    assert p.returncode == 1
    assert "cannot connect to the database postgresql://user@127.0.0.1:1/hub" in p.stderr
    assert "s3cret-pw" not in p.stderr
    assert "pw@" not in p.stderr
    p = run_ganymede(["--db=sqlite:////nonexistent/dir/hub.sqlite"], tmp_path)
    assert p.returncode == 1 and "cannot open the database /nonexistent/dir/hub.sqlite" in p.stderr


def test_absolute_db_path(hub_factory, tmp_path):
    path = tmp_path / "sub" / "abs.sqlite"
    path.parent.mkdir()
    h = hub_factory(args=[f"--JupyterHub.db_url=sqlite:///{path}"])
    assert path.exists()
