"""Fixtures shared by every tier."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from attune_runtime.clock import ManualClock
from tests.factories import T0

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "demo"))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)
