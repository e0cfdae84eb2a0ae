"""Attune event contracts: every message on every topic, and the topic table."""

from attune_schemas.alert import SEVERITY_RANK, Alert, AlertKind, AlertStatus, Severity
from attune_schemas.assessment import (
    CrisisCategory,
    Engagement,
    Evidence,
    MarkerFamily,
    RecentTurn,
    RuptureAssessment,
    RuptureType,
    Scores,
    TriggeringTurn,
)
from attune_schemas.codec import InvalidMessage, decode, encode, field_errors
from attune_schemas.common import SCHEMA_VERSION, EventEnvelope
from attune_schemas.control import ControlAction, ConversationControl
from attune_schemas.conversation import (
    ConversationEvent,
    EndReason,
    FeedbackSubmitted,
    MessageSent,
    Sender,
    SessionEnded,
    SessionMissed,
    SessionStarted,
    conversation_event_adapter,
)
from attune_schemas.dead_letter import DeadLetter, FieldError
from attune_schemas.escalation import EscalationAction, EscalationEvent
from attune_schemas.event_time import EventTimeBounds
from attune_schemas.json_limits import JsonLimits, load_json
from attune_schemas.silence import Silence, SilenceMatchers, crisis_refusal

__all__ = [
    "SCHEMA_VERSION",
    "SEVERITY_RANK",
    "Alert",
    "AlertKind",
    "AlertStatus",
    "ControlAction",
    "ConversationControl",
    "ConversationEvent",
    "CrisisCategory",
    "DeadLetter",
    "EndReason",
    "Engagement",
    "EscalationAction",
    "EscalationEvent",
    "EventEnvelope",
    "EventTimeBounds",
    "Evidence",
    "FeedbackSubmitted",
    "FieldError",
    "InvalidMessage",
    "JsonLimits",
    "MarkerFamily",
    "MessageSent",
    "RecentTurn",
    "RuptureAssessment",
    "RuptureType",
    "Scores",
    "Sender",
    "SessionEnded",
    "SessionMissed",
    "SessionStarted",
    "Severity",
    "Silence",
    "SilenceMatchers",
    "TriggeringTurn",
    "conversation_event_adapter",
    "crisis_refusal",
    "decode",
    "encode",
    "field_errors",
    "load_json",
]
