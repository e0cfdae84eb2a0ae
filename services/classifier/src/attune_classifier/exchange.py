"""A minimal reply right after a misattuned AI turn: the withdrawal the product exists to catch.

"fine" says little by its words; what makes it a withdrawal is the exchange. The client had been
talking, the AI answered with an unasked-for suggestion or a platitude, and the reply shrank to
almost nothing. The score is the exchange model's probability that this short reply to this AI
turn is a withdrawal (`features.build_exchange_features`, trained on the team corpus's exchanges
and their attuned contrasts), times how much the reply shrank against the client's previous
turns. The router opens a withdrawal alert on it with a threshold of its own, chosen by
`make train` for its own share of the alert budget.

Not a withdrawal however short: thanks, greetings and goodbyes, a question to the AI ("are you
still there?"), and assent ("yeah", "mm-hmm") to a turn that did not steer: a reflection or a
closed question. Those are the registers that made the words-only model cry wolf.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from attune_classifier.features import is_short, steers
from attune_classifier.lexicon import normalise
from attune_classifier.scoring import ScoringInput, preceding_assistant_turn

# What the shrink is measured against: the client's turns before this reply in the context.
PRIOR_TURNS = 3
# Without an earlier client turn the shrink is unknown: half counts, so the AI turn and the
# reply must carry the rest.
UNKNOWN_SHRINK = 0.5

_NOT_WITHDRAWAL = re.compile(
    r"\b(?:thanks?|thank (?:you|u)|thx|ty|cheers|appreciate\w*|helpful|helps|"
    r"you too|u too|bye|goodbye|good ?night|see you|take care|hello|hi|hey|"
    r"have a (?:good|great|nice|lovely))\b",
    re.IGNORECASE,
)


# Assent and backchannels: "yeah" after a reflection or a closed question is an answer (the
# guide, rule 1); after a suggestion, a platitude or a minimising line it can close the door.
_ASSENT = re.compile(
    r"^\W*(?:(?:yes|yeah|yep|yup|ya|mm+|m+-?hm+|uh-?huh|ok(?:ay)?|k|right|sure|true|exactly|"
    r"definitely|it is|i do|please)\W*)+$",
    re.IGNORECASE,
)


def eligible(item: ScoringInput) -> bool:
    """A short reply to an AI turn: not thanks, a greeting, a question to the AI, nor assent to a
    turn that steered nowhere."""
    text = normalise(item.text).strip()
    before = preceding_assistant_turn(item.context)
    return (
        bool(text)
        and before is not None
        and is_short(text)
        and not text.endswith("?")
        and not _NOT_WITHDRAWAL.search(text)
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
