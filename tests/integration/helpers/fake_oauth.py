"""Fake OAuth providers for the hub's OAuth login tests: GitHub, Auth0 and CILogon as small
HTTP servers that answer with those providers' real response shapes, plus what the tests of
the generic OpenID Connect login need around the real provider (the npm oidc-provider started
by ../shared/recipes/start-oidc-provider.sh): a relay for its strict redirect URIs and a proxy
that tampers with the id_tokens it issues.

Everything here runs in threads inside pytest, on free loopback ports, with the standard
library only (the login drivers at the end import requests when called):

    with FakeProvider("github") as gh:        # http://127.0.0.1:PORT, GitHub Enterprise layout
        gh.login_as("octo-cat")               # who "logs in" at the next /authorize
        gh.fail("token", "timeout")           # the next token request answers too late
        ... the hub logs in through gh.url ...
        gh.requests_for("token")[0].form      # what the hub sent: code_verifier, client auth

The authorize endpoint shows no form: it sends the browser straight back to redirect_uri
with a code and the same state (or with ?error= after deny_next()). Failures, per endpoint
("token", "user", "emails", "teams", "membership", "authorize", "jwks"), are one of:
    "500"        HTTP 500 with the provider's error body
    "timeout"    no answer for `hang_seconds` (bounded; cut short when the fake stops)
    "malformed"  HTTP 200, Content-Type application/json, truncated JSON
    "error"      the provider's own error document (token: the OAuth `error` JSON exactly as
                 that provider returns it; APIs: GitHub's 401 "Bad credentials")

Response shapes:
  GitHub  (docs.github.com REST, oauthenticator's tests/test_github.py): POST
          /login/oauth/access_token answers JSON only with Accept: application/json (else
          form-encoded, as GitHub does), errors with HTTP 200 and {"error", "error_description",
          "error_uri"}; the API lives under /api/v3 (Enterprise layout, which the hub uses when
          github_url is not github.com) and wants a User-Agent; /orgs/{org}/members/{user}
          answers 204 (member), 404 (not) or 302 to public_members when the requester cannot
          see the organisation's private members (no read:org, or not a member itself);
          /user/teams pages with Link rel="next".
  Auth0   /authorize, /oauth/token (errors 403 invalid_grant / 401 access_denied), /userinfo
          (claims filtered by scope: email and email_verified need `email`),
          /.well-known/jwks.json, /.well-known/openid-configuration, /v2/logout. id_tokens are
          RS256, iss https://<auth0_domain>/.
  CILogon /authorize (selected_idp, skin recorded), /oauth2/token, /oauth2/userinfo (GET or
          POST, bearer header or access_token parameter; `idp`, `idp_name`, `eppn`,
          `affiliation` need the org.cilogon.userinfo scope), /oauth2/certs.

Run alone for a look by hand:  python3 fake_oauth.py github|auth0|cilogon   (Ctrl-C stops)
or check it without a hub:      python3 fake_oauth.py selftest
"""
import base64
import copy
import fcntl
import hashlib
import hmac
import html
import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urljoin, urlsplit

from secrets_seen import remember

