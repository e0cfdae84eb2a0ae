"""A minimal reply right after a misattuned AI turn: the withdrawal the product exists to catch.

"fine" says little by its words; what makes it a withdrawal is the exchange. The client had been
talking, the AI answered with an unasked-for suggestion or a platitude, and the reply shrank to
almost nothing. The score is the exchange model's probability that this short reply to this AI
turn is a withdrawal (`features.build_exchange_features`, trained on the team corpus's exchanges
and their attuned contrasts), times how much the reply shrank against the client's previous
turns. The router opens a withdrawal alert on it with a threshold of its own, chosen by
`make train` for its own share of the alert budget.

Not a withdrawal however short: thanks, "yes please", greetings and goodbyes, a question to the
AI ("are you still there?"), a brief reply that answers the question ("finance", after "what
industry are you in?"), a yes or no to a closed question, and assent ("yeah", "mm-hmm") to a
turn that did not steer: a reflection or a closed question, whatever topic it names. Those are
the registers that made the words-only model cry wolf.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from attune_classifier.features import is_short, steers
from attune_classifier.lexicon import normalise
from attune_classifier.scoring import (
    ScoringInput,
    is_closed_question,
    preceding_assistant_turn,
)

# What the shrink is measured against: the client's turns before this reply in the context.
PRIOR_TURNS = 3
# Without an earlier client turn the shrink is unknown: half counts, so the AI turn and the
# reply must carry the rest.
UNKNOWN_SHRINK = 0.5

_NOT_WITHDRAWAL = re.compile(
    r"\b(?:thanks?|thank (?:you|u)|thx|ty|cheers|appreciate\w*|helpful|helps|"
    r"you too|u too|bye|goodbye|good ?night|see you|take care|hello|hi|hey|"
    r"have a (?:good|great|nice|lovely)|please)\b",
    re.IGNORECASE,
)


# Assent, a plain no and backchannels: "yeah" or "no" after a reflection or a closed question
# is an answer (the guide, rule 1); after a suggestion, a platitude or a minimising line it can
# close the door.
_ASSENT = re.compile(
    r"^\W*(?:(?:yes|yeah|yep|yup|ya|mm+|m+-?hm+|uh-?huh|ok(?:ay)?|k|right|sure|true|exactly|"
    r"definitely|it is|i do|uh|um|no|nope|nah)\W*)+$",
    re.IGNORECASE,
)


# The forms a withdrawn reply takes (the guide's `minimal_response` and `deferential_appeasing`):
# at least one part of the reply must be one. "Finance." after "what industry are you in?" is a
# brief reply that answers the question fully, not a door closing.
_WITHDRAWN_FORM = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|k+|fine|whatever|idk|i dunno|dunno|i don'?t know|don'?t know|no idea|"
    r"sure|meh|eh|i guess|guess so|i suppose|maybe|probably|nothing|not really|really|nah|"
    r"mhm+|mm+|hm+|cool|same|right|yeah|yea|yep|yes|no|nope|if you (?:say so|want|like|think so)|"
    r"you'?re (?:probably )?right|sorry|whatever you think|i'?ll (?:try|do) (?:it|that)|"
    r"sounds (?:good|fine)|forget it|never ?mind|nvm|it'?s fine|(?:it )?doesn'?t matter)\W*)+$",
    re.IGNORECASE,
)
_PARTS = re.compile(r"[.,;!]+")
_YES_NO = re.compile(r"^\W*(?:yes|yeah|yea|yep|yup|no|nope|nah)\W*$", re.IGNORECASE)


def withdrawn_form(text: str) -> bool:
    return any(_WITHDRAWN_FORM.match(part) for part in _PARTS.split(text) if part.strip())


def eligible(item: ScoringInput) -> bool:
    """A short reply to an AI turn in a withdrawn form: not thanks, a greeting, a question to
    the AI, a content answer, a yes or no to a closed question, nor assent to a turn that
    steered nowhere."""
    text = normalise(item.text).strip()
    before = preceding_assistant_turn(item.context)
    return (
        bool(text)
        and before is not None
        and is_short(text)
        and not text.endswith("?")
        and not _NOT_WITHDRAWAL.search(text)
        and withdrawn_form(text)
        and not (_YES_NO.match(text) and is_closed_question(before))
        and (not _ASSENT.match(text) or steers(before))
    )


def shrink(item: ScoringInput) -> float:
    """1 - the reply's length against the client's recent turns before it (0 when not shorter)."""
    prior = [len(t.text.split()) for t in item.context if t.sender == "client"][-PRIOR_TURNS:]
    if not prior:
        return UNKNOWN_SHRINK
    usual = sum(prior) / len(prior)
    return max(0.0, min(1.0, 1.0 - len(item.text.split()) / usual)) if usual else 0.0


def scores(model: Any, items: Sequence[ScoringInput]) -> np.ndarray[Any, Any]:
    """Per input, the exchange score: P(withdrawal | reply, AI turn) x shrink, or 0."""
    out = np.zeros(len(items))
    chosen = [k for k, item in enumerate(items) if eligible(item)]
    if chosen:
        p = model.predict_proba([items[k] for k in chosen])[:, 1]
        out[chosen] = p * np.array([shrink(items[k]) for k in chosen])
    return out
