"""docs/authenticators/lti.md's examples, loaded as written (a jupyterhub_config.py), with the
platform's addresses and keys replaced by those of ../shared/recipes/start-lti-platform.sh:
an LTI 1.3 launch signed with the platform's key logs its user in with the example's settings
(email as the name, an Instructor as an admin in "teachers"), and an LTI 1.1 launch signed with
the example's consumer key and secret logs its user in."""
import re
import urllib.parse
from pathlib import Path

import requests

from conftest import ADMIN_TOKEN, Api
from test_lti11 import lti_platform, platform  # noqa: F401
from test_lti13 import (CLIENT_ID, INSTRUCTOR, ISSUER, claims_for, login_initiation,
                        post_launch, sign)
from test_login import CRYPT_KEY

DOCS = Path(__file__).resolve().parents[2] / "docs" / "authenticators" / "lti.md"


def example(heading):
    section = DOCS.read_text().split(f"\n### {heading}\n", 1)
    assert len(section) == 2, f"docs/authenticators/lti.md has no '### {heading}'"
    m = re.search(r"```python\n(.*?)```", section[1], re.S)
    assert m, f"no ```python block under '### {heading}'"
    return m.group(1)


def docs_hub(hub_factory, text):
    config = (text + "\n# Appended by tests/integration/test_lti_docs.py\n"
              f'c.JupyterHub.api_tokens = {{"{ADMIN_TOKEN}": "admin"}}\n'
              'c.JupyterHub.redirect_to_server = False\n'
              'c.Authenticator.admin_users = {"admin"}\n')
    hub = hub_factory(config=config, config_name="jupyterhub_config.py",
                      env={"JUPYTERHUB_CRYPT_KEY": CRYPT_KEY})
    hub.api = Api(hub)
    return hub


def test_the_lti13_example(hub_factory, lti_platform):  # noqa: F811
    text = example("Example (LTI 1.3)")
    for docs_value, ours in [("https://moodle.example.edu/mod/lti/auth.php",
                              ISSUER + "/lti13/auth"),
                             ("https://moodle.example.edu/mod/lti/certs.php",
                              ISSUER + "/.well-known/jwks.json"),
                             ("https://moodle.example.edu", ISSUER),
                             ("zq2Bu8KTBjOwLIw", CLIENT_ID)]:
        assert docs_value in text, docs_value
        text = text.replace(docs_value, ours)
    hub = docs_hub(hub_factory, text)
    s = requests.Session()
    q, r = login_initiation(hub, s)
    assert q, r.text
    # The example's leeway (30 s) takes a token issued 20 s in the future.
    claims = claims_for("teacher1", q["nonce"], **{"https://purl.imsglobal.org/spec/lti/claim/"
                                                    "roles": [INSTRUCTOR]})
    claims["iat"] += 20
    r = post_launch(hub, s, sign(claims), q["state"])
    assert r.status_code == 302, r.text
    r = hub.api("GET", "/users/teacher1@example.org")
    assert r.status_code == 200, (r.text, hub.api("GET", "/users").text)
    user = r.json()
    assert user["admin"] is True and user["groups"] == ["teachers"], user
    assert user["auth_state"]["https://purl.imsglobal.org/spec/lti/claim/context"]["label"] == \
        "HUB101"


def test_the_lti11_example(hub_factory, lti_platform):  # noqa: F811
    text = example("Example (LTI 1.1)")
    assert '"moodle-course-key": "a-long-random-shared-secret"' in text
    text = text.replace('"moodle-course-key": "a-long-random-shared-secret"',
                        '"hubtest-key": "hubtest-secret"')
    hub = docs_hub(hub_factory, text)
    launch_url = hub.url + "/hub/lti/launch"
    body = platform("sign11", launch_url, "user_id=student7")
    r = requests.post(launch_url, data=body, allow_redirects=False, timeout=10,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 302, r.text
    email = dict(urllib.parse.parse_qsl(body))["lis_person_contact_email_primary"]
    assert hub.api("GET", f"/users/{email}").status_code == 200, (email, hub.api("GET", "/users").text)
