"""Preparations: putting things in order for after one's death, with no risk word at all.

"gave my switch to my little cousin and my hoodies to jess", "took Smudge to the rehoming place
on Tuesday ... there's nothing really left to see to now", "asked my sister to be their guardian.
she said why now and i said just in case": the guide (section 7.6, item 3) counts giving away
valued things, rehoming pets, arranging guardians, handing over passwords, cancelling contracts
and goodbyes as preparatory acts (`suicidal_ideation`), and tells the reader to watch for "just in
case", "long term" and "won't need it" said with no reason given. Each act alone is ordinary
life (people give hoodies away and cancel the gym), so the models see them only as cues; the
rule reads the pattern a clinician reads:

- two different kinds of preparation in one message, or
- one, with a finality that gives no reason ("just in case", "won't need any of it", "nothing
  left to see to", "I'm ready now"),

made by the speaker (not "mum gave my hoodies away"), and with no ordinary reason in the message
(moving house, a clear-out, a holiday, an operation, a new job). A denial or stated safety
(`lexicon.excluded`) also stops it.
"""

from __future__ import annotations

import re

from attune_classifier.lexicon import RETURN_DATE, MarkerHit, excluded, normalise
from attune_classifier.prefilter import Prefilter
from attune_schemas import CrisisCategory, MarkerFamily

_I = re.IGNORECASE

