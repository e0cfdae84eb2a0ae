"""Who and what: crisis words count as explicit crisis only as the speaker's own current risk."""

from __future__ import annotations

import pytest

from attune_classifier.attribution import Who, attribute, own_risk
from attune_classifier.lexicon import crisis_categories, find_markers
from attune_classifier.screening import explicit_hits
from attune_schemas import CrisisCategory, MarkerFamily

OWN_RISK = [
    "i want to die",
    "wanna die tbh",
    "I keep thinking about killing myself",
    "i've been planning my suicide for weeks",
    "i cut myself again last night",
    "i took a bunch of tablets an hour ago",
    "how many of these would it take to not wake up",
    "does it hurt to drown",
    "what's the quickest way for someone to die",
    "i have picked the date",
    "it's all sorted for friday",
    "i've written letters to my kids. i just want it all to stop",
    "i'm going to kill him, not joking",
    "he hits me when he's drunk",
    "I was abused by my uncle and it's still happening",
    "stopped eating because i deserve to feel this",
    "I know killing myself won't help, but I still want to",
]

NOT_OWN_RISK = [
    # support for others
    "if you ever feel like ending it, call me first",
    "please don't kill yourself, you matter",
    "you shouldn't hurt yourself over him",
    # someone else's words or risk
    "my best friend said she wanted to die, how do i help her?",
    "He said to me the other night, 'I sometimes think you'd all be better off without me.'",
    "my brother has been self harming and i'm scared for him",
    "&gt; I want to die\nI hear you, things will get better",
    # topics
    "i volunteer on a suicide prevention helpline two nights a week",
    "the self harm admissions dashboard is my first project",
    "suicide is never the answer",
    "a singer i loved died by suicide last week",
    "my brother aced drug abuse school",
    "he was abusing adderall in college",
    "ending it is not the way to fix things",
    # history, accidents, hyperbole
    "I was once suicidal, years ago",
    "cut myself twice on the mandoline at work",
    "scratched my arms raw in my sleep",
    "i could strangle him lol",
    "i'm going to kill her 😤 jk",
    # denial
    "i'm not suicidal, just exhausted",
    "I wasn't suicidal back then",
]


@pytest.mark.parametrize("text", OWN_RISK)
def test_the_speakers_own_risk_is_explicit_crisis(text: str) -> None:
    hits = explicit_hits(text, None)
    assert crisis_categories(hits), f"missed: {text!r}"


@pytest.mark.parametrize("text", NOT_OWN_RISK)
def test_a_topic_someone_elses_words_or_support_is_not_explicit_crisis(text: str) -> None:
    hits = explicit_hits(text, None)
    assert not crisis_categories(hits), (
        f"{text!r}: {[(h.marker, text[h.start : h.end]) for h in hits]}"
    )


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("if you ever feel suicidal, talk to me", Who.ADDRESSEE),
        ("my friend wants to die", Who.OTHER),
        ("suicide prevention day is next week", Who.TOPIC),
        ("i want to die", Who.SELF),
        ("people who want to die need help", Who.GENERIC),
    ],
)
def test_attribution_names_who_the_phrase_is_about(text: str, who: Who) -> None:
    crisis = [h for h in find_markers(text) if h.family is MarkerFamily.CRISIS]
    assert crisis, text
    assert attribute(text, crisis[0]).who is who


def test_own_risk_keeps_rupture_markers_and_drops_only_crisis_mentions() -> None:
    text = "that's not helpful. my friend is suicidal and you keep talking about breathing"
    hits = find_markers(text)
    kept = own_risk(text, hits)
    assert {h.family for h in kept} == {MarkerFamily.CONFRONTATION}
    assert any(h.family is MarkerFamily.CRISIS for h in hits)


def test_a_yes_to_a_risk_question_still_counts_through_the_rules() -> None:
    hits = explicit_hits("yeah a bit", "Are you having any thoughts of ending your life?")
    assert crisis_categories(hits)


