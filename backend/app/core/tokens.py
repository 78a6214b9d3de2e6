"""API tokens: the format, the Argon2id hash, and the in-process cache of verified tokens.

A token reads ``dawsos_<token_id>_<secret>``: ``token_id`` (12 characters, ``[a-z0-9]``) is the public id the
token is looked up by (listed, revoked by it); ``secret`` is ``secrets.token_urlsafe(32)``. Only the Argon2id
hash of the whole token is stored (argon2-cffi's ``PasswordHasher``, OWASP's parameters for Argon2id: 19 MiB,
2 passes, 1 lane; the parameters are inside each hash, so later changes still verify old tokens).

Verifying costs tens of milliseconds of CPU, so :data:`VERIFIED` remembers successful verifications for at most
:data:`CACHE_SECONDS` (30 s), keyed by the SHA-256 of the token (the token itself is never kept). A revocation
therefore takes effect at once in the process that revoked (it calls :meth:`VerifiedTokens.forget`) and
within 30 s in every other process.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

PREFIX = "dawsos_"
TOKEN_ID_LENGTH = 12
CACHE_SECONDS = 30.0
TOKEN_RE = re.compile(r"^dawsos_([a-z0-9]{12})_([A-Za-z0-9_-]{20,200})$")
_ALPHABET = string.ascii_lowercase + string.digits
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


@dataclass(frozen=True)
class NewToken:
    """A freshly made token: ``text`` (shown once), its public ``token_id`` and the ``token_hash`` to store."""

    token_id: str
    text: str
    token_hash: str


def new_token() -> NewToken:
    """A new random token and its Argon2id hash."""
    token_id = "".join(secrets.choice(_ALPHABET) for _ in range(TOKEN_ID_LENGTH))
    text = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    return NewToken(token_id=token_id, text=text, token_hash=_HASHER.hash(text))


def token_id_of(text: str) -> str | None:
    """The token id of a well-formed token, None for anything else."""
    match = TOKEN_RE.match(text.strip()) if isinstance(text, str) else None
    return match.group(1) if match else None


def verify_token(token_hash: str, text: str) -> bool:
    """True when ``text`` is the token hashed as ``token_hash`` (constant-time inside argon2)."""
    try:
        return _HASHER.verify(token_hash, text.strip())
    except (VerificationError, InvalidHashError):
        return False


def fingerprint(text: str) -> str:
    """SHA-256 (hex) of the token: the cache key (the token itself is never kept in memory)."""
    return hashlib.sha256(text.strip().encode()).hexdigest()


@dataclass(frozen=True)
class Verified:
    """What a verification established: whose token it is and whether that user was an admin then."""

    user_id: str
    token_id: str
    is_admin: bool


@dataclass(frozen=True)
class _Entry:
    verified: Verified
    expires: float


class VerifiedTokens:
    """Successful verifications, each remembered for at most ``ttl`` seconds (thread-safe)."""

    def __init__(self, ttl: float = CACHE_SECONDS) -> None:
        self.ttl = ttl
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def get(self, text: str) -> Verified | None:
        """What the verification of ``text`` less than ``ttl`` seconds ago established, else None."""
        key = fingerprint(text)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.expires <= time.monotonic():
                del self._entries[key]
                return None
            return entry.verified

    def put(self, text: str, verified: Verified) -> None:
        with self._lock:
            self._entries[fingerprint(text)] = _Entry(verified, time.monotonic() + self.ttl)

    def forget(self, token_id: str | None = None) -> None:
        """Drop the entries of ``token_id`` (a revoked token), or every entry when None."""
        with self._lock:
            for key in [k for k, e in self._entries.items() if token_id is None or e.verified.token_id == token_id]:
                del self._entries[key]


#: the process's cache (see the module docstring)
VERIFIED = VerifiedTokens()
