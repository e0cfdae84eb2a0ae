"""Consumer metrics every service exports: lag per partition and whether it is ready.

Lag is the log end offset less the group's committed offset: what a restart would have to
re-read, and what an SRE alerts on. It is measured in a loop rather than on scrape, since the
committed offset is a round trip to the group coordinator.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Gauge

from attune_runtime.health import Readiness

log = structlog.get_logger(__name__)


class ConsumerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.lag = Gauge(
            "attune_consumer_lag",
            "Records behind: log end offset less the group's committed offset",
            ["topic", "partition"],
            registry=registry,
        )
        self.ready = Gauge(
            "attune_ready",
            "1 when the service's readiness check passes (what /health/ready answers)",
            registry=registry,
        )
        self._labelled: set[tuple[str, str]] = set()

    async def measure(self, subscribers: Sequence[Any], readiness: Readiness) -> None:
        ok, _ = await readiness.evaluate()
        self.ready.set(1 if ok else 0)
        seen: set[tuple[str, str]] = set()
        for sub in subscribers:
            consumer = getattr(sub, "consumer", None)
            if consumer is None or not getattr(sub, "running", False):
                continue
            for tp in consumer.assignment():
                end = consumer.highwater(tp)
                try:
                    async with asyncio.timeout(2.0):
                        committed = await consumer.committed(tp)
                except (
                    Exception
                ):  # coordinator unreachable: keep the last value, readiness says why
                    seen.add((tp.topic, str(tp.partition)))
                    continue
                labels = (tp.topic, str(tp.partition))
                seen.add(labels)
                if end is not None:
                    self.lag.labels(*labels).set(max(0, end - (committed or 0)))
        for gone in self._labelled - seen:  # revoked partitions stop reporting
            with contextlib.suppress(KeyError):
                self.lag.remove(*gone)
        self._labelled = seen

    async def run(
        self, subscribers: Sequence[Any], readiness: Readiness, interval_seconds: float
    ) -> None:
        while True:
            try:
                await self.measure(subscribers, readiness)
            except Exception as exc:  # a metrics loop never takes the service down
                log.warning("consumer_metrics_failed", error=type(exc).__name__)
            await asyncio.sleep(interval_seconds)
