"""Fixtures shared by every tier."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from attune_runtime.clock import ManualClock
from tests.factories import T0
from tests.identity import Identity, seed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "demo"))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture(scope="session")
async def identity_template(tmp_path_factory: pytest.TempPathFactory) -> Identity:
    """Two tenants with a key and a login per role, seeded once per run."""
    return await seed(tmp_path_factory.mktemp("identity") / "identity.db")


@pytest.fixture
def identity(identity_template: Identity, tmp_path: Path) -> Identity:
    """A fresh copy of the seeded identity database for one test."""
    return identity_template.copy_to(tmp_path / "identity.db")
