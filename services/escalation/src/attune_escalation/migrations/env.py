"""Alembic environment: runs migrations over the service's async engine."""

from __future__ import annotations

from attune_auth.schema_migrations import run_env
from attune_escalation.db import Base

run_env(Base.metadata)
