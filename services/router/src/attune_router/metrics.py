from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from attune_schemas import AlertKind, AlertStatus, Severity


class RouterMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.alerts = Counter(
            "attune_router_alerts_total",
            "Alerts published, by kind, severity and status.",
            ["kind", "severity", "status"],
            registry=registry,
        )
        # Every label value exported at 0 from the start, so the first alert of a kind is an
        # increase that rate() and increase() see (a series born at 1 reads as no change).
        for kind in AlertKind:
            for severity in Severity:
                for status in AlertStatus:
                    self.alerts.labels(kind.value, severity.value, status.value)
        self.inhibited = Counter(
            "attune_router_inhibited_total",
            "Alerts held back because a crisis alert is open for the conversation.",
            ["kind"],
            registry=registry,
        )
        self.duplicates = Counter(
            "attune_router_duplicate_assessments_total",
            "Assessments seen before (replays, redelivery) and ignored.",
            registry=registry,
        )
        self.dead_letters = Counter(
            "attune_router_dead_letters_total",
            "Records written to rupture.assessments.dlq.",
            ["reason"],
            registry=registry,
        )
        self.open_alerts = Gauge(
            "attune_router_open_alerts",
            "Alerts currently open, by kind (counted when scraped).",
            ["kind"],
            registry=registry,
        )
        self.batch_size = Histogram(
            "attune_router_batch_size",
            "Assessments per consumed batch.",
            registry=registry,
            buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500),
        )
        self.replayed = Counter(
            "attune_router_replayed_assessments_total",
            "Assessments re-read from the topic to rebuild state after a restart or rebalance.",
            registry=registry,
        )
        self.silenced = Counter(
            "attune_router_silenced_total",
            "Alerts sent marked as silenced (recorded by escalation, not paged), by kind.",
            ["kind"],
            registry=registry,
        )
        self.silences_unreadable = Counter(
            "attune_router_silences_unreadable_total",
            "Records of the silences topic that could not be read (skipped).",
            registry=registry,
        )
        self.active_silences = Gauge(
            "attune_router_active_silences",
            "Silences in force now, as this router knows them.",
            registry=registry,
        )
