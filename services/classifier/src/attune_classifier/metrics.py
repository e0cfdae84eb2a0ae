from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ClassifierMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.assessments = Counter(
            "attune_classifier_assessments_total",
            "Assessments published, by rupture type and whether crisis language was found.",
            ["rupture_type", "crisis"],
            registry=registry,
        )
        self.events = Counter(
            "attune_classifier_events_total",
            "Conversation events consumed, by outcome.",
            ["outcome"],
            registry=registry,
        )
        self.client_turns = Counter(
            "attune_classifier_client_turns_total",
            "Client messages consumed (the denominator of alerts per 100 client turns).",
            registry=registry,
        )
        self.dead_letters = Counter(
            "attune_classifier_dead_letters_total",
            "Records written to conversation.events.dlq by the classifier.",
            ["reason"],
            registry=registry,
        )
        self.scoring_seconds = Histogram(
            "attune_classifier_scoring_seconds",
            "Time to score one batch of client messages.",
            registry=registry,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )
        self.batch_size = Histogram(
            "attune_classifier_batch_size",
            "Records per consumed batch.",
            registry=registry,
            buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500),
        )
        self.conversations = Gauge(
            "attune_classifier_active_conversations",
            "Conversations held in memory.",
            registry=registry,
        )
        self.replayed = Counter(
            "attune_classifier_replayed_events_total",
            "Events re-read from the topic to rebuild windows after a restart or rebalance.",
            registry=registry,
        )
        self.model_info = Gauge(
            "attune_classifier_model_info",
            "The scorer in use (value 1).",
            ["model_version"],
            registry=registry,
        )
