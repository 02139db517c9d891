"""Make real JupyterHub databases with the jupyterhub package installed from Debian (3.0), run by
Debian's python3 in a subprocess so that the test process needs nothing from it."""
import json
import subprocess
import sys

SCRIPT = r"""
import json, sys
from jupyterhub import orm
path, spec = sys.argv[1], json.loads(sys.argv[2])
db = orm.new_session_factory(path if '://' in path else 'sqlite:///' + path)()
db.add(orm.OAuthClient(identifier='jupyterhub'))
db.commit()
tokens = {}
for name, admin in spec.get('users', {}).items():
    u = orm.User(name=name, admin=admin)
    db.add(u)
    db.commit()
    tokens[name] = u.new_api_token(note='made by JupyterHub ' + orm.__name__)
for name, members in spec.get('groups', {}).items():
    g = orm.Group(name=name)
    db.add(g)
    for m in members:
        g.users.append(orm.User.find(db, m))
    db.commit()
print(json.dumps({'tokens': tokens}))
"""


def make_jupyterhub_3_db(path, users=None, groups=None):
    """Create a JupyterHub 3.0 database at @path (a SQLite file, or a database URL such as
    postgresql://...); returns {"tokens": {user: token}}."""
    spec = json.dumps({"users": users or {}, "groups": groups or {}})
    p = subprocess.run(["/usr/bin/python3", "-c", SCRIPT, str(path), spec], capture_output=True,
                       text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"jupyterhub could not make a database:\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(make_jupyterhub_3_db(sys.argv[1], {"admin": True}))
