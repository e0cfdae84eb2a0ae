"""An authenticated caller: an integrator (by key) or a user with a role, always in one tenant."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CLINICIAN = "clinician"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def covers(self, required: Role) -> bool:
        return self.rank >= required.rank


_RANK = {Role.CLINICIAN: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    subject: str  # the user id, or the key id for an integrator
    role: Role | None  # None: an integrator key, which may only send events
    via: str  # "key", "token", "cookie" or "oidc"
    # For a token: its id (`jti`) and lifetime, which logout and revocation act on.
    token_id: str | None = None
    issued_at: float | None = None
    expires_at: float | None = None

    @property
    def is_integrator(self) -> bool:
        return self.role is None

    @property
    def actor(self) -> str:
        """How the audit trail and the timeline name this caller."""
        return f"key:{self.subject}" if self.is_integrator else f"user:{self.subject}"
