"""From conversation events to rupture assessments: window, behaviour, scorer, evidence."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from attune_classifier import disengagement
from attune_classifier.lexicon import MarkerHit
from attune_classifier.scoring import (
    ContextTurn,
    MessageScore,
    Scorer,
    ScoringInput,
    invites_elaboration,
)
from attune_classifier.window import (
    TEXT_KEEP,
    Behaviour,
    ConversationWindow,
    Turn,
    Windows,
    triggering_ai_turn,
    word_count,
)
from attune_runtime.clock import Clock
from attune_runtime.ids import derived_id
from attune_schemas import (
    ConversationEvent,
    EndReason,
    Evidence,
    FeedbackSubmitted,
    MarkerFamily,
    MessageSent,
    RuptureAssessment,
    RuptureType,
    Sender,
    SessionEnded,
    SessionMissed,
    SessionStarted,
    TriggeringTurn,
)
from attune_schemas.common import SCHEMA_VERSION

CONTEXT_TURNS = 4
Fields = dict[str, Any]  # a contract model's fields, validated with the assessment holding them
EXCERPT_CHARS = 300

_MINIMAL = re.compile(
    r"^\W*(?:ok(?:ay)?|k+|fine|whatever|idk|dunno|i dunno|sure|meh|i guess|guess so|maybe|"
    r"nothing|not really|no idea|cool|mhm+|hm+|eh|nah|same|if you say so|yeah|yep|no|yes)\W*$",
    re.IGNORECASE,
)


# Every client reply reads the AI turn before it; a conversation's AI turns recur (openers,
# check-ins), so each is read once.
_invites_elaboration = lru_cache(maxsize=1024)(invites_elaboration)


# Each sender's value, looked up: an enum member's `.value` is a property call, and every client
# message reads four context turns.
_SENDER = {s: s.value for s in Sender}


def is_minimal(text: str) -> bool:
    return bool(_MINIMAL.match(text)) or word_count(text) <= 1


@dataclass
class _Pending:
    """One event to assess, with the window as it stood right after that event.

    Everything read from the window is captured here, not when the batch is assessed: later
    events of the same batch must not leak into an earlier event's assessment, nor push the
    turns it refers to out of the window. `turns` holds the same Turn objects as the window, so
    the rupture scores of earlier turns, set as each event is assessed in order, are seen.
    """

    event: ConversationEvent
    turns: tuple[Turn, ...]
    signals: list[disengagement.Signal]
    session_id: str | None
    client_turns: int
    streak: int
    turn: Turn | None = None
    behaviour: Behaviour | None = None
    scoring: ScoringInput | None = None
    abandoned_after: Turn | None = None


def _pending(
    event: ConversationEvent,
    window: ConversationWindow,
    *,
    turn: Turn | None = None,
    behaviour: Behaviour | None = None,
    scoring: ScoringInput | None = None,
    abandoned_after: Turn | None = None,
) -> _Pending:
    return _Pending(
        event,
        tuple(window.turns),
        disengagement.signals(
            window, behaviour, abandoned_after_ai_turn=abandoned_after is not None
        ),
        window.session_id,
        window.client_turns,
        window.minimal_streak,
        turn,
        behaviour,
        scoring,
        abandoned_after,
    )


class Assessor:
    def __init__(self, *, scorer: Scorer, windows: Windows, clock: Clock) -> None:
        self.scorer = scorer
        self.windows = windows
        self.clock = clock
        # Set from the scorer by each `process`.
        self._elevated = 0.0
        self._exchange_notable = 0.0
        self._version = ""

    def process(
        self, events: Sequence[tuple[ConversationEvent, int | None]]
    ) -> list[RuptureAssessment]:
        """Apply events in order; score client messages as one batch; return assessments."""
        pending = [p for e, part in events if (p := self._observe(e, part)) is not None]
        to_score = [p.scoring for p in pending if p.scoring is not None]
        scores = iter(self.scorer.score_batch(to_score) if to_score else [])
        # The scorer's thresholds and version, read once a batch rather than per assessment.
        self._elevated = self.scorer.elevated
        self._exchange_notable = self.scorer.exchange_notable
        self._version = self.scorer.version
        out = []
        for p in pending:
            score = next(scores) if p.scoring is not None else None
            out.append(self._assess(p, score))
        return out

    def _observe(self, event: ConversationEvent, partition: int | None) -> _Pending | None:
        window = self.windows.open(
            tenant_id=event.tenant_id,
            conversation_id=event.conversation_id,
            partition=partition,
            at=event.occurred_at,
        )
        if window.already_seen(event.event_id):
            return None
        window.mark_seen(event.event_id, event.occurred_at)
        if isinstance(event, MessageSent):
            before = window.turns[-CONTEXT_TURNS:]  # the context, read before this turn joins it
            turn = Turn(
                event.message_id,
                event.sender,
                event.occurred_at,
                word_count(event.text),
                event.text[:TEXT_KEEP],
            )
            # A terse reply counts as minimal only where more was invited (3RS; the guide):
            # "yeah" after a closed question or a reflection is an answer or a backchannel.
            previous = window.last_turn()
            invited = (
                previous is not None
                and previous.sender is Sender.AI
                and _invites_elaboration(previous.text)
            )
            behaviour = window.add_turn(turn, minimal=invited and is_minimal(event.text))
            if event.sender is not Sender.CLIENT or behaviour is None:
                return None
            scoring = ScoringInput(
                text=event.text,
                context=tuple(ContextTurn(_SENDER[t.sender], t.text) for t in before),
                latency_s=behaviour.latency_s,
                length_ratio=behaviour.length_ratio,
                latency_ratio=behaviour.latency_ratio,
                minimal_streak=behaviour.minimal_streak,
            )
            return _pending(event, window, turn=turn, behaviour=behaviour, scoring=scoring)
        if isinstance(event, SessionStarted):
            window.session_id = event.session_id
            return None
        if isinstance(event, SessionEnded):
            last = window.last_turn()
            abandoned = (
                event.reason in (EndReason.CLIENT_LEFT, EndReason.TIMED_OUT)
                and last is not None
                and last.sender is Sender.AI
            )
            return _pending(event, window, abandoned_after=last) if abandoned else None
        if isinstance(event, SessionMissed):
            window.missed_sessions += 1
            return _pending(event, window)
        if isinstance(event, FeedbackSubmitted):
            window.last_feedback = event.rating
            return _pending(event, window) if event.rating <= 2 else None
        return None  # type: ignore[unreachable]  # kept for event types added later

    def _assess(self, p: _Pending, score: MessageScore | None) -> RuptureAssessment:
        event = p.event
        found = p.signals
        # The seed story: a minimal reply right after a misattuned AI turn (`exchange`).
        withdrawn_exchange = score is not None and score.exchange >= self._exchange_notable
        disengaged = disengagement.score(found)
        message_id = p.turn.message_id if p.turn else None
        evidence: list[Evidence | Fields] = []
        trigger: TriggeringTurn | None = None
        if score is not None and p.turn is not None:
            p.turn.rupture = score.rupture
            evidence.extend(_marker_evidence(event, score, message_id))
            if score.rupture >= self._elevated:
                trigger = _trigger(p.turns, p.turn, self._elevated)
            if withdrawn_exchange:
                evidence.append(_exchange_evidence(event, message_id))
                trigger = trigger or _replied_to(p.turns, p.turn)
        elif p.abandoned_after is not None:
            last_ai = p.abandoned_after
            trigger = TriggeringTurn(
                message_id=last_ai.message_id,
                excerpt=last_ai.text[:EXCERPT_CHARS],
                seconds_before=_seconds(event.occurred_at, last_ai.at),
            )
        evidence.extend(disengagement.evidence(found, message_id))
        withdrawal = score.withdrawal if score else 0.0
        confrontation = score.confrontation if score else 0.0
        rupture = score.rupture if score else 0.0
        rupture_type = RuptureType.NONE
        if rupture >= self._elevated:
            rupture_type = (
                RuptureType.CONFRONTATION if confrontation >= withdrawal else RuptureType.WITHDRAWAL
            )
        elif withdrawn_exchange:
            rupture_type = RuptureType.WITHDRAWAL
        b = p.behaviour
        crisis = bool(score and score.crisis_detected)
        # Only what an alert may fire on carries the conversation (the router's rupture floor
        # is the scorer's `elevated`): ordinary turns stay small on the topic.
        notable = crisis or rupture >= self._elevated or withdrawn_exchange or disengaged > 0
        # One validation of the whole assessment, its parts given as fields: the same checks
        # and the same model as building each part first, with fewer calls into pydantic.
        return RuptureAssessment.model_validate(
            {
                "event_id": derived_id("assessment", event.tenant_id, event.event_id),
                "schema_version": SCHEMA_VERSION,
                "conversation_id": event.conversation_id,
                "tenant_id": event.tenant_id,
                "occurred_at": event.occurred_at,
                "source_event_id": event.event_id,
                "message_id": message_id,
                "session_id": p.session_id,
                "assessed_at": self.clock.now(),
                "model_version": self._version,
                "scores": {
                    "rupture": round(rupture, 4),
                    "withdrawal": round(withdrawal, 4),
                    "confrontation": round(confrontation, 4),
                    "disengagement": disengaged,
                    "crisis": round(score.crisis, 4) if score else 0.0,
                    "exchange": score.exchange if score else 0.0,
                },
                "rupture_type": rupture_type,
                "crisis": crisis,
                "crisis_source": (
                    None
                    if not (score and score.crisis_detected)
                    else "rule"
                    if score.crisis_rule
                    else "model"
                ),
                "crisis_categories": score.crisis_categories if score else (),
                "evidence": tuple(evidence),
                "triggering_turn": trigger,
                "engagement": {
                    "reply_length_ratio": b.length_ratio if b else None,
                    "reply_latency_ratio": b.latency_ratio if b else None,
                    "minimal_response_streak": b.minimal_streak if b else p.streak,
                    "client_turns_seen": p.client_turns,
                },
                "recent_turns": _recent(p.turns) if notable else (),
            }
        )


def _recent(turns: Sequence[Turn]) -> tuple[Fields, ...]:
    """The window's turns as they stood right after the event, oldest first (`RecentTurn`s'
    fields, validated with the assessment)."""
    return tuple(
        {"message_id": t.message_id, "sender": t.sender, "at": t.at, "text": t.text} for t in turns
    )


def _marker_evidence(
    event: ConversationEvent, score: MessageScore, message_id: str | None
) -> list[Fields]:
    """Each marker hit's `Evidence` fields, validated with the assessment."""
    text = event.text if isinstance(event, MessageSent) else ""
    sources: tuple[tuple[tuple[MarkerHit, ...], Literal["model", "rule"]], ...] = (
        (score.model_spans, "model"),
        (score.markers, "rule"),
    )
    return [
        {
            "marker": h.marker,
            "family": h.family,
            "message_id": message_id,
            "start": h.start,
            "end": h.end,
            "excerpt": text[h.start : h.end][:EXCERPT_CHARS],
            "source": source,
        }
        for hits, source in sources
        for h in hits
    ]