@pytest.mark.parametrize(
    ("text", "abuse"),
    [
        ("my boyfriend bit me so hard it left a mark", True),
        ("she pinned me against the fridge till i said sorry", True),
        ("when he's had a drink he drags me by the hair to the bedroom", True),
        ("he had his knee down and pressed on my throat, i couldn't breathe", True),
        # The same verbs in play, sport, animals and figures of speech.
        ("my brother pinned me in judo practice, my shoulder still hurts", False),
        ("the puppy bit me again, he's teething", False),
        ("my toddler bites me when she's tired, she's 2", False),
        ("the cold really bit me on the walk home", False),
        ("she pinned me down to a date for the meeting", False),
    ],
)
def test_blows_by_someone_close_are_abuse_and_their_look_alikes_are_not(
    text: str, abuse: bool
) -> None:
    hits = explicit_hits(text, None)
    assert ("abuse_disclosure" in {h.marker for h in hits}) is abuse


@pytest.mark.parametrize(
    ("text", "marker"),
    [
        (
            "every night i've been standing a bit closer to the edge of the car park roof",
            "suicidal_ideation",
        ),
        ("i keep edging closer to the traffic on my walk home", "suicidal_ideation"),
        ("i swallowed some pins last night, i wanted it to hurt", "self_harm"),
        ("I've been swallowing batteries", "self_harm"),
        # Photos, a lesson, a bus, a toddler, an idiom and a childhood story.
        ("we've been standing closer to the edge to get photos of the falls", None),
        ("i kept getting closer to the edge of the pool in my lesson, proud of myself", None),
        ("i moved closer to the kerb to let the bus past", None),
        ("my toddler swallowed a coin, we're at a&e", None),
        ("I swallowed my pride and called him", None),
        ("i swallowed two coins when i was 4, mum still tells the story", None),
    ],
)
def test_edging_towards_a_drop_and_swallowing_objects_are_crisis_and_look_alikes_are_not(
    text: str, marker: str | None
) -> None:
    found = crisis_categories(explicit_hits(text, None))
    assert (marker in {c.value for c in found}) if marker else not found


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("i'm ready to walk into the sea tonight. i mean it", True),
        ("i was sitting on the ledge of the multi storey for an hour last night", True),
        ("nobody would notice me gone, not for weeks", True),
        # Hyperbole with a laugh, a ledge with a view, and leaving a meeting early.
        ("the date was so dull i was ready to walk into the sea by the main course 🤣", False),
        ("sat on the ledge at the summit eating my lunch, view was unreal", False),
        ("we were standing on the edge of the crag, roped up, taking photos", False),
        ("there's a break at eight so nobody would notice me slipping out", False),
        ("nobody will notice me leaving early, it's a big party", False),
    ],
)
def test_jokes_heights_as_a_hobby_and_leaving_unnoticed_are_not_explicit_crisis(
    text: str, crisis: bool
) -> None:
    assert bool(crisis_categories(explicit_hits(text, None))) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("i can't go on like this", True),
        ("honestly I can't go on. I'm done", True),
        ("i cant go on anymore, nothing changes", True),
        # Going on somewhere or something is not going on living.
        ("I still can't go on the motorway. I take the long way round every day", False),
        ("we can't go on holiday this year, money's too tight", False),
        ("he's too small, he can't go on the big rides yet", False),
        ("honestly the best thing would be to end it", True),
        ("i know it was the right call to end it, we were miserable", False),
    ],
)
def test_not_going_on_somewhere_or_a_past_breakup_is_not_explicit_crisis(
    text: str, crisis: bool
) -> None:
    assert bool(crisis_categories(explicit_hits(text, None))) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # The screening instruments' own wordings of passive ideation, put as people say them.
        ("i've been wanting to die for weeks", True),
        ("I keep wishing I was dead", True),
        ("lately I've had these thoughts about not wanting to be alive", True),
        ("some days i'm just not wanting to live", True),
        ("honestly life isn't worth living", True),
        ("I want to stop living", True),
        ("I've been thinking about not being alive", True),
        ("I don't want to be around anymore", True),
        ("what's the point of living if it's always this", True),
        ("i don't see the point in carrying on", True),
        ("I just dont have a reason to live", True),
        ("I've lost the will to live", True),
        # Near-attempts and method research.
        ("I stood on the bridge ready to jump", True),
        ("I was on the roof and so close to jumping", True),
        ("I held a knife to my wrist last night", True),
        ("I've been researching ways to die", True),
        ("I'm ready to jump into the new job", False),
        ("my friend looked up ways to die for her essay", False),
        ("I don't want to live like this", True),
        # Where to live, what to go on, and wishes that are not about being dead.
        ("I don't want to live with my mum anymore", False),
        ("we don't want to live in the city", False),
        ("I don't want to go on the school trip", False),
        ("I wish I was here with you guys", False),
        ("I wish I was around more for my kids", False),
        ("if God thought your life was not worth living he'd have taken you", False),
        ("you'll find something worth living for, I promise", False),
    ],
)
def test_ideation_in_its_usual_words_is_explicit_and_its_look_alikes_are_not(
    text: str, crisis: bool
) -> None:
    assert bool(crisis_categories(explicit_hits(text, None))) is crisis


