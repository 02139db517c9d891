"""Every secret the integration suite hands a hub or gets from one (API tokens, passwords, the
crypt key, cookie secrets, shared LTI secrets, a SLURM JWT, id_tokens), remembered so that
each hub's log is searched for all of them when the hub is stopped (conftest.py): a test
fails when its hub wrote one down. Values under 8 characters are not secrets worth the name
and would match by chance."""
import json

SECRETS = set()


def remember(*values):
    for v in values:
        if isinstance(v, str) and len(v) >= 8:
            SECRETS.add(v)


def remember_response(r):
    """The tokens in a hub's JSON answer ({"token": ...}, as POST .../tokens gives)."""
    if "json" not in r.headers.get("Content-Type", ""):
        return
    try:
        body = r.json()
    except (ValueError, json.JSONDecodeError):
        return
    if isinstance(body, dict):
        remember(body.get("token"))


def remember_state_dir(state_dir):
    """What the hub made itself: its cookie secret, its generated password."""
    for name in ("jupyterhub_cookie_secret", "ganymede_password"):
        try:
            remember((state_dir / name).read_text().strip())
        except (OSError, UnicodeDecodeError):
            pass


def check_secrets(text, where):
    found = sorted(s for s in SECRETS if s in text)
    assert not found, (f"{where} holds {len(found)} secret(s) the suite gave or got, e.g. "
                       f"{found[0][:6]}... (tests/integration/secrets_seen.py)")
