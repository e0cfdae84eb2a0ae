"""Who and what: is a crisis phrase the speaker's own current risk, or something else?

A crisis word names a topic as often as a risk. People who support others write "if you're
feeling suicidal, call me first"; people tell of a friend who "said she wanted to die", of the
news, of a campaign, of a cut on a kitchen mandoline, of a time long past. Only the speaker's
own, current risk is explicit crisis language that pages a clinician whatever the model says.
Everything else is left to the learned model, which reads the whole message and can still raise a
possible crisis for a person to review.

Each lexicon hit is read inside its clause and sentence:
- who: a pronoun inside the phrase ("kill myself", "hurt yourself"), a possessive right before it
  ("my overdose", "your suicidal thoughts"), a support frame addressed to someone else ("if you
  ever...", "please don't..."), words quoted from someone else, or the nearest subject before it.
  A chat fragment with no subject ("wanna die tbh") speaks for the speaker.
- what: a noun ("suicide", "self-harm", "abuse") names a topic unless someone owns it; a sentence
  told as history, an accident, or harm-to-others hyperbole ("i could strangle him lol") is not
  current intent.
The rules are few and general; the annotation guide's section 7.5 describes them for annotators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from attune_classifier.lexicon import SUICIDE_NOUN, MarkerHit, normalise
from attune_schemas import CrisisCategory, MarkerFamily

SI = CrisisCategory.SUICIDAL_IDEATION.value
SH = CrisisCategory.SELF_HARM.value
HTO = CrisisCategory.HARM_TO_OTHERS.value
ABUSE = CrisisCategory.ABUSE_DISCLOSURE.value


class Who(StrEnum):
    SELF = "self"  # the speaker: "I", "me", or no subject at all in a chat fragment
    ADDRESSEE = "addressee"  # "you": support for someone else, or the assistant itself
    GENERIC = "generic"  # "someone", "people", "a person", "we all"
    OTHER = "other"  # a third person: "she", "my friend", quoted words
    TOPIC = "topic"  # the phrase names a subject of talk: "suicide prevention", "drug abuse"


@dataclass(frozen=True, slots=True)
class Attribution:
    who: Who
    past: bool = False  # told as history: "I was once suicidal", "back when I was 16"
    question: bool = False  # a method question: "how many would it take to kill you?"
    accident: bool = False  # an injury nobody meant: "cut myself on the mandoline"
    hyperbole: bool = False  # harm-to-others talk marked as a joke or a figure of speech

    def own_current(self, category: str) -> bool:
        """The speaker's own, current risk: the only attribution that is explicit crisis."""
        if self.past or self.accident or (self.hyperbole and category == HTO):
            return False
        if self.who is Who.SELF:
            return True
        # "How many of these would kill you?", "what's the quickest way for someone to go?":
        # a method question put generically is the asker's own research, not support.
        return self.question and self.who in (Who.ADDRESSEE, Who.GENERIC) and category in (SI, SH)


_I = re.IGNORECASE
# Clause boundaries: sentence ends, line breaks, semicolons, and conjunctions that start a new
# subject. A hit's subject is looked for between the clause start and the hit.
_CLAUSE = re.compile(
    r"[.!?\n;]+|\s(?:but|because|cause|cos|so|and then|although|though|while|whereas)\s|,\s", _I
)
_SENTENCE = re.compile(r"[.!?\n]+")