def test_hurting_someones_feelings_is_not_harm_and_self_abuse_is_self_harm() -> None:
    text = "I don't want to hurt her feelings but I'm thinking about ending the relationship"
    assert CrisisCategory.HARM_TO_OTHERS not in crisis_categories(explicit_hits(text, None))
    assert CrisisCategory.HARM_TO_OTHERS in crisis_categories(
        explicit_hits("i want to hurt him", None)
    )
    cats = crisis_categories(explicit_hits("I have a problem with self abuse", None))
    assert cats == [CrisisCategory.SELF_HARM]
    assert CrisisCategory.ABUSE_DISCLOSURE in crisis_categories(
        explicit_hits("he is abusing me", None)
    )


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # Homicidal ideation and the abuse screens' own questions, answered in the first person.
        ("I want him dead.", CrisisCategory.HARM_TO_OTHERS),
        ("I have thoughts of killing him", CrisisCategory.HARM_TO_OTHERS),
        ("I keep thinking about stabbing him", CrisisCategory.HARM_TO_OTHERS),
        ("I've thought about killing my husband", CrisisCategory.HARM_TO_OTHERS),
        ("he threatens to kill me", CrisisCategory.ABUSE_DISCLOSURE),
        ("he makes me have sex when I don't want to", CrisisCategory.ABUSE_DISCLOSURE),
        ("he tried to strangle me last week", CrisisCategory.ABUSE_DISCLOSURE),
        ("I don't feel safe at home.", CrisisCategory.ABUSE_DISCLOSURE),
        ("he controls all the money", CrisisCategory.ABUSE_DISCLOSURE),
        ("my mum hits us with a belt", CrisisCategory.ABUSE_DISCLOSURE),
        ("he pushed me into the wall", CrisisCategory.ABUSE_DISCLOSURE),
        ("I've been starving myself", CrisisCategory.SELF_HARM),
        # Being pushed to study or into a career, feeling unsafe after a burglary, a joke.
        ("my mum pushes me to study harder", None),
        ("my dad pushed me into medicine", None),
        ("I don't feel safe at home since the burglary", None),
        ("I want him dead lol jk he's fine", None),
        ("my friend said she has thoughts of killing him", None),
    ],
)
def test_harm_and_abuse_in_the_screens_words_and_their_look_alikes(
    text: str, category: CrisisCategory | None
) -> None:
    cats = crisis_categories(explicit_hits(text, None))
    assert cats == ([category] if category else [])


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # Someone named by their role: a teacher, a coach, a grandparent, a grown child.
        ("my teacher touched me", True),
        ("my coach touches me after practice", True),
        ("my grandad hits me", True),
        ("my son hits me when he's angry", True),
        ("he always hits me", True),
        # A blow that never landed or was not meant, and what is not a blow at all.
        ("he never hits me, he just shouts", False),
        ("my husband never touched me like that", False),
        ("my son accidentally hit me with a ball", False),
        ("my sister hit me back", False),
        ("my coach kicked me off the team", False),
        ("my teacher touched my shoulder to get my attention", False),
    ],
)
def test_blows_by_someone_named_by_role_are_abuse_and_denied_or_accidental_ones_are_not(
    text: str, crisis: bool
) -> None:
    cats = crisis_categories(explicit_hits(text, None))
    assert (cats == [CrisisCategory.ABUSE_DISCLOSURE]) is crisis
    assert bool(cats) is crisis


