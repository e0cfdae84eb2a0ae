from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class EscalationMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.alerts = Counter(
            "attune_escalation_alerts_total",
            "Alert events consumed, by outcome (opened, grouped, silenced, duplicate,"
            " dead_lettered).",
            ["outcome"],
            registry=registry,
        )
        self.incidents = Counter(
            "attune_escalation_incidents_total",
            "Incidents opened, by the severity they opened with.",
            ["severity"],
            registry=registry,
        )
        self.actions = Counter(
            "attune_escalation_clinician_actions_total",
            "Clinician actions through the API.",
            ["action"],
            registry=registry,
        )
        self.notifications = Counter(
            "attune_escalation_notifications_total",
            "Notification attempts, by channel and result.",
            ["channel", "result"],
            registry=registry,
        )
        self.outbox_published = Counter(
            "attune_escalation_outbox_published_total",
            "Outbox rows relayed to Kafka, by topic.",
            ["topic"],
            registry=registry,
        )
        self.outbox_failures = Counter(
            "attune_escalation_outbox_failures_total",
            "Relay passes that failed (broker or database unavailable).",
            registry=registry,
        )
        self.outbox_pending = Gauge(
            "attune_escalation_outbox_pending",
            "Outbox rows not yet relayed to Kafka.",
            registry=registry,
        )
        self.dead_letters = Counter(
            "attune_escalation_dead_letters_total",
            "Records written to alerts.dlq.",
            ["reason"],
            registry=registry,
        )
        self.steps = Counter(
            "attune_escalation_steps_total",
            "Escalation steps run by the scheduler, by what they did (paged_tier_N, renotified…).",
            ["outcome"],
            registry=registry,
        )
        self.step_lateness = Histogram(
            "attune_escalation_step_lateness_seconds",
            "How long after its due time a scheduled step ran.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
            registry=registry,
        )
        response = (5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600)
        self.time_to_acknowledge = Histogram(
            "attune_escalation_time_to_acknowledge_seconds",
            "From an incident opening to its acknowledgement, by severity.",
            ["severity"],
            buckets=response,
            registry=registry,
        )
        self.time_to_resolve = Histogram(
            "attune_escalation_time_to_resolve_seconds",
            "From an incident opening to its resolution, by severity.",
            ["severity"],
            buckets=response,
            registry=registry,
        )
        self.open_incidents = Gauge(
            "attune_escalation_open_incidents",
            "Incidents not resolved, by severity and state (open, acknowledged, joined).",
            ["severity", "state"],
            registry=registry,
        )
        self.oldest_unacknowledged = Gauge(
            "attune_escalation_oldest_unacknowledged_seconds",
            "Age of the oldest incident nobody has acknowledged, by severity (0: none).",
            ["severity"],
            registry=registry,
        )
        self.escalations = Counter(
            "attune_escalation_escalations_total",
            "Tiers paged, by tier (1 is the first page of an incident).",
            ["tier"],
            registry=registry,
        )
