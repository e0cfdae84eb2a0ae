"""Alembic environment of the identity database (version table alembic_version_auth)."""

from __future__ import annotations

from attune_auth.db import Base
from attune_auth.migrate import MIGRATIONS
from attune_auth.schema_migrations import run_env

run_env(Base.metadata, version_table=MIGRATIONS.version_table)