_SI, _SH = CrisisCategory.SUICIDAL_IDEATION, CrisisCategory.SELF_HARM
_HTO, _AB = CrisisCategory.HARM_TO_OTHERS, CrisisCategory.ABUSE_DISCLOSURE


# The usual words of C-SSRS question 1, overdoses, urges, threats and wishes.
_OVERDOSE_URGES_THREATS_WISHES: list[tuple[str, CrisisCategory | None]] = [
    # C-SSRS question 1 in the answer's words, and an overdose the speaker took.
    ("i hope i don't wake up tomorrow", _SI),
    ("i pray every night i don't wake up", _SI),
    ("i took an overdose", _SI),
    ("i overdosed last weekend", _SI),
    ("i hope i don't wake up late tomorrow", None),
    ("i hope i don't wake up the baby", None),
    ("i overdosed on sugar at the party", None),
    ("my brother took an overdose and it broke me", None),
    # Self-harm in its usual words; a cut that is a noun, hair and ties are not.
    ("i've been cutting on myself again", _SH),
    ("i relapsed and cut last night", _SH),
    ("i feel like cutting again", _SH),
    ("i have a cut on my arm from the cat", None),
    ("i relapsed and cut my hair short", None),
    ("i feel like cutting ties with her", None),
    ("so i just wanna cut, you know, stop drinking", None),
    # Harm to a step-relation or wider family, wishes and plans; the dying and fiction are not.
    ("i want to kill my stepdad", _HTO),
    ("part of me wants her and him to die", _HTO),
    ("i hope she dies", _HTO),
    ("i'm planning to hurt him", _HTO),
    ("i just hope he dies peacefully now, he's suffering so much", None),
    ("there's a character who's planning to kill her husband", None),
    ("i could kill my cousin for eating my chips lol", None),
    # Threats made to stop the speaker leaving or telling, stalking, passive blows.
    ("he said he'd kill me if i leave", _AB),
    ("she said she would kill me if i told anyone", _AB),
    ("my ex has been stalking me", _AB),
    ("i get hit at home", _AB),
    ("my mum said she'd kill me if i got another tattoo", None),
    ("mum'll kill me if i'm late", None),
    ("i got hit by a car last year", None),
    ("i stalk my ex on instagram lol", None),
]

