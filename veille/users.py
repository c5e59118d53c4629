"""Passwords and API tokens: never stored as they are.

Passwords are hashed with Argon2id (argon2-cffi's defaults); an API token is a
random 32-byte string shown once, of which the store keeps the SHA-256 digest
(a token has enough entropy that a slow hash adds nothing, and the digest lets the
server find it in one query).
"""

from __future__ import annotations

import getpass
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
TOKEN_PREFIX = "veille_"  # recognisable in a secret scanner or a leaked log


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def system_user() -> str:
    """Who acts from the command line: the account running veille (a person in a
    shell, cron), recorded in a mention's history and in moderation requests."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return "inconnu"
