"""The lexicon evaluated the plain way: every pattern of every table, one by one.

This is the definition the prefiltered functions in `lexicon` and `screening` must equal, hit for
hit and in the same order; the identity tests and the lexicon benchmark compare against it. It
reads the same tables and the same rules around them (exclusions, negation, wishes, the screening
answers), so only the choice of which patterns to run differs.
"""

from __future__ import annotations

from attune_classifier.attribution import remote_history
from attune_classifier.lexicon import (
    _NEGATION_BEFORE,
    CRISIS_CUES,
    CRISIS_EXCLUSIONS,
    CUE_IDIOMS,
    FAMILIES,
    MarkerHit,
    _dedupe,
    _excluded,
    _is_wish,
    normalise,
)
from attune_classifier.method_questions import method_question_hits
from attune_classifier.preparations import preparation_hits
from attune_classifier.screening import (
    _LATER_YES,
    _NO,
    _QUESTION,
    _RISK_QUESTIONS,
    _SAFETY_QUESTIONS,
    _YES,
    _hit,
)
from attune_schemas import CrisisCategory, MarkerFamily


def find_markers(text: str) -> list[MarkerHit]:
    norm = normalise(text)
    excluded = [m.span() for p in CRISIS_EXCLUSIONS for m in p.finditer(norm)]
    hits: list[MarkerHit] = []
    for family, table in FAMILIES:
        for marker, patterns in table.items():
            for pattern in patterns:
                for m in pattern.finditer(norm):
                    start, end = m.span()
                    if family is MarkerFamily.CRISIS:
                        if _excluded(excluded, start, end):
                            continue
                        if _NEGATION_BEFORE.search(
                            norm[max(0, start - 30) : start]
                        ) and not _is_wish(norm, start):
                            continue
                    hits.append(MarkerHit(marker, family, start, end))
    return _dedupe(hits)


def crisis_cue_spans(text: str) -> list[tuple[str, int, int]]:
    norm = normalise(text)
    idioms = [m.span() for p in CUE_IDIOMS for m in p.finditer(norm)]
    spans = [
        (name, *m.span())
        for name, p in CRISIS_CUES.items()
        for m in p.finditer(norm)
        if not _excluded(idioms, *m.span())
    ]
    return sorted(spans, key=lambda s: (s[1], s[2]))


def crisis_cue_counts(text: str) -> list[int]:
    spans = crisis_cue_spans(text)
    return [sum(name == n for n, _, _ in spans) for name in CRISIS_CUES]


def crisis_exclusion_spans(text: str) -> list[tuple[int, int]]:
    norm = normalise(text)
    return [m.span() for p in CRISIS_EXCLUSIONS for m in p.finditer(norm)]


def crisis_excluded(text: str) -> bool:
    norm = normalise(text)
    return any(p.search(norm) for p in CRISIS_EXCLUSIONS)


def explicit_hits(reply: str, question: str | None) -> list[MarkerHit]:
    hits = find_markers(reply)
    named = {h.marker for h in hits if h.family is MarkerFamily.CRISIS}
    hits += [h for h in method_question_hits(reply) if h.marker not in named]
    named |= {h.marker for h in hits if h.family is MarkerFamily.CRISIS}
    hits += [h for h in preparation_hits(reply) if h.marker not in named]
    named |= {h.marker for h in hits if h.family is MarkerFamily.CRISIS}
    return hits + [h for h in screening_hits(question, reply) if h.marker not in named]


def screening_hits(question: str | None, reply: str) -> list[MarkerHit]:
    text = normalise(reply)
    yes, no = _YES.match(text), _NO.match(text)
    if not (yes or no):
        yes = _LATER_YES.search(text)
    if not (question and (yes or no)):
        return []
    asked = " ".join(m.group(0) for m in _QUESTION.finditer(normalise(question)))
    if not asked or any(p.search(text) for p in CRISIS_EXCLUSIONS) or remote_history(text):
        return []
    hits: list[MarkerHit] = []
    if yes:
        hits += [_hit(c, yes) for c, p in _RISK_QUESTIONS.items() if p.search(asked)]
    if no:
        hits += [_hit(c, no) for c, p in _SAFETY_QUESTIONS.items() if p.search(asked)]
        if any(h.marker == CrisisCategory.ABUSE_DISCLOSURE for h in hits):
            hits = [h for h in hits if h.marker == CrisisCategory.ABUSE_DISCLOSURE]
    return hits
