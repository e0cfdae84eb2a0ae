"""kill -9 of one service mid-stream, restarted at once as a supervisor would: every crisis
conversation still gets one incident, a page and a pause_ai, and no conversation two incidents.

The kill comes as the first crisis message is accepted, so the crisis is in flight somewhere in
the pipeline and the later conversations' crisis messages arrive while the service is down.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from demo import Pager  # deploy/demo/demo.py
from tests.e2e.conftest import SERVICES, Stack, run_id, wait_until
from tests.faults.integrators import CRISIS_MESSAGE, Integrators, conversation_id, conversations

pytestmark = [pytest.mark.faults, pytest.mark.timeout(150)]


async def incidents_by_conversation(stack: Stack) -> Counter[str]:
    async with httpx.AsyncClient(timeout=5, auth=stack.auth()) as client:
        r = await client.get(f"{stack.url('escalation')}/v1/incidents?status=all&limit=500")
    r.raise_for_status()
    return Counter(i["conversation_id"] for i in r.json())


def paused(control: list[dict[str, Any]]) -> set[str]:
    return {c["conversation_id"] for c in control if c["action"] == "pause_ai"}


@pytest.mark.parametrize("service", SERVICES)
async def test_killed_mid_stream_every_crisis_gets_one_incident_a_page_and_a_pause(
    stack: Stack, pager: Pager, reader: Any, service: str
) -> None:
    convs = conversations(
        run_id(), datetime.now(UTC) - timedelta(minutes=20), crisis=3, rupture=1, ordinary=1
    )
    crisis = [conversation_id(events) for events in convs["crisis"]]
    everyone = [conversation_id(events) for group in convs.values() for events in group]
    integrators = Integrators(stack.url("ingest"), stack.auth())
    crisis_accepted = asyncio.Event()

    async def after_each(index: int) -> None:
        if index == CRISIS_MESSAGE:
            crisis_accepted.set()

    async def send(n: int, events: list[dict[str, Any]], first_crisis: bool) -> None:
        await asyncio.sleep(0.4 * n)  # staggered: crisis messages arrive over the stream
        await integrators.conversation(
            events, pause=0.1, after_each=after_each if first_crisis else None
        )

    streams = convs["crisis"] + convs["rupture"] + convs["ordinary"]
    tasks = [asyncio.create_task(send(n, events, n == 0)) for n, events in enumerate(streams)]
    try:
        await crisis_accepted.wait()
        unsent = sum(map(len, streams)) - len(integrators.answered)
        stack.kill(service)
        stack.start(service)
        await stack.ready(service)
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()

    control = await reader(f"{stack.prefix}conversation.control")
    await control.wait_for(lambda v: paused(v) >= set(crisis))
    await wait_until(lambda: all(pager.for_conversation(cid) for cid in crisis))
    await control.settle(3.0)  # time for a duplicate incident to show, if there were one
    incidents = await incidents_by_conversation(stack)

    assert unsent > 0, "the stream was over before the kill"
    if service == "ingest":
        assert integrators.retries["unreachable"], "no client found ingest down"
    for cid in crisis:
        assert incidents[cid] == 1, f"{cid}: {incidents[cid]} incidents"
        assert pager.for_conversation(cid)
        assert cid in paused(control.values)
    assert all(incidents[cid] <= 1 for cid in everyone), incidents
    ordinary = conversation_id(convs["ordinary"][0])
    assert not incidents[ordinary] and not pager.for_conversation(ordinary)
