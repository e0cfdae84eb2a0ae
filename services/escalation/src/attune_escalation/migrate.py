"""Bring the escalation database to the newest schema (Alembic)."""

from __future__ import annotations

from pathlib import Path

from attune_auth.schema_migrations import Migrations

MIGRATIONS = Migrations(Path(__file__).resolve().parent / "migrations")
alembic_config = MIGRATIONS.config
upgrade = MIGRATIONS.upgrade
upgrade_async = MIGRATIONS.upgrade_async
