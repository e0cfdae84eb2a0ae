"""The one table of every topic: name, key, value model, partitions, dead-letter topic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from attune_schemas.alert import Alert
from attune_schemas.assessment import RuptureAssessment
from attune_schemas.control import ConversationControl
from attune_schemas.conversation import ConversationEvent
from attune_schemas.dead_letter import DeadLetter
from attune_schemas.escalation import EscalationEvent
from attune_schemas.silence import Silence


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key: str
    value: TypeAdapter[Any]
    value_name: str
    partitions: int
    dlq: str | None
    produced_by: str
    consumed_by: str
    description: str


PARTITIONS = 3

CONVERSATION_RAW = "conversation.raw"
CONVERSATION_EVENTS = "conversation.events"
CONVERSATION_EVENTS_DLQ = "conversation.events.dlq"
RUPTURE_ASSESSMENTS = "rupture.assessments"
RUPTURE_ASSESSMENTS_DLQ = "rupture.assessments.dlq"
ALERTS = "alerts"
ALERTS_DLQ = "alerts.dlq"
ESCALATION_EVENTS = "escalation.events"
CONVERSATION_CONTROL = "conversation.control"
SILENCES = "silences"

_events: TypeAdapter[Any] = TypeAdapter(ConversationEvent)
_dead_letter: TypeAdapter[Any] = TypeAdapter(DeadLetter)

TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        CONVERSATION_RAW,
        "conversation_id",
        _events,
        "ConversationEvent",
        PARTITIONS,
        CONVERSATION_EVENTS_DLQ,
        "integrators",
        "ingest",
        "Unvalidated conversation events from integrators who publish to Kafka directly.",
    ),
    TopicSpec(
        CONVERSATION_EVENTS,
        "conversation_id",
        _events,
        "ConversationEvent",
        PARTITIONS,
        CONVERSATION_EVENTS_DLQ,
        "ingest",
        "classifier, escalation (open incidents' conversation timeline)",
        "Validated, deduplicated conversation events.",
    ),
    TopicSpec(
        CONVERSATION_EVENTS_DLQ,
        "conversation_id",
        _dead_letter,
        "DeadLetter",
        PARTITIONS,
        None,
        "ingest, classifier",
        "operators",
        "Conversation events that can never be processed, with the reason.",
    ),
    TopicSpec(
        RUPTURE_ASSESSMENTS,
        "conversation_id",
        TypeAdapter(RuptureAssessment),
        "RuptureAssessment",
        PARTITIONS,
        RUPTURE_ASSESSMENTS_DLQ,
        "classifier",
        "router, escalation (engagement chart)",
        "One assessment per scored conversation event, with scores and evidence.",
    ),
    TopicSpec(
        RUPTURE_ASSESSMENTS_DLQ,
        "conversation_id",
        _dead_letter,
        "DeadLetter",
        PARTITIONS,
        None,
        "router",
        "operators",
        "Assessments the router could not read.",
    ),
    TopicSpec(
        ALERTS,
        "conversation_id",
        TypeAdapter(Alert),
        "Alert",
        PARTITIONS,
        ALERTS_DLQ,
        "router",
        "escalation",
        "Firing and resolved alerts from the alert policy.",
    ),
    TopicSpec(
        ALERTS_DLQ,
        "conversation_id",
        _dead_letter,
        "DeadLetter",
        PARTITIONS,
        None,
        "escalation",
        "operators",
        "Alerts the escalation service could not read.",
    ),
    TopicSpec(
        ESCALATION_EVENTS,
        "conversation_id",
        TypeAdapter(EscalationEvent),
        "EscalationEvent",
        PARTITIONS,
        None,
        "escalation",
        "audit, integrators",
        "Append-only audit trail of every incident action.",
    ),
    TopicSpec(
        CONVERSATION_CONTROL,
        "conversation_id",
        TypeAdapter(ConversationControl),
        "ConversationControl",
        PARTITIONS,
        None,
        "escalation",
        "integrators",
        "pause_ai / clinician_joining / resume_ai for the integrator's assistant.",
    ),
    TopicSpec(
        SILENCES,
        "silence_id",
        TypeAdapter(Silence),
        "Silence",
        PARTITIONS,
        None,
        "escalation",
        "router",
        "Alert silences, compacted: every router instance reads them all at start and follows.",
    ),
)

BY_NAME: dict[str, TopicSpec] = {t.name: t for t in TOPICS}


def topic(name: str) -> TopicSpec:
    return BY_NAME[name]
