"""Everyday phrases that hold a risk-cue word do not open the crisis model's cue gate; the same
words as the speaker's own acts still do. Accidents and denials by contrast are not crisis."""

from __future__ import annotations

import pytest

from attune_classifier.features import asks_about_safety
from attune_classifier.lexicon import crisis_cue_spans, excluded, find_markers, has_risk_cue
from attune_classifier.screening import explicit_hits
from attune_schemas import MarkerFamily


@pytest.mark.parametrize(
    "text",
    [
        "i need to cut down on my drinking before the wedding",
        "cut out fizzy drinks and cut back on bread, feeling better for it",
        "they cut my hours again so money is tight",
        "first step is cutting up the credit cards",
        "the doctor says my blood pressure is too high",
        "i burn off the calories at the gym anyway",
        "a glass of wine just takes the edge off after work",
        "i get the final say on the budget at home",
        "i've been keeping track of my spending this month",
        "i hit the gym three times last week",
        "i wake up at six every day for work",
        "honestly i'm starving, what should i have for dinner",
        "i think i'm heading for burnout at this job",
        "she has to pay for the food and the uniforms, to keep a roof over our heads",
        "i was drinking the last time i had sex",
        "the last time we spoke you said the same",
        "the walk went better than last time, same as last time really",
        "if i'd stopped at two i wouldn't have hit that mailbox on the way home",
        "i hit a patch of ice and the car ended up in the ditch",
        "half the time i wake up and i'm like, what day is it",
        "maybe i was pushing too hard at physio, i push myself a lot",
        "she stayed over at her friend's, and that's when i started drinking",
        "we take a bit extra care with her since the fall",
        "my company has already cut 10% of staff and i'm next",
        "it's hard to cut them off but it's worse if i stay",
        "my landlord kicked me out and my best mate stabbed me in the back",
        "feels like i'm drowning in bills this month",
        "telling her took a burden off my mind",
        "i don't have health insurance so the visit costs $200",
        "the gp put me on a higher dose of vitamin d",
        "my teacher gave me an extension on my final",
        "good luck tonight, enjoy the show",
        "i'm going to track my triggers with the doctor",
        "i'm due down the club tonight",
        "i'll take one tablet before bed with my other medications",
        "the doc said i've got to take pills for the rest of my life",
        "i've tried to quit, i've taken pills, i've taken the patch",
        "if i decided to quit smoking, what would help?",
        "the pandemic has me stressed about my job stability",
        "i was planning on ordering a pair of weighted jump ropes",
        "my teacher gave me an extention on my final",
        "my insurance has a $20 copay so i can't go every week",
        "i have a small amount of money saved up for a deposit",
        "in bed i watch tv or check my phone till i'm tired",
        "i was going to post it but he beat me to it",
        "my mum pushed me to apply for the job",
        "my family isn't pushing me to get a job",
        "the major my parents forced me into",
        "hit my thumb with the hammer putting up shelves",
        "we went clay pigeon shooting with my dad",
        "the dog bit me on the hand at the park",
        "the baby kicked me all night",
        "i'm just gonna take one tablet right before i go to bed",
        "i'll take one tablet of the cholesterol statin, uh, in the evening",
        "you can solve this problem by taking a pill once a day",
        "we had a flutter on the horses",
        # Another's death told as a loss, blows of fortune, circumstances doing the forcing.
        "my grandad died in march and the house feels empty",
        "our old cat sadly died last week",
        "she was dying for most of my second year",
        "we'll take another hit if the shop closes",
        "then the recession hit and nobody was hiring",
        "you hit the nail on the head there",
        "my brother was hit by a car on his bike last year",
        "the whole team was forced to work from home",
        "the gym was forced to close again",
        "there have been cuts to the budget at work",
        "my overtime was cut again this month",
        "my phone died halfway through the call",
        "well my car is about to die so it's the bus for me",
        "it's this shooting pain down my left leg",
        "sometimes it stabs, other times it just aches",
        "i lost my keys and we couldn't track them down",
    ],
)
def test_everyday_phrases_hold_no_risk_cue(text: str) -> None:
    assert not has_risk_cue(text), crisis_cue_spans(text)


