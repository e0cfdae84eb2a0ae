"""Answers to risk-screening questions, read together with the question.

"yeah, a bit" after "Are you having thoughts of ending your life?" is an explicit disclosure,
though no word of the reply names the risk. A yes, or a no to "are you safe right now?", is the
most common way people disclose when asked, and the corpus holds too few of them for the model to
learn it, so it is a rule like the other explicit crisis language, never left to a threshold.

Only a question that names a risk counts, and the category comes from the question. A denial, a
stated current safety, or a remote, resolved history in the reply does not count.
"""

from __future__ import annotations

import re

from attune_classifier.attribution import own_risk, remote_history
from attune_classifier.lexicon import MarkerHit, crisis_excluded, find_markers, normalise
from attune_classifier.method_questions import method_question_hits
from attune_classifier.prefilter import Prefilter
from attune_classifier.preparations import preparation_hits
from attune_schemas import CrisisCategory, MarkerFamily

_I = re.IGNORECASE

# Risks named in a question; a yes discloses the risk.
_RISK_QUESTIONS: dict[CrisisCategory, re.Pattern[str]] = {
    CrisisCategory.SUICIDAL_IDEATION: re.compile(
        r"\b(?:suicid\w*|kill(?:ing)? yourself|end(?:ing)? (?:your (?:own )?life|it all)|"
        r"tak(?:e|ing) your (?:own )?life|"
        r"(?:thoughts?|thinking) (?:of|about) (?:dying|death|not being (?:here|alive|around)|"
        r"not waking up|not wanting to (?:live|be (?:here|alive)))|"
        r"wish(?:ed|ing)? (?:you (?:were|was) dead|you (?:could )?(?:not|never) wake up)|"
        r"(?:want|wanted|wanting) to die|better off dead|"
        r"(?:don'?t|do not|not) (?:want|wanting) to (?:live|be (?:here|alive)|wake up))\b",
        _I,
    ),
    CrisisCategory.SELF_HARM: re.compile(
        r"\b(?:(?:hurt|harm|cut|burn|injur[ei])(?:ing)? yourself|self[- ]?harm\w*|"
        r"hurt(?:ing)? yourself on purpose)\b",
        _I,
    ),
    CrisisCategory.HARM_TO_OTHERS: re.compile(
        r"\b(?:hurt|harm|kill|attack)(?:ing)? (?:anyone|anybody|someone|somebody|others|"
        r"other people)\b|"
        r"\b(?:thoughts?|urges?|plans?) (?:of|about|to) (?:hurt|harm|kill|attack)(?:ing)? "
        r"(?:him|her|them|your \w+)\b",
        _I,
    ),
    CrisisCategory.ABUSE_DISCLOSURE: re.compile(
        r"\b(?:(?:has|have|does|did|is|are) (?:he|she|they|anyone|someone|somebody|your \w+) "
        r"(?:ever |been )?(?:hurt|hit|hurting|hitting|threaten\w*|forc\w*|touch\w*|push\w*) you|"
        r"(?:afraid|scared|frightened) of (?:him|her|them|your \w+))\b",
        _I,
    ),
}
# Safety checks; here a no discloses the risk. At home or with a person it is about abuse.
_SAFETY_QUESTIONS: dict[CrisisCategory, re.Pattern[str]] = {
    CrisisCategory.ABUSE_DISCLOSURE: re.compile(
        r"\b(?:safe (?:at home|to go (?:back )?home|with (?:him|her|them|your \w+))|"
        r"(?:feel|are you) safe (?:around|living with) (?:him|her|them|your \w+))\b",
        _I,
    ),
    CrisisCategory.SUICIDAL_IDEATION: re.compile(
        r"\b(?:are you|do you feel|will you be|can you (?:keep|stay)(?: yourself)?) safe"
        r"(?: (?:right now|now|tonight|today|at the moment|for now|from yourself))?\s*\?",
        _I,
    ),
}

