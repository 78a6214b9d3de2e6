"""The dashboard's session: a signed cookie holding the user's API token and a CSRF token.

The cookie is ``base64url(json) "." base64url(HMAC-SHA256(secret, json))`` — signed, not encrypted, and
``HttpOnly``, ``SameSite=Strict``, ``Path=/``: scripts cannot read it and other sites' pages do not send it.
Every state-changing form carries the session's CSRF token (:func:`csrf_ok` compares in constant time). The
secret is ``DAWSOS_SESSION_SECRET`` (set it the same on every server process behind one address); without it a
random secret per process (sessions end when the server restarts).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass

COOKIE = "dawsos_session"
LOGIN_COOKIE = "dawsos_login"
MAX_AGE_S = 12 * 3600
SECRET_ENV = "DAWSOS_SESSION_SECRET"


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser: the API token it presented, its CSRF token and when it signed in (epoch s)."""

    token: str
    csrf: str
    issued: int


def server_secret() -> bytes:
    """The signing key: ``$DAWSOS_SESSION_SECRET`` (at least 32 characters) or a fresh random one."""
    given = os.environ.get(SECRET_ENV, "")
    if len(given) >= 32:
        return given.encode()
    return secrets.token_bytes(32)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, body: bytes) -> str:
    return _b64(hmac.new(secret, body, hashlib.sha256).digest())


def new_session(token: str) -> WebSession:
    return WebSession(token=token, csrf=secrets.token_urlsafe(24), issued=int(time.time()))


def encode(session: WebSession, secret: bytes) -> str:
    body = json.dumps({"t": session.token, "c": session.csrf, "i": session.issued}, separators=(",", ":")).encode()
    return f"{_b64(body)}.{_mac(secret, body)}"


def decode(value: str | None, secret: bytes, *, now: float | None = None) -> WebSession | None:
    """The session in a cookie value; None when absent, tampered with, malformed or older than MAX_AGE_S."""
    if not value or value.count(".") != 1:
        return None
    body_text, mac = value.split(".")
    try:
        body = _unb64(body_text)
    except ValueError:
        return None
    if not hmac.compare_digest(mac, _mac(secret, body)):
        return None
    try:
        doc = json.loads(body)
        session = WebSession(token=str(doc["t"]), csrf=str(doc["c"]), issued=int(doc["i"]))
    except (ValueError, KeyError, TypeError):
        return None
    if (now if now is not None else time.time()) - session.issued > MAX_AGE_S:
        return None
    return session


def csrf_ok(expected: str | None, given: str | None) -> bool:
    """True when the form's token equals the session's (constant-time)."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