@pytest.mark.parametrize(
    "text",
    [
        "i cut my arm again last night",
        "i've been burning myself with a lighter",
        "i've been thinking about jumping in front of the train",
        "i cut down on food until i'm not eating at all, i want to disappear",
        "i'm starving myself on purpose",
        "they cut my hours and honestly everyone would be better off without me",
        "this is the last time i'll talk to anyone",
        "i'm going up on the roof tonight",
        "i wanted to hit him with the car",
        "i don't even want to wake up tomorrow",
        "the life insurance pays out whatever happens, i checked",
        "tonight's the night. i've made my mind up",
        "i'm going to take the whole dose at once",
        "i've decided. i'm saving the pills from the cupboard",
        "i'd like to go to sleep and not wake up",
        "some nights i hope i won't wake up",
        "he pushed me down the stairs",
        "the 15th, that's when i'll do it",
        "if i take a bit extra insulin before bed i wake up shaky, did it three times",
        "i've been taking more than prescribed on purpose",
        "he stabbed me in the arm",
        "he checks my phone every night",
        "i've saved up my tablets",
        "he pushed me to the ground",
        "he beats me at home",
        "i hit my head against the wall on purpose",
        "i want to shoot him",
        "i want to take a pill and never wake up",
        "i took one tablet after another until the box was empty",
        # The same words as the speaker's own wish, or beside one.
        "my dad died last year and i just want to die too",
        "my mum died. i want to be with her again",
        "i hope i get hit by a car on the way home",
        "he hit me again last night",
        "he forced me to have sex with him",
        "since lockdown hit he locks me in the flat",
        "my wrists were cut again last night",
        "i want to cut myself when the pain comes",
        "he can track my location all day",
        "i stand by the tracks at night",
        "my phone died and i sat there thinking i want to die",
    ],
)
def test_the_same_words_as_acts_or_beside_risk_still_cue(text: str) -> None:
    assert has_risk_cue(text)


@pytest.mark.parametrize(
    "text",
    [
        "if i go out on the ice i'll fall and hurt myself",
        "i slipped in the kitchen and cut myself on a glass",
        "well it's not like i'm out killing people or anything",
    ],
)
def test_accidents_and_denials_by_contrast_are_not_crisis(text: str) -> None:
    assert not [h for h in find_markers(text) if h.family is MarkerFamily.CRISIS]


@pytest.mark.parametrize(
    "text",
    [
        "I did fall on my way home from the bar and hurt my shoulder. The drinking made me fall",
        "tripped on the stairs and sprained my ankle, it made me so angry",
    ],
)
def test_a_fall_that_hurt_a_named_body_part_opens_no_cue_gate(text: str) -> None:
    assert excluded(text)


def test_a_fall_does_not_excuse_harm_done_on_purpose() -> None:
    assert not excluded("i cut my wrist on purpose last night")


@pytest.mark.parametrize(
    "text",
    [
        "What, like suicidal?",
        "you mean self-harm?",
        "Yeah, yeah. I'm only here because my wife forced me to come, you know.",
        "my probation officer made me come here",
        'If somebody says that they wanna beat me up, I go "okay then, hit me"',
        "i said my FEET are killing me. not that i'm killing myself",
        "My uncle abused me when I was small. He was convicted, I've done a lot of work. I'm okay.",
    ],
)
def test_a_question_back_being_sent_and_a_hypothetical_are_no_crisis_rule(text: str) -> None:
    assert not [h for h in explicit_hits(text, None) if h.family is MarkerFamily.CRISIS]


@pytest.mark.parametrize(
    "text",
    [
        "you mean am i suicidal? yes i am",
        # A denial by contrast denies only the act right after it, in its own clause.
        "not that i care, but i want to die",
        "it's not like i care, i just want to kill myself",
        "when i was small he hit me and he still does",
        "he forced me to have sex",
        "my husband forced me to go to rehab and then he hit me",
        "my dad beats me when he's drunk",
    ],
)
def test_the_same_words_as_ones_own_risk_stay_crisis(text: str) -> None:
    assert [h for h in explicit_hits(text, None) if h.family is MarkerFamily.CRISIS]


@pytest.mark.parametrize(
    "text",
    ["i want to hurt myself", "i keep cutting myself", "i've thought about killing people"],
)
def test_the_speakers_own_acts_stay_crisis(text: str) -> None:
    assert [h for h in find_markers(text) if h.family is MarkerFamily.CRISIS]


@pytest.mark.parametrize(
    ("turn", "asks"),
    [
        ("Do you have a plan?", True),
        ("Have you made any plans to end your life?", True),
        ("Do you have a plan for how you'd do it?", True),
        ("Are you safe right now?", True),
        ("What a great plan, and you said you're going to start tomorrow.", False),
        ("What's your plan for the weekend?", False),
    ],
)
def test_a_plan_is_a_safety_question_only_when_it_asks_about_risk(turn: str, asks: bool) -> None:
    assert asks_about_safety(turn) is asks
