"""The scorer interface, and the transparent marker-phrase scorer behind it.

A scorer sees one client message in context and returns class probabilities plus the marker
hits it can point to. The learned model (`model.py`) implements the same interface.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from attune_classifier.lexicon import CRISIS_MARKERS, MarkerHit, crisis_categories
from attune_classifier.screening import explicit_hits
from attune_schemas import CrisisCategory, MarkerFamily


@dataclass(frozen=True, slots=True)
class ContextTurn:
    sender: str  # "client", "ai" (or "counsellor" in the corpus), "clinician"
    text: str


@dataclass(frozen=True, slots=True)
class ScoringInput:
    text: str
    context: tuple[ContextTurn, ...] = ()
    latency_s: float | None = None
    length_ratio: float | None = None
    latency_ratio: float | None = None
    minimal_streak: int = 0


@dataclass(frozen=True, slots=True)
class MessageScore:
    none: float
    withdrawal: float
    confrontation: float
    crisis: float
    markers: tuple[MarkerHit, ...]
    crisis_categories: tuple[CrisisCategory, ...]
    crisis_rule: bool
    # Crisis as the scorer decides it: the rule, or the model above its tuned threshold.
    crisis_detected: bool = False
    # Spans the learned model leaned on, named for what they point to (`*_language`, `risk_*`).
    model_spans: tuple[MarkerHit, ...] = ()
    # A minimal reply right after a misattuned AI turn (`exchange`); 0 where it does not apply.
    exchange: float = 0.0

    @property
    def rupture(self) -> float:
        return min(1.0, self.withdrawal + self.confrontation)


class Scorer(Protocol):
    @property
    def version(self) -> str: ...

    @property
    def elevated(self) -> float:
        """The rupture score from which a client turn counts as part of a rupture episode."""
        ...

    @property
    def exchange_notable(self) -> float:
        """The exchange score from which a reply is a withdrawal the router alerts on."""
        ...

    def score_batch(self, inputs: Sequence[ScoringInput]) -> list[MessageScore]: ...


# A question is read by how it opens, past discourse fillers: an auxiliary asks for yes or no
# ("Are you asking how to end the chat?"), a wh-word or "tell me" asks for content. A question
# that opens with neither ("You okay?", "your mum lives nearby, doesn't she?") is elliptical or
# a tag: yes or no answers it.
_FILLERS = re.compile(
    r"^\W*(?:(?:so|and|but|or|ok(?:ay)?|well|right|now|then|also|oh|hmm)\b\W*)*", re.I
)
_AUXILIARY = re.compile(
    r"(?:do|does|did|is|are|was|were|have|has|had|can|could|would|will|should|shall|am|may|might|"
    r"ready|any)(?:n'?t)?\b",
    re.IGNORECASE,
)
_OPEN = re.compile(
    r"\b(?:what|what'?s|how|why|where|when|who|which|whose|tell me|describe|say more)\b", re.I
)
_SENTENCES = re.compile(r"(?<=[.!?])\s+")


def preceding_assistant_turn(context: Sequence[ContextTurn]) -> str | None:
    for turn in reversed(context):
        if turn.sender != "client":
            return turn.text
        break
    return None


# Chat often drops the question mark: "have you tried to talk to him about it" still asks.
_UNMARKED_QUESTION = re.compile(
    r"^\W*(?:(?:so|and|but|ok(?:ay)?|well)\W+)*(?:have|do|did|are|were|would|could|can|will)"
    r"(?:n'?t)? you\b",
    re.IGNORECASE,
)


def last_question(turn: str) -> str | None:
    """The turn's last question, wherever it stands: "Have you tried a counsellor? It often
    helps." asks the first sentence, not the second."""
    sentences = _SENTENCES.split(turn.strip())
    asked = [s for s in sentences if s.rstrip().endswith("?")]
    if not asked:
        asked = [s for s in sentences if _UNMARKED_QUESTION.match(s)]
    return asked[-1] if asked else None


