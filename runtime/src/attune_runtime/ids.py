"""Deterministic ids: a replayed input yields the same output id, so duplicates are harmless."""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("5b1f0c3e-8a51-4c42-9a3e-6f1d2b7c9e10")


def derived_id(kind: str, *parts: object) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, "|".join([kind, *(str(p) for p in parts)]))
