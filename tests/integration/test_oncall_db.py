"""A shift taken at run time, stored in the real database (SQLite and PostgreSQL, migrated by
Alembic), is whom escalation's next page reaches; the rotation's again once it ends."""

from __future__ import annotations

from attune_escalation.db import make_engine, make_sessions
from attune_escalation.migrate import upgrade_async
from attune_runtime.clock import ManualClock
from tests.factories import T0
from tests.unit.escalation_desk import Desk
from tests.unit.test_oncall import config, page_after_taking_this_shift


async def test_the_page_after_take_this_shift_goes_to_the_taker(database_url: str) -> None:
    await upgrade_async(database_url)
    engine = make_engine(database_url)
    try:
        desk = Desk(make_sessions(engine), ManualClock(T0), policies=config(), group_wait=0)
        await page_after_taking_this_shift(desk)
    finally:
        await engine.dispose()