_KIN = (
    r"friend|mate|bestie|bff|sister|brother|sis|bro|mum|mom|mother|dad|father|parents?|son|"
    r"daughter|kids?|child|children|wife|husband|partner|boyfriend|girlfriend|bf|gf|ex|cousin|"
    r"aunt|auntie|uncle|nan|gran|grandma|grandad|grandpa|niece|nephew|roommate|flatmate|"
    r"colleague|coworker|boss|neighbou?r|classmate|student|patient|client|teacher|pupil|tenant|"
    r"singer|character|guy|girl|man|woman|lad|teen|teenager|member"
)
# Subjects, most specific first; possessives ("my", "your") only count right before the hit.
_SUBJECT = re.compile(
    rf"\b(?:(?P<other>he|she|they|him|them|himself|herself|themselves|he'?s|she'?s|they'?re|"
    rf"(?:my|our|a|his|her|their|the|this|that) (?:\w+ ){{0,2}}(?:{_KIN})s?)|"
    r"(?P<thing>it|it'?d|itd|it'?ll|itll|it'?s|that'?d|this)|"
    r"(?P<generic>someone|somebody|anyone|anybody|everyone|everybody|people|a person|one|humans?|"
    r"men|women|kids|teens|guys|folks|ppl|"
    r"we|we'?re|we'?ve|us|nobody|no one)|"
    r"(?P<you>you|you'?re|youre|you'?ve|you'?d|you'?ll|yourself|yourselves|u|ya|y'?all)|"
    r"(?P<self>i|i'?m|im|i'?ve|ive|i'?d|i'?ll|me|myself))\b",
    _I,
)
# A possessive right before the phrase ("my overdose", "your suicidal thoughts"); "my friend
# wants to die" is a person as subject, read by `_SUBJECT`, not a possessive of the phrase.
_POSSESSIVE = re.compile(
    rf"\b(?:(?P<self>my|mine)|(?P<you>your|ur)|(?P<other>his|her|their))\s+"
    rf"(?!(?:\w+ )?(?:{_KIN})s?\b)(?:\w+\s+)?$",
    _I,
)
# Inside the phrase: "kill myself" is the speaker; "kill yourself", "hurt herself" are not.
_IN_HIT = re.compile(
    r"\b(?:(?P<self>myself|my ?self|me|my|i)|(?P<you>yourself|you|your|u)|"
    r"(?P<other>himself|herself|themselves))\b",
    _I,
)
# Addressing someone else's possible risk: a conditional or an imperative to "you".
_SUPPORT = re.compile(
    r"\b(?:if|when|whenever|in case|should|before|unless)\s+(?:you|you'?re|youre|u|ya|anyone|"
    r"someone|somebody|anybody)\b|"
    r"(?:^|[.!?]\s*)\W*(?:please\s+)?(?:don'?t|do not|never|try not to|stop)\b|"
    r"\b(?:you|u)\s+(?:should(?:n'?t)?|must(?:n'?t)?|have to|need to|don'?t have to|"
    r"don'?t need to|can'?t|shouldn'?t|ought)\b",
    _I,
)
# Nouns that name a topic unless someone owns them ("my overdose", "I self-harm").
_NOUN = re.compile(
    rf"^(?:{SUICIDE_NOUN}|suicides|self[- ]?harm|overdoses?|abuse|abuser|abusive|molestation|"
    r"molesters?|rape|sexual(?:ly)? assault\w*|od)$",
    _I,
)
# A noun in a compound or after a determiner names a subject of talk: "suicide prevention day",
# "the self harm dashboard", "died by suicide", "drug abuse".
_TOPIC_BEFORE = re.compile(
    r"\b(?:about|on|of|the|a|an|any|this|that|against|oppose|prevent\w*|discuss\w*|research\w*|"
    r"by|world|national|youth|teen|male|female|drug|drugs|substance|alcohol|domestic|child|"
    r"verbal|emotional|physical|sexual|elder|victims? of|survivors? of|risk of|rates? of)\s+$",
    _I,
)
_TOPIC_AFTER = re.compile(
    r"^\W*(?:hotlines?|helplines?|lines?|prevention|awareness|watch|squad|mission|rates?|"
    r"statistics|stats|pact|bomb\w*|survivors?|victims?|school|doors?|admissions|dashboard|"
    r"stall|day|week|month|campaign|charity|training|course|module|chapter|research|risk|"
    r"services?|team|unit|ward|support|group|bereavement|loss|note on|policy|documentary|"
    r"film|song|scene|storyline|figures|numbers|is|was|isn'?t|wasn'?t|never|can|will|would|"
    r"may|might|seems?|ain'?t|transfers|should|just)\b",
    _I,
)
_OWN_VERB = re.compile(
    r"\b(?:i|i'?ve|ive|i'?m|im|i was|i'?ve been|i got|i had|made me|got me|me)\b"
    r"(?:\s+\w+){0,3}\s*$",
    _I,
)
# Double quotes, or single quotes that open after a space and close before punctuation (an
# apostrophe between letters, as in "you'd", stays inside the quotation).
_QUOTE = re.compile(
    r"[\"“”]([^\"“”]{3,300})[\"“”]|(?:^|(?<=[\s,:(]))'((?:[^'\n]|(?<=[a-z])'(?=[a-z])){6,300})'"
    r"(?=[\s.,!?;:)]|$)",
    _I,
)
_REPORTING = re.compile(
    r"\b(?:said|says|say|told|tells|tell|texted|wrote|writes|write|posted|posts|post|typed|types|"
    r"messaged|asked|"
    r"screamed|shouted|yelled|goes|went|like)\b[^.!?]{0,40}$",
    _I,
)
_PAST = re.compile(
    r"\b(?:used to|years? ago|back (?:then|when|in)|(?:i'?ve|i have|i was) been \w+ before|"
    r"(?:i'?ve|i have) been (?:there|through (?:it|that))|at (?:one|some) point|"
    r"(?:there was|there were) (?:a time|times)|in the past|"
    r"when i was (?:\d+|younger|young|little|small|tiny|"
    r"a (?:kid|teen\w*|child|student|boy|girl|baby))|"
    r"in my (?:teens|twenties|youth)|as a (?:kid|teen\w*|child)|i was once|once (?:was|felt)|"
    r"(?:i'?ve|i have) had (?:multiple|many|several|a few) (?:points|times|periods)|"
    r"(?:got|was|i'?m) (?:through|past) (?:it|that)|"
    r"(?:i'?m|i am) (?:alive|here) (?:today|now) because)\b",
    _I,
)
_PRESENT = re.compile(
    r"\b(?:now|right now|tonight|today|still|again|lately|these days|this (?:week|month|year)|"
    r"anymore|any more|currently|at the moment|every (?:day|night)|last night|yesterday)\b",
    _I,
)
_ACCIDENT = re.compile(
    r"\b(?:accident\w*|by mistake|mistakenly|on (?:the|a) (?:mandoline|grater|grill|oven|hob|"
    r"stove|iron|kettle|tin|can|knife|glass|fence|bush|nail|corner|door|barbed wire|pan)|"
    r"chopping|slicing|cooking|baking|shaving|gardening|in my sleep|while (?:asleep|sleeping)|"
    r"tripped|fell (?:off|over|down)|slipped|at (?:football|rugby|training|the gym|work)|"
    r"sports? injury|surgery|stitches from)\b",
    _I,
)
# "not joking" / "no joke" say the opposite: they are excluded by the lookbehinds.
_JOKE = re.compile(
    r"\b(?:lol|lmao|lmfao|jk|j/k|haha\w*|hehe\w*|"
    r"(?<!not )(?<!n't )(?<!no )(?:kidding|joking|joke))\b|"
    r"[😂🤣😤😅🙃😜🙄]|\[laughs\]",
    _I,
)
_HYPERBOLE = re.compile(r"\b(?:could|would|coulda)\s+(?:\w+\s+)?$|^(?:could|would)\b", _I)
_QUESTION_OPEN = re.compile(
    r"^\W*(?:how|what|which|where|does|do|would|will|is|can|could|should)\b", _I
)
# A question about method or means: the only question that is the asker's own research.
_METHOD = re.compile(
    r"\b(?:how (?:many|much|long|high|far|tall|deep)|quickest|fastest|easiest|quietest|"
    r"painless\w*|lethal|fatal|dose|does it hurt|would it (?:hurt|kill|work)|best way|"
    r"surest way|what (?:would|will) happen if|enough to)\b",
    _I,
)
# Owning the act: "I think about suicide", "I've been planning my suicide".
_OWN_ACT = re.compile(
    r"\b(?:think\w*|thought\w*|contemplat\w*|consider\w*|attempt\w*|plann?\w*|commit\w*|"
    r"tried|try|trying|urges?|obsess\w*|fantasi[sz]\w*|dream\w*|chose|chosen|decided|write|"
    r"writing|wrote|written)\s+(?:\w+\s+){0,3}$",
    _I,
)
# A reply with its "I" left out, as chats write them: "plan to sucide", "been thinking about
# suicide". Not "writing an essay about suicide": only the verbs of owning the act itself.
_ELIDED_OWN_ACT = re.compile(
    r"^\W*(?:(?:been|keep|kept|still|just|always|honestly|seriously)\s+)*"
    r"(?:think\w*|thought\w*|contemplat\w*|consider\w*|attempt\w*|plann?\w*|tried|trying|"
    r"obsess\w*|fantasi[sz]\w*)\s+(?:(?:to|about|of|on|committing|commit|my)\s+){0,2}$",
    _I,
)
# The act as the subject of a statement: "ending it is not the way", "suicide is never...".
_ACT_AS_SUBJECT = re.compile(
    r"^\W*(?:is|isn'?t|is not|are|aren'?t|was|wasn'?t|won'?t|will not|will never|never|solves|"
    r"doesn'?t|does not|comes|would(?:n'?t)? (?:be|solve|fix|help)|isnt|aint)\b",
    _I,
)
# "suicidal people", "suicidal ideation": the adjective describes others or names a topic.
_DESCRIBES = re.compile(
    r"^\s+(?:people|person|persons|friends?|patients|teens|kids|ideation|tendencies|"
    r"behaviou?rs?|folks|ones|individuals|users|posts?|thoughts are|urges are)\b",
    _I,
)
# A question back about what the assistant meant ("What, like suicidal?", "you mean self-harm?"),
# with no "I" in it: the word is the assistant's, asked about, not the speaker's own.
_CLARIFYING = re.compile(
    r"^\W*(?:(?:so|oh|wait|um+|uh+|sorry)\W+)?"
    r"(?:what,?\s+like|you mean|do you mean|meaning|as in)\b"
    r"(?![^?]*\b(?:i|i'?m|im|me|my|myself)\b)[^.!?]{0,40}\?",
    _I,
)
# Abuse by someone hypothetical: "if somebody says they wanna beat me up, I go on at them".
_HYPOTHETICAL = re.compile(
    r"\b(?:if|when|whenever|in case)\s+(?:somebody|someone|anyone|anybody|people|some \w+)\b", _I
)
# Made to come to the session, a common start to counselling: "my wife forced me to come".
_MANDATED = re.compile(
    r"^\W*(?:to\s+)?(?:come(?: here| in| along)?|be here|see you|talk to you|attend|sign up|"
    r"go (?:to )?(?:therapy|counsel\w*|rehab|treatment|meetings?|the doctor|the clinic|"
    r"(?:this|these) (?:sessions?|appointments?|classes|meetings?)))\b",
    _I,
)
# Someone else's words quoted on a forum ("> ...", "&gt; ...") or a chat.
_FORUM_QUOTE = re.compile(r"(?:^|\n|[.!?]\s*)\s*(?:>|&gt;)[^\n]*$", _I)