# What is handed over or given away: personal things, not a lift, a hand or one's notice.
_THING = (
    r"(?!(?:a |the )?(?:lift|hand|notice|word|number|time|love|best|opinion|details|address|"
    r"blessing|support|attention|seat|permission|consent|answer|advice|call|ring|hug|kiss|"
    r"break|chance|go|look|shout|heads up|update|\w+ (?:a )?lift)\b)"
)
# Kinds of preparatory act, each with the words that do it.
_ACTS: dict[str, re.Pattern[str]] = {
    "giving_away": re.compile(
        r"\b(?:giv(?:e|en|ing)|gave|hand(?:ed|ing)? (?:over|down)|left|leaving|leave)"
        r" (?:away )?(?:(?:all )?my|(?:all )?of my|(?:my )?(?:mum|mom|mother|dad|nan|gran)'?s)"
        rf" {_THING}(?:\w+ ){{0,2}}?\w+ to\b|"
        r"\b(?:gave|given|giving|handed) (?:my |the |our |his |her )?"
        # The one given to: "my sister", "the neighbour", "my little cousin".
        r"(?:little |big |older |younger |best |old )?(?:\w+ )??\w+ (?:all )?my " + _THING + r"\w+|"
        r"\b(?:giv(?:e|en|ing)|gave) (?:all )?(?:my (?:\w+ )?)?(?:things|stuff|clothes|belongings|"
        r"books|games|records|jewellery|jewelry) away\b|"
        r"\b(?:given|giving|gave) (?:it all|everything|all of it) away\b|\bleft everything to\b",
        _I,
    ),
    "passwords": re.compile(
        r"\b(?:gave|given|giving|told|sent|texted|wrote down|written down|writing down|left|"
        r"handed over)\b[^.!?]{0,30}\b(?:my |all my )?(?:phone |bank |email |laptop |account )?"
        r"(?:passwords?|pin(?: number)?|passcode|log-?ins?)\b",
        _I,
    ),
    "pets": re.compile(
        r"\brehom\w*|\b(?:took|taken|take|dropped) (?:\w+ ){1,2}to the (?:rescue|shelter|"
        r"rehoming \w+)|\b(?:found|finding|find) (?:a )?(?:new )?home for (?:my|the|our) "
        r"(?:dog|cat|rabbit|bird|budgie|hamster|guinea pig|tortoise|pets?|\w+)\b|"
        r"\b(?:written|wrote|write|writing|left) (?:out )?(?:his|her|their|the|(?:the|my) \w+'s) "
        r"(?:feeding|care|walking) (?:times|instructions|routine)",
        _I,
    ),
    "dependants": re.compile(
        r"\b(?:asked|arranged (?:for )?|named|made|want(?:ed)?) (?:\w+ ){1,3}(?:to be|as) "
        r"(?:their|his|her|the kids'?|the children'?s|my (?:kids'?|children'?s|son'?s|"
        r"daughter'?s)) (?:legal )?guardian\b|\bguardianship\b",
        _I,
    ),
    "cancelling": re.compile(
        r"\bcancel(?:l?ed|l?ing|s)? (?:the |my |all (?:the |my )?|everything[,:]? )?(?:\w+ ){0,2}?"
        r"(?:broadband|gym|phone contract|contracts?|subscriptions?|direct debits?|standing "
        r"orders?|membership|netflix|spotify|lease|tenancy|milk|papers|deliveries)\b|"
        r"\bclosed (?:all )?my (?:bank |savings |social media |email )?accounts?\b",
        _I,
    ),
    "affairs": re.compile(
        r"\b(?:made|making|updated|updating|wrote|written|writing|done|did|sorted|changed) "
        r"(?:out )?(?:my|a) will\b|\bbeen to (?:see )?(?:the|a|my) solicitor\b|"
        r"\bpower of attorney\b|"
        r"\b(?:sorted|sort|put|putting|getting|got) (?:all )?(?:my )?affairs (?:in order|sorted)|"
        r"\b(?:tied|tying|tie) up (?:all )?(?:the |my )?loose ends\b",
        _I,
    ),
    "goodbyes": re.compile(
        r"\b(?:written|wrote|writing) (?:a letter |letters |a card |cards )?to (?:my|each of my|"
        r"all my) (?:son|daughter|kids|children|family|parents|mum|mom|dad|wife|husband|partner|"
        r"sister|brother|friends)\b|\b(?:seeing|visiting|saw|visited|hugged|hugging) "
        r"(?:\w+ ){0,4}?(?:one (?:more|last) time|for the last time|properly)\b|"
        r"\bgoodbye (?:tour|visits?|round)\b",
        _I,
    ),
}
# Finality with no reason given: the guide's "just in case", "long term", "won't need it".
_FINALITY = re.compile(
    r"\bjust in case\b(?! (?:of|it|the|we|you|he|she|they|i (?:need|forget|lose|get|have|want)))|"
    r"\blong[- ]term\b|\b(?:won'?t|wont|will not) (?:need|be needing) (?:it|them|any (?:of )?(?:it|"
    r"them)?|anything|any more|anymore)\b|\bnothing (?:really |much )?left (?:to|for me to) "
    r"(?:do|see to|sort|say|arrange)\b|\b(?:i'?m|im|i am) ready(?: now| to go)?\s*(?:[.!]|$)|"
    r"\b(?:everything|it all|it'?s all)(?:'s| is)? (?:sorted|in place|done|in order) now\b|"
    r"\bthe forms are (?:done|signed|in)\b|\bfeels? (?:good|better|nice|right) knowing where\b|"
    r"\bwhen i'?m (?:gone|not here)\b|\bafter i'?m gone\b|"
    r"\bthey (?:don'?t|dont) know (?:that|why)\b",
    _I,
)
# An ordinary reason for the same acts: the message explains itself.
_REASON = re.compile(
    r"\b(?:mov(?:e|ed|es|ing) (?:out|house|flat|away|abroad|in|back|to|over|into|home)|"
    r"(?:the |our |my )?move\b|new (?:flat|house|place|job|home|phone|laptop|contract|provider)|"
    r"emigrat\w*|relocat\w*|declutter\w*|clear(?:ing|ed)?[- ]out|clearing (?:out|space)|"
    r"downsiz\w*|spring clean\w*|holidays?|travel\w*|trip|backpack\w*|deploy\w*|tour of duty|"
    # A return date: "back in 6 months", "home in a few weeks".
    rf"{RETURN_DATE}|"
    r"upgrad\w*|outgr[eo]wn?|doesn'?t fit|don'?t fit|never wear|don'?t wear|charity shop|"
    r"car boot|ebay|vinted|sold|selling|operation|surgery|op on|procedure|pregnan\w*|maternity|"
    r"(?:the )?baby(?:'s)? (?:is )?due|retir\w*|wedding|(?:off|going|back) to uni|university|"
    r"gap year|saving money|cost of living|too expensive|cheaper|"
    r"switch(?:ed|ing) (?:provider|supplier|to)|"
    r"switch(?:ed|ing)? (?:energy |broadband )?(?:providers?|suppliers?)|"
    r"care home|nursing home|sheltered housing|hospice|terminal|diagnos\w*|when (?:he|she|they)"
    r" (?:die|dies|pass|passes)|(?:his|her|their) (?:death|funeral|passing)|allerg\w*|landlord "
    r"(?:won'?t|doesn'?t|does not) allow|no pets|for (?:his|her) birthday|christmas present|"
    r"birthday present|as a (?:gift|present)|grown out of|for (?:my|the) (?:holiday|trip))\b",
    _I,
)
# The act is someone else's: "mum gave my hoodies away", "he cancelled the broadband".
_OTHER_SUBJECT = re.compile(
    r"\b(?:he|she|they|we|you|mum|mom|dad|(?:my|his|her) (?:little |big |older |younger |best "
    r"|old )?\w+)\s+"
    r"(?:has |had |have |just |already |then |finally |also |went and )*$",
    _I,
)


# Only the act patterns whose required words occur in the text run (see prefilter.py): most
# messages name none.
_ACT_FILTER = Prefilter(tuple(_ACTS.values()))
_KINDS = tuple(_ACTS)


def _own_acts(norm: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of each preparatory act the speaker made."""
    out = []
    for k in _ACT_FILTER.select(norm):
        kind, pattern = _KINDS[k], _ACT_FILTER.patterns[k]
        for m in pattern.finditer(norm):
            before = norm[max(0, m.start() - 30) : m.start()]
            if not _OTHER_SUBJECT.search(before):
                out.append((kind, *m.span()))
    return out


def preparation_hits(text: str) -> list[MarkerHit]:
    """A `suicidal_ideation` hit spanning the preparations when they read as putting affairs in
    order for after one's death (see the module's docstring)."""
    norm = normalise(text)
    acts = _own_acts(norm)
    if not acts:
        return []
    kinds = {kind for kind, _, _ in acts}
    final = _FINALITY.search(norm)
    if len(kinds) < 2 and final is None:
        return []
    if _REASON.search(norm) or excluded(text):
        return []
    spans = [(start, end) for _, start, end in acts] + ([final.span()] if final else [])
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    return [MarkerHit(CrisisCategory.SUICIDAL_IDEATION.value, MarkerFamily.CRISIS, start, end)]