# Aborted attempts, a baby or a school threatened, coercive control.
_ABORTED_ATTEMPTS_BABY_SCHOOL_CONTROL: list[tuple[str, CrisisCategory | None]] = [
    # Behaviour the C-SSRS asks about, and being a burden in its usual words.
    ("i took the pills out and sat with them but didn't swallow them", _SI),
    ("everyone would be happier if i was gone", _SI),
    ("i forgot my tablets and didn't take them this morning", None),
    ("the tablets were huge, i couldn't swallow them so the gp gave me liquid", None),
    ("it'd be easier if i was gone for the weekend so they can decorate", None),
    # Harm to a baby, feared or meant, and a mass-violence threat.
    ("i'm scared i'll hurt my baby", _HTO),
    ("i want to hurt the baby", _HTO),
    ("i'm going to shoot up the school", _HTO),
    ("i'm going to shoot up some heroin", None),
    ("we're doing a photo shoot at the school tomorrow", None),
    # Coercive control: unsafe at home, grooming, threats that stop a leaving, monitoring.
    ("i'm not safe at home", _AB),
    ("i'm being groomed by an older man online", _AB),
    ("he threatens to kill himself if i leave", _AB),
    ("she says she'll take the kids if i leave", _AB),
    ("he monitors everything i do", _AB),
    ("the kids aren't safe at home while the builders are in", None),
    ("i'm being groomed for the manager role", None),
    ("my manager monitors everything i do at work", None),
]

# Methods, purging and abuse in their usual words.
_METHODS_PURGING_ABUSE: list[tuple[str, CrisisCategory | None]] = [
    # Methods in their usual words, and their everyday look-alikes.
    ("i'm going to drive my car into a wall", _SI),
    ("i've been thinking of crashing the car on purpose", _SI),
    ("i stood on the train tracks last night", _SI),
    ("i bought rope", _SI),
    ("i bought a rope yesterday", _SI),
    ("i've got enough pills to do it", _SI),
    ("i drank bleach", _SI),
    ("i tried to drown myself", _SI),
    ("i slit my wrists last year and i'm thinking about it again", _SI),
    ("the train stood on the tracks for an hour", None),
    ("i bought a rope for the tent", None),
    ("the dog drank bleach and we rushed him to the vet", None),
    ("i shot myself in the foot with that email", None),
    # Purging and starving as punishment; worry is not.
    ("i make myself throw up", _SH),
    ("i haven't eaten in a week because i don't deserve food", _SH),
    ("i made myself sick with worry", None),
    # Harm imagined, burns, watching porn made to, money withheld.
    ("i keep imagining strangling my boss", _HTO),
    ("my mum burns me with cigarettes", _AB),
    ("he makes me watch porn with him", _AB),
    ("my boyfriend won't let me have my own money", _AB),
    ("my sister burned me a cd", None),
]

# Death wishes in the past tense and violence named.
_DEATH_WISHES_AND_VIOLENCE_NAMED: list[tuple[str, CrisisCategory | None]] = [
    ("i wish i'd never been born", _SI),
    ("i wish i could die", _SI),
    ("nobody would care if i died", _SI),
    ("i want to disappear and never come back", _SI),
    ("my step dad touches me", _AB),
    ("he gets violent when he drinks", _AB),
    ("he said he wished i'd never been born", None),
    ("i wish i could die my hair blue", None),
    ("he likes violent films", None),
]

