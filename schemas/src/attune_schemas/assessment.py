"""What the classifier concluded about one conversation event (topic `rupture.assessments`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from attune_schemas.common import Contract, EventEnvelope, Identifier, Probability, UtcDatetime
from attune_schemas.conversation import Sender

RECENT_TURNS_MAX = 16


class RuptureType(StrEnum):
    NONE = "none"
    WITHDRAWAL = "withdrawal"
    CONFRONTATION = "confrontation"


class CrisisCategory(StrEnum):
    SUICIDAL_IDEATION = "suicidal_ideation"
    SELF_HARM = "self_harm"
    HARM_TO_OTHERS = "harm_to_others"
    ABUSE_DISCLOSURE = "abuse_disclosure"


class MarkerFamily(StrEnum):
    WITHDRAWAL = "withdrawal"
    CONFRONTATION = "confrontation"
    CRISIS = "crisis"
    DISENGAGEMENT = "disengagement"


class Evidence(Contract):
    """One marker that fired, and where. The excerpt is client text: never log it."""

    marker: Annotated[str, Field(min_length=1, max_length=64)]
    family: MarkerFamily
    message_id: Identifier | None = None
    start: Annotated[int, Field(ge=0)] | None = None
    end: Annotated[int, Field(ge=0)] | None = None
    excerpt: Annotated[str, Field(max_length=500)] | None = None
    source: Literal["rule", "model", "behaviour"] = "rule"


class TriggeringTurn(Contract):
    """The AI turn that most likely set off the rupture."""

    message_id: Identifier
    excerpt: Annotated[str, Field(max_length=500)]
    seconds_before: Annotated[float, Field(ge=0)]


class RecentTurn(Contract):
    """One recent message of the conversation, client or AI, as the classifier's window keeps
    it (the first characters of the text). Conversation text: never log it."""

    message_id: Identifier
    sender: Sender
    at: UtcDatetime
    text: Annotated[str, Field(max_length=500)]


class Scores(Contract):
    rupture: Probability
    withdrawal: Probability
    confrontation: Probability
    disengagement: Probability
    crisis: Probability
    exchange: Probability = Field(
        default=0.0,
        description=(
            "A minimal reply right after a misattuned AI turn: how likely the exchange is a "
            "withdrawal, times how much the reply shrank against the client's previous turns. "
            "0 where it does not apply (a long reply, thanks, a question to the AI)."
        ),
    )


class Engagement(Contract):
    """Client behaviour relative to the client's own baseline in this conversation."""

    reply_length_ratio: Annotated[float, Field(ge=0)] | None = None
    reply_latency_ratio: Annotated[float, Field(ge=0)] | None = None
    minimal_response_streak: Annotated[int, Field(ge=0)] = 0
    client_turns_seen: Annotated[int, Field(ge=0)] = 0


class RuptureAssessment(EventEnvelope):
    type: Literal["rupture_assessment"] = "rupture_assessment"
    source_event_id: UUID = Field(description="The conversation event this assesses.")
    message_id: Identifier | None = None
    session_id: Identifier | None = None
    assessed_at: UtcDatetime
    model_version: Annotated[str, Field(min_length=1, max_length=64)]
    scores: Scores
    rupture_type: RuptureType
    crisis: bool = Field(description="True when crisis language was found (rule or model).")
    crisis_source: Literal["rule", "model"] | None = Field(
        default=None,
        description=(
            "rule: the speaker's own explicit crisis language, or a yes to a risk question "
            "(never left to a threshold); model: the learned crisis model alone, for review."
        ),
    )
    crisis_categories: tuple[CrisisCategory, ...] = Field(
        default=(),
        description="What the rule named, or the model's most likely category when it alone fired.",
    )
    evidence: tuple[Evidence, ...] = ()
    triggering_turn: TriggeringTurn | None = None
    engagement: Engagement = Field(default_factory=Engagement)
    recent_turns: Annotated[tuple[RecentTurn, ...], Field(max_length=RECENT_TURNS_MAX)] = Field(
        default=(),
        description=(
            "The conversation's recent turns, oldest first, on assessments an alert may fire "
            "on (crisis, elevated rupture, disengagement signals); empty otherwise."
        ),
    )
