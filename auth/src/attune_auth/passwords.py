"""Password hashing: Argon2id through pwdlib (its recommended parameters)."""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

_HASHER = PasswordHash((Argon2Hasher(),))
# Verified when the user does not exist, so a wrong username costs what a wrong password does.
_DUMMY = _HASHER.hash("attune-timing-equaliser")

MIN_LENGTH = 12


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a password needs at least {MIN_LENGTH} characters")
    return _HASHER.hash(password)


def verify_password(password: str, stored: str | None) -> bool:
    if stored is None:
        _HASHER.verify(password, _DUMMY)
        return False
    return _HASHER.verify(password, stored)
