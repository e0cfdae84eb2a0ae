"""Disengagement is behaviour, not words: scored from the conversation over time."""

from __future__ import annotations

from dataclasses import dataclass

from attune_classifier.window import Behaviour, ConversationWindow
from attune_schemas import Evidence, MarkerFamily


@dataclass(frozen=True, slots=True)
class Signal:
    name: str
    strength: float  # 0..1
    weight: float


def _clamp(x: float) -> float:
    return max(0.0, min(1.0, x))


def signals(
    window: ConversationWindow,
    behaviour: Behaviour | None,
    *,
    abandoned_after_ai_turn: bool = False,
) -> list[Signal]:
    out: list[Signal] = []
    if behaviour is not None:
        shorter, slower = behaviour.recent_length_ratio, behaviour.recent_latency_ratio
        if shorter is not None and shorter < 0.5:
            out.append(Signal("shorter_replies", _clamp((0.5 - shorter) / 0.4), 0.5))
        if slower is not None and slower > 2.0:
            out.append(Signal("slower_replies", _clamp((slower - 2.0) / 4.0), 0.35))
        if behaviour.minimal_streak >= 2:
            out.append(
                Signal("minimal_response_streak", _clamp((behaviour.minimal_streak - 1) / 3), 0.6)
            )
    if abandoned_after_ai_turn:
        out.append(Signal("abandoned_after_ai_turn", 1.0, 0.7))
    if window.missed_sessions:
        out.append(Signal("missed_sessions", _clamp(window.missed_sessions / 2), 0.6))
    if window.last_feedback is not None and window.last_feedback <= 2:
        out.append(Signal("low_feedback", (3 - window.last_feedback) / 2, 0.6))
    return [s for s in out if s.strength > 0]


def score(found: list[Signal]) -> float:
    """Noisy-OR of weighted signals: each one alone is weak evidence, together strong."""
    p = 1.0
    for s in found:
        p *= 1.0 - s.weight * s.strength
    return round(1.0 - p, 4)


def evidence(found: list[Signal], message_id: str | None) -> list[Evidence]:
    return [
        Evidence(
            marker=s.name,
            family=MarkerFamily.DISENGAGEMENT,
            message_id=message_id,
            source="behaviour",
        )
        for s in found
    ]
