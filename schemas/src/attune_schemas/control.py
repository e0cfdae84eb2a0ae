"""Control events for the integrator's AI assistant (topic `conversation.control`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal
from uuid import UUID

from attune_schemas.common import EventEnvelope, Identifier


class ControlAction(StrEnum):
    PAUSE_AI = "pause_ai"
    CLINICIAN_JOINING = "clinician_joining"
    RESUME_AI = "resume_ai"


class ConversationControl(EventEnvelope):
    type: Literal["conversation_control"] = "conversation_control"
    action: ControlAction
    incident_id: UUID
    reason: str
    clinician_id: Identifier | None = None
