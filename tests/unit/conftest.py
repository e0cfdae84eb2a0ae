"""Fixtures of the unit tier."""

from tests.unit.escalation_support import api, database_url, migrated, sessions  # noqa: F401
