"""Method questions: asking how lethal, quick or painful a means would be.

"which is less painful, falling or drowning?", "if a man drank that, would it be quick?", "how
long would it take someone to pass out in a shut garage with the car left on": the guide counts a
question about lethality, height, dose, drowning or how long something takes as method research
(`suicidal_ideation`), even put impersonally or called curiosity. Such questions rarely use the
words the crisis phrases look for, and the corpus holds too few for the models to learn them, so
they are a rule like the other explicit crisis language, never left to a threshold.

A question counts when it asks (a question mark, or a question's opening) and names both a means
(drowning, a height, pills, a shut garage) and an outcome (fatal, pass out, painless, quick, would
it hurt) in itself or the sentence either side. A question about someone's past death ("did he
feel anything?"), someone else's question, a denial or stated safety does not.
"""

from __future__ import annotations

import re

from attune_classifier.lexicon import MarkerHit, excluded, normalise
from attune_classifier.prefilter import Prefilter
from attune_schemas import CrisisCategory, MarkerFamily

_I = re.IGNORECASE

_MEANS = re.compile(
    r"\b(?:drown\w*(?! (?:in|my|your|our|his|her|their) "
    r"(?:work|paper\w*|debt|emails?|admin|bills|sorrows?|tears|it all))|"
    r"in front of (?:a|the) (?:train|bus|lorry|truck|car)|(?:the )?tracks|"
    r"jump(?:s|ed|ing)? (?:off|from|out of)|fall(?:s|ing)? from|a fall from|"
    r"(?:\d+(?:st|nd|rd|th)|top) floor|scaffold\w*|multi-?storey|car park roof|"
    r"from (?:that|this|a) height|hang(?:s|ed|ing)?(?! (?:out|on|up|in|around|about|over))|"
    r"rope|belt|ligature|noose|cord|"
    r"overdos\w*|pills|tablets|painkillers?|paracetamol|ibuprofen|aspirin|oxycodone|"
    r"co-?codamol|codeine|diazepam|sleeping pills|antidepressants|insulin|"
    r"gas|(?:shut |closed |the )?garage|exhaust|(?:car|engine) (?:left )?(?:on|running)|"
    r"carbon monoxide|reservoir|river|canal|the sea|lake|weir|cold water|bridge|cliff|ledge|"
    r"bleach|anti-?freeze|sheep dip|poison|weedkiller|"
    r"drank (?:that|this|it|the lot)|swallow(?:s|ed|ing)? (?:that|this|it|the lot|them|a)|"
    r"(?:cut|slit)(?:ting)? (?:your |my |their |a )?(?:wrists?|throat)|bleed(?:s|ing)? out|"
    r"gun|shot)\b",
    _I,
)
# What the question asks about the means: death, losing consciousness, pain, speed.
_OUTCOME = re.compile(
    r"\b(?:fatal|lethal|die|dies|dying(?! to)|dead(?! (?:inside|tired|on|set|end|line))|death|"
    r"(?:do people|would (?:you|someone|i)|could (?:you|someone|i)) survive|"
    r"survive (?:it|that|the fall|a fall|the drop)|pass(?:es)? out|drift(?:s)? off|"
    r"black(?:s)? out|lose consciousness|knock (?:you|someone|them) out|painless\w*|"
    r"(?:less|more|least|most) painful|peaceful\w*|hurts? (?:to|less|more|the least)|does it hurt|"
    r"would it hurt|"
    r"would (?:it|that|he|she|they) be quick\s*\?|quick and painless|"
    r"(?:so|then) (?:it'?s|its|it is) quick|messy|shuts? down|"
    r"stop(?:s)? (?:breathing|your heart|the heart)|enough to kill|"
    r"kill (?:you|someone|somebody|a person|a man|a woman)|slow and horrible|know about it)\b",
    _I,
)
# Asking: a question mark, a question's opening, or an auxiliary put before its subject.
_ASKS = re.compile(
    r"\?|^\W*(?:do you know|does anyone know|is it true|can i ask|how|what|which|does|do|"
    r"would|will|is|can|could|should)\b|"
    r"\b(?:would|will|does|do|is|could) (?:it|they|he|she|you|someone|somebody|a person|that)"
    r"\b(?: just| really| actually)? \w+|"
    r"\b(?:genuinely asking|genuine question|asking for a friend|need to know|want to know|"
    r"hypothetically)\b",
    _I,
)
# Not the asker's own research: a death that happened ("did he feel anything?"), reported or
# quoted questions ("my son asked me if drowning hurts").
_NOT_OWN = re.compile(
    r"\b(?:did|was|were) (?:he|she|they|my \w+|his \w+|her \w+)\b|"
    r"\b(?:he|she|they|my \w+) (?:asked|wanted to know|was wondering)\b|[\"“”]",
    _I,
)
_SENTENCES = re.compile(r"[^.!?\n]+[.!?\n]*")
# One Aho-Corasick pass over the text finds whether any means' words occur (see prefilter.py):
# the long alternation above, tried at every position, cost more than the rest of the rule.
_MEANS_FILTER = Prefilter((_MEANS,))


def method_question_hits(text: str) -> list[MarkerHit]:
    """A `suicidal_ideation` hit for each sentence that asks about a means and its outcome."""
    norm = normalise(text)
    # Cheapest test first: most messages name no means at all.
    # `excluded` is the cached check the crisis cue gate has often made for this text already.
    if not _MEANS_FILTER.select(norm) or not _MEANS.search(norm) or excluded(text):
        return []
    sentences = [m.span() for m in _SENTENCES.finditer(norm)]
    hits = []
    for k, (start, end) in enumerate(sentences):
        sentence = norm[start:end]
        if not _ASKS.search(sentence) or _NOT_OWN.search(sentence):
            continue
        # The question and the sentences either side that are not someone else's.
        around = " ".join(
            norm[a:b]
            for a, b in sentences[max(0, k - 1) : k + 2]
            if (a, b) == (start, end) or not _NOT_OWN.search(norm[a:b])
        )
        if _MEANS.search(around) and _OUTCOME.search(around):
            hits.append(
                MarkerHit(CrisisCategory.SUICIDAL_IDEATION.value, MarkerFamily.CRISIS, start, end)
            )
    return hits
