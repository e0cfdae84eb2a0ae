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

from attune_classifier.features import steers
from attune_classifier.lexicon import normalise
from attune_classifier.scoring import (
    ScoringInput,
    is_closed_question,
    last_question,
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
    r"have a (?:good|great|nice|lovely)|please|"
    # Enthusiasm is not a door closing: "yeah, absolutely", "of course", "good idea".
    r"absolutely|of course|for sure|(?:good|great) idea|i'?d love|would love|love to|can'?t wait|"
    r"sounds (?:great|perfect|brilliant|lovely|amazing))\b",
    re.IGNORECASE,
)


# Assent, a plain no and backchannels: "yeah" or "no" after a reflection or a closed question
# is an answer (the guide, rule 1); after a suggestion, a platitude or a minimising line it can
# close the door.
_ASSENT = re.compile(
    r"^\W*(?:(?:yes|yeah|yep|yup|ya|mm+|m+-?hm+|uh-?huh|ok(?:ay)?|k|right|sure|true|exactly|"
    r"definitely|it is|i do|uh|um|no|nope|nah|same|me too|fair enough|agreed|not really|"
    r"sounds (?:good|fine|ok(?:ay)?)|alright|all right|i see|got it)\W*)+$",
    re.IGNORECASE,
)


# Yielding (the guide's `deferential_appeasing`): the client drops their own side and takes the
# blame or the AI's word for it ("i overreacted", "won't happen again", "you know best"). Like
# assent, it closes the door only after a turn that steered: after a reflection it can be insight.
_YIELDING = re.compile(
    r"^\W*(?:(?:yes|yeah|yep|ok(?:ay)?|no|i know|you'?re always right|"
    r"i (?:probably |just |prob )?over ?reacted|"
    r"i(?: was| am|'?m) (?:probably |just |prob )?(?:being )?"
    r"(?:silly|stupid|dramatic|daft|overreacting|overthinking(?: it)?)|my bad|my fault|"
    r"(?:it )?won'?t happen again|you know best|ignore me|i shouldn'?t have (?:said anything|"
    r"mentioned it|brought it up))\W*)+$",
    re.IGNORECASE,
)


# Indifference to the AI's options: "any of them" after a five-step plan. Like assent, it closes
# the door only after a turn that steered: between formats the client asked for it is a choice.
_INDIFFERENT = re.compile(
    r"^\W*(?:(?:whichever|any of (?:them|those|it)|either (?:one|way)|up to you|"
    r"you (?:decide|choose|pick))\W*)+$",
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
    r"sounds (?:good|fine)|forget it|never ?mind|nvm|it'?s fine|(?:it )?doesn'?t matter|"
    r"(?:just )?(?:stuff|things)|not much|nothing much|wherever|whenever|all good)\W*)+$",
    re.IGNORECASE,
)
_PARTS = re.compile(r"[.,;!]+")
# How a closed question is answered: its first part, whatever follows ("yes, feeling very stuck").
_CLOSED_ANSWER = re.compile(
    r"^\W*(?:yes|yeah|yea|yep|yup|no|nope|nah|nothing|not really|maybe|sometimes|a bit|"
    r"kind of|sort of|i (?:have|did|do|am|was)|i (?:haven|didn|don)'?t)\W*$",
    re.IGNORECASE,
)


# Longer than this, a reply says something of its own, however it is put.
FORMULAIC_WORDS = 8


# A closed question that presses a future act ("Would you be willing to try it this week?",
# "Can you talk to them tomorrow?") is a suggestion in question form: "yeah" to it can close the
# door. One that asks about the past or the present ("Have you told your sister?") or offers a
# choice ("Would you like to keep the same plan?", "Do you want me to pin it?") is answered by a
# yes or a no.
_PROPOSING_QUESTION = re.compile(
    r"^\W*(?:(?:so|and|but|ok(?:ay)?|well|then)\W+)*(?:would you (?!like|prefer|rather)|"
    r"could you|can you|will you|shall we|how about|why don'?t you|do you think you could)",
    re.IGNORECASE,
)


def proposes(turn: str) -> bool:
    question = last_question(turn)
    return question is not None and bool(_PROPOSING_QUESTION.match(question))


def answers(text: str) -> bool:
    """Does the reply answer a closed question: it opens with an answer, and what follows adds
    content or more answer ("yes, very stuck", "No. Just me.") rather than closing the door
    ("no. forget it", "no. doesn't matter")?"""
    parts = _parts(text)
    return (
        bool(parts)
        and bool(_CLOSED_ANSWER.match(parts[0]))
        and not any(
            _WITHDRAWN_FORM.match(p) and not _CLOSED_ANSWER.match(p) and not _ASSENT.match(p)
            for p in parts[1:]
        )
    )


# Hesitations and transcript marks that open a part: "Oh, okay.", "[pause] No." The bracket is
# not punctuation to skip: taken as such it left "pause] No", which no form matches. Words the
# transcriber could not make out ("[unintelligible 00:01:13]") are words: not a stock form.
_FILLER = re.compile(
    r"^[^\w\[]*(?:(?:oh|uh|um+|erm|er|hmm+|well|\[(?!inaudible|unintelligible|crosstalk)[^\]]*\])"
    r"(?:[^\w\[]+|$))*",
    re.IGNORECASE,
)
# What shuts the door after words of the reply's own: "Just me. It doesn't matter."
_DOOR_CLOSER = re.compile(
    r"^\W*(?:whatever|forget it|never ?mind|nvm|(?:it )?doesn'?t matter|it'?s fine|fine|"
    r"i don'?t know|don'?t know|idk|dunno|no idea|if you (?:say so|want|like|think so)|"
    r"whatever you think|not really|nothing|it'?s nothing)\W*$",
    re.IGNORECASE,
)


