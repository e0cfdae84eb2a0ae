"""The fault tier: faults injected into the running product, on real brokers.

One pipeline (four service processes, SQLite, the demo's webhook pager) is shared by the tests
that kill its services or feed it bad input; each test uses conversations of its own, and finds
every service running even if an earlier test failed mid-fault. A test that must stop a broker
gets a private one (`private_kafka`), never the shared broker.

Faults covered elsewhere, once: the poison catalogue on conversation.raw and dedup across an
ingest restart are tests/integration/test_ingest_faults.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from demo import Pager  # deploy/demo/demo.py
from tests.e2e.conftest import SERVICES, Stack, free_port, running_stack
from tests.faults.private_kafka import PrivateKafka
from tests.hangs import tasks_dumped_before_timeout  # noqa: F401
from tests.integration.conftest import bootstrap, producer, reader, topic_prefix  # noqa: F401


@pytest.fixture(scope="session")
def pager() -> Iterator[Pager]:
    """The demo's webhook pager: the clinical team's side of the webhook."""
    pager = Pager(free_port())
    server = pager.start()
    yield pager
    server.shutdown()


@pytest.fixture(scope="session")
async def pipeline(
    bootstrap: str,  # noqa: F811
    pager: Pager,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    workdir = tmp_path_factory.mktemp("pipeline")
    async with (
        topic_prefix(bootstrap) as prefix,
        running_stack(bootstrap, prefix, workdir, pager=pager) as stack,
    ):
        yield stack


@pytest.fixture
async def stack(pipeline: Stack) -> Stack:
    """The shared pipeline with every service up (a failed test may have left one down)."""
    for service in SERVICES:
        proc = pipeline.procs.get(service)
        if proc is None or proc.poll() is not None:
            pipeline.procs.pop(service, None)
            pipeline.start(service)
            await pipeline.ready(service)
    return pipeline


@pytest.fixture(scope="session")
def private_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateKafka]:
    """A broker of this session's own, stopped at the end whatever happened (even frozen)."""
    kafka = PrivateKafka(tmp_path_factory.mktemp("kafka"))
    try:
        kafka.start()
        yield kafka
    finally:
        kafka.stop()
