"""Plain questions: a client asking something is not, by that alone, a rupture.

"What job boards do you recommend?", "how are you doing?", "are you still there?", "why are men
like this?": on ordinary support chats (ESConv dev) a third of the router's rupture alerts were
questions like these. The word model learned "you" and "?" from the corpus's confrontations
("are you even reading this?") and reads any question put to the assistant as one. The issue
and the guide say questions to the AI must not look like rupture; what makes a question a
rupture is how it is put, and those forms are read here:

- a rupture marker anywhere in the message (`lexicon`: "you don't understand", "what's the point");
- a challenge: "even", "actually", "seriously", "??", "can you stop", "why do you / does it",
  "did you read", "are you serious", "that's it?", "so what", a sarcastic "oh, brilliant";
- a change of subject: "did I tell you", "have you seen", "btw", "random", "anyway";
- an echo thrown back, a fragment with a question mark ("Fortnightly?", "exciting??");
- a tag question after a statement ("That's none of your business, is it?");
- a message that is mostly statements around a question.

A plain question left after all that is capped below the router's thresholds
(`PLAIN_QUESTION_CAP`), as a window without a risk cue is for crisis: the models alone do not
raise it, and the lexicon's markers, the exchange rule and crisis are read as before.
"""

from __future__ import annotations

import re
from functools import lru_cache

from attune_classifier.lexicon import TEXTS_KEEP, find_markers, normalise
from attune_schemas import MarkerFamily

# Below the accumulated-evidence floor and the fire threshold the budgets choose.
PLAIN_QUESTION_CAP = 0.5

_I = re.IGNORECASE
_RUPTURE = (MarkerFamily.WITHDRAWAL, MarkerFamily.CONFRONTATION)
_SENTENCES = re.compile(r"(?<=[.!?])\s+")
# Chat often drops the question mark: "are you still in school" still asks.
_UNMARKED = re.compile(
    r"^\W*(?:(?:so|and|but|ok(?:ay)?|well|hi|hey|hello)\W+)*(?:have|do|did|are|were|would|could|"
    r"can|will)(?:n'?t)? (?:you|u)\b",
    _I,
)
_TO_YOU = re.compile(r"\b(?:you|u)\b", _I)
_CHALLENGE = re.compile(
    r"\?\?|!\?|\?!|"
    # Intensifiers of a challenge, and changes of subject.
    r"\b(?:even|actually|literally|seriously|serious|joking|kidding|again|already|anyway|random|"
    r"btw|by the way|speaking of|before i forget|meant to ask)\b|"
    r"\b(?:did i (?:tell|mention|say)|have you (?:heard|seen|been to|watched|read|ever been)|"
    r"did you (?:know|see|hear|watch)|you know who|guess what)\b|"
    # Asking the assistant to stop or change; "why" put to the assistant or the service.
    r"\b(?:can|could|will|would) (?:you|we|u) (?:just |please |maybe )?(?:stop|not|keep|turn|"
    r"talk|answer|cut|skip|drop|quit|leave|lay off|tone)\b|\b(?:stop|quit)\b|"
    r"\bwhy (?:do|does|did|are|is|would|must|should|can'?t|won'?t|can|has|have|am|was|were)"
    r"(?:n'?t)? (?:you|it|this|that|the|they|nobody|no one|everyone|everybody|i|we|my|your)\b|"
    # Whether the assistant read, listened or understood; what it is implying.
    r"\b(?:did|do|have|are|were|can) (?:you|u) (?:\w+ )?(?:read|reading|listen\w*|hear\w*|"
    r"remember\w*|understand|get it|see the|notice|realise|realize|serious|a therapist|saying|"
    r"suggesting|telling me|implying)\b|"
    r"\b(?:that'?s it|is that it|so,? what|what'?s wrong with|who decided|"
    r"what (?:am|do|should|can) i (?:even |supposed |meant )?|what (?:else )?(?:do|did) you "
    r"(?:expect|want)|how (?:is|would|does|will) (?:that|this|it) (?:help|work|change))\b|"
    r"\bthough\s*\?|\bdo (?:we|i) (?:have|need) to\b|"
    r"^\W*(?:oh,? )?(?:wow|brilliant|great|fantastic|lovely|amazing|wonderful)\W|"
    # A tag question after a statement: "I turned out alright, didn't I?"
    r",\s*(?:is|isn'?t|did|didn'?t|does|doesn'?t|was|wasn'?t|are|aren'?t|do|don'?t|have|"
    r"haven'?t|can|can'?t|will|won'?t|would|wouldn'?t|should|shouldn'?t) "
    r"(?:it|i|you|he|she|they|we|there|that)\s*\?",
    _I,
)
# How a question opens when it asks rather than echoes.
_ASKING = re.compile(
    r"^\W*(?:(?:so|and|but|or|ok(?:ay)?|well|oh|hmm|hm|hi|hello|hey)\W+)*(?:do|does|did|is|are|"
    r"was|were|have|has|had|can|could|would|will|should|shall|am|may|might|any|what|what'?s|how|"
    r"why|where|when|who|which|whose|tell me)\b",
    _I,
)


@lru_cache(maxsize=TEXTS_KEEP)
def plain_question(text: str) -> bool:
    """Is the message a question, put plainly, with nothing of a rupture in how it is put?"""
    norm = normalise(text).strip()
    # Cheapest test first: most messages ask nothing.
    if "?" not in norm and not _TO_YOU.search(norm):
        return False
    sentences = [s for s in _SENTENCES.split(norm) if s.strip()]
    asked = [s for s in sentences if s.rstrip().endswith("?") or _UNMARKED.match(s)]
    if not asked or 2 * len(asked) < len(sentences):
        return False
    if _CHALLENGE.search(norm):
        return False
    # An echo thrown back: "Fortnightly?", "exciting??", "Six? That's it?"
    if any(len(q.split()) <= 3 and not _ASKING.match(q) for q in asked):
        return False
    return not any(h.family in _RUPTURE for h in find_markers(text))