# As chats and forum posts type them: "my self", "wanna", misspellings, shorthand, a left-out "I".
_TYPED_SPELLINGS_AND_SHORTHAND: list[tuple[str, CrisisCategory | None]] = [
    ("well until i become homeless then its time to hang my self", _SI),
    ("i keep hurting my self", _SH),
    ("they really hurt my self-esteem", None),
    ("i hurt my self esteem by comparing myself to her", None),
    ("i dont wanna live anymore", _SI),
    ("i don't wanna be here anymore", _SI),
    ("i dont wanna exist anymore", _SI),
    ("i don't wanna live in this town anymore", None),
    ("i don't wanna go on the trip", None),
    ("i wish i didnt exist", _SI),
    ("i want to give up on life", _SI),
    ("i'm not giving up on life", None),
    ("i wanna sleep forever", _SI),
    ("i could sleep forever after that hike lol", None),
    ("thinking about unaliving myself", _SI),
    ("i'm suicidial", _SI),
    ("feeling sucidal again", _SI),
    ("im not sucidal, just tired", None),
    ("sucide prevention week is coming up", None),
    ("plan to sucide", _SI),
    ("been thinking about suicide a lot", _SI),
    ("thinking about suicide prevention as a career", None),
    ("writing an essay about suicide", None),
    ("i want to off myself", _SI),
    ("i'm going to ctb soon", _SI),
    ("i should just die", _SI),
    ("i should just die in a hole, that was so awkward", None),
    ("i should just die of embarrassment lol", None),
    ("i want to dissapear forever", _SI),
    ("been sh'ing again", _SH),
    ("i relapsed on sh last night", _SH),
    ("my sh scars are showing", _SH),
    ("sh, don't tell anyone", None),
    ("he sa'd me", _AB),
    ("he r*ped me", _AB),
    ("he hurts my confidence every day", None),
    ("i took all of my meds this morning like the doctor said", None),
    # Partners and parents as chats name them; a game lost, a career chosen for someone, a gift.
    ("my bf hits me", _AB),
    ("my hubby hits me when he's drunk", _AB),
    ("my parents beat me", _AB),
    ("my dad throws things at me", _AB),
    ("my uncle molested me", _AB),
    ("i'm gonna kill my bf", _HTO),
    ("i bought a gun to deal with him", _HTO),
    ("my parents beat me at monopoly", None),
    ("my gf beats me at every game", None),
    ("my bf hits the gym every day", None),
    ("child molestation is a serious crime", None),
    ("i bought a knife for her birthday", None),
    ("my dad throws things at the wall when he's angry", None),
    ("instead of the major my parents forced me into, i'd do english", None),
    ("he forced me into the car", _AB),
    ("my parents forced me into a marriage", _AB),
    # An event gone through, someone else's post quoted, letters left before a deployment.
    ("i need to raise it with hr, because i can't keep going through that", None),
    ("i can't keep going to the gym at 6am", None),
    ("i can't keep going like this", _SI),
    ("people post 'i want to die' at 3am and the mods can't be awake", None),
    ("wrote letters for my kids just in case, everyone in the unit does. back in 6 months", None),
    ("wrote letters for my kids just in case. i'm ready now", _SI),
    ("the urge to cut is so strong tonight", _SH),
    ("my urges to cut are back", _SH),
    ("the urge to cut down on sugar is strong", None),
    ("the need to cut costs is getting urgent", None),
    # Harm to others in other verbs, a list of targets, a fear of snapping, violent images.
    ("i've thought about poisoning his food", _HTO),
    ("i want to run him over", _HTO),
    ("sometimes i want to push strangers in front of the train", _HTO),
    ("i'm going to burn his house down", _HTO),
    ("i want to set fire to her car", _HTO),
    ("i've got a list of people i want to hurt", _HTO),
    ("i want to shoot everyone at work", _HTO),
    ("i'm scared i'll snap and hurt someone", _HTO),
    ("i keep picturing hurting the kids at the nursery", _HTO),
    ("i'm going to run her over to the station", None),
    ("the bus nearly ran him over", None),
    ("i'm going to burn my dad's old cds", None),
    ("i'll shoot everyone a message later", None),
    ("after every shoot people go out for drinks", None),
    ("we're going to set fire to the bonfire", None),
    ("i'm scared i'll hurt him if i tell him the truth", None),
    ("i'll hurt him if he touches her again", _HTO),
]


@pytest.mark.parametrize(
    ("text", "category"),
    _OVERDOSE_URGES_THREATS_WISHES
    + _ABORTED_ATTEMPTS_BABY_SCHOOL_CONTROL
    + _METHODS_PURGING_ABUSE
    + _DEATH_WISHES_AND_VIOLENCE_NAMED
    + _TYPED_SPELLINGS_AND_SHORTHAND,
)
def test_crisis_in_its_usual_words_is_explicit_and_its_look_alikes_are_not(
    text: str, category: CrisisCategory | None
) -> None:
    cats = crisis_categories(explicit_hits(text, None))
    assert cats == ([category] if category else [])
