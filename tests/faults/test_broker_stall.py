"""The broker freezes (SIGSTOP): every consuming service's /health/ready fails within its bound,
and comes back after SIGCONT. Readiness must mean progress, not "the process is up"."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import SERVICES, Stack, running_stack
from tests.faults.private_kafka import PrivateKafka
from tests.integration.conftest import topic_prefix

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

# Each service's bound: a partition the broker has not answered a fetch for in this long.
SILENT_AFTER_SECONDS = 5
# Time for the check to be asked and answered (requests every POLL seconds, up to 3 s each).
SLACK_SECONDS = 6
POLL = 0.5


@pytest.fixture
async def stack(private_kafka: PrivateKafka, tmp_path: Path) -> AsyncIterator[Stack]:
    """All four services as processes on the private broker, with a short silence bound."""
    settings = {
        f"ATTUNE_{s.upper()}_BROKER_SILENT_AFTER_SECONDS": str(SILENT_AFTER_SECONDS)
        for s in SERVICES
    }
    async with (
        topic_prefix(private_kafka.bootstrap) as prefix,
        running_stack(private_kafka.bootstrap, prefix, tmp_path, settings=settings) as running,
    ):
        yield running


async def ready(http: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await http.get(f"{url}/health/ready", timeout=3)).status_code == 200
    except httpx.HTTPError:
        return False


async def first_time(
    stack: Stack, services: set[str], want_ready: bool, within: float
) -> dict[str, float]:
    """Seconds until each service's readiness first equals `want_ready`."""
    start, seen = time.monotonic(), dict[str, float]()
    async with httpx.AsyncClient() as http:
        while services - set(seen) and time.monotonic() - start < within:
            for s in sorted(services - set(seen)):
                if await ready(http, stack.url(s)) == want_ready:
                    seen[s] = time.monotonic() - start
            await asyncio.sleep(POLL)
    return seen


async def test_every_service_is_not_ready_while_the_broker_is_frozen_and_recovers(
    stack: Stack, private_kafka: PrivateKafka
) -> None:
    services = set(SERVICES)
    assert set(await first_time(stack, services, want_ready=True, within=30)) == services

    private_kafka.freeze()
    try:
        failed = await first_time(
            stack, services, want_ready=False, within=SILENT_AFTER_SECONDS + 3 * SLACK_SECONDS
        )
        # Still not ready later in the freeze: no service flips back while nothing moves.
        await asyncio.sleep(2 * SILENT_AFTER_SECONDS)
        async with httpx.AsyncClient() as http:
            still = {s: await ready(http, stack.url(s)) for s in services}
    finally:
        private_kafka.thaw()
    recovered = await first_time(stack, services, want_ready=True, within=120)

    assert set(failed) == services, f"ready all through the freeze: {services - set(failed)}"
    for service, seconds in failed.items():
        assert seconds <= SILENT_AFTER_SECONDS + SLACK_SECONDS, (service, seconds)
    assert not any(still.values()), still
    assert set(recovered) == services, f"not ready again after SIGCONT: {services - set(recovered)}"