@lru_cache(maxsize=1024)  # one AI turn is read for its reply, each window and each model
def is_closed_question(turn: str | None) -> bool:
    """'Did you sleep?' invites 'yes'; a one-word reply to it is not a withdrawal."""
    question = last_question(turn) if turn else None
    if question is None:
        return False
    head = _FILLERS.sub("", question, count=1)
    if _AUXILIARY.match(head):
        return True
    # Open when a wh-word opens the question or one of its clauses ("You mentioned your mum, how
    # is she?"); "So you feel she was upset when you met her?" asks for yes or no.
    clauses = (_FILLERS.sub("", c, count=1) for c in re.split(r"[,;:]", head))
    return not any(_OPEN.match(c) for c in clauses)


def invites_elaboration(turn: str | None) -> bool:
    """An open question or an explicit invitation to say more."""
    if not turn:
        return False
    if re.search(r"\b(?:tell me (?:more|about)|say more|go on|what else)\b", turn, re.IGNORECASE):
        return True
    return last_question(turn) is not None and not is_closed_question(turn)


# How strongly one marker hit speaks for its family (combined by noisy-OR).
MARKER_WEIGHTS: dict[str, float] = {
    "denial": 0.45,
    "minimal_response": 0.45,
    "abstract_communication": 0.3,
    "avoidant_storytelling": 0.45,
    "deferential_appeasing": 0.45,
    "content_affect_split": 0.5,
    "self_criticism_hopelessness": 0.55,
    "complaints_about_therapist": 0.75,
    "rejecting_intervention": 0.7,
    "complaints_about_activities": 0.7,
    "complaints_about_parameters": 0.55,
    "complaints_about_progress": 0.7,
    "defending_self": 0.6,
    "control_pressure": 0.6,
}


def _noisy_or(weights: Sequence[float]) -> float:
    p = 1.0
    for w in weights:
        p *= 1.0 - w
    return 1.0 - p


class LexiconScorer:
    """Marker phrases plus reply length and latency against the client's own baseline."""

    version = "lexicon-1"
    elevated = 0.5
    exchange_notable = math.inf  # no exchange model: the marker phrases only

    def score_batch(self, inputs: Sequence[ScoringInput]) -> list[MessageScore]:
        return [self.score(i) for i in inputs]

    def score(self, item: ScoringInput) -> MessageScore:
        question = preceding_assistant_turn(item.context)
        hits = explicit_hits(item.text, question)
        closed = is_closed_question(question)
        withdrawal_w: list[float] = []
        confrontation_w: list[float] = []
        for h in hits:
            weight = MARKER_WEIGHTS.get(h.marker, 0.0)
            if h.marker == "minimal_response" and closed:
                weight = 0.05
            if h.family is MarkerFamily.WITHDRAWAL:
                withdrawal_w.append(weight)
            elif h.family is MarkerFamily.CONFRONTATION:
                confrontation_w.append(weight)
        # Behaviour: much shorter and slower than this client's usual replies.
        if item.length_ratio is not None and item.length_ratio < 0.35 and not closed:
            withdrawal_w.append(0.25)
        if item.latency_ratio is not None and item.latency_ratio > 3.0:
            withdrawal_w.append(0.15)
        if item.minimal_streak >= 2 and not closed:
            withdrawal_w.append(0.2)
        categories = tuple(crisis_categories(hits))
        crisis = 0.97 if categories else 0.01
        withdrawal = _noisy_or(withdrawal_w) * (1 - crisis)
        confrontation = _noisy_or(confrontation_w) * (1 - crisis)
        rupture_mass = withdrawal + confrontation
        if rupture_mass + crisis > 1.0:
            scale = (1.0 - crisis) / rupture_mass
            withdrawal, confrontation = withdrawal * scale, confrontation * scale
        none = max(0.0, 1.0 - withdrawal - confrontation - crisis)
        return MessageScore(
            none=round(none, 4),
            withdrawal=round(withdrawal, 4),
            confrontation=round(confrontation, 4),
            crisis=crisis,
            markers=tuple(hits),
            crisis_categories=categories,
            crisis_rule=bool(categories),
            crisis_detected=bool(categories),
        )


__all__ = [
    "CRISIS_MARKERS",
    "ContextTurn",
    "LexiconScorer",
    "MessageScore",
    "Scorer",
    "ScoringInput",
    "is_closed_question",
    "preceding_assistant_turn",
]