def remote_history(text: str) -> bool:
    """Told as history with nothing bringing it into the present: "once, 8 years ago"."""
    norm = normalise(text)
    return bool(_PAST.search(norm)) and not _PRESENT.search(norm)


def _span(pattern: re.Pattern[str], text: str, start: int, end: int) -> tuple[int, int]:
    lo = 0
    for m in pattern.finditer(text, 0, start):
        lo = m.end()
    nxt = pattern.search(text, end)
    return lo, (nxt.start() if nxt else len(text))


def _who(match: re.Match[str]) -> Who:
    for name in ("self", "you", "generic", "thing", "other"):
        if name in match.groupdict() and match.group(name):
            return {
                "self": Who.SELF,
                "you": Who.ADDRESSEE,
                "generic": Who.GENERIC,
                "thing": Who.TOPIC,  # "it'd kill her if...": a thing, not a person, acts
            }.get(name, Who.OTHER)
    return Who.OTHER


def _quoted(text: str, start: int, end: int) -> bool:
    """Inside someone else's words: a quotation introduced by a reporting verb."""
    for m in _QUOTE.finditer(text):
        if m.start() < start and end <= m.end():
            return bool(_REPORTING.search(text[max(0, m.start() - 60) : m.start()]))
    return False


# Cached: the rupture and crisis features and the crisis rule each ask about the same hits.
@lru_cache(maxsize=4096)
def attribute(text: str, hit: MarkerHit) -> Attribution:
    """Who a crisis hit is about, and in what frame (history, question, accident, joke)."""
    norm = normalise(text)
    start, end = hit.start, hit.end
    phrase = norm[start:end]
    c_lo, _ = _span(_CLAUSE, norm, start, end)
    s_lo, s_hi = _span(_SENTENCE, norm, start, end)
    sentence = norm[s_lo : min(len(norm), s_hi + 1)]
    before = norm[c_lo:start]
    frame = {
        "question": bool(_METHOD.search(sentence))
        and (
            sentence.rstrip().endswith("?")
            or bool(_QUESTION_OPEN.match(norm[s_lo:end]))
            or bool(re.search(r"\bhow (?:many|much|long)\b", sentence, _I))
        ),
        # Told as history only when nothing in the sentence brings it into the present.
        "past": bool(_PAST.search(sentence)) and not _PRESENT.search(sentence),
        "accident": hit.marker == SH and bool(_ACCIDENT.search(sentence)),
        "hyperbole": hit.marker == HTO
        and bool(
            _JOKE.search(norm[c_lo : min(len(norm), end + 40)])
            or _HYPERBOLE.search(norm[max(s_lo, start - 12) : start])
            or _HYPERBOLE.match(phrase)
        ),
    }

    def result(who: Who) -> Attribution:
        return Attribution(who, **frame)

    if _quoted(norm, start, end) or _FORUM_QUOTE.search(norm[max(0, s_lo - 2) : start]):
        return result(Who.OTHER)
    if _CLARIFYING.match(sentence):
        return result(Who.ADDRESSEE)
    inside = list(_IN_HIT.finditer(phrase))
    possessive = _POSSESSIVE.search(norm[max(c_lo, start - 25) : start])
    subjects = list(_SUBJECT.finditer(before))
    # "it'd be nice to not wake up": a dummy "it" is no subject, except for harm to others
    # ("it'd kill her if...", an idiom with a thing as the actor).
    people = [m for m in subjects if not m.group("thing")]
    nearest = _who(people[-1]) if people else None

    if hit.marker == ABUSE:
        if _HYPOTHETICAL.search(norm[s_lo:start]):
            return result(Who.GENERIC)
        if _MANDATED.match(norm[end : end + 50]):
            return result(Who.TOPIC)  # made to attend, not abused
        # Abuse is disclosed by its victim: "he hits me", "my abusive ex", "I was abused".
        if inside and any(m.group("self") for m in inside):
            return result(Who.SELF)
        if possessive:
            return result(_who(possessive))
        if _NOUN.match(phrase.strip()):
            if _TOPIC_BEFORE.search(norm[max(c_lo, start - 30) : start]):
                return result(Who.TOPIC)
            owned = _OWN_VERB.search(before) or (nearest is Who.SELF)
            return result(Who.SELF if owned else Who.TOPIC)
        # "he threw a glass", "we're not allowed out": told by the one it happens to, unless
        # another victim is named after the act.
        after = norm[end : end + 25]
        if re.match(
            r"\W*(?:adderall|drugs?|alcohol|pills|substances?|meds|medication|painkillers|"
            r"prescriptions?|booze|weed|the system|power|privileges?|trust)\b",
            after,
            _I,
        ):
            return result(Who.TOPIC)  # "abusing adderall", "abuse of power"
        other_victim = re.match(
            r"\W*(?:at |to |on )?(?:her|him|them|my \w+|his \w+|your \w+|their \w+)\b", after, _I
        )
        if other_victim or nearest is Who.ADDRESSEE:
            return result(Who.OTHER)
        return result(Who.SELF)
    if hit.marker == HTO:
        # The speaker is the one who would do harm; "he'll kill her" is someone else's act.
        # Any "I" earlier in the sentence is taken as the actor: a missed threat costs more.
        if re.match(r"\W*(?:i|i'?ll|i'?m|im|i'?d)\b", phrase, _I) or any(
            m.group("self") for m in _SUBJECT.finditer(norm[s_lo:start])
        ):
            return result(Who.SELF)
        return result(_who(subjects[-1]) if subjects else Who.SELF)
    if inside:
        # A reflexive or pronoun inside the phrase names who it is about.
        return result(_who(inside[-1]))
    if possessive:
        return result(_who(possessive))
    if _NOUN.match(phrase.strip()):
        # "suicide is never the answer", "the self harm dashboard": a topic, unless the
        # speaker is its subject ("I think about suicide", "been self harming").
        if _TOPIC_AFTER.match(norm[end:]) and not _OWN_ACT.search(before):
            return result(Who.TOPIC)
        if (nearest is Who.SELF and _OWN_ACT.search(before)) or (
            nearest is None
            and _ELIDED_OWN_ACT.match(norm[s_lo:start])
            and not _TOPIC_AFTER.match(norm[end:])
        ):
            return result(Who.SELF)
        if _TOPIC_BEFORE.search(norm[max(c_lo, start - 30) : start]):
            return result(Who.TOPIC)
        if nearest is Who.SELF or _OWN_VERB.search(before):
            return result(Who.SELF)
        return result(nearest if nearest is not None else Who.TOPIC)
    if hit.marker == SI and _ACT_AS_SUBJECT.match(norm[end:]) and nearest is not Who.SELF:
        return result(Who.TOPIC)
    if _DESCRIBES.match(norm[end:]) and not possessive:
        return result(Who.TOPIC)
    if _SUPPORT.search(norm[s_lo:start]):
        return result(Who.ADDRESSEE)
    if nearest is not None:
        return result(nearest)
    # No subject in the clause: the sentence's, else a chat fragment ("wanna die tbh") that
    # speaks for the speaker.
    in_sentence = [m for m in _SUBJECT.finditer(norm[s_lo:start]) if not m.group("thing")]
    return result(_who(in_sentence[-1]) if in_sentence else Who.SELF)


def own_risk(text: str, hits: list[MarkerHit]) -> list[MarkerHit]:
    """Every non-crisis hit, and the crisis hits that are the speaker's own current risk."""
    return [
        h
        for h in hits
        if h.family is not MarkerFamily.CRISIS or attribute(text, h).own_current(h.marker)
    ]