# ---------------------------------------------------------------------------------------------
# base64url, RS256 and JWTs (pure Python: the RSA key of a fake is made once per process).


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_b64u(i):
    return b64u(i.to_bytes((i.bit_length() + 7) // 8, "big"))


_SMALL_PRIMES = [p for p in range(3, 2000, 2) if all(p % q for q in range(3, int(p ** 0.5) + 1, 2))]


def _probable_prime(n, rounds=24):
    for p in _SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(rounds):
        x = pow(secrets.randbelow(n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits, e):
    for _ in range(100000):
        c = secrets.randbits(bits) | (3 << (bits - 2)) | 1
        if (c - 1) % e and _probable_prime(c):
            return c
    raise AssertionError("no prime found")


# SHA-256 DigestInfo prefix for EMSA-PKCS1-v1_5 (RFC 8017 section 9.2).
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


class RsaKey:
    """An RSA key that signs RS256 (RSASSA-PKCS1-v1_5 with SHA-256)."""

    def __init__(self, n, e, d=None, kid=None):
        self.n, self.e, self.d = n, e, d
        self.kid = kid or b64u(hashlib.sha256(str(n).encode()).digest()[:12])

    @classmethod
    def generate(cls, bits=2048, kid=None):
        e = 65537
        while True:
            p, q = _prime(bits // 2, e), _prime(bits // 2, e)
            n = p * q
            if p != q and n.bit_length() == bits:
                lam = (p - 1) * (q - 1) // _gcd(p - 1, q - 1)
                return cls(n, e, pow(e, -1, lam), kid)

    @classmethod
    def from_jwk(cls, jwk):
        num = lambda k: int.from_bytes(unb64u(jwk[k]), "big")  # noqa: E731
        return cls(num("n"), num("e"), num("d") if "d" in jwk else None, jwk.get("kid"))

    def _em(self, msg):
        k = (self.n.bit_length() + 7) // 8
        t = _SHA256_DIGEST_INFO + hashlib.sha256(msg).digest()
        return b"\x00\x01" + b"\xff" * (k - 3 - len(t)) + b"\x00" + t, k

    def sign(self, msg):
        em, k = self._em(msg)
        return pow(int.from_bytes(em, "big"), self.d, self.n).to_bytes(k, "big")

    def verify(self, msg, sig):
        em, k = self._em(msg)
        return len(sig) == k and pow(int.from_bytes(sig, "big"), self.e, self.n) == \
            int.from_bytes(em, "big")

    def public_pem(self):
        """The public key as PEM (SubjectPublicKeyInfo)."""
        def length(b):
            if len(b) < 128:
                return bytes([len(b)])
            n = (len(b).bit_length() + 7) // 8
            return bytes([0x80 | n]) + len(b).to_bytes(n, "big")

        def tlv(tag, b):
            return bytes([tag]) + length(b) + b

        def integer(x):
            return tlv(2, x.to_bytes(x.bit_length() // 8 + 1, "big"))

        spki = tlv(0x30, tlv(0x30, bytes.fromhex("06092a864886f70d0101010500")) +
                   tlv(3, b"\0" + tlv(0x30, integer(self.n) + integer(self.e))))
        b64 = base64.b64encode(spki).decode()
        return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(
            b64[i:i + 64] for i in range(0, len(b64), 64)) + "\n-----END PUBLIC KEY-----\n"

    def public_jwk(self):
        return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                "n": _int_b64u(self.n), "e": _int_b64u(self.e)}


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


_FAKE_KEY = []
_FAKE_KEY_LOCK = threading.Lock()


def fake_signing_key():
    """The RS256 key every fake provider of this process signs id_tokens with."""
    with _FAKE_KEY_LOCK:
        if not _FAKE_KEY:
            _FAKE_KEY.append(RsaKey.generate(2048, kid="ganymede-fake-key-1"))
        return _FAKE_KEY[0]


def jwt_encode(claims, key=None, header=None):
    """A compact JWS: RS256 with @key, or alg "none" without one. @header is merged in."""
    hdr = {"alg": "RS256" if key else "none", "typ": "JWT"}
    if key:
        hdr["kid"] = key.kid
    hdr.update(header or {})
    signing_input = b64u(json.dumps(hdr, separators=(",", ":")).encode()) + "." + \
        b64u(json.dumps(claims, separators=(",", ":")).encode())
    sig = key.sign(signing_input.encode()) if key and hdr["alg"] == "RS256" else b""
    return signing_input + "." + b64u(sig)


def jwt_decode(token):
    """(header, claims, signature) of a compact JWS, unverified."""
    h, p, s = token.split(".")
    return json.loads(unb64u(h)), json.loads(unb64u(p)), unb64u(s)


def pkce_challenge(verifier):
    return b64u(hashlib.sha256(verifier.encode()).digest())


# ---------------------------------------------------------------------------------------------
# A threaded loopback server that records every request.


@dataclass
class Recorded:
    """One request a fake received. Header names are lower case; query and form keep the
    first value of each name; `auth` is (id, secret) from an Authorization: Basic header."""
    endpoint: str
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    form: dict = field(default_factory=dict)
    auth: tuple = None
    time: float = 0.0

    @property
    def url_path(self):
        return self.path


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server_version = "fake-oauth/1"

    def log_message(self, fmt, *args):  # quiet: the tests read `requests` instead
        pass

    def _serve(self):
        try:
            self.server.owner._serve(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the hub gave up (timeout tests): nothing to answer

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve


class _Server:
    """Base of the fakes: `url`, start/stop (or `with`), `requests`, `requests_for(endpoint)`."""

    def __init__(self, port=0):
        self._port = port
        self._httpd = None
        self._thread = None
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self.requests = []

    @property
    def url(self):
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def port(self):
        return self._httpd.server_address[1]

    def start(self):
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self._port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is None:
            return
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def requests_for(self, endpoint):
        with self._lock:
            return [r for r in self.requests if r.endpoint == endpoint]

    def clear_requests(self):
        with self._lock:
            self.requests.clear()

    # -- request plumbing --

    def _read(self, h, endpoint):
        split = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(min(length, 1 << 20)) if length else b""
        headers = {k.lower(): v for k, v in h.headers.items()}
        form = {}
        ctype = headers.get("content-type", "")
        if body and ctype.startswith("application/json"):
            try:
                doc = json.loads(body)
                form = {k: v for k, v in doc.items()} if isinstance(doc, dict) else {}
            except ValueError:
                form = {}
        elif body:
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        auth = None
        authz = headers.get("authorization", "")
        if authz[:6].lower() == "basic ":
            try:
                ident, _, secret = base64.b64decode(authz[6:].strip()).decode().partition(":")
                auth = (_unquote_form(ident), _unquote_form(secret))
            except (ValueError, UnicodeDecodeError):
                auth = ("", "")
        rec = Recorded(endpoint=endpoint, method=h.command, path=split.path,
                       query=dict(parse_qsl(split.query, keep_blank_values=True)),
                       headers=headers, body=body, form=form, auth=auth, time=time.time())
        with self._lock:
            self.requests.append(rec)
        return rec

    @staticmethod
    def _send(h, status, body=b"", headers=None, ctype=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            ctype = ctype or "application/json; charset=utf-8"
        elif isinstance(body, str):
            body = body.encode()
        h.send_response(status)
        hdrs = dict(headers or {})
        if ctype:
            hdrs["Content-Type"] = ctype
        hdrs["Content-Length"] = str(len(body))
        hdrs.setdefault("Cache-Control", "no-store")
        for k, v in hdrs.items():
            h.send_header(k, v)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)


def _unquote_form(s):
    # RFC 6749 2.3.1: client_id and secret are form-urlencoded before Basic encoding.
    from urllib.parse import unquote_plus
    return unquote_plus(s)


# ---------------------------------------------------------------------------------------------
# The providers' users and organisations.

GITHUB_USERS = {
    # A public email; member of jupyter and its hub-team, and of bigorg's 150 teams.
    "octo-cat": {"login": "Octo-Cat", "id": 583231, "name": "Octo Cat",
                 "email": "octocat@github.example",
                 "emails": [{"email": "octocat@github.example", "primary": True,
                             "verified": True, "visibility": "public"}]},
    # A private email (null in /user), only /user/emails has it.
    "private-pat": {"login": "private-pat", "id": 1000002, "name": "Pat Private", "email": None,
                    "emails": [{"email": "1000002+private-pat@users.noreply.github.com",
                                "primary": False, "verified": True, "visibility": None},
                               {"email": "pat@example.org", "primary": True, "verified": True,
                                "visibility": "private"}]},
    # In jupyter, but in none of its teams.
    "teamless": {"login": "teamless", "id": 1000003, "name": None, "email": None,
                 "emails": [{"email": "teamless@example.org", "primary": True,
                             "verified": True, "visibility": "private"}]},
    # A public member of jupyter (visible without read:org).
    "public-pam": {"login": "public-pam", "id": 1000004, "name": "Pam Public", "email": None,
                   "emails": [{"email": "pam@example.org", "primary": True, "verified": True,
                               "visibility": "private"}]},
    # In no organisation.
    "outsider": {"login": "outsider", "id": 1000005, "name": "Out Sider",
                 "email": "outsider@example.net",
                 "emails": [{"email": "outsider@example.net", "primary": True,
                             "verified": True, "visibility": "public"}]},
}

GITHUB_ORGS = {
    "jupyter": {"id": 7388996, "members": {"octo-cat", "private-pat", "teamless", "public-pam"},
                "public_members": {"public-pam"},
                "teams": {"hub-team": {"octo-cat", "private-pat"}}},
    "bigorg": {"id": 9000001, "members": {"octo-cat"}, "public_members": set(),
               "teams": {f"team-{i:03d}": {"octo-cat"} for i in range(150)}},
}

AUTH0_USERS = {
    "ada": {"sub": "auth0|5f7c8ec7c33c6c004bbafe82", "email": "Ada@Example.org",
            "email_verified": True, "name": "Ada Lovelace", "nickname": "ada",
            "picture": "https://s.gravatar.com/avatar/ada.png",
            "updated_at": "2026-05-01T10:00:00.000Z"},
    "unverified": {"sub": "auth0|64a1f0c2d3e4f5a6b7c8d9e0", "email": "nobody@example.net",
                   "email_verified": False, "name": "nobody@example.net",
                   "nickname": "nobody", "picture": "https://s.gravatar.com/avatar/nb.png",
                   "updated_at": "2026-05-02T10:00:00.000Z"},
    "devops": {"sub": "google-oauth2|104857600000000000001", "email": "devops@example.com",
               "email_verified": True, "name": "Dev Ops", "nickname": "devops",
               "picture": "https://lh3.googleusercontent.com/a/devops",
               "updated_at": "2026-05-03T10:00:00.000Z"},
}

IDP_EDU = "https://idp.example.edu/idp/shibboleth"
IDP_GITHUB = "http://github.com/login/oauth/authorize"
IDP_GOOGLE = "http://google.com/accounts/o8/id"
IDP_ORCID = "http://orcid.org/oauth/authorize"

CILOGON_USERS = {
    "edu-alice": {"sub": "http://cilogon.org/serverE/users/1001", "idp": IDP_EDU,
                  "idp_name": "Example University", "eppn": "Alice@Example.EDU",
                  "eptid": "https://idp.example.edu/idp/shibboleth!"
                           "https://cilogon.org/shibboleth!x1",
                  "affiliation": "member@example.edu;staff@example.edu", "ou": "Physics",
                  "email": "alice@example.edu", "given_name": "Alice", "family_name": "Smith",
                  "name": "Alice Smith"},
    "gh-bob": {"sub": "http://cilogon.org/serverA/users/2002", "idp": IDP_GITHUB,
               "idp_name": "GitHub", "email": "bob@lab.example.org", "given_name": "Bob",
               "family_name": "Builder", "name": "Bob Builder", "preferred_username": "bob-b"},
    "gh-mallory": {"sub": "http://cilogon.org/serverA/users/2003", "idp": IDP_GITHUB,
                   "idp_name": "GitHub", "email": "mallory@elsewhere.example",
                   "given_name": "Mallory", "family_name": "M", "name": "Mallory M"},
    "google-gina": {"sub": "http://cilogon.org/serverA/users/2004", "idp": IDP_GOOGLE,
                    "idp_name": "Google", "email": "gina@gmail.example", "given_name": "Gina",
                    "family_name": "G", "name": "Gina G"},
    "orcid-olga": {"sub": "http://cilogon.org/serverA/users/2005", "idp": IDP_ORCID,
                   "idp_name": "ORCID", "email": "olga@orcid.example", "given_name": "Olga",
                   "family_name": "O", "name": "Olga O"},
    "no-idp": {"sub": "http://cilogon.org/serverA/users/2006", "email": "nobody@idp.example",
               "given_name": "No", "family_name": "Idp", "name": "No Idp"},
}

# Claims of CILogon's userinfo by scope (https://www.cilogon.org/oidc).
_CILOGON_SCOPE_CLAIMS = {
    "email": {"email"},
    "profile": {"name", "given_name", "family_name", "preferred_username"},
    "org.cilogon.userinfo": {"idp", "idp_name", "eppn", "eptid", "affiliation", "ou"},
}
_AUTH0_SCOPE_CLAIMS = {
    "email": {"email", "email_verified"},
    "profile": {"name", "nickname", "picture", "updated_at"},
}

GITHUB_DOCS = "https://docs.github.com/rest"
FAILURE_MODES = ("500", "timeout", "malformed", "error")


class FakeProvider(_Server):
    """GitHub, Auth0 or CILogon (@kind) on a free loopback port. See the module docstring."""

    def __init__(self, kind, client_id="ganymede-test-client",
                 client_secret="ganymede-test-secret", hang_seconds=8.0,
                 auth0_domain="ganymede-test.auth0.com"):
        assert kind in ("github", "auth0", "cilogon"), kind
        super().__init__()
        self.kind = kind
        self.client_id = client_id
        self.client_secret = client_secret
        remember(client_secret)
        self.hang_seconds = hang_seconds
        self.auth0_domain = auth0_domain
        self.users = copy.deepcopy({"github": GITHUB_USERS, "auth0": AUTH0_USERS,
                                    "cilogon": CILOGON_USERS}[kind])
        self.orgs = copy.deepcopy(GITHUB_ORGS) if kind == "github" else {}
        self.next_user = next(iter(self.users))
        # GitHub: the scopes the user grants (None: all that were asked for).
        self.granted_scope = None
        self._codes = {}
        self._tokens = {}
        self._failures = {}
        self._deny = None
        self.key = fake_signing_key() if kind != "github" else None
        # Requests held without an answer ("timeout" failures), in arrival order, each with
        # an Event set when the fake answers it: tests tell the order of events from them
        # (did the hub answer its client before the provider answered the hub?).
        self._hangs = []

    # -- knobs --

    def hangs(self):
        """The requests held by "timeout" failures so far: a list of threading.Event, each set
        once the fake has answered that request."""
        with self._lock:
            return list(self._hangs)

    def login_as(self, name):
        """The user who logs in at the next authorize requests."""
        assert name in self.users, f"no user {name!r} in the fake {self.kind}"
        self.next_user = name

    def fail(self, endpoint, mode, times=1):
        """Make the next @times requests to @endpoint fail with @mode (None: all of them)."""
        assert mode in FAILURE_MODES, mode
        with self._lock:
            self._failures[endpoint] = [mode, times]

    def heal(self):
        with self._lock:
            self._failures.clear()

    def deny_next(self, error="access_denied",
                  description="The user has denied your application access."):
        """The next authorize request sends the browser back with ?error= (the user said no)."""
        self._deny = (error, description)

    # -- where things are --

    @property
    def api_url(self):
        return self.url + "/api/v3"

    @property
    def authorize_url(self):
        return self.url + {"github": "/login/oauth/authorize", "auth0": "/authorize",
                           "cilogon": "/authorize"}[self.kind]

    @property
    def token_url(self):
        return self.url + {"github": "/login/oauth/access_token", "auth0": "/oauth/token",
                           "cilogon": "/oauth2/token"}[self.kind]

    @property
    def userdata_url(self):
        return {"github": self.api_url + "/user", "auth0": self.url + "/userinfo",
                "cilogon": self.url + "/oauth2/userinfo"}[self.kind]

    @property
    def jwks_url(self):
        return self.url + {"github": "/", "auth0": "/.well-known/jwks.json",
                           "cilogon": "/oauth2/certs"}[self.kind]

    @property
    def issuer(self):
        return {"github": None, "auth0": f"https://{self.auth0_domain}/",
                "cilogon": "https://cilogon.org"}[self.kind]

    @property
    def token_error_description(self):
        """What this provider says when it refuses a code ("error" failures of "token")."""
        return {"github": "The code passed is incorrect or expired."}.get(
            self.kind, "Invalid authorization code")

    def endpoint_config(self):
        """OAuthenticator settings that point a hub's Auth0/CILogon module at this fake."""
        return {"authorize_url": self.authorize_url, "token_url": self.token_url,
                "userdata_url": self.userdata_url, "jwks_url": self.jwks_url}

    # -- dispatch --

    def _route(self, method, path):
        k = self.kind
        if k == "github":
            if path == "/login/oauth/authorize":
                return "authorize", self._authorize
            if path == "/login/oauth/access_token" and method == "POST":
                return "token", self._token
            m = re.fullmatch(r"/api/v3(/.*)", path)
            if m and method in ("GET", "HEAD"):
                sub = m.group(1)
                if sub == "/user":
                    return "user", self._gh_user
                if sub == "/user/emails":
                    return "emails", self._gh_emails
                if sub == "/user/teams":
                    return "teams", self._gh_teams
                if re.fullmatch(r"/orgs/[^/]+/(members|public_members)/[^/]+", sub) or \
                        re.fullmatch(r"/orgs/[^/]+/teams/[^/]+/members/[^/]+", sub):
                    return "membership", self._gh_membership
            return "other", self._not_found
        routes = {
            "auth0": {"/authorize": ("authorize", self._authorize),
                      "/oauth/token": ("token", self._token),
                      "/userinfo": ("user", self._userinfo),
                      "/.well-known/jwks.json": ("jwks", self._jwks),
                      "/.well-known/openid-configuration": ("discovery", self._discovery),
                      "/v2/logout": ("logout", self._logout)},
            "cilogon": {"/authorize": ("authorize", self._authorize),
                        "/oauth2/token": ("token", self._token),
                        "/oauth2/userinfo": ("user", self._userinfo),
                        "/oauth2/certs": ("jwks", self._jwks),
                        "/.well-known/openid-configuration": ("discovery", self._discovery),
                        "/logout": ("logout", self._logout)},
        }[k]
        if path in routes:
            endpoint, fn = routes[path]
            if endpoint == "token" and method != "POST":
                return "token", self._method_not_allowed
            return endpoint, fn
        return "other", self._not_found

    def _serve(self, h):
        endpoint, fn = self._route(h.command, urlsplit(h.path).path)
        rec = self._read(h, endpoint)
        mode = None
        with self._lock:
            f = self._failures.get(endpoint)
            if f:
                mode = f[0]
                if f[1] is not None:
                    f[1] -= 1
                    if f[1] <= 0:
                        del self._failures[endpoint]
        if mode == "timeout":
            # The answer comes too late for the hub (it comes, so nothing waits forever).
            answered = threading.Event()
            with self._lock:
                self._hangs.append(answered)
            try:
                self.stopping.wait(self.hang_seconds)
            finally:
                answered.set()
            mode = None
        if mode == "500":
            return self._fail_500(h)
        if mode == "malformed":
            return self._send(h, 200, b'{"access_token": "gho_trunc', ctype="application/json")
        if mode == "error":
            if endpoint == "token":
                return self._token_error(h, "grant")
            return self._api_error(h, 401, "Bad credentials")
        return fn(h, rec)

    # -- errors in each provider's words --

    def _fail_500(self, h):
        if self.kind == "github":
            return self._send(h, 500, {"message": "Server Error", "documentation_url": GITHUB_DOCS})
        if self.kind == "auth0":
            return self._send(h, 500, {"error": "server_error",
                                       "error_description": "Internal Server Error"})
        return self._send(h, 500, "<html><body><h1>500 Internal Server Error</h1>"
                                  "<p>CILogon is temporarily unavailable.</p></body></html>",
                          ctype="text/html; charset=utf-8")

    def _token_error(self, h, what):
        """The token endpoint's refusal, as each provider words it."""
        if self.kind == "github":
            doc = {
                "grant": ("bad_verification_code", "The code passed is incorrect or expired.",
                          "#bad-verification-code"),
                "client": ("incorrect_client_credentials",
                           "The client_id and/or client_secret passed are incorrect.",
                           "#incorrect-client-credentials"),
                "redirect": ("redirect_uri_mismatch",
                             "The redirect_uri MUST match the registered callback URL for this "
                             "application.", "#redirect-uri-mismatch2"),
                "pkce": ("invalid_grant", "The code_verifier does not match the code_challenge.",
                         "#bad-verification-code"),
            }[what]
            # GitHub answers its token errors with HTTP 200.
            return self._send(h, 200, {"error": doc[0], "error_description": doc[1],
                                       "error_uri": "https://docs.github.com/apps/managing-oauth-"
                                                    "apps/troubleshooting-oauth-app-access-token-"
                                                    "request-errors/" + doc[2]})
        if what == "client":
            status, doc = 401, {"error": "access_denied" if self.kind == "auth0" else
                                "invalid_client", "error_description": "Unauthorized"}
        else:
            desc = {"grant": "Invalid authorization code",
                    "redirect": "Invalid redirect_uri: it does not match the authorize request",
                    "pkce": "Failed PKCE verification"}[what]
            status = 403 if self.kind == "auth0" else 400
            doc = {"error": "invalid_grant", "error_description": desc}
        return self._send(h, status, doc)

    def _api_error(self, h, status, message):
        if self.kind == "github":
            return self._send(h, status, {"message": message, "documentation_url": GITHUB_DOCS,
                                          "status": str(status)})
        hdr = {"WWW-Authenticate": f'Bearer realm="{self.kind}", error="invalid_token", '
                                   f'error_description="{message}"'}
        return self._send(h, status, {"error": "invalid_token", "error_description": message},
                          headers=hdr)

    def _not_found(self, h, rec):
        if self.kind == "github" and rec.path.startswith("/api/"):
            return self._send(h, 404, {"message": "Not Found", "documentation_url": GITHUB_DOCS})
        return self._send(h, 404, "<html><body><h1>Not Found</h1></body></html>",
                          ctype="text/html; charset=utf-8")

    def _method_not_allowed(self, h, rec):
        return self._send(h, 405, {"error": "invalid_request",
                                   "error_description": "The token endpoint needs a POST"})

    # -- authorize --

    def _authorize(self, h, rec):
        q = rec.query
        if q.get("client_id") != self.client_id:
            return self._send(h, 404 if self.kind == "github" else 400,
                              "<html><body><h1>Unknown client_id</h1></body></html>",
                              ctype="text/html; charset=utf-8")
        redirect_uri = q.get("redirect_uri")
        if not redirect_uri or not redirect_uri.startswith(("http://", "https://")):
            return self._send(h, 400, "<html><body><h1>redirect_uri is missing</h1></body></html>",
                              ctype="text/html; charset=utf-8")
        if self.kind != "github" and q.get("response_type") != "code":
            return self._send(h, 400, "<html><body><h1>response_type must be code"
                                      "</h1></body></html>", ctype="text/html; charset=utf-8")
        out = {}
        deny, self._deny = self._deny, None
        if deny:
            out = {"error": deny[0], "error_description": deny[1]}
        else:
            code = secrets.token_hex(10) if self.kind == "github" else secrets.token_urlsafe(24)
            scope = [s for s in re.split(r"[ ,]+", q.get("scope", "")) if s]
            with self._lock:
                self._codes[code] = {
                    "user": self.next_user, "redirect_uri": redirect_uri, "scope": scope,
                    "code_challenge": q.get("code_challenge"),
                    "code_challenge_method": q.get("code_challenge_method", "plain"),
                    "nonce": q.get("nonce"), "expires": time.time() + 600}
            out["code"] = code
        if "state" in q:
            out["state"] = q["state"]
        sep = "&" if "?" in redirect_uri else "?"
        return self._send(h, 302, b"", headers={"Location": redirect_uri + sep + urlencode(out)})

    # -- token --

    def _token(self, h, rec):
        params = dict(rec.query)
        params.update({k: v for k, v in rec.form.items() if isinstance(v, str)})
        if rec.auth:
            cid, secret = rec.auth
        else:
            cid, secret = params.get("client_id"), params.get("client_secret")
        if cid != self.client_id or secret != self.client_secret:
            return self._token_error(h, "client")
        if params.get("grant_type", "authorization_code") != "authorization_code" and \
                self.kind != "github":
            return self._send(h, 400, {"error": "unsupported_grant_type",
                                       "error_description": "Only authorization_code"})
        with self._lock:
            grant = self._codes.pop(params.get("code", ""), None)
        if grant is None or grant["expires"] < time.time():
            return self._token_error(h, "grant")
        if params.get("redirect_uri", grant["redirect_uri"]) != grant["redirect_uri"] or \
                (self.kind != "github" and "redirect_uri" not in params):
            return self._token_error(h, "redirect")
        challenge = grant["code_challenge"]
        if challenge:
            verifier = params.get("code_verifier", "")
            ok = (pkce_challenge(verifier) if grant["code_challenge_method"] == "S256"
                  else verifier) == challenge
            if not ok:
                return self._token_error(h, "pkce")
        user = grant["user"]
        scope = grant["scope"]
        if self.kind == "github":
            token = "gho_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")[:36]
            granted = self.granted_scope if self.granted_scope is not None else scope
            with self._lock:
                self._tokens[token] = {"user": user, "scope": list(granted)}
            doc = {"access_token": token, "token_type": "bearer", "scope": ",".join(granted)}
            if "application/json" not in rec.headers.get("accept", ""):
                # Without Accept: application/json GitHub answers form-encoded.
                return self._send(h, 200, urlencode(doc),
                                  ctype="application/x-www-form-urlencoded; charset=utf-8")
            return self._send(h, 200, doc)
        if self.kind == "auth0":
            token = secrets.token_urlsafe(24)
        else:
            token = "NB2HI4DTHIXS6Y3JNRXWO33OFZXXEZZPN5QXK5DIGI" + \
                base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")
        with self._lock:
            self._tokens[token] = {"user": user, "scope": list(scope)}
        doc = {"access_token": token, "token_type": "Bearer", "expires_in": 86400 if
               self.kind == "auth0" else 900}
        if "openid" in scope:
            doc["id_token"] = self._id_token(user, scope, grant["nonce"], token)
        if self.kind == "auth0":
            doc["scope"] = " ".join(scope)
        else:
            doc["refresh_token"] = "https://cilogon.org/oauth2/refreshToken/" + \
                secrets.token_hex(16)
        return self._send(h, 200, doc)

    def _claims(self, user, scope):
        profile = self.users[user]
        table = _AUTH0_SCOPE_CLAIMS if self.kind == "auth0" else _CILOGON_SCOPE_CLAIMS
        allowed = {"sub"}
        for s in scope:
            allowed |= table.get(s, set())
        return {k: v for k, v in profile.items() if k in allowed}

    def _id_token(self, user, scope, nonce, access_token):
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 3600}
        claims.update(self._claims(user, scope))
        if nonce:
            claims["nonce"] = nonce
        if self.kind == "auth0":
            claims["sid"] = secrets.token_hex(8)
        # at_hash: the left half of SHA-256 of the access token (OpenID Core 3.1.3.6).
        claims["at_hash"] = b64u(hashlib.sha256(access_token.encode()).digest()[:16])
        return jwt_encode(claims, self.key)

    # -- Auth0 / CILogon user info, keys, discovery, logout --

    def _bearer(self, rec):
        authz = rec.headers.get("authorization", "")
        m = re.fullmatch(r"(?i:bearer|token)\s+(\S+)", authz.strip())
        if m:
            return m.group(1)
        return rec.query.get("access_token") or (rec.form.get("access_token")
                                                 if isinstance(rec.form, dict) else None)

    def _userinfo(self, h, rec):
        token = self._bearer(rec)
        with self._lock:
            t = self._tokens.get(token or "")
        if t is None:
            return self._api_error(h, 401, "Unauthorized" if self.kind == "auth0" else
                                   "Invalid or expired access token")
        return self._send(h, 200, self._claims(t["user"], t["scope"]))

    def _jwks(self, h, rec):
        return self._send(h, 200, {"keys": [self.key.public_jwk()]})

    def _discovery(self, h, rec):
        return self._send(h, 200, {
            "issuer": self.issuer, "authorization_endpoint": self.authorize_url,
            "token_endpoint": self.token_url, "userinfo_endpoint": self.userdata_url,
            "jwks_uri": self.jwks_url, "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"]})

    def _logout(self, h, rec):
        target = rec.query.get("returnTo") or rec.query.get("post_logout_redirect_uri")
        if target:
            return self._send(h, 302, b"", headers={"Location": target})
        return self._send(h, 200, "<html><body>Logged out</body></html>",
                          ctype="text/html; charset=utf-8")

    # -- GitHub API --

    def _gh_auth(self, h, rec):
        """The token's record, or None after answering the error (as api.github.com does)."""
        if not rec.headers.get("user-agent"):
            self._send(h, 403, "Request forbidden by administrative rules. Please make sure "
                               "your request has a User-Agent header "
                               "(https://docs.github.com/en/rest/overview/resources-in-the-rest-"
                               "api#user-agent-required). Check https://developer.github.com "
                               "for other possible causes.\n", ctype="text/plain")
            return None
        authz = rec.headers.get("authorization", "")
        if not authz:
            self._api_error(h, 401, "Requires authentication")
            return None
        m = re.fullmatch(r"(?i:bearer|token)\s+(\S+)", authz.strip())
        with self._lock:
            t = self._tokens.get(m.group(1)) if m else None
        if t is None:
            self._api_error(h, 401, "Bad credentials")
            return None
        return t

    def _gh_user_json(self, name):
        u = self.users[name]
        login = u["login"]
        api = self.api_url
        return {
            "login": login, "id": u["id"], "node_id": b64u(f"04:User{u['id']}".encode()),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{u['id']}?v=4",
            "gravatar_id": "", "url": f"{api}/users/{login}", "html_url": f"{self.url}/{login}",
            "followers_url": f"{api}/users/{login}/followers",
            "following_url": f"{api}/users/{login}/following{{/other_user}}",
            "gists_url": f"{api}/users/{login}/gists{{/gist_id}}",
            "starred_url": f"{api}/users/{login}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/users/{login}/subscriptions",
            "organizations_url": f"{api}/users/{login}/orgs",
            "repos_url": f"{api}/users/{login}/repos",
            "events_url": f"{api}/users/{login}/events{{/privacy}}",
            "received_events_url": f"{api}/users/{login}/received_events",
            "type": "User", "user_view_type": "private", "site_admin": False,
            "name": u["name"], "company": None, "blog": "", "location": None,
            "email": u["email"], "hireable": None, "bio": None, "twitter_username": None,
            "notification_email": u["email"], "public_repos": 3, "public_gists": 0,
            "followers": 1, "following": 0, "created_at": "2011-01-25T18:44:36Z",
            "updated_at": "2026-01-02T03:04:05Z", "private_gists": 0, "total_private_repos": 0,
            "owned_private_repos": 0, "disk_usage": 1024, "collaborators": 0,
            "two_factor_authentication": True,
            "plan": {"name": "free", "space": 976562499, "collaborators": 0,
                     "private_repos": 10000},
        }

    def _gh_user(self, h, rec):
        t = self._gh_auth(h, rec)
        if t is not None:
            self._send(h, 200, self._gh_user_json(t["user"]))

    def _gh_emails(self, h, rec):
        t = self._gh_auth(h, rec)
        if t is None:
            return
        if not {"user", "user:email"} & set(t["scope"]):
            return self._send(h, 404, {"message": "Not Found", "documentation_url":
                                       "https://docs.github.com/rest/users/emails"
                                       "#list-email-addresses-for-the-authenticated-user",
                                       "status": "404"})
        self._send(h, 200, self.users[t["user"]]["emails"])

    def _gh_team_json(self, org, slug):
        o = self.orgs[org]
        tid = zlib.crc32(f"{org}/{slug}".encode()) & 0x7FFFFFFF
        api = self.api_url
        return {
            "name": slug.replace("-", " ").title(), "id": tid,
            "node_id": b64u(f"04:Team{tid}".encode()), "slug": slug, "description": "",
            "privacy": "closed", "notification_setting": "notifications_enabled",
            "url": f"{api}/teams/{tid}", "html_url": f"{self.url}/orgs/{org}/teams/{slug}",
            "members_url": f"{api}/teams/{tid}/members{{/member}}",
            "repositories_url": f"{api}/teams/{tid}/repos", "permission": "pull",
            "parent": None, "members_count": len(o["teams"][slug]), "repos_count": 0,
            "created_at": "2020-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "organization": {"login": org, "id": o["id"], "node_id": b64u(f"012:Org{o['id']}"
                                                                          .encode()),
                             "url": f"{api}/orgs/{org}", "repos_url": f"{api}/orgs/{org}/repos",
                             "description": None, "name": org.title(), "company": None,
                             "public_repos": 5, "followers": 0, "following": 0,
                             "html_url": f"{self.url}/{org}", "type": "Organization",
                             "created_at": "2015-01-01T00:00:00Z",
                             "updated_at": "2026-01-01T00:00:00Z"},
        }

    def _gh_teams(self, h, rec):
        t = self._gh_auth(h, rec)
        if t is None:
            return
        if not {"read:org", "user", "repo"} & set(t["scope"]):
            return self._send(h, 403, {"message": "Missing the 'read:org' scope.",
                                       "documentation_url": GITHUB_DOCS, "status": "403"})
        me = t["user"]
        teams = [self._gh_team_json(org, slug) for org in sorted(self.orgs)
                 for slug in sorted(self.orgs[org]["teams"])
                 if me in self.orgs[org]["teams"][slug]]
        try:
            per_page = max(1, min(100, int(rec.query.get("per_page", "30"))))
            page = max(1, int(rec.query.get("page", "1")))
        except ValueError:
            return self._send(h, 422, {"message": "Invalid request.",
                                       "documentation_url": GITHUB_DOCS})
        last = max(1, (len(teams) + per_page - 1) // per_page)
        chunk = teams[(page - 1) * per_page:page * per_page]

        def link(p):
            return f"<{self.api_url}/user/teams?per_page={per_page}&page={p}>"

        rels = []
        if page < last:
            rels += [f'{link(page + 1)}; rel="next"', f'{link(last)}; rel="last"']
        if page > 1:
            rels += [f'{link(page - 1)}; rel="prev"', f'{link(1)}; rel="first"']
        self._send(h, 200, chunk, headers={"Link": ", ".join(rels)} if rels else None)

    def _gh_membership(self, h, rec):
        t = self._gh_auth(h, rec)
        if t is None:
            return
        parts = rec.path.split("/")  # /api/v3/orgs/{org}/...
        org, rest = parts[4].lower(), parts[5:]
        o = self.orgs.get(org)
        requester = t["user"]
        if o is None:
            return self._send(h, 404, {"message": "Not Found", "documentation_url": GITHUB_DOCS,
                                       "status": "404"})
        can_see_private = requester in o["members"] and "read:org" in t["scope"]
        if rest[0] == "teams":
            team, user = rest[1].lower(), rest[3].lower()
            ok = can_see_private and user in o["teams"].get(team, set())
            return self._send(h, 204 if ok else 404, b"" if ok else
                              {"message": "Not Found", "documentation_url": GITHUB_DOCS,
                               "status": "404"})
        kind, user = rest[0], rest[1].lower()
        if kind == "members" and not can_see_private:
            # "302: Response if requester is not an organization member" (or cannot see
            # private members): GitHub sends the client to the public list.
            return self._send(h, 302, b"", headers={
                "Location": f"{self.api_url}/orgs/{org}/public_members/{rest[1]}"})
        members = o["members"] if kind == "members" else o["public_members"]
        if user in members:
            return self._send(h, 204)
        return self._send(h, 404, {"message": "Not Found", "documentation_url": GITHUB_DOCS,
                                   "status": "404"})


# ---------------------------------------------------------------------------------------------
# Around the real OpenID provider: the callback relay and the id_token tamper proxy.


class CallbackRelay(_Server):
    """Sends the browser on from a fixed callback URL (the one registered at the OpenID
    provider, whose redirect URIs are strict) to the hub under test (`target`, which changes
    from test to test): GET /hub/oauth_callback?code&state -> 302 target/hub/oauth_callback?..."""

    def __init__(self, port=0):
        super().__init__(port)
        self.target = None

    @property
    def callback_url(self):
        return self.url + "/hub/oauth_callback"

    def _serve(self, h):
        rec = self._read(h, "relay")
        if not self.target:
            return self._send(h, 503, "no hub behind this relay", ctype="text/plain")
        split = urlsplit(h.path)
        loc = self.target.rstrip("/") + split.path + ("?" + split.query if split.query else "")
        self._send(h, 302, b"", headers={"Location": loc})
        del rec


TAMPER_MODES = ("payload", "aud", "expired", "nonce", "iss", "alg-none", "alg-confusion",
                "unknown-kid")


class TamperProxy(_Server):
    """A proxy in front of a real OpenID provider that rewrites the id_token in token
    responses (the hub's token_url points here). With `mode` None it passes everything through.
        payload      a claim changed, signature kept (the signature no longer matches)
        aud          re-signed with the provider's own key, aud = "someone-else"
        expired      re-signed, exp and iat an hour and two in the past
        nonce        re-signed, nonce replaced
        iss          re-signed, iss = another issuer
        alg-none     alg "none", no signature
        alg-confusion  HS256 with the provider's public key (PEM) as the HMAC secret
        unknown-kid  signed by another key, under a kid that is not in the JWKS
    Re-signing needs the provider's private key (@key, an RsaKey)."""

    def __init__(self, upstream, key=None):
        super().__init__()
        self.upstream = upstream.rstrip("/")
        self.key = key
        self.mode = None
        self.tampered = []  # the id_tokens handed to the hub after rewriting

    def _serve(self, h):
        split = urlsplit(h.path)
        rec = self._read(h, "token" if h.command == "POST" else "proxy")
        up = urlsplit(self.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=15)
        headers = {k: v for k, v in h.headers.items()
                   if k.lower() not in ("host", "content-length", "connection")}
        try:
            conn.request(h.command, split.path + ("?" + split.query if split.query else ""),
                         body=rec.body or None, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            status = resp.status
            ctype = resp.getheader("Content-Type")
            extra = {k: v for k, v in resp.getheaders()
                     if k.lower() in ("location", "www-authenticate")}
        finally:
            conn.close()
        if self.mode and status == 200 and ctype and "json" in ctype:
            doc = json.loads(body)
            if isinstance(doc, dict) and "id_token" in doc:
                doc["id_token"] = self.rewrite(doc["id_token"])
                self.tampered.append(doc["id_token"])
                body = json.dumps(doc).encode()
        self._send(h, status, body, headers=extra, ctype=ctype)

    def rewrite(self, token):
        hdr, claims, sig = jwt_decode(token)
        mode = self.mode
        if mode == "payload":
            claims["preferred_username"] = "mallory"
            claims["sub"] = "mallory"
            claims["groups"] = ["admins", "hub-users"]
            signing_input = token.split(".")[0] + "." + \
                b64u(json.dumps(claims, separators=(",", ":")).encode())
            return signing_input + "." + b64u(sig)
        if mode == "alg-none":
            return jwt_encode(claims, None, {"alg": "none"})
        if mode == "alg-confusion":
            # A verifier that takes the key it has for whatever alg the token names would
            # check this HMAC with the public key, which everybody knows.
            hdr = {"alg": "HS256", "typ": "JWT", "kid": hdr.get("kid", "")}
            signing_input = b64u(json.dumps(hdr, separators=(",", ":")).encode()) + "." + \
                b64u(json.dumps(claims, separators=(",", ":")).encode())
            mac = hmac.new(self.key.public_pem().encode(), signing_input.encode(),
                           hashlib.sha256).digest()
            return signing_input + "." + b64u(mac)
        assert self.key is not None, "re-signing needs the provider's key"
        now = int(time.time())
        header = {"kid": hdr.get("kid", self.key.kid)}
        if mode == "aud":
            claims["aud"] = "someone-else"
        elif mode == "expired":
            claims["iat"], claims["exp"] = now - 7200, now - 3600
            claims.pop("auth_time", None)
        elif mode == "nonce":
            claims["nonce"] = "not-the-nonce-the-hub-sent"
        elif mode == "iss":
            claims["iss"] = "http://127.0.0.1:1/not-the-issuer"
        elif mode == "unknown-kid":
            # Signed by a key the provider does not publish, under a kid it never used.
            return jwt_encode(claims, fake_signing_key(), {"kid": "rotated-key-not-in-jwks"})
        else:
            raise AssertionError(f"unknown tamper mode {mode!r}")
        return jwt_encode(claims, self.key, header)


# ---------------------------------------------------------------------------------------------
# The real OpenID provider (../shared/recipes/start-oidc-provider.sh), one per pytest worker.

from conftest import RECIPES, RECIPES_STATE  # noqa: E402 (the one place that finds the recipes)

OIDC_USERS = {
    "alice": {"password": "alice-pw", "email": "alice@example.org", "name": "Alice Example",
              "groups": ["hub-users", "admins"]},
    "bob": {"password": "bob-pw", "email": "bob@example.org", "name": "Bob Example",
            "groups": ["hub-users"]},
    "carol": {"password": "carol-pw", "email": "carol@example.org", "name": "Carol Visitor",
              "groups": ["visitors"]},
}


def worker_number():
    """pytest-xdist's worker number (gw3 -> 3), 9 without xdist (as conftest.free_port)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw9")
    return int(worker[2:]) if worker[2:].isdigit() else 9


class OidcProvider:
    """The recipe's real provider on @port, with the redirect URIs @redirect_uris and the
    users OIDC_USERS, started with `start()` (after stopping whatever ran on that port) and
    stopped with `stop()`."""

    client_id = "hubtest-client"
    client_secret = "hubtest-secret"

    def __init__(self, port, redirect_uris, workdir, users=None):
        remember(self.client_secret)
        self.port = port
        self.redirect_uris = list(redirect_uris)
        self.workdir = Path(workdir)
        self.users = users or OIDC_USERS
        self.script = RECIPES / "start-oidc-provider.sh"

    @property
    def issuer(self):
        return f"http://127.0.0.1:{self.port}"

    def _env(self):
        users_file = self.workdir / "oidc-users.json"
        users_file.write_text(json.dumps(self.users))
        env = dict(os.environ, OIDC_PORT=str(self.port),
                   OIDC_REDIRECT_URIS=",".join(self.redirect_uris),
                   OIDC_USERS_FILE=str(users_file), OIDC_CLIENT_AUTH="client_secret_basic",
                   OIDC_ROUTES="default", RECIPES_STATE=str(RECIPES_STATE))
        for k in ("OIDC_AUTO_LOGIN", "OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"):
            env.pop(k, None)
        return env

    def _script(self, action, timeout):
        return subprocess.run(["bash", str(self.script), action], env=self._env(),
                              capture_output=True, text=True, timeout=timeout)

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        RECIPES_STATE.mkdir(parents=True, exist_ok=True)
        # Two workers starting at once would race in the recipe's first npm install and in
        # the creation of its key file: one at a time.
        with open(RECIPES_STATE / ".ganymede-oidc-start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._script("stop", 30)
            p = self._script("start", 600)
            if p.returncode != 0:
                raise RuntimeError(f"start-oidc-provider.sh failed ({p.returncode}):\n"
                                   f"{p.stdout}\n{p.stderr}\n{self.log()}")
        self.key = self._signing_key()
        return self

    def stop(self):
        self._script("stop", 30)

    def log(self):
        f = RECIPES_STATE / "oidc-provider" / f"oidc-provider-{self.port}.log"
        return f.read_text(errors="replace") if f.exists() else ""

    def discovery(self):
        return _get_json(self.issuer + "/.well-known/openid-configuration")

    def _signing_key(self):
        """The provider's private signing key, from the recipe's key file, checked against
        the JWKS the provider serves (so that re-signed tokens are really signed by it)."""
        keys = json.loads((RECIPES_STATE / "oidc-provider" / "keys.json").read_text())["keys"]
        served = {k["kid"]: k for k in _get_json(self.discovery()["jwks_uri"])["keys"]}
        for jwk in keys:
            if jwk.get("kid") in served and served[jwk["kid"]]["n"] == jwk["n"]:
                return RsaKey.from_jwk(jwk)
        raise RuntimeError("the provider does not serve the key of its key file")


def _get_json(url, timeout=10):
    import urllib.request
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


_SHARED = {}
_SHARED_LOCK = threading.Lock()


def _port_free(port):
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def acquire_oidc(tmpdir):
    """The worker's provider and its callback relay, started on first use. The provider runs
    on 19050 + worker number when that port is free, else on the first free port of
    19200-19399 (another test session may have its own provider running: it is left alone);
    the relay on a free port, its callback URL being the one redirect URI the provider
    accepts. Pair with release_oidc()."""
    with _SHARED_LOCK:
        if not _SHARED:
            n = worker_number()
            relay = CallbackRelay().start()
            try:
                port = next((p for p in [19050 + n] + list(range(19200 + n, 19400, 10))
                             if _port_free(p)), None)
                if port is None:
                    raise RuntimeError("no free port for the OpenID provider")
                provider = OidcProvider(port, [relay.callback_url], tmpdir).start()
            except BaseException:
                relay.stop()
                raise
            _SHARED.update(provider=provider, relay=relay, users=0)
        _SHARED["users"] += 1
        return _SHARED["provider"], _SHARED["relay"]


def release_oidc():
    with _SHARED_LOCK:
        if not _SHARED:
            return
        _SHARED["users"] -= 1
        if _SHARED["users"] <= 0:
            _SHARED["provider"].stop()
            _SHARED["relay"].stop()
            _SHARED.clear()


# ---------------------------------------------------------------------------------------------
# Login drivers: a browser's part of the flow with a requests.Session (cookies carried).

STATE_COOKIE = "oauthenticator-state"


def start_login(session, hub_url, next_=None, path="/hub/oauth_login", timeout=10):
    """GET the hub's oauth_login (with ?next=); returns the response (a 302 to the provider)."""
    url = hub_url + path + (f"?next={quote(next_, safe='')}" if next_ else "")
    return session.get(url, allow_redirects=False, timeout=timeout)


def walk_to_callback(session, url, credentials=None, max_hops=20, timeout=10):
    """Follow the provider's pages from @url (posting its login form with @credentials, a
    (user, password) pair, when it shows one) until it sends the browser to a
    .../hub/oauth_callback URL, which is returned without being fetched."""
    for _ in range(max_hops):
        if urlsplit(url).path.endswith("/hub/oauth_callback"):
            return url
        r = session.get(url, allow_redirects=False, timeout=timeout)
        if r.is_redirect:
            url = urljoin(url, r.headers["Location"])
            continue
        form = re.search(r'<form[^>]*action="([^"]+)"', r.text)
        if r.status_code == 200 and form and 'id="login"' in r.text and credentials:
            r = session.post(urljoin(url, html.unescape(form.group(1))),
                             data={"login": credentials[0], "password": credentials[1]},
                             allow_redirects=False, timeout=timeout)
            if not r.is_redirect:
                raise AssertionError(f"the provider refused the login form: {r.status_code} "
                                     f"{r.text[:300]}")
            url = urljoin(url, r.headers["Location"])
            credentials = None
            continue
        raise AssertionError(f"the provider answered {r.status_code} at {url}:\n{r.text[:800]}")
    raise AssertionError(f"no redirect to the callback after {max_hops} hops")


def finish_login(session, callback_url, timeout=10):
    """GET the callback URL (on through the relay when it points there) and return the hub's
    answer to its /hub/oauth_callback, unfollowed."""
    r = session.get(callback_url, allow_redirects=False, timeout=timeout)
    for _ in range(3):
        loc = urljoin(callback_url, r.headers["Location"]) if r.is_redirect else None
        if not loc or not urlsplit(loc).path.endswith("/hub/oauth_callback"):
            break
        callback_url = loc
        r = session.get(loc, allow_redirects=False, timeout=timeout)
    return r


def login(session, hub_url, credentials=None, next_=None, timeout=10):
    """The whole flow; returns the hub's answer to the callback (a 302 to next on success)."""
    r = start_login(session, hub_url, next_, timeout=timeout)
    assert r.status_code == 302, f"oauth_login answered {r.status_code}: {r.text[:500]}"
    cb = walk_to_callback(session, urljoin(hub_url, r.headers["Location"]), credentials,
                          timeout=timeout)
    return finish_login(session, cb, timeout=timeout)


def state_cookies(session):
    return [c for c in session.cookies if c.name.startswith(STATE_COOKIE)]


def error_page_text(r):
    """The words of an HTML page, without tags, scripts and styles."""
    text = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", r.text)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def assert_error_page(r, status, *patterns):
    """A clear refusal: the status (an int, or a tuple of acceptable ones), an HTML page whose
    text matches every regex of @patterns (case-insensitive), and no login cookie. Returns
    the page's text."""
    ok = status if isinstance(status, tuple) else (status,)
    text = error_page_text(r)
    assert r.status_code in ok, f"expected {status}, got {r.status_code}: {text[:800]}"
    assert r.headers.get("Content-Type", "").startswith("text/html"), \
        f"not an HTML page: {r.headers.get('Content-Type')}: {r.text[:300]}"
    for p in patterns:
        assert re.search(p, text, re.I), f"{p!r} is not on the error page: {text[:800]}"
    for c in r.raw.headers.getlist("Set-Cookie"):
        name, _, value = c.partition(";")[0].partition("=")
        assert not (name.strip() == "jupyterhub-hub-login" and value), \
            f"a refused login set a login cookie: {c}"
    return text


def assert_hub_serves(hub):
    """The hub is still running and answers its API."""
    assert hub.proc.poll() is None, f"the hub exited:\n{hub.log()[-3000:]}"
    r = hub.get("/hub/api/", timeout=5)
    assert r.status_code == 200 and "version" in r.json(), r.text[:300]


# What each failure of a provider must turn into (the hub's error page): the status(es) and
# a regex the page must match ("{token_error}" stands for the provider's own description).
FAILURE_EXPECT = {
    "500": (502, r"provider|github|auth0|cilogon|500|server error"),
    "timeout": ((502, 504), r"time[sd]?[ -]?out"),
    "malformed": (502, r"json|malformed|invalid|pars|unexpected"),
    ("token", "error"): ((400, 403, 502), "{token_error}"),
    ("user", "error"): ((403, 502), r"401|credentials|unauthori[sz]ed|refused|token"),
}

PROVIDER_FAILURES = [("token", "500"), ("token", "timeout"), ("token", "malformed"),
                     ("token", "error"), ("user", "500"), ("user", "timeout"),
                     ("user", "malformed"), ("user", "error")]


def _wait_for(cond, seconds):
    """Poll @cond until it is true or @seconds pass; returns its last value."""
    deadline = time.monotonic() + seconds
    while True:
        v = cond()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.02)


def check_provider_failure(hub, fake, endpoint, mode, hub_timeout):
    """One failure of @fake at @endpoint: the login ends on a clear error page (no hang: a
    hub with request_timeout @hub_timeout gives up well before the fake answers), nobody is
    logged in, the hub keeps serving, and the next login, with the provider healthy again,
    goes through. Returns the error page's text."""
    import requests
    fake.fail(endpoint, mode)
    s = requests.Session()
    out = {}

    def run():
        try:
            out["r"] = login(s, hub.url, timeout=fake.hang_seconds + 5)
        except Exception as e:  # noqa: BLE001 (raised again below, in the test's thread)
            out["error"] = e

    hangs_before = len(fake.hangs())
    th = threading.Thread(target=run, daemon=True)
    th.start()
    held = None
    if mode == "timeout":
        # While the hub waits for the provider, it serves everyone else: the API answers while
        # the fake still holds the hub's request and the login is still waiting. (Events, not
        # durations: a hub that blocked would answer only after giving up on the provider.)
        _wait_for(lambda: len(fake.hangs()) > hangs_before or not th.is_alive(),
                  hub_timeout + 10)
        if len(fake.hangs()) > hangs_before:
            held = fake.hangs()[hangs_before]
        if th.is_alive() and held:
            assert hub.get("/hub/api/", timeout=5).status_code == 200
            assert th.is_alive() and not held.is_set(), \
                "the hub answered nobody else while a provider was slow"
    th.join(fake.hang_seconds + 10)
    assert not th.is_alive(), "the login never ended"
    if "error" in out:
        raise out["error"]
    r = out["r"]
    assert fake.requests_for(endpoint), f"the hub never called the {endpoint} endpoint"
    if mode == "timeout":
        # The hub gave up on its own request_timeout: the login ended while the fake still
        # held the request (it holds it for hang_seconds, several times @hub_timeout).
        assert held is not None, f"the {endpoint} request was never held"
        assert not held.is_set(), "the hub waited for a provider that does not answer"
    status, pattern = FAILURE_EXPECT.get((endpoint, mode)) or FAILURE_EXPECT[mode]
    pattern = pattern.replace("{token_error}", re.escape(fake.token_error_description))
    text = assert_error_page(r, status, pattern)
    assert s.get(hub.url + "/hub/api/user", timeout=10).status_code == 403
    assert_hub_serves(hub)
    fake.heal()
    r = login(requests.Session(), hub.url)
    assert r.status_code == 302, f"no login after the provider recovered: {r.status_code} " \
                                 f"{error_page_text(r)[:500]}"
    return text


# ---------------------------------------------------------------------------------------------
# python3 fake_oauth.py github|auth0|cilogon|selftest


def _selftest():
    """Each fake through a client's eyes, with urllib only."""
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    opener = urllib.request.build_opener(NoRedirect)

    def call(url, data=None, headers=None, method=None):
        req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
        try:
            with opener.open(req, timeout=10) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    ua = {"User-Agent": "selftest"}
    for kind, user, scope in (("github", "octo-cat", "read:org user:email"),
                              ("auth0", "ada", "openid email"),
                              ("cilogon", "edu-alice", "openid email org.cilogon.userinfo")):
        with FakeProvider(kind) as fp:
            fp.login_as(user)
            verifier = secrets.token_urlsafe(32)
            q = urlencode({"client_id": fp.client_id, "redirect_uri": "http://127.0.0.1:9/cb",
                           "response_type": "code", "scope": scope, "state": "s1",
                           "nonce": "n1", "code_challenge": pkce_challenge(verifier),
                           "code_challenge_method": "S256"})
            st, hd, _ = call(fp.authorize_url + "?" + q)
            loc = parse_qs(urlsplit(hd["Location"]).query)
            assert st == 302 and loc["state"] == ["s1"], (st, hd)
            body = urlencode({"code": loc["code"][0], "grant_type": "authorization_code",
                              "redirect_uri": "http://127.0.0.1:9/cb",
                              "code_verifier": verifier}).encode()
            basic = base64.b64encode(f"{fp.client_id}:{fp.client_secret}".encode()).decode()
            st, hd, b = call(fp.token_url, body, {"Accept": "application/json",
                                                  "Authorization": "Basic " + basic, **ua})
            tok = json.loads(b)
            assert st == 200 and "access_token" in tok, (st, b)
            st, _, b = call(fp.userdata_url, headers={
                "Authorization": "Bearer " + tok["access_token"], **ua})
            info = json.loads(b)
            print(kind, "user:", {k: info[k] for k in list(info)[:4]})
            if kind != "github":
                hdr, claims, sig = jwt_decode(tok["id_token"])
                msg = tok["id_token"].rsplit(".", 1)[0].encode()
                assert fp.key.verify(msg, sig) and claims["nonce"] == "n1", claims
                assert not fp.key.verify(msg + b"x", sig)
                print(kind, "id_token ok:", hdr, sorted(claims))
            else:
                auth = {"Authorization": "token " + tok["access_token"], **ua}
                assert tok["scope"] == "read:org,user:email", tok
                st, hd, b = call(fp.api_url + "/user/teams?per_page=100", headers=auth)
                nxt = re.search(r'<([^>]+)>; rel="next"', hd["Link"]).group(1)
                st2, hd2, b2 = call(nxt, headers=auth)
                assert len(json.loads(b)) == 100 and len(json.loads(b2)) == 51, hd2
                for path, want in (("/orgs/jupyter/members/octo-cat", 204),
                                   ("/orgs/jupyter/members/outsider", 404),
                                   ("/orgs/jupyter/teams/hub-team/members/octo-cat", 204),
                                   ("/orgs/jupyter/teams/hub-team/members/teamless", 404)):
                    st, _, _ = call(fp.api_url + path, headers=auth)
                    assert st == want, (path, st)
                st, _, _ = call(fp.api_url + "/user", headers={"Authorization": "token x", **ua})
                assert st == 401
                print("github teams pages:", len(json.loads(b)), len(json.loads(b2)),
                      "membership ok")
            fp.fail("token", "error")
            st, hd, b = call(fp.token_url, b"code=x", {"Accept": "application/json"})
            print(kind, "token error:", st, b[:120])
            fp.fail("user", "malformed")
            st, hd, b = call(fp.userdata_url, headers={"Authorization": "Bearer x", **ua})
            assert st == 200 and b.startswith(b'{"access_token"')
            fp.hang_seconds = 0.3
            fp.fail("user", "timeout")
            t0 = time.monotonic()
            call(fp.userdata_url, headers=ua)
            assert time.monotonic() - t0 >= 0.3
    print("selftest OK")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "selftest"
    if what == "selftest":
        _selftest()
    else:
        with FakeProvider(what) as fp:
            print(f"fake {what} at {fp.url} (client {fp.client_id} / {fp.client_secret}); "
                  "Ctrl-C stops", flush=True)
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                pass
