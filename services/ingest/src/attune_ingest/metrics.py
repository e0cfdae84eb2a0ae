from __future__ import annotations

from functools import cache

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.accepted = Counter(
            "attune_ingest_events_accepted_total",
            "Events validated and published to conversation.events.",
            ["channel", "event_type"],
            registry=registry,
        )
        self.rejected = Counter(
            "attune_ingest_events_rejected_total",
            "Events that failed validation (HTTP 422 or dead-lettered).",
            ["channel", "reason"],
            registry=registry,
        )
        self.duplicates = Counter(
            "attune_ingest_duplicates_total",
            "Events whose event_id was already published inside the dedup window.",
            ["channel"],
            registry=registry,
        )
        self.pending_waits = Counter(
            "attune_ingest_pending_waits_total",
            "Times a request waited for another request's pending publish of the same event_id.",
            ["channel"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "attune_ingest_dead_letters_total",
            "Records written to conversation.events.dlq.",
            ["reason"],
            registry=registry,
        )
        self.publish_seconds = Histogram(
            "attune_ingest_publish_seconds",
            "Time to publish a batch and get acks=all from the broker.",
            registry=registry,
        )
        self.dedup_ids = Gauge(
            "attune_ingest_dedup_ids",
            "Published event_ids remembered for deduplication.",
            registry=registry,
        )
        self.dedup_rebuilt = Counter(
            "attune_ingest_dedup_rebuilt_ids_total",
            "Event ids read back from conversation.events on start.",
            registry=registry,
        )
        # Per event on the hot path: resolve each label pair once.
        self.accepted_events = cache(self.accepted.labels)
