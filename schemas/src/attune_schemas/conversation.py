"""Conversation events sent by integrators (topic `conversation.events`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from attune_schemas.common import EventEnvelope, Identifier, UtcDatetime


class Sender(StrEnum):
    CLIENT = "client"
    AI = "ai"
    CLINICIAN = "clinician"


class EndReason(StrEnum):
    COMPLETED = "completed"
    CLIENT_LEFT = "client_left"
    TIMED_OUT = "timed_out"
    CLINICIAN_ENDED = "clinician_ended"
    ERROR = "error"


class SessionStarted(EventEnvelope):
    type: Literal["session_started"] = "session_started"
    session_id: Identifier
    client_id: Identifier | None = Field(default=None, description="Pseudonymous client id.")


class MessageSent(EventEnvelope):
    type: Literal["message_sent"] = "message_sent"
    session_id: Identifier | None = None
    message_id: Identifier
    sender: Sender
    text: Annotated[str, Field(min_length=1, max_length=10_000)]
    in_reply_to: Identifier | None = Field(
        default=None, description="message_id of the turn this one answers, when known."
    )


class SessionEnded(EventEnvelope):
    type: Literal["session_ended"] = "session_ended"
    session_id: Identifier
    reason: EndReason


class SessionMissed(EventEnvelope):
    type: Literal["session_missed"] = "session_missed"
    scheduled_for: UtcDatetime


class FeedbackSubmitted(EventEnvelope):
    type: Literal["feedback_submitted"] = "feedback_submitted"
    session_id: Identifier | None = None
    rating: Annotated[int, Field(ge=1, le=5, description="1 = very unhelpful, 5 = very helpful.")]


ConversationEvent = Annotated[
    SessionStarted | MessageSent | SessionEnded | SessionMissed | FeedbackSubmitted,
    Field(discriminator="type"),
]

conversation_event_adapter: TypeAdapter[ConversationEvent] = TypeAdapter(ConversationEvent)
