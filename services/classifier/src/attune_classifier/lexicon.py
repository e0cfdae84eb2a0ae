"""Marker phrases for the 3RS rupture markers and crisis language, with the spans they match.

Transparent by design: every hit names its marker and where it is, so a clinician can read
why. The learned model uses these hits as features; crisis hits are also a rule that the model
can never overrule (explicit crisis language is not left to a threshold).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from attune_classifier.prefilter import Prefilter
from attune_schemas import CrisisCategory, MarkerFamily

# How many texts each per-text cache holds: a whole batch's. A batch of up to 1,024 messages
# brings as many texts again in context and a few windows per message, and each text is read by
# several passes (the rupture features, the crisis windows, the cue gate, the rules); a cache
# smaller than one batch let the first passes evict what the later ones were about to read.
TEXTS_KEEP = 8192

WITHDRAWAL_MARKERS = (
    "denial",
    "minimal_response",
    "abstract_communication",
    "avoidant_storytelling",
    "deferential_appeasing",
    "content_affect_split",
    "self_criticism_hopelessness",
)
CONFRONTATION_MARKERS = (
    "complaints_about_therapist",
    "rejecting_intervention",
    "complaints_about_activities",
    "complaints_about_parameters",
    "complaints_about_progress",
    "defending_self",
    "control_pressure",
)
CRISIS_MARKERS = tuple(c.value for c in CrisisCategory)


@dataclass(frozen=True)
class MarkerHit:
    marker: str
    family: MarkerFamily
    start: int
    end: int


def _c(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


# "myself" as chats type it, "my self" too, but not "my self esteem" or "my self-worth".
_MYSELF = (
    r"(?:myself|my self(?![- ]?(?:esteem|worth|confidence|image|respect|care|belief|control|"
    r"doubt|love|talk|awareness|sabotag\w*|conscious\w*)\b))"
)
_ME = rf"(?:{_MYSELF}|me)"
# Suicide and suicidal as they are typed in chats and posts ("plan to sucide", "suiciadal").
SUICIDE_NOUN = r"(?:suicide|suicde|sucide|suicied|suiside|suicid)"
SUICIDAL = r"(?:suicidal|suicidial|suicidle|suicidel|suicdal|sucidal|suiciadal|suisidal)"
_PERSON = (
    r"(?:him|her|them|someone|somebody|people|my (?:son|daughter|kids?|child|children|baby|"
    r"wife|husband|partner|boyfriend|girlfriend|mum|mom|dad|father|mother|brother|sister|"
    # As chats write them: "my bf", "my hubby", "my parents".
    r"bf|gf|hubby|wifey|fiance|fiancee|parents|"
    r"boss|neighbou?r|ex|roommate|flatmate|coworker|colleague|teacher|"
    # Step- and extended family, in-laws, a manager or a landlord: "I want to kill my stepdad".
    r"step[- ]?(?:dad|mum|mom|father|mother|brother|sister|son|daughter)|stepdad|stepmum|stepmom|"
    r"stepfather|stepmother|uncle|aunt|auntie|cousin|grandad|grandpa|grandma|gran|nan|nephew|"
    r"niece|(?:brother|sister|mother|father|son|daughter)-in-law|in-laws|manager|supervisor|"
    r"landlord|ex-?(?:husband|wife|boyfriend|girlfriend|partner)))"
)

# "live" and "go on" with a place, a person or a thing are about where to live or what to do.
_NOT_SOMEWHERE = (
    r"(?!\s+(?:with|in|at|there|near|together|on|abroad|nearby|close|next|alone|by myself|under|"
    r"somewhere|anywhere|where|here with|without (?:a|the))\b)"
)
_NOT_ONTO = (
    r"(?!\s+(?:the|a|an|this|that|these|those|my|his|her|their|our|your|holiday|holidays|trips?|"
    r"dates?|tour|rides?|stage|social|about|at|to|for|with (?:him|her|them|my|the|this|that)|a date)\b)"
)

# The one word allowed between a person and a blow ("he always hits me"), unless it says the blow
# never landed or was not meant: "he never hits me", "she accidentally hit me".
_ADVERB = r"(?:(?!(?:never|not|accidentally|nearly|almost|playfully|jokingly)\b)\w+ )?"

WITHDRAWAL: dict[str, tuple[re.Pattern[str], ...]] = {
    "denial": _c(
        r"\b(?:i'?m|i am|it'?s|its|everything'?s|all) (?:totally |really |just )?(?:fine|ok(?:ay)?|good)\b(?=.*\b(?:really|honestly|whatever|don'?t worry|doesn'?t matter|it'?s nothing|forget it)\b)",
        r"\b(?:it |that )?(?:doesn'?t|does not|didn'?t) (?:really )?matter\b",
        r"\bnot (?:a|that) big (?:a )?deal\b",
        r"\bnothing'?s? (?:is )?wrong\b",
        r"\bi'?m over it\b",
        r"\bit'?s nothing\b",
        r"\bno big deal\b",
        r"\bi don'?t (?:really )?(?:care|mind) (?:anymore|about it)\b",
    ),
    "minimal_response": _c(
        r"^\W*(?:ok(?:ay)?|k+|fine|whatever|idk|i dunno|dunno|sure|meh|i guess|guess so|"
        r"maybe|nothing|not really|no idea|cool|yeah whatever|if you say so|mhm+|hm+|eh|"
        r"doesn'?t matter|same|nah|yep|yup|no|yes|yeah)\W*$",
    ),
    "abstract_communication": _c(
        r"\bpeople (?:in general|generally|usually|always)\b",
        r"\b(?:in|on a) (?:theoretical|general|abstract) (?:level|sense)\b",
        r"\bone (?:could|might|would) (?:say|argue)\b",
        r"\b(?:society|human nature|the system) (?:is|just)\b",
        r"\bthat'?s just how (?:things|life|it) (?:is|are|works?)\b",
    ),
    "avoidant_storytelling": _c(
        r"^\W*anyway(?:s)?\b",
        r"\b(?:can we|let'?s) (?:talk about|change) (?:something else|the subject|topic)\b",
        r"\bi don'?t (?:want to|wanna) (?:talk|get into) (?:about )?(?:it|that|this)\b",
        r"\bchanging the subject\b",
        r"\bon (?:a|another) (?:different|random|unrelated) note\b",
        r"\bdid (?:you|u) (?:see|watch|hear)\b",
    ),
    "deferential_appeasing": _c(
        r"\byou'?re (?:probably |totally |absolutely )?right\b",
        r"\bwhatever you (?:think|say|want|suggest)\b",
        r"\bi'?ll do (?:whatever|anything) you (?:say|want|suggest)\b",
        r"\bsorry (?:for|about) (?:being|wasting|bothering|going on)\b",
        r"\byou know (?:best|better)\b",
        r"\bi'?m sorry,? i'?ll (?:try|do) (?:harder|better)\b",
    ),
    "content_affect_split": _c(
        r"\b(?:died|dead|left|dumped|fired|divorc\w*|cheated|hospital|funeral|kicked out)\b[^.!?]{0,60}\b(?:lol|lmao|haha+|hehe|😂|🙃)",
        r"(?:lol|lmao|haha+|😂|🙃)[^.!?]{0,40}\b(?:died|dead|left|dumped|fired|divorc\w*|cheated|hospital|funeral)\b",
        r"\bbut (?:whatever|it'?s fine),? (?:lol|haha)\b",
    ),
    "self_criticism_hopelessness": _c(
        r"\bi'?m (?:so |such an? |just )?(?:useless|hopeless|pathetic|worthless|a failure|"
        r"a mess|stupid|an idiot|a loser|broken|a lost cause)\b",
        r"\b(?:nothing|it) (?:will|is ever going to|'?ll) (?:ever )?(?:change|get better|help|work)\b(?<!will change)",
        r"\bwhat'?s the point\b",
        r"\bwhy (?:even )?bother\b",
        r"\b(?:there'?s )?no point\b",
        r"\bit'?s (?:all )?hopeless\b",
        r"\bi (?:always|just) (?:mess|screw|fuck) (?:it|everything|things) up\b",
        r"\bi can'?t do anything right\b",
    ),
}

CONFRONTATION: dict[str, tuple[re.Pattern[str], ...]] = {
    "complaints_about_therapist": _c(
        r"\byou'?re (?:just |only )?(?:a |an )?(?:stupid |dumb |useless )?(?:bot|robot|machine|program|ai|computer|algorithm|script)\b",
        r"\byou (?:don'?t|do not|can'?t|cannot|never) (?:even )?(?:understand|get it|listen|hear me|care)\b",
        r"\byou'?re not (?:even )?(?:listening|helping|hearing me|getting it)\b",
        r"\byou (?:keep|always) (?:saying|repeating|asking|telling)\b",
        r"\byou sound like (?:a|an|my)\b",
        r"\b(?:stop|quit) (?:repeating|saying that|parroting|lecturing)\b",
        r"\b(?:useless|stupid|pointless|dumb) (?:bot|ai|app|chatbot|thing)\b",
        r"\byou (?:have|'?ve) no idea\b",
        r"\bnot what i (?:said|meant|asked)\b",
    ),
    "rejecting_intervention": _c(
        r"\b(?:that|this|it)(?:'s| is| was)? (?:not|n'?t) (?:very |really |at all )?(?:helpful|useful|going to help|gonna help)\b",
        r"\b(?:that|this) (?:doesn'?t|does not|won'?t|will not|didn'?t) (?:help|work)\b",
        r"\bi (?:don'?t|do not) (?:want|need) (?:a |to (?:join|go to|try|do) )?(?:a )?(?:support )?(?:group|therapy|meds|medication|hotline|breathing|meditation|exercises?)\b",
        r"\bi(?:'ve| have) (?:already )?tried (?:that|this|it)\b",
        r"\bno thanks\b",
        r"\bthat won'?t work\b",
        r"\b(?:not|never) (?:going to|gonna) (?:do|try) (?:that|this)\b",
    ),
    "complaints_about_activities": _c(
        r"\b(?:these|this|the|your) (?:exercises?|worksheets?|journal(?:ing)?|homework|tasks?|activities|techniques?|breathing thing|mood log|check-?ins?|quizz?(?:es)?)\b[^.!?]{0,30}\b(?:pointless|useless|stupid|dumb|waste|boring|silly|don'?t (?:help|work)|childish)\b",
    ),
    "complaints_about_parameters": _c(
        r"\bwhy (?:do|must|should) i (?:have to|need to|always have to)\b",
        r"\b(?:your|these) (?:answers|replies|responses|messages) (?:are|is) (?:way |too )+(?:long|short|generic)\b",
        r"\b(?:a |an )?(?:real|actual) (?:person|human|therapist|counsell?or|doctor)\b",
        r"\b(?:too many|so many) (?:questions|notifications|reminders|messages)\b",
        r"\b(?:stop|quit) (?:sending|messaging|notifying|pinging)\b",
    ),
    "complaints_about_progress": _c(
        r"\b(?:this|it|therapy|the app|talking to you)(?:'s| is)? (?:not|n'?t) (?:working|helping|going anywhere)\b",
        r"\bgoing (?:round )?in circles\b",
        r"\b(?:not|no) (?:getting|feeling) (?:any )?better\b",
        r"\bwaste of (?:my )?time\b",
        r"\b(?:no|zero) (?:progress|difference|change)\b",
        r"\bnothing(?:'s| has)? changed\b",
    ),
    "defending_self": _c(
        r"\bi(?:'m| am) not (?:being )?(?:lazy|stupid|crazy|dramatic|making (?:it|this|excuses)|an alcoholic|an addict|weak)\b",
        r"\bi (?:am|AM) trying\b",
        r"\byou don'?t know (?:me|my (?:life|situation)|what (?:it'?s|i'?m))\b",
        r"\bdon'?t (?:judge|lecture) me\b",
        r"\bthat'?s not fair\b",
    ),
    "control_pressure": _c(
        r"\bjust (?:tell|give) me\b",
        r"\b(?:answer|respond to) (?:my|the) (?:question|message)\b",
        r"\bstop asking(?: me)?\b",
        r"\b(?:yes or no|straight answer)\b",
        r"\bdo what i (?:say|ask(?:ed)?)\b",
        r"\bi (?:need|want) you to (?:tell|fix|give)\b",
    ),
}

# Games one is beaten at, and courses or careers one is pushed or forced into: the abuse rule
# and the cue idioms both read them as no blow.
_GAMES = (
    r"(?:chess|cards|monopoly|scrabble|games?|tennis|golf|pool|darts|fifa|everything|"
    r"arm wrestling|running)"
)
_COURSES = (
    r"(?:major|degree|course|career|job|medicine|law|engineering|university|uni|college|"
    r"business|accounting|family business)"
)
# A return date, an ordinary reason for letters or arrangements: "back in 6 months".
RETURN_DATE = (
    r"(?:back|home) in (?:\d+|a few|a couple of|two|three|four|six|nine|twelve) "
    r"(?:days|weeks|months)"
)

# Wanting, meaning or picturing an act on someone: "i've thought about poisoning his food".
_HTO_INTENT = (
    r"(?:want|wanna|going|gonna|will|'ll|thinking about|thought about|think about|plan|planning|"
    r"urge|urges|tempted|fantasi[sz]e about|keep thinking about)"
)

CRISIS: dict[str, tuple[re.Pattern[str], ...]] = {
    CrisisCategory.SUICIDAL_IDEATION.value: _c(
        # "kill me" is nearly always the idiom ("my legs are killing me"); ideation says myself.
        rf"\b(?:kill|killing|killed|end|ending|ended) {_MYSELF}\b",
        r"\b(?:want|wish|need) (?:someone|somebody|something) (?:to|would|could) (?:just )?kill me\b",
        r"\bkms\b",
        # Chat shorthand for the same: "off myself", "ctb" (catch the bus), "i should just die"
        # (not "die in a hole" of embarrassment).
        rf"\b(?:to|gonna|wanna|going to|could|might|just|should) off {_MYSELF}\b",
        r"\bctb\b",
        r"\bi (?:should|might as well|may as well|oughta) (?:just )?(?:die|be dead)\b(?! in a (?:hole|ditch|corner)\b)",
        rf"\b(?:{SUICIDE_NOUN}|{SUICIDAL})\b",
        r"\bunaliv(?:e|ing)\b",
        r"\b(?:end|ending|take|taking) (?:it all|my (?:own )?life)\b",
        r"\b(?:end|ending) things\b",
        r"\b(?:want|wants|wanna|wanted|wanting|wish|wishing|going) (?:to )?(?:die|be dead)\b",
        # "I wish I wasn't here", but not "I wish I was here with you" or "was around more".
        r"\bwish(?:ing|ed)? (?:that )?i (?:was|were) (?:dead|never born)\b",
        r"\bwish(?:ing|ed)? (?:that )?i (?:wasn'?t|weren'?t) (?:here|alive|born|around)\b",
        # "I wish I'd never been born", "I wish I could die" (not "could dye my hair"); not a
        # parent's cruelty reported ("he said he wished I'd never been born").
        r"(?<!\bhe )(?<!\bshe )(?<!\bthey )\bwish(?:ing|ed|es)? (?:that )?i(?:'d| had) never been born\b|"
        r"(?<!\bhe )(?<!\bshe )(?<!\bthey )\bwish(?:ing|ed|es)? (?:that )?i (?:hadn'?t|had not) been born\b",
        r"\bwish(?:ing|ed)? (?:that )?i (?:could|would|could just|would just) (?:die|be dead)\b(?! (?:my|it|her|his|the)\b)",
        # "Nobody would care if I died": the same as "if I died nobody would care".
        r"\b(?:nobody|no one|no-one)(?:'d| would| will|'ll)? (?:even )?(?:care|notice|miss me) if i (?:died|was dead|were dead|was gone|disappeared|killed myself)\b",
        r"\bdisappear (?:and never come back|and never be found)\b",
        r"\b(?:better off|be better) (?:dead|without me|if i (?:was|were)n'?t (?:here|around))\b",
        # Not wanting to live, but not "to live with my mum" or "to go on the trip".
        rf"\b(?:don'?t|do not|dont|not) (?:want to|wanna|wanting to) (?:be here|exist|live{_NOT_SOMEWHERE}|be alive|wake up|go on{_NOT_ONTO}|be around any ?more)\b",
        # "Life isn't worth living", but not "your life ... not worth living" said to someone else.
        r"\b(?:(?<!your )life|it|this|mine)(?:'s| is| feels| seems)? (?:not|isn'?t|no longer|ain'?t) worth (?:living|being alive)\b",
        r"\b(?:want|wanna|wanting|wish|need) (?:to )?(?:just )?stop (?:living|existing|being alive)\b",
        r"\b(?:thinking|thought|think|thoughts) (?:about|of) (?:not (?:being|wanting to be) (?:alive|here|around)|being dead)\b",
        r"\b(?:what'?s|what is|don'?t see|do not see|can'?t see|dont see) (?:the |any )?point (?:of|in) (?:living|being alive|staying alive|going on|carrying on)\b",
        r"\b(?:go to sleep|fall asleep) and (?:not|never) wake up\b",
        r"\bno (?:reason|point) (?:to|in) (?:live|living|going on|being here)\b",
        r"\b(?:don'?t|dont|do not|no longer) have (?:a|any) (?:will|reason) to (?:live|go on|keep going|be alive)\b",
        r"\b(?:lost|losing) (?:the|my|all) will to live\b",
        # "can't keep going through that" (an event), "to the gym", "back to him" are not.
        rf"\bcan'?t (?:go on{_NOT_ONTO}|do this anymore|keep going(?! (?:through (?:that|it|those)|to|back|with|on about|out|there|round|in|into|over)\b))\b",
        r"\b(?:won'?t|will not|not going to) be (?:around|here) (?:much )?(?:longer|for long|anymore)\b",
        r"\b(?:giving|gave) (?:away )?(?:my|all my) (?:stuff|things|belongings)(?: away)?\b",
        rf"\b(?:goodbye|{SUICIDE_NOUN}) (?:note|letter)\b",
        r"\b(?:overdose|od)\b",
        # An overdose the speaker took ("I took an overdose", "I overdosed last weekend"); not
        # a sugar or a box-set overdose.
        r"\bi(?:'ve| have| had|'d| just)? (?:\w+ )?(?:took|taken|take|done|did) (?:an(?:other)? |a )?(?:overdose|od)\b",
        r"\bi(?:'ve| have| had| just)? (?:overdosed|od'?d|od'?ed)\b"
        r"(?! on (?:sugar|chocolate|caffeine|coffee|sweets|candy|carbs|cake|netflix|tv|crisps|biscuits|love)\b)",
        r"\b(?:jump|jumping) (?:off|in front of)\b",
        # Near-attempts (C-SSRS interrupted or aborted): at a height ready to jump, a blade held
        # to oneself; and researching ways to die.
        r"\b(?:bridge|roof|rooftop|ledge|cliff|balcony|window|platform|car park|multi-?storey|top floor)\b[^.!?]{0,40}\b(?:ready|about|going|so close|wanted|trying|tried) to jump(?:ing)?\b",
        r"\b(?:held|put|pressed|holding|pressing) (?:a|the|my) (?:knife|blade|razor|kitchen knife) (?:to|against|on) my (?:wrists?|throat|neck|arms?|chest)\b",
        r"\b(?:research\w*|look\w* up|looking up|read\w* (?:up )?(?:about|on)|search\w*(?: for)?|googl\w*) (?:the )?(?:best |easiest |quickest |painless )?(?:ways|how) to (?:die|kill myself|end (?:it|my life))\b",
        r"\bhang(?:ing)? {_ME}\b".replace("{_ME}", _ME),
        r"\b(?:dis+ap+ear|not exist) (?:forever|for good|permanently)\b",
        r"\bend(?:ing)? it\b(?! with)",
        # Passive ideation: not waking up, tired of existing, rather not live.
        r"\b(?:and|just|to|i'?d|would|could) (?:not|never) (?:have to )?wake up\b",
        r"\bnot waking up\W*(?:$|[.!,;]|and\b|ever\b|again\b)",
        r"\b(?:til|till|until) i (?:don'?t|dont|do not) wake up\b",
        r"\b(?:tired|sick|done) (?:of|with) (?:being alive|living|existing|life|being a person)\b",
        r"\b(?:hate|hating) being alive\b",
        # "I wish I didn't exist", "I want to sleep forever" (C-SSRS: to go to sleep and not wake
        # up), "giving up on life"; not "I could sleep forever after that hike lol".
        r"\bwish(?:ing|ed)? (?:that )?i (?:didn'?t|did not|could (?:just )?stop|could just not) exist\b",
        r"\b(?:want|wanna|wish|wishing|wished) (?:to |i could )?(?:just )?(?:go to )?sleep forever\b(?![^.!?]{0,40}(?:😂|🤣|\blol\b|\bhaha))",
        r"\b(?:giv(?:e|ing)|gave|given) up on (?:life|living)\b",
        r"\b(?:want to|wanna) not (?:exist|be here|be alive|be around)\b",
        r"\b(?:i'?d|would) rather (?:not (?:live|be alive|exist|be here)|be dead|die)\b",
        r"\brather (?:not|never) wake up\b",
        # Safety in the client's own words: "I can't keep myself safe".
        r"\bcan'?t (?:keep|stay) (?:myself )?safe\b(?! from (?:him|her|them|his|her|their|my)\b)",
        r"\b(?:not|don'?t feel|do not feel) safe (?:with|from|around) myself\b",
        r"\b(?:hope|hoping|pray|praying|wish|wishing)\b[^.!?]{0,40}\b(?:i die|i'?d die|takes? me (?:in my sleep|away)|heart (?:just )?gives out|(?:hit|run over) by)\b",
        # "I hope I don't wake up", "praying I won't wake up tomorrow"; not waking up late, the
        # baby or with a hangover.
        r"\b(?:hope|hoping|pray|praying|wish|wishing)\b[^.!?]{0,20}\bi (?:don'?t|do not|won'?t|will not|wouldn'?t|never|didn'?t) wake up"
        r"(?=\W*$|\W*[.!?,;]|\s+(?:tomorrow|again|ever|anymore|any ?more|one day|some day|in the morning|and|this time)\b)",
        # "everyone would be happier if I was gone"; not "easier if I was gone for the weekend".
        r"\b(?:happier|easier|better) (?:for (?:everyone|everybody|them|all of them) )?if i (?:just )?(?:disappeared|was gone|were gone|wasn'?t (?:here|around)|weren'?t (?:here|around)|died|was dead|were dead)\b(?! (?:for|on|by|until|till|til|at|from)\b)",
        # An aborted overdose (C-SSRS): the tablets out, then not taken.
        r"\b(?:took|got|tipped|poured|laid|lined|counted) (?:\w+ ){0,2}(?:pills|tablets|paracetamol|meds) out\b[^.!?]{0,40}\b(?:(?:didn'?t|did not) (?:swallow|take) (?:them|it|any)|sat (?:there )?with them|stared at them|put them (?:all )?back)\b",
        r"\bbetter off if i (?:just )?(?:disappeared|was gone|were gone|wasn'?t (?:here|around)|weren'?t (?:here|around)|died|was dead|were dead)\b",
        r"\bif i (?:died|disappeared|was gone)\b[^.!?]{0,40}\b(?:nobody|no one|no-one)\b[^.!?]{0,20}\b(?:notice|miss|care)\b",
        r"\bnobody(?:'ll| will| would|'d) (?:even )?(?:miss|notice) me\b",
        # Means and method.
        r"\b(?:sav(?:ed|ing)|stockpil\w*|hoard\w*|lined up|collect(?:ed|ing))\b[^.!?]{0,30}\b(?:pills|tablets|meds|medication|paracetamol)\b",
        r"\b(?:pills|tablets|meds)\b[^.!?]{0,30}\b(?:saved up|lined up|stockpiled|in a (?:little )?tin)\b",
        r"\bbottle of (?:pills|tablets)\b",
        # An overdose already taken: "took a bunch of tablets an hour ago".
        r"\b(?:took|taken|swallowed|downed|necked)\b[^.!?]{0,25}\b(?:bunch|load|loads|handful|lot|lots|too many|whole (?:box|bottle|packet|pack|strip)|\d{2,}|twenty|thirty|forty|fifty)\b[^.!?]{0,20}\b(?:pills|tablets|paracetamol|painkillers|meds|medication|antidepressants|co-?codamol|ibuprofen|sleeping pills)\b"
        r"(?! for (?:my|the|a) (?:back|head|headache|tooth|teeth|knee|pain|period|cramps|migraine|cold|flu)\b)",
        r"\b(?:tie|tying|tied|make|making|made) (?:a |the )?noose\b",
        r"\b(?:looked up|look(?:ing)? up|googl\w*|search(?:ed|ing)?|research(?:ed|ing)?|read(?:ing)? (?:up )?about)\b[^.!?]{0,30}\b(?:(?:how to|ways to|methods? (?:of|to)|painless (?:ways? )?(?:to )?)(?:die|kill (?:myself|yourself)|hang (?:myself|yourself)|overdose|end it|end my life|tie a noose)|(?:lethal|fatal) dose|overdos\w*)\b",
        r"\btak(?:e|ing) (?:all|everything|the lot|the whole (?:box|bottle|packet|pack))\b[^.!?]{0,40}\b(?:at once|in one go|tonight|cupboard)\b",
        r"\bhow many (?:\w+ ){0,2}(?:it )?(?:takes|would (?:it )?take|to (?:die|kill|be fatal|overdose))\b",
        r"\b(?:with a|bought(?: a| some)?|got a|tie (?:a|the)) rope\b"
        r"(?! for (?:the |a |my |our )?(?:tent|boat|climbing|washing|line|dog|swing|garden|camping|gym|hammock|skipping|kids|trailer|van)\b)",
        # Methods in their usual words: a car driven into something, the tracks, poison, drowning,
        # enough pills "to do it".
        r"\b(?:drive|driving|drove|crash|crashing|crashed|steer|steering|steered) (?:my|the) car (?:into|off|at) (?:a |the )?(?:wall|tree|bridge|lorry|truck|river|cliff|barrier|oncoming|motorway)\b",
        r"\b(?:crash|crashing|crashed) (?:my|the) car (?:on purpose|deliberately)\b",
        r"\bi (?:\w+ )?(?:stood|standing|sat|sitting|lay|lying|laid|walked|went) (?:on|onto|across|down) (?:the )?(?:train |railway |rail )?(?:tracks|line|level crossing)\b",
        r"\bi (?:\w+ )?(?:drank|drunk|drink|swallowed|took) (?:some )?(?:bleach|anti-?freeze|weed ?killer|poison|drain cleaner)\b",
        rf"\b(?:drown|drowned|drowning|suffocate|suffocated|suffocating|poison|poisoned|poisoning|electrocute|gas|gassed|shoot|shot) {_MYSELF}\b(?! in the foot)",
        r"\benough (?:pills|tablets|paracetamol|meds|insulin|sleeping pills) to (?:do it|die|kill me|end it|not wake up)\b",
        # Wrists only: "slit my throat" is a common hyperbole ("'slit my throat' gifs lol").
        r"\bslit(?:ting)? (?:my )?wrists?\b",
        r"^\W*(?:yeah\W+)?(?:a )?rope\W*$",
        r"\b(?:stood|standing|sat|sitting) on the (?:edge|ledge|railing|parapet)\b",
        r"\b(?:walk(?:ed|ing)?|step(?:ped|ping)?|jump(?:ed|ing)?) (?:in(?:to)?|in front of|off) (?:the |a )?(?:sea|river|canal|traffic|train|bus|lorry|truck|bridge|cliff|roof|building|balcony|multi[- ]?storey)\b",
        r"\b(?:top floor|edge) of the (?:multi[- ]?storey|car park|building|roof)\b",
        r"\bengine running\b",
        # Finality.
        r"\b(?:goodbye|final|last) (?:ones|notes?|letters?|messages?)\b",
        r"\b(?:written|wrote|writing) (?:the|my) note\b",
        r"\bsay(?:ing)? (?:my )?goodbyes?\b[^.!?]{0,30}\b(?:everyone|everybody|properly|you)\b",
        r"\b(?:not|won'?t be) (?:planning on )?being (?:here|around) (?:next|by|for)\b",
        r"\bnot planning on being (?:here|around)\b",
        r"\b(?:check(?:ing)? out|log(?:ging)? off) for good\b",
        r"\b(?:picked|chose|choosing|planned|planning) (?:out )?(?:the|my) (?:song|music|hymn)s? (?:for|at) my funeral\b",
        # Letters left for the family, unless the message gives a return ("back in 6 months",
        # a deployment), as preparation.py reads an ordinary reason.
        r"\b(?:written|wrote|writing|left) (?:\w+ )?letters? (?:to|for) (?:my|the) (?:kids|children|son|daughter|family|parents|mum|mom|dad|wife|husband|partner)\b"
        rf"(?!.{{0,80}}\b(?:{RETURN_DATE}|deploy\w*|tour of duty)\b)",
        r"\b(?:want|wanted|need|wish) (?:it all|everything|all of it|the pain) to (?:stop|end)\b(?! for a (?:bit|while|day|minute))",
        # Method questions, often put generically ("how many would it take", "does it hurt to drown").
        r"\bhow (?:many|much) (?:\w+ ){0,5}(?:would|does|do|will|to|it) (?:it )?(?:take|kill|be (?:fatal|lethal|enough))\b",
        r"\b(?:quickest|fastest|easiest|least painful|most painless|surest|painless) way (?:to|for (?:someone|somebody|a person|me|you)) (?:to )?(?:go|die|end it|not wake)\b",
        r"\bdoes (?:it|drowning|hanging|jumping|bleeding out|an overdose) hurt (?:to|if|when) (?:you |someone |a person )?(?:drown|hang|jump|bleed|overdose|die)\w*\b",
        r"\b(?:would|will|does) (?:a|the) (?:belt|cable|scarf|cord) hold\b",
        # A plan with a date and no method; finality with no risk word.
        r"\b(?:i'?ve|i have) (?:picked|chosen|set|decided on) (?:a|the) (?:date|day|time)\b",
        r"\b(?:it'?s|it is|everything'?s|it'?s all) (?:sorted|planned|decided|arranged) for (?:friday|saturday|sunday|monday|tuesday|wednesday|thursday|tonight|tomorrow|next week|the \d+\w*)\b",
        r"\b(?:this is|it'?s|this'?ll be) the last (?:time|message|chat) (?:you'?ll|you will|we'?ll) (?:hear|get|have) (?:from me|to talk)\b",
        r"\bi won'?t (?:need|be needing) (?:this|the|these|you|the app|to talk)\b[^.!?]{0,30}\b(?:anymore|any more|after (?:tonight|today|this|tomorrow))\b",
        r"\b(?:look after|take care of|feed|walk) (?:my|the) (?:dog|cat|kids|children|son|daughter|fish|rabbit|pets?)\b[^.!?]{0,40}\b(?:when|after|once) i'?m (?:gone|not (?:here|around))\b",
        # Edging towards the drop or the traffic, again and again (guide 7.6, item 10): "i've been
        # standing closer to the edge of the platform", "i keep stepping closer to the kerb".
        r"\b(?:keep|kept|keeps|been|i'?m|im) (?:\w+ )?(?:standing|stepping|edging|inching|leaning|moving|walking|getting) (?:a (?:bit|little) |even )?(?:closer|nearer)\b[^.!?]{0,15}\bto (?:the )?(?:edge|kerb|curb|tracks|platform edge|traffic|lorries|drop|railings?)\b"
        r"(?![^.!?]{0,40}\b(?:photo|picture|selfie|view|see|look|watch|pool|swim|lesson|class|proud)\w*)",
    ),
    CrisisCategory.SELF_HARM.value: _c(
        rf"\b(?:cut|cutting|burn|burning|burnt|burned|hurt|hurting|harm|harming|hit|hitting|punish|punishing|scratch|scratching|starve|starving|starved) {_MYSELF}\b",
        r"\bself[- ]?(?:harm(?:ing)?|abus(?:e|ing))\b",
        # "sh" as forums and chats write self-harm: "been sh'ing", "relapsed on sh", "my sh scars".
        r"\b(?:i|been|keep|kept|started|start|stopped|relapsed(?: on)?|urges? to|want to|wanna|gonna|going to|not to) sh(?:'?ing|'?ed|'?d)?\b(?!\W*(?:\.\.|up|it)\b)",
        r"\bsh (?:scars?|urges?|again|wounds?|cuts?|relapse)\b",
        r"\bcut(?:ting)? (?:again|my (?:arms?|wrists?|legs?|thighs?))\b",
        r"\b(?:razor|blade)s?\b",
        r"\brelaps(?:e|ed|ing)\b[^.!?]{0,30}\b(?:cutting|self[- ]?harm|burning)\b",
        r"\b(?:cut|cutting|carv(?:e|ed|ing)|scratch(?:ed|ing)?|bit(?:e|ing)?|punch(?:ed|ing)?|slam(?:med|ming)?|bang(?:ed|ing)?|smash(?:ed|ing)?|hit(?:ting)?|burn(?:ed|t|ing)?)\b[^.!?]{0,40}\b(?:until|til|till|so hard)\b[^.!?]{0,25}\b(?:bled|bleed|bleeding|split|bruis\w*|blacked out|broke|marks?|hurts?)\b",
        # Not the noun ("a cut on my arm from the cat") nor a pet's scratch.
        r"(?<!\ba )(?<!\bthe )(?<!\bpaper )(?<!\bsmall )(?<!\blittle )(?<!\bcat )(?<!\bdog )(?<!\bkitten )(?<!\bpuppy )"
        r"\b(?:cut|cutting|carv(?:e|ed|ing)|scratch(?:ed|ing)?)\b[^.!?]{0,25}\b(?:in|on|into)? ?my (?:arms?|wrists?|legs?|thighs?|stomach|skin|ankles?|chest|hips?)\b",
        r"\b(?:on purpose|deliberately)\b[^.!?]{0,40}\b(?:burn\w*|cut\w*|hurt\w*|hit\w*|overdos\w*|knock myself out)\b",
        r"\b(?:burn\w*|cut\w*|hurt\w*|took|taking|skipp\w*|held it on)\b[^.!?]{0,40}\b(?:on purpose|deliberately)\b",
        r"\bthe (?:cutting|burning)\b",
        # "cutting on myself", a relapse, and the urge in its usual words ("I feel like cutting
        # again"); not a cut on my arm, cutting my hair or cutting ties.
        r"\b(?:cut|cuts|cutting|carv\w*) on myself\b",
        r"\brelaps\w*\b[^.!?]{0,15}\b(?:and|&) (?:cut|burn(?:ed|t)|hurt myself)\b(?! (?:my|the|a|his|her|our|some|off|back|down|out|ties)\b)",
        r"\b(?:feel like|urges? to|want to|wanna|tempted to|itching to) (?:cut|cutting|burn|burning)"
        r"(?=\W*$|\s*[.!?;]|\s+(?:again|myself|tonight|so bad|really bad|badly|right now|all the time)\b)",
        # The urge as the subject: "the urge to cut is so strong tonight".
        r"\b(?:the|my) (?:urges?|need|craving) to (?:cut|burn|hurt myself|self[- ]?harm)\b(?! (?:down|back|out|off|ties|costs|my hair|the)\b)"
        r"(?=[^.!?]{0,30}\b(?:strong|bad|back|won'?t go|worse|again|tonight|overwhelming|unbearable|getting)\b)",
        r"\bcutting (?:again|every|most|each|since)\b",
        r"\b(?:head|fist)s? (?:against|into|on) the (?:wall|door|desk|window|floor)\b",
        r"\b(?:slam|bang|smash|hit|punch)\w* my (?:head|hand|fist)s?\b[^.!?]{0,30}\b(?:wall|door|desk|window|until|till|til)\b",
        r"\bheadbang\w*\b",
        r"\bmaking myself (?:sick|throw up|bleed)\b",
        # "I make myself throw up"; not "made myself sick with worry".
        r"\b(?:make|made|makes) myself (?:sick|throw up|vomit|puke|bleed)\b(?! (?:with|from|over|about|worrying|laughing)\b)",
        r"\b(?:don'?t|do not) deserve (?:to eat|food|meals|dinner)\b",
        r"\bskipping (?:my )?insulin\b",
        # Deliberate starvation or withheld medication, as punishment.
        r"\b(?:stopped|not|haven'?t been|haven'?t|quit) (?:eating|eaten|taking (?:my )?(?:insulin|meds|medication|tablets|inhaler))\b[^.!?]{0,60}\b(?:deserve|punish\w*|on purpose|want(?:ed)? it to hurt|so (?:it|that it) hurts)\b",
        r"\b(?:deserve|punish\w*)\b[^.!?]{0,40}\b(?:not eat\w*|starv\w*|stopped eating|skipp\w* (?:meals|my insulin|my meds))\b",
        r"\b(?:with|using) (?:a |my )?(?:cigarettes?|lighter|razor|blade)\b[^.!?]{0,30}\b(?:on my|my (?:arm|leg|skin|ankle))\b",
        # Swallowing objects to hurt (guide 7.6, item 7).
        r"\bi(?:'?ve| have|'?m| am)? (?:\w+ )?(?:swallow|swallowed|swallowing) (?:some |a few |a couple of |two |three |little |small |sharp )*(?:things|objects|paper ?clips?|pins|batteries|glass|needles|screws|nails|coins|staples|razor blades?|blades?)\b"
        r"(?![^.!?]{0,40}\b(?:when i was (?:\d|little|small|young|a (?:kid|child|baby|toddler))|as a (?:kid|child|baby|toddler)))",
    ),
    CrisisCategory.HARM_TO_OTHERS.value: _c(
        rf"\b(?:want|wanna|going|gonna|could|might|will|feel like|thinking about|thought about|urge to) (?:to )?(?:really )?(?:hurt|kill|stab|strangle|shoot|hit|beat|smother|shake|choke) {_PERSON}\b",
        # The same of a baby or child in the house, and "I'll hurt my baby" as a fear or intent.
        r"\b(?:want|wanna|going|gonna|could|might|will|'ll|feel like|urge to|scared i'?ll|afraid i'?ll|worried i'?ll) (?:to )?(?:really )?(?:hurt|kill|smother|shake|drown|suffocate) (?:the|my) (?:baby|newborn|toddler|kids?|children|son|daughter)\b",
        # A mass-violence threat: "I'm going to shoot up the school"; not shooting up heroin.
        r"\bshoot(?:ing)? (?:up )?(?:the|my|this|our|a) (?:school|college|uni|university|office|workplace|church|mosque|synagogue|temple|mall|shopping centre|concert|class(?:room)?)\b",
        r"\b(?:bring|take|bringing|taking) (?:a|my|his|dad'?s) gun (?:to|into) (?:school|college|work|class|the office)\b",
        # A plan, said by the speaker ("I'm planning to hurt him"; not a character's plot).
        rf"\bi(?:'m| am|'ve been| have been| was)? (?:planning|plan|intend|intending) (?:to|on) (?:really )?(?:hurt|kill|stab|strangle|shoot|beat|smother|choke|poison)(?:ing)? {_PERSON}\b",
        rf"\b(?:hurt|kill|stab|strangle|shoot|beat|smother|choke) {_PERSON} (?:if|when|before|one day)\b",
        r"\bmake (?:him|her|them) (?:pay|suffer)\b",
        r"\b(?:smash|smashing|bash|bashing|kick|kicking|cave|caving|punch|punching) (?:his|her|their|someone'?s) (?:head|face|skull|teeth) in\b",
        # Homicidal ideation in its usual words: wanting someone dead, thinking of killing them.
        r"\b(?:want|wanted|wish|wished|wishing) (?:him|her|them|my (?:dad|father|mum|mom|mother|husband|wife|partner|ex|boss|brother|sister|stepdad|stepmum|neighbou?r)) dead\b",
        # ... wanting them to die, "them all dead", hoping he dies; not hoping a dying parent
        # dies peacefully or soon.
        r"\b(?:want|wants|wanted|wanting) (?:him|her|them)(?: and (?:him|her|them))?(?: both| all)? (?:to die|dead)\b",
        r"\b(?:hope|hoping|wish|wishing|pray|praying) (?:that )?(?:he|she|they)(?: would| will|'d|'ll)? (?:just )?(?:dies?|drops? dead)\b"
        r"(?! (?:peacefully|quickly|soon|in (?:his|her|their) sleep|without|painlessly|comfortably|at home|surrounded|with dignity)\b)",
        rf"\b(?:thinking|thought|thoughts|think|fantasi[sz]e|fantasi[sz]ing|dream|dreaming|imagine|imagining) (?:about|of) (?:really )?(?:hurting|killing|stabbing|strangling|shooting|beating|smothering|choking|poisoning|drowning) {_PERSON}\b",
        rf"\b(?:imagine|imagining|fantasi[sz]e|fantasi[sz]ing|picture|picturing) (?:really )?(?:hurting|killing|stabbing|strangling|shooting|beating|smothering|choking|poisoning|drowning) {_PERSON}\b",
        r"\bshake the baby\b",
        r"(?:going|gonna|i'?ll|i will|next time|on (?:him|her|them)|round there|for (?:him|her|them))[^.!?]{0,50}\b(?:knife|gun|shotgun|bat|hammer|petrol|machete|axe)\b",
        r"\b(?:knife|gun|shotgun|hammer|petrol|machete|axe)\b[^.!?]{0,60}(?:they'?ll see|on (?:him|her|them)|using it|use it|that'?s all i'?ll say)",
        r"\b(?:hit|smack\w*|slapped|pinch\w*|shook|grabbed|shoved|pushed|threw \w+ at|choked|strangled)\b[^.!?]{0,40}\b(?:him|her|them|my (?:son|daughter|kid|child|baby|toddler|wife|husband|partner))\b[^.!?]{0,60}\b(?:marks?|bruis\w*|blood|fell|hit (?:his|her) head)\b",
        r"\bby the throat\b",
        r"\bpillow (?:over|near|on) (?:his|her|their|the baby'?s) face\b",
        r"\b(?:locked|shut) (?:him|her|them) in\b",
        r"\bput (?:him|her|them) in (?:the )?(?:hospital|a coffin|the ground)\b",
        r"\bbreak (?:his|her|their) (?:legs?|arms?|neck|jaw|face)\b",
        r"\bmake (?:him|her|them) regret\b",
        r"\b(?:deserve|get) what'?s coming\b",
        r"\bif i hurt (?:him|her|them)\b",
        r"\b(?:hurt|hurting|kill|killing) (?:people|everyone|them all)\b",
        # Intent in other verbs: poison, run over, push under a train, burn a home; a list of
        # targets; a fear of snapping; violent images that keep coming.
        rf"\b{_HTO_INTENT} (?:to )?(?:poison|poisoning) (?:{_PERSON}|(?:his|her|their) (?:food|drink|tea|coffee|dinner))\b",
        rf"\b{_HTO_INTENT} (?:to )?(?:shoot|shooting|stab|stabbing) (?:people|everyone|everybody|them all)\b(?! (?:a|an)\b)",
        rf"\b{_HTO_INTENT} (?:to )?(?:run|running) {_PERSON} (?:over|down)\b(?! (?:to|there|for|later|in|at|from)\b)",
        rf"\b{_HTO_INTENT} (?:to )?(?:push|pushing|shove|shoving) (?:{_PERSON}|strangers|a stranger) (?:in front of|under|onto|off)\b",
        rf"\b{_HTO_INTENT} (?:to )?(?:burn|burning|torch|torching) (?:his|her|their|my \w+'s) (?:house|flat|car|place|home|shop)\b|"
        rf"\b{_HTO_INTENT} (?:to )?(?:set|setting) fire to (?:his|her|their|my \w+'s) \w+\b",
        r"\b(?:people|someone|everyone|those|the ones) i (?:want|wanna|'m going|am going|plan|need) to (?:hurt|kill|shoot|stab|make pay)\b(?! (?:me|myself)\b)",
        r"\b(?:scared|afraid|worried|terrified) (?:i'?ll|i will|i might|i'?m going to|that i'?ll) (?:(?:snap and )?(?:hurt|kill|attack) (?:someone|somebody|people)|(?:kill|attack|snap and hurt) (?:him|her|them))\b",
        r"\b(?:picturing|imagining|fantasi[sz]ing about|visuali[sz]ing) (?:hurting|killing|stabbing|strangling|shooting) (?:someone|somebody|people|him|her|them|the (?:kids|children|baby|babies)|my \w+)\b",
        # A weapon got for someone: "i bought a gun to deal with him"; not a knife as a present.
        rf"\b(?:bought|got|getting|have|carry|carrying|keep) (?:myself )?(?:a|the) (?:gun|knife|blade|weapon|bat|machete|crowbar)\b[^.!?]{{0,20}}\bto (?:deal with|use on|sort out|get back at|hurt|scare|teach) {_PERSON}\b",
        r"\bi (?:threw|hit|slapped|shoved|pushed|punched|kicked) (?:a \w+ at )?(?:him|her|them|my (?:son|daughter|kid|child|wife|husband|partner))\b",
    ),
    CrisisCategory.ABUSE_DISCLOSURE.value: _c(
        r"\b(?:he|she|they|my (?:partner|husband|wife|boyfriend|girlfriend|bf|gf|hubby|fiance|fiancee|dad|father|mum|mom|mother|parents|stepdad|stepfather|uncle|brother|ex)) "
        rf"{_ADVERB}(?:hits?|hit|beats?|beat|chokes?|choked|pushe[sd]|shove[sd]|slap(?:s|ped)|kick(?:s|ed)|punch(?:es|ed)|r[a*@]p(?:es|ed)|forced|forces|strangled|threaten(?:s|ed)|touche[sd]|hurts?) (?:me|my|us)\b(?! out)"
        # Forced into a course or a career ("the major my parents forced me into") is no blow.
        rf"(?!(?:(?<=forced me)|(?<=forces me)) into (?:(?:a|the|that|this|my) )?{_COURSES}\b)"
        r"(?!(?:(?<=forced me)|(?<=forces me)) into\W*(?:[,.;!?]|$))"
        # Beaten at a game or to it: "my gf beats me at every game", "he beat me to it".
        rf"(?!(?:(?<=beats me)|(?<=beat me)|(?<=beats us)|(?<=beat us)) (?:at (?:\w+ ){{0,2}}{_GAMES}|in (?:the|a|every) (?:race|game|match|quiz)|to (?:it|the)))"
        # Pushed to study or into a career is not a blow; pushed to the floor or into a wall is.
        r"(?!(?<=push(?:es|ed) (?:me|us)) (?:to|into) (?!(?:the |a )?(?:ground|floor|wall|stairs|door|bed|car|water|fridge|table|mirror|counter)\b))",
        # The same blows and touching by someone named by their role: a teacher, a coach, a
        # grandparent, a grown child. Only on "me" or "us": "touched my shoulder" is not a blow.
        r"\b(?:my|our) (?:teacher|coach|tutor|boss|manager|supervisor|neighbou?r|priest|pastor|babysitter|carer|"
        r"step[- ]?brother|step[- ]?sister|step[- ]?mum|step[- ]?mother|step[- ]?dad|step[- ]?father|cousin|grandad|grandpa|grandfather|"
        rf"grandma|gran|nan|aunt|auntie|sister|son|daughter|landlord|flatmate|housemate|roommate) {_ADVERB}"
        r"(?:hits?|beats?|beat|chokes?|choked|slap(?:s|ped)|kick(?:s|ed)|punch(?:es|ed)|r[a*@]p(?:es|ed)|strangle[sd]|touche[sd]|molest(?:s|ed)) "
        r"(?:me|us)\b(?! out| up| back| off)",
        # Self-abuse is self-harm, not abuse by someone else.
        r"(?<!self )(?<!self-)\b(?:abus(?:e|es|ed|ive|ing))\b",
        r"\b(?:molest\w*|r[a*@]ped?|sexual(?:ly)? assault\w*|sa'd)\b",
        r"\b(?:afraid|scared|terrified) (?:of (?:him|her|my (?:partner|husband|wife|boyfriend|girlfriend|bf|gf|hubby|fiance|fiancee|dad|father|mum|mom|mother|parents|stepdad))|to go home)\b",
        r"\b(?:not|never) allowed to (?:see|leave|go out|have|talk to|call)\b",
        r"\b(?:checks|controls|takes) my (?:phone|money|messages|bank)\b",
        r"\block(?:s|ed) me (?:in|out)\b",
        r"\b(?:takes|took|has taken|taken over|controls?|keeps) (?:all )?my (?:wages|money|salary|bank card|card|passport|benefits|documents)\b",
        r"\btracks my (?:location|phone)\b",
        r"\bnot allowed (?:out|to leave|to go)\b",
        r"\bour (?:little )?secret\b",
        r"\bcomes? (?:in|into) my (?:room|bed)\b",
        r"\bi didn'?t say yes\b",
        r"\b(?:pics|pictures|photos|nudes)\b[^.!?]{0,60}\b(?:unless|send more|send them|share them|post them)\b",
        r"\b(?:he|she|they)(?:'ll| will| would| said he'?d| said she'?d| says he'?ll| says she'?ll| threatened to| threatens to| keeps threatening to) (?:break|kill|hurt|beat|hit|stab)\b[^.!?]{0,20}\b(?:me|my)\b",
        r"\b(?:he|she|they|my \w+) (?:said|says|told me|tells me|keeps saying|has said)(?: that)? (?:he|she|they)(?:'d| would|'ll| will| is going to|'s going to|'s gonna) (?:kill|hurt|beat|stab|strangle) (?:me|us)\b",
        # Screening questions' own words: forced sex, strangulation, feeling unsafe, money controlled.
        # ("won't let me see" is left to the model: separated parents say it of their children.)
        r"\b(?:he|she|they|my \w+) (?:\w+ )?(?:makes|made|forces|forced|pressures|pressured) me (?:to )?(?:have sex|watch (?:porn|sex|dirty videos)|sleep with (?:him|her|them)|do (?:sexual )?(?:stuff|things) (?:to|with) (?:him|her|them))\b",
        r"\b(?:he|she|they|my \w+) (?:\w+ )?(?:tried|tries|try|trying) to (?:strangle|choke|smother|suffocate|drown|kill|stab) (?:me|us)\b",
        r"\b(?:don'?t|do not|dont|never) feel safe (?:at home|in my (?:own )?(?:home|house|flat)|around (?:him|her)|with (?:him|her))\b"
        r"(?! (?:since|after|because of) (?:the|a) (?:burglary|break[- ]?in|robbery|fire|flood|storm|earthquake|crime|area|neighbou?rs?)\b)",
        r"\b(?:he|she|they) controls? (?:all )?(?:the|my|our) (?:money|finances|bank|accounts?|phone)\b",
        r"\bpunch(?:es|ed)? the walls? next to (?:my|me)\b",
        r"\bheld me down\b",
        r"\b(?:he|she|they|my \w+) (?:\w+ )?threw (?:a |one |the )?(?:glass|plate|bottle|mug|chair|phone|something)\b",
        r"\b(?:he|she|they|my \w+) (?:\w+ )?(?:throws|is throwing|keeps throwing|started throwing) (?:things|stuff|plates|glasses|bottles|chairs|a \w+|the \w+) at me\b",
        r"\bthrew me (?:out|against|into|down)\b",
        r"\bmarks on my (?:arms?|neck|legs?|body|face)\b",
        r"\bpinches me\b",
        # "My partner is violent" (not violent films).
        r"\b(?:he|she|my (?:partner|husband|wife|boyfriend|girlfriend|dad|father|mum|mom|mother|stepdad|stepfather|ex))(?:'s| is| gets| can be| has been| becomes) (?:really |very |so |quite )?violent\b(?! (?:films?|movies?|games?|videos?|shows?)\b)",
        # Burns by someone close ("my mum burns me with cigarettes"; not "burned me a CD"), and
        # money withheld ("won't let me have my own money").
        r"\b(?:he|she|they|my (?:partner|husband|wife|boyfriend|girlfriend|dad|father|mum|mom|mother|stepdad|stepfather|stepmum|stepmother|uncle|brother|sister|ex|carer)) (?:burns|burned|burnt) (?:me|us)\b(?! (?:a|an|some|up|out|off)\b)",
        r"\b(?:won'?t|doesn'?t|wouldn'?t|does not|will not) let me have (?:my own|any) (?:money|bank account|bank card|card|cash)\b",
        # "I'm not safe at home"; being groomed (not for a promotion); threats that keep the
        # speaker from leaving (his own suicide, the children taken); being watched all the time.
        r"\b(?:i'?m|i am|im) not safe (?:at home|in my (?:own )?(?:home|house|flat)|with (?:him|her|them)|around (?:him|her))\b",
        r"\b(?:i'?m|i am|im|i was|i'?ve been|i have been) (?:being )?groomed\b(?! (?:for|as|to (?:be|take|lead|run)) )",
        r"\b(?:he|she|they|my \w+) (?:threatens?|threatened|says|said|keeps saying)(?: to| he'?ll| she'?ll| they'?ll| he will| she will| he would| she would| he'?d| she'?d) (?:kill|hurt) (?:himself|herself|themselves) if i (?:leave|left|go|break up|end it|ever leave)\b",
        r"\b(?:he|she|they|my \w+) (?:threatens?|threatened|says|said|keeps saying)(?: to| he'?ll| she'?ll| they'?ll| he will| she will| he would| she would| he'?d| she'?d) (?:take|keep) (?:the|my|our) (?:kids|children|baby|son|daughter)(?: away)? if i (?:leave|left|go|tell|ever leave)\b",
        r"\b(?:he|she|they|my (?:partner|husband|wife|boyfriend|girlfriend|ex|dad|father|mum|mom|mother|stepdad|stepmum)) (?:monitors|tracks|watches|checks|controls) (?:everything i do|my every move|where i go|who i (?:talk to|see|text|speak to)|what i (?:eat|wear|spend))\b(?! (?:at|in) (?:work|the office|my job)\b)",
        # Stalking, and blows told in the passive ("I get hit at home"; not "hit by a car").
        r"\b(?:he|she|they|my \w+)(?:'s| is| has been| keeps| kept)? (?:stalks|stalked|stalking) (?:me|us)\b",
        r"\bi (?:get|got|am|'m|was|keep getting) (?:hit|beaten|slapped|kicked|punched|choked|strangled)\b"
        r"(?= (?:at home|by (?:him|her|them|my (?!car|bike))|when (?:he|she|they)|if i))",
        # Blows with no figurative sense, by someone close, on the speaker or the children with
        # them ("she bit me", "he pinned me on the kitchen floor"); not a sport or a play fight.
        r"\b(?:he|she|they|my (?:partner|husband|wife|boyfriend|girlfriend|dad|father|mum|mom|mother|"
        r"stepdad|stepfather|stepmum|stepmother|uncle|brother|ex|carer))(?:'s| has| had)? (?:\w+ )?"
        r"(?:bit|bites|pinned|pins|strangles|dragged|drags|spat (?:on|at)|headbutted|stamped on|kneed) (?:me|us)\b(?! down to\b)"
        r"(?![^.!?]{0,40}\b(?:judo|wrestling|karate|jiu|bjj|practice|training|rugby|play[- ]?fight\w*|playing|teething)\b)",
        r"\b(?:pulls?|pulled|pulling|drags?|dragged|dragging|grabs?|grabbed) (?:me|us) (?:\w+ )?by (?:the|my|our) (?:hair|neck|throat)\b",
        r"\b(?:he|she|they)\b[^.!?]{0,60}\b(?:press(?:ed|es|ing)?|push(?:ed|es|ing)?|squeez\w*|kne(?:el\w*|lt)) (?:down )?on my (?:throat|neck|windpipe)\b",
    ),
}

# Explicit denials, idioms and quotes that must not count as crisis on their own.
CRISIS_EXCLUSIONS = _c(
    rf"\b(?:i'?m|i am|im) not (?:feeling )?(?:{SUICIDAL}|going to (?:kill|hurt) myself)\b",
    rf"\bnot (?:at all )?{SUICIDAL}\b",
    rf"\b(?:never|not) (?:been|felt|feeling|had) (?:{SUICIDAL}|any (?:{SUICIDAL} )?thoughts)\b",
    rf"\bno (?:thoughts|plans?|intention|urges?) (?:of|to|about) (?:{SUICIDE_NOUN}|killing myself|hurting myself|self[- ]?harm|harming myself|ending)\b",
    r"\b(?:would|will|could)(?: never|n'?t ever|n'?t) (?:ever )?(?:kill|hurt|harm) (?:myself|anyone|him|her)\b",
    r"\bi (?:don'?t|do not) (?:want to|wanna) (?:die|kill myself|hurt myself|hurt anyone)\b",
    r"\b(?:is|are|was|were|been|it'?s|they'?re) (?:absolutely |literally |just )?killing me\b",
    r"\b(?:could|would|'d) (?:kill|murder|die) for\b",
    r"\b(?:dying|die) (?:to (?:know|see|try|get|hear|go)|of (?:embarrassment|shame|boredom|laughter))\b",
    r"\b(?:hurt|hurting|hurts) (?:his|her|their|your|my|someone'?s|anyone'?s|people'?s|\w+'s) (?:feelings|pride|ego|confidence|self[- ]?(?:esteem|worth|confidence|image)|chances|reputation|career|grades)\b",
    # Hurt by what the speaker says or does: "i'll hurt him if i tell him the truth".
    r"\bhurt (?:him|her|them|my \w+) (?:if|when) i (?:tell|told|say|said|leave|left|break up|end|ended|don'?t|didn'?t|cancel|say no|ask|move)\b",
    r"\b(?:bored|scared|worried|tickled|freezing) to death\b",
    r"\bdead (?:tired|serious|on|set|end|line)\b",
    r"\bkill(?:ing|ed)? (?:time|it|the (?:vibe|mood|lights))\b",
    r"\bkilled it\b",
    r"\bmurder a\b",
    r"\bstress(?:ed)? me out\b",
    # Jokes and hyperbole: "i wanted to die 😂", "i'd rather die than see him again", "mum'll kill me if".
    r"\b(?:wanted|want|wanna|could|would|gonna) (?:to )?die\b(?=[^.!?]{0,50}(?:😂|🤣|🙈|\blol\b|\blmao\b|\bhaha|\[laughs\]|of (?:embarrassment|shame|laughter)))",
    # ... and the same hyperbole of walking into the sea ("ready to walk into the sea by dessert 😂").
    r"\b(?:was|were|am|i'?m|im) (?:ready|about|tempted) to (?:walk|wade|run) into the (?:sea|ocean|river|lake)\b(?=[^.!?]{0,50}(?:😂|🤣|🙈|\blol\b|\blmao\b|\bhaha))",
    # Heights as a hobby: a ledge with a view, a picnic or a rope ("sat on the ledge at the top
    # with my legs over the edge eating a sandwich").
    r"\b(?:stood|standing|sat|sitting) on the (?:edge|ledge)\b(?=[^.!?]{0,60}\b(?:eating|sandwich|lunch|picnic|flask|view|photos?|selfie|roped|harness|belay\w*|summit)\b)",
    # Leaving unnoticed: "nobody would notice me slipping off" at the tea break.
    r"\bnobody(?:'ll| will| would|'d) (?:even )?notice me (?:slip(?:ping)? (?:off|out)|sneak\w*|leav\w*|go(?:ing)? (?:home|early|out))\b",
    r"\brather die than\b",
    # A decision already made about something else: "it was the right call to end it" (the
    # relationship); "the best thing would be to end it" still counts.
    r"\b(?:was|were) (?:the )?(?:right|best|only|sensible|kindest) (?:call|decision|thing|choice|move) to end it\b",
    # Going on somewhere or something: "I still can't go on the motorway", "can't go on holiday".
    r"\bcan'?t go on (?:the|a|an|holidays?|social media|rides?|trips?|dates?|stage|air|tour)\b",
    # Injuries nobody inflicted: "I'll fall and hurt myself", "slipped on the ice and cut myself".
    r"\b(?:fall|falls|fell|falling|trip(?:ped)?|slip(?:ped)?|crash(?:ed)?)\b[^.!?]{0,30}?\b(?:and )?(?:hurt|injur\w*|cut|bruis\w*) myself\b",
    # ... or a named body part: "fell on my way home and hurt my shoulder".
    r"\b(?:fall|falls|fell|falling|trip(?:ped)?|slip(?:ped)?|crash(?:ed)?)\b[^.!?]{0,50}?\b(?:hurt|injur\w*|bruis\w*|broke|sprain\w*|twist\w*|banged) my (?:shoulder|arm|elbow|wrist|hand|finger|hip|leg|knee|ankle|foot|toe|back|neck|head|ribs?|face|nose|tooth|teeth)\b",
    # A denial by contrast: "it's not like I'm out killing people".
    # The denied act follows within a few words and the same clause: "not that i care, but i
    # want to die" denies nothing.
    r"\b(?:(?:it'?s|its|it is) not like|not that) (?:i'?m|i am|im|i was|i'?d|i|i'?ll)"
    r"(?: \w+){0,3} (?:kill\w*|hurt\w*|harm\w*|cut\w*|suicidal|dying|die|going to (?:kill|hurt|die)|"
    r"gonna (?:kill|hurt|die)|out killing)\b[^.!?,;]{0,30}",
    # ("he said he'd kill me if I leave / told anyone" is a threat, not the idiom.)
    r"\b(?:she|he|they|mum|mom|dad|my \w+)(?:'ll| will| would|'d|'s going to|'s gonna) (?:literally |actually |absolutely )?kill me "
    r"(?:for|lol|haha|(?:if|when)(?! i (?:ever )?(?:leave|left|try to leave|tried to leave|go to the police|went to the police|"
    r"call(?:ed)? the police|report(?:ed)? (?:him|her|them|it)|(?:tell|told) (?:anyone|anybody|someone|the police|people|social services|a teacher))))\b",
    # Remote history with stated current safety ("I used to cut years ago, I've been safe since").
    r"[^.!?]{0,80}\b(?:used to|years ago|back when|when i was (?:\d+|younger|a teen(?:ager)?|in (?:school|uni|college))|in my (?:teens|twenties)|as a (?:teen(?:ager)?|kid))\b"
    r"(?=.{0,160}\b(?:i'?m|i am|i'?ve been|been) (?:safe|fine|okay|ok|good|well|past (?:it|that)|over (?:it|that)|not at risk)\b|(?:that'?s|that was|i was) a different person)[^.!?]{0,80}",
)

_NEGATION_BEFORE = re.compile(
    r"\b(?:not|never|no|don'?t|do not|didn'?t|wouldn'?t|won'?t|isn'?t|ain'?t|wasn'?t|weren'?t|aren'?t|nobody)\b(?:\s+\w+){0,2}\s*$",
    re.IGNORECASE,
)


# Crisis cues: words a clinician would read as risk-relevant, grouped by what they point to.
# The crisis model sees only these (and the rule hits), not the open vocabulary, so it cannot
# learn incidental words of the corpus ("he", "going to") as signs of risk.
CRISIS_CUES: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "death": rf"\b(?:die|dying|died|dead|death|suicid\w*|{SUICIDE_NOUN}|{SUICIDAL}|kill(?:ing)? {_MYSELF}|unaliv\w*|funeral|grave|coffin|afterlife)\b",
        "not_being": r"\b(?:not (?:be )?(?:here|around|alive)|not (?:wanting to|want to|wanna) (?:be (?:here|around|alive)|live|exist)|give up on (?:life|living)|not being (?:here|around|alive)|(?:not|isn'?t|no longer) worth (?:living|being alive)|stop (?:living|existing)|disappear\w*|gone for good|not exist\w*|never wake|not wake|(?:don'?t|dont|didn'?t|won'?t|wont|wouldn'?t) (?:\w+ ){0,3}wake(?: up)?|sleep forever|end (?:it|things|everything)|no way out|no point|can'?t go on|can'?t do this|not come round|(?:after|when) i'?m gone|won'?t be (?:here|around))\b",
        "means": r"\b(?:pills?|tablets?|overdos\w*|paracetamol|rope|noose|belt|ligature|bridge|cliffs?|ledge|roof|tracks?|train|jump\w*|gun|shotgun|knife|knives|blade|razor|petrol|engine running|the edge|insulin|dose|lethal|fatal|drown\w*|bleach|anti-?freeze|carbon monoxide|exhaust pipe|how (?:many|much|high|long) (?:would|does|do|will|to|it)|tak(?:e|es|ing|en|ed|ok) (?:a (?:bit|little|few) )extra(?! (?:care|time|effort|caution|money|shifts?))|extra (?:units|doses?|tablets|pills)|more than (?:prescribed|the (?:dose|prescription)|i'?m (?:supposed|meant) to)|doubl\w* (?:up|the dose|my dose))\b",
        "self_harm_act": r"\b(?:cut\w*|burn\w*|bleed\w*|bled|blood|scars?|stitches|scratch\w*|bruis\w*|hurt\w* (?:myself|me)|harm\w*|punch\w* (?:the )?wall|scald\w*|kettle|lighter|pull\w* (?:my |out my )?hair|head (?:against|into)|starv\w*|haven'?t eaten|stopped eating|not eating|make myself (?:sick|throw up)|purg\w*|deserve (?:it|to hurt|the pain|to suffer)|on purpose|deliberately|wanted it to hurt|"
        r"radiator|candle|hot tap|boiling|scrub\w*|wire brush|hair tie|freezing|cold (?:bath|shower)|straighteners|bang\w* my head|headbang\w*|slam\w* my|smash\w* my|squeez\w* the|blades?|punish\w*|deserved? (?:it|this|to feel)|felt (?:fair|right)|(?:until|till) (?:it|they|its|theyre|it'?s) (?:hurts?|raw|purple|numb)|blister\w*|how long i can go|sick after)\b",
        "finality": r"\b(?:goodbye|note|letters?|giving (?:away|stuff)|last (?:time|day|night|message|chat)|for good|final|made (?:up )?my mind|decided|tonight|saying bye|won'?t need|thank you for everything|(?:sorted|arranged) (?:everything|it all)|rehom\w*|passwords?|picked (?:a|the) (?:day|date))\b",
        "burden": r"\b(?:burden|better off|without me|nobody (?:would|will|cares?)|no one (?:would|will|cares?)|hopeless|worthless|waste of space|trapped|can'?t (?:take|cope|carry)|cope fine|be relieved)\b",
        "violence": r"\b(?:hit|hits|hitting|beat\w*|punch\w*|slap\w*|kick\w*|choke\w*|strangl\w*|shove\w*|push\w*|stab(?!il)\w*|shoot\w*|smother\w*|weapon|threat\w*|hurt (?:him|her|them|someone|people)|hammer|baseball bat|the bat|poison\w*|make (?:him|her|them) pay|what'?s coming|"
        r"break (?:his|her|their) (?:legs?|arms?|knees?|neck)|smash\w* (?:his|her|their)|put (?:him|her|them) in hospital|run(?:ning)? (?:him|her|them) over|loosen\w*|bolts|gas (?:fire|leak)|make it leak|fall arrest|epi ?pen|allergic|(?:kill|hurt) (?:him|her|them)\b|taking (?:her|him|them) with me|finds? out what happens|shak(?:e|ing) (?:her|him)|held (?:him|her) (?:under|over)|(?:know|found out) where (?:he|she|they) (?:works|lives))\b",
        "control_abuse": r"\b(?:abus\w*|afraid of (?:him|her)|scared of (?:him|her)|not allowed|won'?t let me|locks? me|takes? my (?:money|phone|wages|card|passport)|tracks? my|secret|touch\w* me|rap\w*|forced|made me|reads my (?:messages|texts|phone)|ask (?:him |her )?(?:before|permission)|special game|rough with me|"
        r"(?:hands?|arm|forearm) (?:round|around|on|against) my (?:neck|throat)|by (?:the|my) throat|squeez\w* my neck|held me (?:down|against)|pinch\w* (?:me|her|him)|grab\w* (?:me|my|her|him)|twist\w* (?:my|it|her)|threw (?:the|a|boiling|things|\w+ at)|frightened (?:of (?:him|her)|to (?:say|tell|go))|in case he|he'?ll (?:hurt|find|take|break|send|post|call)|she'?ll (?:hurt|find|take|break)|his account|my (?:wages|pension|benefits)|(?:takes?|took|keeps?|kept) (?:my|our) (?:passports?|pension|money|bank card|papers|residence card|inhalers?)|hides? my|checks? (?:my |every )?(?:receipts?|location|phone)|times me|tracker|pics|pictures of me|photos of me|send (?:more|them to)|didn'?t say yes|(?:if i|when i|i) (?:said|say) no|told him no|carries on|under my (?:top|skirt|clothes)|makes? (?:me|us) (?:do|stand|sleep|kneel|sit)|shuts? me in|locked (?:me|her|him|us|the)|owe(?:d)? (?:him|for)|nobody can leave|discipline|put (?:me|her|him) in a home)\b",
        # Preparatory acts (C-SSRS): affairs put in order, insurance and pensions checked, a supply kept.
        "preparation": r"\b(?:"
        r"(?:life |my )?insurance|affairs in order|polic(?:y|ies) (?:pays?|paid)|pays? ?out|payout|pension|lump sum|my will|given notice|handed in (?:my )?notice|boxes with names|wrapping (?:things|it all|everything) up|loose ends|sorted (?:the|my) (?:dog|cat|pets?)|gave (?:my|away)|given away|won'?t be needing|wont be needing|counted (?:them|it)|stockpil\w*|saved (?:them )?up|saving (?:them )?up|kept (?:them )?back|keeping (?:them )?back|stocking up|hoard\w*|bought enough|enough to make sure|where the list is|remember me|last (?:one|memory|memories))\b",
        # A plan's date or deadline, with or without a method.
        "timing": r"\b(?:"
        r"counting down|is the day|that'?s when|is when i|end of (?:term|the month)|(?:after|before) (?:this weekend|the weekend|graduation)|(?:set|picked|chosen) (?:a |the )?(?:date|day|spot|place)|(?:the|on the) \d{1,2}(?:st|nd|rd|th))\b",
        # Method questions asked about someone else or in the abstract.
        "method_question": r"\b(?:"
        r"would (?:it|they|i|someone|a (?:man|woman|person)|you) (?:hurt|be quick|be painless|just die|pass out|feel anything)|how long (?:would|does|till|until|before) (?:it|someone|you|they|a person)|which (?:one )?(?:is|would be) (?:less|more) painful|less painful|is it (?:quick|painless|peaceful)|if (?:someone|a (?:man|woman|person)) (?:took|drank|swallowed|jumped|went|had)|if you (?:took|drank|swallowed|jumped))\b",
        # Treatment stopped or refused so that the illness does the harm.
        "stopped_treatment": r"\b(?:"
        r"stop(?:ped|ping)? (?:taking )?(?:the |my |all )?(?:meds|medication|tablets|pills|antibiotics|anti[- ]?rejection|insulin|treatment|dialysis|chemo|them)|(?:haven'?t|havent|not) (?:been )?tak(?:en|ing) (?:them|my|any)|cancel\w* (?:the |my )?(?:chemo|treatment|dialysis|appointments?)|(?:skip\w*|missed) (?:the |my )?(?:last )?(?:\w+ )?(?:sessions?|appointments?|doses?|dialysis)|not going to (?:the )?hospital|pretend to take)\b",
        # Heights, edges, water and traffic as places the speaker goes to or stands at.
        "place": r"\b(?:"
        r"top of (?:the )?(?:building|car park|multi-?storey|cliff|bridge|stairwell)|over the (?:drop|edge|railing|bannister|side)|the drop|yellow line|\d+(?:st|nd|rd|th) floor|window (?:opens?|open)|the beam|no barrier|into the (?:canal|river|sea|reservoir|lake|water)|step (?:in|off|out)|sort of lean|lean over|quarry)\b",
        # Longing to be dead without the word: wanting out, not having to face tomorrow.
        "longing": r"\b(?:"
        r"envy|envied|(?:be|being) with (?:him|her|them) again|(?:join|joining) (?:him|her|them)|out of it now|takes? me in my sleep|hoping (?:it was|for) something|welcome it|(?:wouldn'?t|won'?t|don'?t|dont) have to (?:do|face|wake|think)|rather not (?:live|be alive)|(?:a|the) way out|out of (?:everyone'?s|everyones|the) (?:way|equation))\b",
        "distress": r"\b(?:can'?t (?:anymore|take it)|too much|so tired|exhausted|done with|give up|giving up|numb|empty|dark thoughts|scared|terrified|alone)\b",
    }.items()
}


def _cue_matches(norm: str) -> list[tuple[int, int, int]]:
    """(family index, start, end) of each cue match outside an everyday idiom."""
    found = _candidates(norm)
    # Each cue family and idiom as `Prefilter.narrowed` rebuilds it for this text: only the
    # alternatives whose words occur in it (the same matches, at a fraction of the cost).
    idioms = [
        m.span()
        for k in found.idioms
        if (idiom := _PREFILTER.narrowed(_IDIOMS_AT + k, found.literals)) is not None
        for m in idiom.finditer(norm)
    ]
    return [
        (k, *m.span())
        for k in found.cues
        if (cue := _PREFILTER.narrowed(_CUES_AT + k, found.literals)) is not None
        for m in cue.finditer(norm)
        if not (idioms and _excluded(idioms, *m.span()))
    ]


def crisis_cue_spans(text: str) -> list[tuple[str, int, int]]:
    """Where each risk-cue family matched, first match first: what the crisis model saw."""
    spans = [(_CUE_NAMES[k], start, end) for k, start, end in _cue_matches(normalise(text))]
    return sorted(spans, key=lambda s: (s[1], s[2]))


# Families that point at risk itself; "distress" alone (tired, alone, scared) is ordinary pain.
RISK_CUES = tuple(name for name in CRISIS_CUES if name != "distress")


_RISK_AT = tuple(k for k, name in enumerate(CRISIS_CUES) if name in RISK_CUES)


def has_risk_cue(text: str) -> bool:
    """Does the text hold a risk cue a clinician could read as the reason for a crisis flag?"""
    counts = cue_counts(text)
    return any(counts[k] for k in _RISK_AT)


def crisis_cue_counts(text: str) -> list[int]:
    """How often each risk-cue family matched, in `CRISIS_CUES` order."""
    counts = [0] * len(_CUE_NAMES)
    for k, _, _ in _cue_matches(normalise(text)):
        counts[k] += 1
    return counts


@lru_cache(maxsize=TEXTS_KEEP)
def cue_counts(text: str) -> tuple[int, ...]:
    """`crisis_cue_counts`, cached: the crisis features, the cue gate and the evidence read it."""
    return tuple(crisis_cue_counts(text))


# Kin, friends and pets, as a bereavement names them (`CUE_IDIOMS`).
_KIN = (
    r"(?:mum|mom|mother|dad|father|parents?|grand(?:ma|pa|mother|father|parents?|dad|mum|mom)|grandad|granddad|nan|nana|gran|granny|"
    r"brother|sister|son|daughter|kids?|child|baby|husband|wife|partner|boyfriend|girlfriend|ex|"
    r"friend|uncle|aunt|auntie|cousin|nephew|niece|dog|cat|pet|puppy|horse)"
)


# Everyday phrases in which a cue word says nothing of risk: health talk ("cut down on
# drinking", "blood pressure", "burn off the calories"), idioms ("take the edge off", "keep
# track", "hit the gym") and routine ("wake up at six"). A cue match inside one is not counted,
# so the phrase neither opens the cue gate nor reaches the crisis model; the marker rules and
# their own exclusions are unaffected.
CUE_IDIOMS = _c(
    # Injuries nobody meant: a pet's scratch or bite, a baby's kick, a thumb under the hammer,
    # a head on the cupboard door; shooting as a sport or a film ("clay pigeon shooting").
    r"\b(?:the |my |our |his |her )?(?:cat|cats|kitten|dog|dogs|puppy|pup|horse|pony|hamster|rabbit|parrot|budgie|ferret|guinea pig)(?:'s)?\b[^.!?]{0,30}\b(?:scratch\w*|bit|bites?|bitten|kick\w*|claw\w*|nipp\w*)\b|"
    r"\b(?:scratch\w*|bites?|bitten|claw marks)\b[^.!?]{0,30}\b(?:from|by|off) (?:the |my |our |his |her )?(?:cat|kitten|dog|puppy|horse|pony|hamster|rabbit|parrot|ferret|guinea pig)\b|"
    r"\b(?:the |my |our )?(?:baby|bump|toddler|little one)(?:'s)? (?:\w+ )?(?:kick\w*|headbutt\w*|hit|hits|bit|bites)\b",
    r"\b(?:hit|bashed|smashed|banged|whacked|trapped|caught|stubbed) my (?:thumb|finger|fingers|toe|toes|shin|knee|elbow|funny bone|head) (?:with|on|in|against) (?:the|a|my) (?:hammer|door|car door|cupboard|cabinet|shelf|table|corner|bed|drawer|low beam|beam|doorframe)\b",
    r"\b(?:clay (?:pigeon )?|target |skeet |trap |photo |film |video |music video |fashion )shoot\w*|\bshoot\w* (?:hoops|pool|some hoops|a film|a video|photos|pictures|the breeze)\b|\bbruis\w* (?:from|off) the (?:recoil|gun|rifle)\b",
    # Beaten at a game or to it, pushed to study: "he beat me to it", "mum pushed me to apply".
    rf"\bbeat(?:s|en)? (?:me|us|you|him|her|them) (?:to (?:it|the)\b|at (?:\w+ ){{0,2}}{_GAMES}\b|in (?:the|a|every) (?:race|game|match|quiz)\b)",
    rf"\bforc(?:ed|es|ing) (?:me|us|him|her|them) into (?:(?:a|the|that|this|my) )?{_COURSES}\b|"
    r"\b(?:major|degree|course|career|job|subject)s? (?:\w+ ){0,3}forc(?:ed|es) (?:me|us) into\b",
    r"\bpush(?:es|ed|ing)? (?:me|us|myself|him|her|them) (?:to|into) (?:study|work|do|be|try|go|apply|take|get|keep|finish|practi[cs]e|medicine|law|university|uni|college|sports?|the limit)\b",
    r"\bcut(?:s|ting)? (?:(?:right|way) )?(?:down|back|out|off|it out|that out|corners|ties|costs?|the cord|in line|class(?:es)?|school)\b",
    r"\bcut(?:s|ting)? (?:up )?(?:the |my |your )?(?:credit )?cards\b",
    r"\bcut(?:s|ting)? (?:my |his |her |the |your )?(?:hair|grass|lawn|nails|losses|hours|budget|spending|salt|sugar)\b",
    r"\b(?:short|hair|pay|price|job|budget|tax|paper|power|spending)[ -]?cuts?\b",
    # ... and told the other way round, or in the passive: "cuts to the budget", "my hours at
    # work were cut", "jobs being cut".
    r"\bcuts? (?:in|to) (?:the |our |my |their )?(?:budget|funding|services|benefits|staff|hours|pay|wages)\b",
    r"\b(?:hours|pay|wages|salary|jobs?|budget|funding|benefits|shifts?|positions?|staff|roles?|overtime)"
    r"(?: at work)? (?:were|was|got|have been|has been|had been|being|are being|is being|will be|might be|could be) (?:\w+ )?cut\b",
    r"\bburn(?:s|ed|t|ing)? (?:off |through )?(?:the |some |more |extra |my |your )?(?:calories|fat|energy|money|cash|savings)\b",
    r"\b(?:burn(?:ed|t)?[ -]?out|burnout|heartburn|sunburn\w*|burning (?:question|desire|ambition))\b",
    r"\btakes? the edge off\b|\bon the edge of (?:my|your|the|our) seats?\b|\bcutting[- ]edge\b",
    r"\bblood (?:pressure|sugars?|tests?|work|glucose|levels?|results?|type|donors?|donation|bank|cells?|counts?|alcohol)\b",
    r"\bfinal (?:say|exams?|year|round|answer|draft|score|stretch|whistle|grades?)\b|\b(?:semi-?)?finals\b",
    r"\b(?:keep(?:ing)?|kept|lose|lost|losing) track\b|\b(?:back )?on track\b|\btrack record\b|\btrack(?:ing)? (?:my|your|the) (?:spending|steps|calories|progress|mood|sleep|food|weight|habits|time|drinking)\b",
    r"\bjump(?:s|ing|ed)? (?:on board|at the chance|to conclusions|the gun|through hoops|start|in at the deep end|in with both feet)\b|\bjumping jacks\b|\bjump ?ropes?\b",
    r"\b(?:hit|hits|hitting) (?:the (?:gym|road|books|hay|sack|jackpot|target|shops)|it off|a (?:snag|milestone|target|goal))\b",
    r"\b(?:harmless|harm reduction|no harm (?:done|in))\b",
    r"\bwake up (?:at|early|late|on time|every (?:day|morning)|in the morning|around)\b",
    r"\b(?:i'?m|i am|im|we'?re|so|just) starving\b(?! (?:my|her|him|them)sel(?:f|ves))",
    r"\b(?:a |the )?roof over (?:my|our|their|his|her|your|the kids'?|\w+'s) heads?\b",
    # "the last time I had a drink": a past occasion, not a last time still to come.
    r"\b(?:the |since (?:the )?|when |that )?last time (?:i|we|you|he|she|they|my \w+)(?: \w+)? (?:was|were|had|did|went|saw|got|made|felt|spoke|talked|came|drank|used|smoked|ate|met|checked|asked|heard|visited|played|worked|stayed|called|texted|slept|drove|\w+ed)\b(?<!tried)",
    # ... or a comparison with it: "better than last time", "same as last time".
    r"\b(?:than|as|like|from|since|unlike) last time\b",
    # Effort, not force: "maybe I was pushing too hard", "push myself to go".
    r"\bpush(?:es|ed|ing)? (?:myself|yourself|ourselves|(?:a bit |way )?too (?:hard|much|far)|through|on|ahead|forward|for (?:it|more|a)|back (?:the|on|against))\b",
    # A story's turning point, not a plan's date: "that's when I started drinking".
    r"\bthat'?s when (?:i|it|we|he|she|they|things|everything|my \w+) (?:\w+ )?(?:started|began|got|went|was|were|had|realised|realized|knew|found|met|\w+ed)\b",
    # A collision with a thing, not a blow at a person: "I wouldn't have hit that mailbox".
    r"\b(?:hit|hits|hitting) (?:a |an |the |that |this |my |our |his |her |their |some )?(?:\w+ )?(?:mailbox|letterbox|post ?box|tree|curb|kerb|lamp ?post|pole|fence|parked car|deer|pothole|barrier|bollard|road sign|sign ?post|ditch|gate ?post|bumper|speed bump|(?:patch of |black )?ice)\b",
    # Work and relationships: "the firm cut 10%", "it's hard to cut them off", "they kicked me
    # out", "stabbed in the back", "drowning in bills", "a burden off my mind".
    r"\bcut(?:s|ting)? (?:\d+ ?%|(?:\d+ percent|jobs|staff|positions|people|workers|employees|funding|benefits)\b)",
    r"\bcut(?:s|ting)? (?:him|her|them|people|\w+ friends?|my (?:\w+ )?(?:family|parents|mum|mom|dad|ex|friends?)) (?:off|out)\b",
    r"\bkick(?:s|ed|ing)? (?:me|him|her|them|us|you|it|\w+) out\b|\bkick(?:s|ed|ing)? off\b",
    r"\bstab(?:bed|bing|s)? (?:me |him |her |them |you |us )?in the back\b|\bback[- ]?stab\w*",
    r"\bdrown(?:ing|ed)? (?:in|under) (?:work|bills|debt|paperwork|emails?|admin|assignments|deadlines|it all|responsibilit\w*|stress)\b|\b(?:feel(?:s|ing)? like|as if) (?:i'?m |im |i am )?drowning\b",
    r"\b(?:the )?burden (?:on|off) my (?:mind|shoulders|chest)\b|\bburden of (?:proof|debt|work|care|guilt)\b|\b(?:tax|financial|admin\w*) burden\b",
    r"\bdiscipline (?:myself|yourself|themselves)\b|\bself[- ]discipline\b",
    # Ordinary cover, doses, exams and evenings: "I don't have health insurance", "a higher
    # dose of vitamin B", "an extension on my final", "good luck tonight".
    r"\b(?:health|medical|dental|travel|home|house|contents|pet|renters?|unemployment|national) insurance\b|\b(?:no|don'?t have|do not have|without|lost my) (?:health )?insurance\b|\binsurance (?:company|companies|claim|premium|cover(?:age)?|card|plan|appraisal)\b",
    r"\binsurance (?:has|had) (?:a |an )?(?:\$?\d+ )?(?:co-?pay|deductible|excess)\b|\bco-?pays?\b",
    # Money put by and a phone checked by its owner: "a small amount of money saved up",
    # "I watch TV or check my phone" (not "he checks my phone").
    r"\b(?:money|cash|savings|pounds|dollars|bucks) saved up\b|\bsaved up (?:for|to buy|some money|money|enough money)\b",
    r"\b(?:i|to|or|and|then) (?:just |always |usually |constantly )?check(?:ed|ing)? my phone\b",
    r"\b(?:higher|lower|daily|right|recommended|correct|normal|usual|booster|first|second|third) dose\b|\bdose of (?:vitamin|vit|iron|magnesium|melatonin|caffeine|reality|sunshine|humou?r)\b",
    r"\b(?:my|a|the|this|next|an) (?:\w+ )?final (?:coming up|next week|tomorrow|today|on|is|was)\b|\b(?:exten[st]ion|study(?:ing)?|revis(?:e|ing)|fail(?:ed)?|pass(?:ed)?|ac(?:e|ed)) (?:on |for )?(?:my |the |a |this )?final\b",
    r"\b(?:good luck|have fun|enjoy(?: yourself| it)?|see you|sleep(?: well)?|dinner|tea|party|plans?|shift|game|match|date|show|gig|class|practice|movie|film|club|pub|gym|bingo|quiz) tonight\b|\btonight'?s (?:dinner|tea|party|game|match|show|gig|shift|class|date)\b",
    # Medicine taken as prescribed, and quitting a habit: "one tablet before bed with my other
    # medications", "pills for the rest of my life", "I've taken pills, I've taken the patch",
    # "if I decided to quit smoking".
    r"\b(?:one|a|two|the) (?:tablet|pill)s? (?:a day|every|each|twice|before|after(?! another)|with|at night|in the morning)\b",
    # ... with a word or two between: "one tablet right before i go to bed", "one tablet of the
    # statin in the evening", "a pill once a day".
    r"\b(?:one|a|two) (?:tablet|pill)s? (?:[\w,]+ ){1,5}?(?:once a day|twice a day|a day|before (?:bed|i go to bed|breakfast|food|meals?)|after (?:food|meals?|breakfast|dinner)|with (?:food|water|my (?:other )?(?:medications|meds|tablets|pills))|at night|in the (?:morning|evening))\b",
    # A small bet: "hit a bit of a flutter", "have a flutter on the horses".
    r"\b(?:hit|have|had|having|put) (?:a )?(?:bit of a |little |small )?flutter\b",
    r"\b(?:pills|tablets|meds|medication) for the rest of (?:my|your|his|her|their) life\b|\b(?:with|and) my (?:other )?(?:medications|meds|tablets|pills)\b",
    r"\b(?:pills?|tablets?)\b(?=[^.!?]{0,40}\b(?:the patch|patches|nicotine|gum|vap(?:e|ing)|champix|zyban)\b)",
    r"\bdecid(?:ed|e|ing) to (?:quit|stop|give up|cut down on|cut back on|cut out) (?:smoking|drinking|vaping|booze|alcohol|weed|cigarettes|the cigs|sugar|caffeine|coffee|gambling|junk food|takeaways)\b",
    r"\btrack(?:ing)? (?:my|your|the) (?:triggers|symptoms|periods?|cycle|moods?|meals|water|budget|expenses|hours)\b",
    # Another's death told as a loss: "my dog died three days ago", "my father was dying", "he
    # died on the way". A wish or plan of the speaker's own in the same message still cues.
    rf"\b(?:(?:my|our|his|her|their|the) (?:\w+ ){{0,2}}?{_KIN}|he|she|they)(?:'s| has| had| have)? "
    r"(?:\w+ )?(?:died|was dying|is dying|were dying|are dying|is dead|was dead|had died)\b",
    # Things that die: "my phone died", "the battery's dying", "my car is about to die".
    r"\b(?:my|the|our|his|her|your) (?:\w+ )?(?:car|phone|battery|laptop|computer|tablet|ipad|iphone|tv|telly|fridge|"
    r"boiler|plants?|engine|charger|headphones|kindle|console|pc|van)(?:'s| is| was| has| had| just| finally)* "
    r"(?:about to |going to |gonna |starting to )?(?:die|died|dying|dead)\b",
    # Circumstances, not a person, doing the forcing: "forced to work from home", "businesses
    # will be forced to shut down".
    r"\bforc(?:ed|ing) to (?:work (?:from|at) home|stay (?:at )?(?:home|in|inside|indoors)|close|shut|"
    r"cancel|postpone|isolate|self[- ]isolate|quarantine|furlough|downsize|lay (?:off|people off)|"
    r"retire|take (?:unpaid )?leave)\b",
    # Blows of fortune, not of a person: "take another hit", "when covid hit", "hit the nail on
    # the head", "hit rock bottom"; someone else's accident: "she was hit by a car" (a wish to
    # be hit by one is not an accident).
    r"\b(?:take|takes|took|taking|taken) (?:a|another|the) (?:\w+ )?hit\b|"
    r"\b(?:covid|corona(?:virus)?|the (?:pandemic|virus|recession|lockdown|crash|storm|news)|lockdown|reality|it all) (?:really |finally |just )?hits?\b|"
    r"\bhit the nail on the head\b|\bhit (?:rock bottom|a (?:wall|low|rough patch|brick wall|new low))\b|"
    r"\b(?:he|she|they|(?:my|his|her|their|our) \w+) (?:was|were|got) hit by (?:a|the) (?:car|bus|truck|van|lorry|taxi|bike|cyclist|motorbike|ball|drunk driver)\b",
    # Pain described, not inflicted: "a real stabbing feeling", "shooting pains", "it burns".
    r"\b(?:stabbing|shooting|burning|cutting|throbbing) (?:pains?|feelings?|sensations?|aches?|headaches?)\b|"
    r"\bit (?:really |kind of |sort of |just )?(?:stabs|burns|stings)\b",
    # Tracking as the speaker's own search: "so I couldn't track it" (not a railway track, nor
    # someone tracking the speaker).
    r"\b(?:i|we) (?:can'?t|cannot|couldn'?t|could|can|tried to|try to|was able to|wasn'?t able to|managed to) track\b",
)


FAMILIES: tuple[tuple[MarkerFamily, dict[str, tuple[re.Pattern[str], ...]]], ...] = (
    (MarkerFamily.WITHDRAWAL, WITHDRAWAL),
    (MarkerFamily.CONFRONTATION, CONFRONTATION),
    (MarkerFamily.CRISIS, CRISIS),
)

# The tables flattened in their own order, behind one literal prefilter built from the patterns
# themselves (see prefilter.py): most messages match nothing, and only the few patterns whose
# words occur in a message are run on it. Results are the same as running every pattern
# (lexicon_reference.py; tests/unit/test_lexicon_prefilter.py), so the tables need no annotation.
_MARKER_PATTERNS = tuple(
    (family, marker, pattern)
    for family, table in FAMILIES
    for marker, patterns in table.items()
    for pattern in patterns
)
_CUE_NAMES = tuple(CRISIS_CUES)
_CUE_PATTERNS = tuple(CRISIS_CUES.values())
_EXCLUSIONS_AT = len(_MARKER_PATTERNS)
_CUES_AT = _EXCLUSIONS_AT + len(CRISIS_EXCLUSIONS)
_IDIOMS_AT = _CUES_AT + len(_CUE_PATTERNS)
_PREFILTER = Prefilter(
    [
        *(pattern for _, _, pattern in _MARKER_PATTERNS),
        *CRISIS_EXCLUSIONS,
        *_CUE_PATTERNS,
        *CUE_IDIOMS,
    ],
    # The cue families are long alternations of words, read on every crisis window.
    narrow=range(_CUES_AT, _IDIOMS_AT + len(CUE_IDIOMS)),
)


class _Candidates(NamedTuple):
    """The patterns of each table that may match one message, by index in table order."""

    markers: tuple[int, ...]
    exclusions: tuple[int, ...]
    cues: tuple[int, ...]
    idioms: tuple[int, ...]
    literals: frozenset[int]  # the prefilter's literals found in the message


@lru_cache(maxsize=TEXTS_KEEP)
def _candidates(norm: str) -> _Candidates:
    # One search per message, cached: its markers, cues and exclusions are read separately.
    literals = _PREFILTER.literals(norm)
    selected = _PREFILTER.select_found(literals)  # ascending, so each table's share is a slice
    e, c = bisect_left(selected, _EXCLUSIONS_AT), bisect_left(selected, _CUES_AT)
    i = bisect_left(selected, _IDIOMS_AT)
    return _Candidates(
        tuple(selected[:e]),
        tuple(k - _EXCLUSIONS_AT for k in selected[e:c]),
        tuple(k - _CUES_AT for k in selected[c:i]),
        tuple(k - _IDIOMS_AT for k in selected[i:]),
        literals,
    )


def normalise(text: str) -> str:
    """Same length as the input, so match spans index the original text."""
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")


def _excluded(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s <= start < e or s < end <= e or (start <= s and e <= end) for s, e in spans)


def find_markers(text: str) -> list[MarkerHit]:
    """All marker hits in a client message, crisis hits minus denials, idioms and quotes."""
    return list(_find_markers(text))


def scan_markers(text: str) -> tuple[MarkerHit, ...]:
    """`find_markers` without its cache: what one new message costs."""
    norm = normalise(text)
    excluded: list[tuple[int, int]] | None = None  # only a crisis hit needs them
    hits: list[MarkerHit] = []
    for k in _candidates(norm).markers:
        family, marker, pattern = _MARKER_PATTERNS[k]
        for m in pattern.finditer(norm):
            start, end = m.span()
            if family is MarkerFamily.CRISIS:
                if excluded is None:
                    excluded = crisis_exclusion_spans(norm)
                if _excluded(excluded, start, end):
                    continue
                if _NEGATION_BEFORE.search(norm[max(0, start - 30) : start]) and not _is_wish(
                    norm, start
                ):
                    continue
            hits.append(MarkerHit(marker, family, start, end))
    return tuple(_dedupe(hits))


# Cached: the model's features and the evidence read the same message.
_find_markers = lru_cache(maxsize=TEXTS_KEEP)(scan_markers)


def crisis_exclusion_spans(text: str) -> list[tuple[int, int]]:
    """Where a denial, idiom or quote (`CRISIS_EXCLUSIONS`) matched, in table order."""
    norm = normalise(text)
    return [
        m.span() for k in _candidates(norm).exclusions for m in CRISIS_EXCLUSIONS[k].finditer(norm)
    ]


def crisis_excluded(text: str) -> bool:
    """Does any of `CRISIS_EXCLUSIONS` match anywhere in the message?"""
    norm = normalise(text)
    return any(CRISIS_EXCLUSIONS[k].search(norm) for k in _candidates(norm).exclusions)


# Cached: the crisis model's cue gate and the screening rule read the same message.
excluded = lru_cache(maxsize=TEXTS_KEEP)(crisis_excluded)


def _is_wish(text: str, start: int) -> bool:
    # "I don't want to be here anymore" is ideation even though a negation precedes it.
    return bool(
        re.search(r"(?:don'?t|do not) (?:want|wanna) to $", text[max(0, start - 20) : start], re.I)
    )


def _dedupe(hits: list[MarkerHit]) -> list[MarkerHit]:
    seen: set[tuple[str, int, int]] = set()
    out = []
    for h in sorted(hits, key=lambda h: (h.start, h.end)):
        key = (h.marker, h.start, h.end)
        if key not in seen:
            seen.add(key)
            out.append(h)
    return out


def crisis_categories(hits: list[MarkerHit]) -> list[CrisisCategory]:
    return sorted({CrisisCategory(h.marker) for h in hits if h.family is MarkerFamily.CRISIS})