_YES = re.compile(
    r"^\W*(?P<answer>yes|yeah|yea|yep|yup|ya|yah|aye|i do|i have|i did|i'?ve had|i'?ve been|"
    r"i think so|i guess|maybe|probably|sometimes|often|lately|recently|a (?:bit|little)|"
    r"a few times|once or twice|a couple of times|kind of|kinda|sort of|sorta|mm+|uh[- ]?huh|"
    r"every (?:day|night)|all the time|most (?:days|nights)|at night|honestly,? yes|"
    # A count answers "have you ever...?": "twice", "three times", "more than once".
    r"once|twice|(?:two|three|four|five|six|several|many|multiple|loads of|lots of|\d+) times|"
    r"more than (?:once|twice)|"
    r"if i'?m honest|tbh,? yes?|more than i'?d like)\b"
    # "I have never", "I do not": an opening that turns into a denial is not a yes.
    r"(?!\W*(?:n'?t|not|never|no)\b)",
    _I,
)
_NO = re.compile(
    r"^\W*(?P<answer>no|nope|nah|not sure|(?:i'?m |i am )?not (?:safe|sure|really|very|always)|"
    r"not (?:right now|tonight|today|at the moment)|idk|"
    r"i (?:don'?t|do not) (?:know|think so|feel safe))\b"
    # "no, I'm fine": a no that goes on to say the person is safe is an answer, not a risk; so is
    # "no, safe." to "Are you safe? Are you thinking of harming yourself?" ("no, not safe" is not).
    r"(?![^.!?]{0,40}\b(?:i'?m|i am|i feel|totally|completely|perfectly) "
    r"(?:fine|ok|okay|safe|good|alright|all right)\b|\W+safe\b)",
    _I,
)
# A bare yes after something else: "why does everyone ask like it's a tick box. yes. happy now?"
_LATER_YES = re.compile(r"(?:^|[.!?\n]\s*)(?P<answer>yes|yeah|yep|yup|aye)\s*(?:[.!?\n]|$)", _I)
_QUESTION = re.compile(r"[^.!?\n]*\?")

# Run only the question patterns whose words occur in the question (see prefilter.py).
_RISK_FILTER = Prefilter(tuple(_RISK_QUESTIONS.values()))
_SAFETY_FILTER = Prefilter(tuple(_SAFETY_QUESTIONS.values()))


def explicit_hits(reply: str, question: str | None) -> list[MarkerHit]:
    """Every rule hit for a client message: its own words, and its answer to a risk question.

    Crisis phrases count only as the speaker's own current risk (`attribution`): a topic, a
    friend's words or support for someone else is left to the learned model. A method question
    (`method_questions`) is the asker's own research, however impersonally it is put; affairs put
    in order with no reason given (`preparations`) are the speaker's preparation.
    """
    hits = own_risk(reply, find_markers(reply))
    named = {h.marker for h in hits if h.family is MarkerFamily.CRISIS}
    hits += [h for h in method_question_hits(reply) if h.marker not in named]
    named |= {h.marker for h in hits if h.family is MarkerFamily.CRISIS}
    hits += [h for h in preparation_hits(reply) if h.marker not in named]
    named |= {h.marker for h in hits if h.family is MarkerFamily.CRISIS}
    return hits + [h for h in screening_hits(question, reply) if h.marker not in named]


def screening_hits(question: str | None, reply: str) -> list[MarkerHit]:
    """Crisis hits for a reply that discloses a risk the preceding question asked about."""
    # Cheapest test first: on the hot path most replies open with neither a yes nor a no.
    text = normalise(reply)
    yes, no = _YES.match(text), _NO.match(text)
    if question and not (yes or no):
        yes = _LATER_YES.search(text)
    if not (question and (yes or no)):
        return []
    asked = " ".join(m.group(0) for m in _QUESTION.finditer(normalise(question)))
    if not asked or crisis_excluded(text) or remote_history(text):
        return []
    hits: list[MarkerHit] = []
    if yes:
        hits += [_hit(c, yes) for c in _asked_about(_RISK_FILTER, list(_RISK_QUESTIONS), asked)]
    if no:
        hits += [_hit(c, no) for c in _asked_about(_SAFETY_FILTER, list(_SAFETY_QUESTIONS), asked)]
        if any(h.marker == CrisisCategory.ABUSE_DISCLOSURE for h in hits):
            # "Are you safe at home?" is about abuse, not a general safety check.
            hits = [h for h in hits if h.marker == CrisisCategory.ABUSE_DISCLOSURE]
    return hits


def _asked_about(
    questions: Prefilter, categories: list[CrisisCategory], asked: str
) -> list[CrisisCategory]:
    """The categories, in table order, whose question pattern matches what was asked."""
    return [categories[k] for k in questions.select(asked) if questions.patterns[k].search(asked)]


def _hit(category: CrisisCategory, reply: re.Match[str]) -> MarkerHit:
    start, end = reply.span("answer")
    return MarkerHit(category.value, MarkerFamily.CRISIS, start, end)