def _giving_way(part: str) -> bool:
    return bool(_YIELDING.match(part) or _INDIFFERENT.match(part))


def assents(text: str) -> bool:
    """Assent, a plain no, a backchannel or yielding, fillers aside ("Oh, no. No.", "Uh, yeah.",
    "yeah. i know. won't happen again")."""
    parts = _parts(text)
    return bool(parts) and all(_ASSENT.match(p) or _giving_way(p) for p in parts)


def _parts(text: str) -> list[str]:
    stripped = (_FILLER.sub("", part, count=1) for part in _PARTS.split(text))
    return [part for part in stripped if part.strip()]


def withdrawn_form(text: str) -> bool:
    """Every part of the reply a stock form ("ok sure sounds good i guess"), or words of its own
    closed by one that shuts the door ("nope. forget it"); "Sure. I can quit." is content."""
    parts = _parts(text)
    return bool(parts) and (
        all(_WITHDRAWN_FORM.match(p) or _giving_way(p) for p in parts)
        or bool(_DOOR_CLOSER.match(parts[-1]))
    )


# What the AI turn offers rather than presses: asking permission, or a choice put to the client
# ("Would that be okay with you?", "Would you be interested in knowing?"). Assent to it answers,
# unless the turn also steered: a helpline and a journaling tip, then "want me to share a number?"
_OFFER = re.compile(
    r"\b(?:(?:is that|would that be|is it|would it be|if (?:that'?s|it'?s)) (?:ok(?:ay)?|alright|"
    r"all right)|(?:can|could|may|might) i (?:ask|share|offer|run|give|suggest|tell|check)|"
    r"if i (?:could|can|may|might) (?:just )?(?:ask|share|offer|run|give|check)|"
    r"would you (?:be )?(?:interested|open|like|prefer|rather)|do you want (?:me|to)|want me to|"
    r"if you(?:'re| are)? (?:interested|open)|how would you feel about)\b",
    re.IGNORECASE,
)


def offers(turn: str) -> bool:
    return bool(_OFFER.search(turn))


# A turn broken off mid-sentence, as transcribed speech marks it ("...you need some kind of-",
# "[inaudible 00:05:55]"): "uh-huh" to it is a backchannel while the other is still speaking,
# not a reply to what they said.
_BROKEN_OFF = re.compile(
    r"(?:[\w,\s][-\u2013\u2014]{1,2}[\"'\u201d]?|\[(?:inaudible|crosstalk|unintelligible)[^\]]*\])\s*$",
    re.IGNORECASE,
)


def _candidate(item: ScoringInput) -> tuple[str, str] | None:
    """The reply's text and the AI turn it answers, when the reply is a candidate."""
    text = normalise(item.text).strip()
    before = preceding_assistant_turn(item.context)
    if (
        text
        and before is not None
        and not _BROKEN_OFF.search(before)
        and any(t.sender == "client" for t in item.context)  # an exchange to misattune
        and len(text.split()) <= FORMULAIC_WORDS
        and not text.endswith("?")
        and not _NOT_WITHDRAWAL.search(text)
    ):
        return text, before
    return None


def candidate(item: ScoringInput) -> bool:
    """A reply of a few words to an AI turn, after the client had said something the turn could
    miss, that is not thanks, enthusiasm, a greeting or a question to the AI: what the exchange
    model learns from, withdrawn or not."""
    return _candidate(item) is not None


# A wrong reflection the client corrects in one word: "she. yeah fine" after "How does he feel
# about the move?". The AI got a person wrong; what follows the correction is read as after
# any misattuned turn.
_PRONOUNS = {
    "he": "m", "him": "m", "his": "m",
    "she": "f", "her": "f", "hers": "f",
    "they": "p", "them": "p", "their": "p",
}  # fmt: skip
_PRONOUN_WORD = re.compile(r"\b(?:he|him|his|she|her|hers|they|them|their)\b", re.IGNORECASE)


def corrected(text: str, before: str) -> str | None:
    """The reply after a one-word pronoun correction of the AI turn, or None if it is not one."""
    parts = _parts(text)
    said = _PRONOUNS.get(parts[0].strip(" *'\"").lower()) if parts else None
    if said is None or len(parts) < 2:
        return None
    used = {_PRONOUNS[w.lower()] for w in _PRONOUN_WORD.findall(before)}
    return ". ".join(parts[1:]) if used and said not in used else None


def eligible(item: ScoringInput) -> bool:
    """A candidate reply in a withdrawn form that the AI turn could have closed: not a content
    answer, an answer to a closed question, assent to asked permission or an offered choice,
    nor assent to a turn that steered nowhere. Only these are scored."""
    reply = _candidate(item)
    if reply is None:
        return False
    text, before = reply
    rest = corrected(text, before)
    if rest is not None:
        return withdrawn_form(rest)
    if not withdrawn_form(text):
        return False
    agrees, answered, steered = assents(text), answers(text), steers(before)
    return (
        not (answered and is_closed_question(before) and not proposes(before))
        and not ((agrees or answered) and offers(before) and not steered)
        and (not agrees or steered or proposes(before))
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