EXCHANGE_MARKER = "shrank_after_misattuned_turn"


def _exchange_evidence(event: ConversationEvent, message_id: str | None) -> Evidence:
    """The whole reply, named for the exchange that makes it a withdrawal."""
    text = event.text if isinstance(event, MessageSent) else ""
    return Evidence(
        marker=EXCHANGE_MARKER,
        family=MarkerFamily.WITHDRAWAL,
        message_id=message_id,
        start=0,
        end=len(text),
        excerpt=text[:EXCERPT_CHARS],
        source="model",
    )


def _replied_to(turns: Sequence[Turn], turn: Turn) -> TriggeringTurn | None:
    """The AI turn the reply answers: the exchange's trigger."""
    index = next((i for i, t in enumerate(turns) if t is turn), len(turns))
    ai = next((t for t in reversed(turns[:index]) if t.sender is Sender.AI), None)
    return _triggering(ai, turn)


def _trigger(turns: Sequence[Turn], turn: Turn, elevated: float) -> TriggeringTurn | None:
    return _triggering(triggering_ai_turn(turns, turn, elevated), turn)


def _triggering(ai: Turn | None, turn: Turn) -> TriggeringTurn | None:
    if ai is None:
        return None
    return TriggeringTurn(
        message_id=ai.message_id,
        excerpt=ai.text[:EXCERPT_CHARS],
        seconds_before=_seconds(turn.at, ai.at),
    )


def _seconds(later: datetime, earlier: datetime) -> float:
    return max(0.0, (later - earlier).total_seconds())
