"""Deterministic ids: a replayed input yields the same output id, so duplicates are harmless."""

from __future__ import annotations

import hashlib
import uuid

_NAMESPACE = uuid.UUID("5b1f0c3e-8a51-4c42-9a3e-6f1d2b7c9e10")
# uuid5's hash state after the namespace, copied per id: every assessment takes one.
_HASHED_NAMESPACE = hashlib.sha1(_NAMESPACE.bytes, usedforsecurity=False)


def derived_id(kind: str, *parts: object) -> uuid.UUID:
    """`uuid.uuid5(_NAMESPACE, "kind|part|...")`, the namespace hashed once."""
    digest = _HASHED_NAMESPACE.copy()
    digest.update("|".join([kind, *(str(p) for p in parts)]).encode())
    return uuid.UUID(bytes=digest.digest()[:16], version=5)
