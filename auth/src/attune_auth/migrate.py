"""Bring the identity database to the newest schema (Alembic, its own version table)."""

from __future__ import annotations

from pathlib import Path

from attune_auth.schema_migrations import Migrations

MIGRATIONS = Migrations(
    Path(__file__).resolve().parent / "migrations", version_table="alembic_version_auth"
)
alembic_config = MIGRATIONS.config
upgrade = MIGRATIONS.upgrade
upgrade_async = MIGRATIONS.upgrade_async
