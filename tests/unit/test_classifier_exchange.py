"""A minimal reply right after a misattuned AI turn: which replies the exchange rule reads, and
how it reaches the assessment (score, evidence, trigger, withdrawal)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from attune_classifier import exchange
from attune_classifier.assess import Assessor
from attune_classifier.features import steers
from attune_classifier.handlers import notable
from attune_classifier.scoring import (
    ContextTurn,
    LexiconScorer,
    MessageScore,
    ScoringInput,
    is_closed_question,
)
from attune_classifier.window import Windows
from attune_runtime.clock import ManualClock
from attune_schemas import RuptureAssessment, RuptureType
from tests.factories import T0, Script

SUGGESTION = "Have you considered joining a carers' support group? Many people find it helps."
DISCLOSURE = "my mum didn't know who i was on sunday and i sat in the car park for an hour after"


def reply(text: str, *context: ContextTurn) -> ScoringInput:
    return ScoringInput(
        text=text,
        context=context or (ContextTurn("client", DISCLOSURE), ContextTurn("ai", SUGGESTION)),
    )


@pytest.mark.parametrize("text", ["fine", "whatever", "ok", "i guess", "nothing really", "k"])
def test_a_short_reply_to_an_ai_turn_is_read(text: str) -> None:
    assert exchange.eligible(reply(text))


@pytest.mark.parametrize(
    "text",
    [
        "thanks, that helps",
        "ok thank you",
        "you too!",
        "bye",
        "hello?",
        "are you still there?",
        "ok?",
        "honestly i have tried groups before and they made it worse for me",
        "   ",
    ],
)
def test_thanks_greetings_questions_and_long_replies_are_not(text: str) -> None:
    assert not exchange.eligible(reply(text))


REFLECTION = "So she didn't know you, and you sat there for an hour."


PROPOSAL = "There are carers' groups that meet near you. Would you be willing to try one this week?"


@pytest.mark.parametrize("text", ["yeah", "Mm-hmm.", "yes", "ok", "right", "Yeah, yeah.", "No."])
def test_assent_counts_after_a_turn_that_steered_and_not_after_a_reflection(text: str) -> None:
    after_proposal = reply(text, ContextTurn("client", DISCLOSURE), ContextTurn("ai", PROPOSAL))
    assert exchange.eligible(after_proposal)  # the unasked-for suggestion, as a question
    assert not exchange.eligible(
        reply(text, ContextTurn("client", DISCLOSURE), ContextTurn("ai", REFLECTION))
    )
    minimising = "At least she's safe where she is. Try to look after yourself."
    assert exchange.eligible(
        reply(text, ContextTurn("client", DISCLOSURE), ContextTurn("ai", minimising))
    )


def test_a_reflection_that_names_an_activity_did_not_steer() -> None:
    reflection = "So being part of a group and a team gives you a sense of belonging."
    context = (ContextTurn("client", DISCLOSURE), ContextTurn("ai", reflection))
    assert not exchange.eligible(reply("Mm-hmm.", *context))
    proposal = "Have you thought about joining a group? It might help."
    told = ContextTurn("client", DISCLOSURE)
    assert exchange.eligible(reply("Mm-hmm.", told, ContextTurn("ai", proposal)))
    assert not exchange.eligible(reply("yes please", told, ContextTurn("ai", proposal)))


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("What do you do for work these days?", "finance"),
        ("Who else was there on Sunday?", "my brother"),
        ("How are you feeling about it now?", "disgusted"),
        ("Did you manage to sleep at all?", "no"),
        ("Have you told your sister?", "yes"),
    ],
)
def test_a_brief_answer_to_the_question_is_not_a_withdrawal(question: str, answer: str) -> None:
    assert not exchange.eligible(reply(answer, ContextTurn("ai", question)))


@pytest.mark.parametrize("text", ["I don't know. Whatever.", "ok yeah i'll try it", "if you want"])
def test_hedges_and_deference_are_withdrawn_forms(text: str) -> None:
    assert exchange.withdrawn_form(text)


@pytest.mark.parametrize(
    "text", ["ok yeah i'll try it", "ok sure sounds good i guess", "yeah ok you're probably right"]
)
def test_a_longer_reply_made_only_of_stock_forms_is_read(text: str) -> None:
    assert exchange.eligible(reply(text))


@pytest.mark.parametrize(
    "text",
    ["ok i guess i could ask my brother to sit with her", "yeah, and i'll try it on sunday then"],
)
def test_a_longer_reply_with_words_of_its_own_is_not(text: str) -> None:
    assert not exchange.eligible(reply(text))


@pytest.mark.parametrize(
    ("turn", "closed"),
    [
        ("Are you asking how to end the chat?", True),  # opens with an auxiliary
        ("Have you tried a counsellor? It is always helpful to talk.", True),  # not last
        ("You okay?", True),
        ("And your mum lives nearby, doesn't she?", True),
        ("So, what's been going on since Sunday?", False),
        ("Where would you like to go with it?", False),
        ("I hope it goes well! Moving on, how is the sleep diary going?", False),
        ("That sounds really hard.", False),  # no question at all
        ("So you really feel she was upset when you met her?", True),
        ("You mentioned your mum, how is she doing?", False),
        ("have you tried to talk to him about it, it is always helpful", True),  # no mark
    ],
)
def test_a_question_is_closed_by_how_it_opens(turn: str, closed: bool) -> None:
    assert is_closed_question(turn) is closed


def test_yes_to_a_question_about_the_past_answers_it_and_to_a_proposal_is_read() -> None:
    asked = "Have you thought about talking to a professional? It is always helpful."
    assert not exchange.eligible(
        reply("Yes", ContextTurn("client", DISCLOSURE), ContextTurn("ai", asked))
    )
    assert exchange.eligible(
        reply("Yes", ContextTurn("client", DISCLOSURE), ContextTurn("ai", PROPOSAL))
    )


@pytest.mark.parametrize(
    "turn",
    [
        "I hope it goes well! Moving on, how are you getting on with the sleep diary?",
        "Everyone has moments like that! I bet most people didn't even notice.",
        "Shall we make that list now?",
    ],
)
def test_moving_to_the_ais_agenda_minimising_and_proposing_steer(turn: str) -> None:
    assert steers(turn)
    assert exchange.eligible(
        reply("ok", ContextTurn("client", DISCLOSURE), ContextTurn("ai", turn))
    )


def test_agreement_with_a_turn_that_did_not_steer_is_not_read() -> None:
    relating = "I can relate to that a lot, it is a hard place to be."
    context = (ContextTurn("client", DISCLOSURE), ContextTurn("ai", relating))
    assert not exchange.eligible(reply("Same.", *context))
    assert not exchange.eligible(reply("me too", *context))


def test_a_withdrawn_word_counts_after_a_reflection_too() -> None:
    assert exchange.eligible(
        reply("whatever", ContextTurn("client", DISCLOSURE), ContextTurn("ai", REFLECTION))
    )


def test_a_reply_with_no_ai_turn_before_it_is_not_read() -> None:
    assert not exchange.eligible(ScoringInput(text="fine"))
    assert not exchange.eligible(reply("fine", ContextTurn("client", DISCLOSURE)))


def test_shrink_is_measured_against_the_clients_recent_turns() -> None:
    assert exchange.shrink(reply("fine")) == pytest.approx(1 - 1 / len(DISCLOSURE.split()))
    # As long as what came before: nothing shrank.
    same = reply("one two three", ContextTurn("client", "a b c"), ContextTurn("ai", SUGGESTION))
    assert exchange.shrink(same) == 0.0
    # No earlier client turn: unknown, half counts.
    alone = reply("fine", ContextTurn("ai", SUGGESTION))
    assert exchange.shrink(alone) == exchange.UNKNOWN_SHRINK


class _Constant:
    """A model that calls every exchange a withdrawal with probability p."""

    def __init__(self, p: float) -> None:
        self.p = p
        self.seen: list[str] = []

    def predict_proba(self, items: Sequence[ScoringInput]) -> np.ndarray[Any, Any]:
        self.seen += [i.text for i in items]
        return np.array([[1 - self.p, self.p] for _ in items])


def test_scores_are_the_models_probability_times_shrink_and_zero_elsewhere() -> None:
    model = _Constant(0.8)
    items = [reply("fine"), reply("thanks so much"), reply(DISCLOSURE)]
    got = exchange.scores(model, items)
    assert got[0] == pytest.approx(0.8 * exchange.shrink(items[0]))
    assert list(got[1:]) == [0.0, 0.0]
    assert model.seen == ["fine"]  # the model reads only what the rule applies to


class _ExchangeScorer(LexiconScorer):
    """The marker scorer, with an exchange score for one reply text."""

    exchange_notable = 0.6

    def __init__(self, text: str, value: float) -> None:
        self.text, self.value = text, value

    def score_batch(self, inputs: Sequence[ScoringInput]) -> list[MessageScore]:
        return [
            replace(s, exchange=self.value) if i.text == self.text else s
            for i, s in zip(inputs, super().score_batch(inputs), strict=True)
        ]


def story() -> Script:
    s = Script("maya")
    s.ai("How have things been since Tuesday?")
    s.client(DISCLOSURE, 60)
    s.ai(SUGGESTION)
    s.client("fine", 140)
    return s


def assess(value: float) -> dict[str | None, RuptureAssessment]:
    assessor = Assessor(
        scorer=_ExchangeScorer("fine", value),
        windows=Windows(max_conversations=10, idle_expiry=timedelta(hours=6)),
        clock=ManualClock(T0),
    )
    return {a.message_id: a for a in assessor.process([(e, 0) for e in story().events])}


def test_a_withdrawn_exchange_names_itself_and_the_ai_turn_it_answers() -> None:
    fine = assess(0.7)["m4"]
    assert fine.scores.exchange == 0.7
    assert fine.rupture_type is RuptureType.WITHDRAWAL
    [evidence] = [e for e in fine.evidence if e.marker == "shrank_after_misattuned_turn"]
    assert (evidence.start, evidence.end, evidence.source) == (0, 4, "model")
    assert fine.triggering_turn is not None
    assert fine.triggering_turn.message_id == "m3"
    assert fine.recent_turns  # the clinician sees the exchange


def test_below_the_notable_score_the_exchange_is_only_a_number() -> None:
    fine = assess(0.5)["m4"]
    assert fine.scores.exchange == 0.5
    assert "shrank_after_misattuned_turn" not in {e.marker for e in fine.evidence}
    assert fine.recent_turns == ()


def test_a_withdrawn_exchange_is_logged_at_info_and_one_below_it_is_routine() -> None:
    # The exchange threshold sits below the score-based NOTABLE: its evidence decides.
    assert notable(assess(0.7)["m4"])
    assert not notable(assess(0.5)["m4"])


@pytest.mark.parametrize(
    ("turn", "answer"),
    [
        ("I'm thinking you're upset because you can't leave. Is that correct?", "yes, very stuck."),
        ("I'm glad you have them. Is there anything else on your mind today?", "nothing"),
        ("have you tried to talk to him about how you feel when you argue", "yes"),
        ("Please end the conversation if there is nothing left for me to help you with.", "Ok."),
    ],
)
def test_answers_to_closed_questions_and_to_plain_requests_are_not_read(
    turn: str, answer: str
) -> None:
    context = (ContextTurn("client", DISCLOSURE), ContextTurn("ai", turn))
    assert not exchange.eligible(reply(answer, *context))


def test_the_opening_exchange_has_nothing_to_misattune() -> None:
    # No client turn before: "How are you doing today?" cannot have missed what she said.
    opening = ContextTurn("ai", "Hello! How are you doing today?")
    assert not exchange.eligible(reply("I don't know.", opening))
    told = ContextTurn("client", DISCLOSURE)
    assert exchange.eligible(reply("I don't know.", told, ContextTurn("ai", SUGGESTION)))


@pytest.mark.parametrize(
    ("turn", "answer"),
    [
        ("Did you manage the gratitude list we talked about?", "no. forget it"),
        ("Did you manage to track your spending this week?", "no. doesn't matter"),
        ("It's better to be honest. Can you talk to your manager tomorrow?", "yeah ok"),
        ("Family is so important. Do you think you could plan a visit this week?", "ok"),
    ],
)
def test_an_answer_that_closes_the_door_or_assent_to_a_proposal_is_read(
    turn: str, answer: str
) -> None:
    context = (ContextTurn("client", DISCLOSURE), ContextTurn("ai", turn))
    assert exchange.eligible(reply(answer, *context))


@pytest.mark.parametrize(
    "turn",
    [
        "That's a good sign. Would you like to keep the same plan for next week?",
        "Do you want me to pin it so it's there tomorrow?",
        "Would it be okay to talk about her for a bit?",
    ],
)
def test_yes_to_an_offered_choice_answers_it(turn: str) -> None:
    told = ContextTurn("client", "Better than I expected! I managed two mornings this week.")
    assert not exchange.eligible(reply("Yeah", told, ContextTurn("ai", turn)))


@pytest.mark.parametrize(
    ("turn", "answer"),
    [
        (
            "I'd like to check in about your alcohol use too, if that's okay with you.",
            "Yeah, sure.",
        ),
        ("There are some things you could do. Would you be interested in knowing?", "Yeah."),
        ("Would you be open to looking at the low-risk drinking guidelines?", "Okay."),
        ("Could I run some ideas by you that other people have tried?", "Sure."),
    ],
)
def test_assent_to_asked_permission_or_an_offered_choice_answers_it(turn: str, answer: str) -> None:
    context = (ContextTurn("client", DISCLOSURE), ContextTurn("ai", turn))
    assert not exchange.eligible(reply(answer, *context))
    # A door closed on the offer is still read.
    assert exchange.eligible(reply("whatever", *context))


@pytest.mark.parametrize(
    "text", ["Sure. I can quit.", "Yeah, absolutely.", "ok good idea", "nope, im scared"]
)
def test_enthusiasm_and_words_of_the_replys_own_are_not_withdrawn_forms(text: str) -> None:
    assert not exchange.eligible(reply(text))


@pytest.mark.parametrize(
    "text", ["Oh, okay.", "[pause] No. It's fine.", "Just me. It doesn't matter.", "um. whatever"]
)
def test_fillers_aside_and_a_door_closed_after_content_are_withdrawn_forms(text: str) -> None:
    assert exchange.withdrawn_form(text)


@pytest.mark.parametrize(
    ("text", "form", "assent"),
    [
        ("[pause] Yeah. Maybe.", True, False),
        ("[laughs] Yeah. Yeah, I suppose.", True, False),
        ("[pause] Yes.", True, True),
        ("Um [pause] okay.", True, True),
        ("[sighs] I went to the GP on Monday.", False, False),
        # Words nobody could make out are still words.
        ("Yeah, yeah, [unintelligible 00:01:13] hmm.", False, False),
    ],
)
def test_a_transcript_mark_opening_a_reply_is_read_past(
    text: str, form: bool, assent: bool
) -> None:
    """ "[pause] Yeah. Maybe." is read as "Yeah. Maybe.": the mark says how, not what."""
    assert exchange.withdrawn_form(text) is form
    assert exchange.assents(text) is assent


def test_the_model_learns_from_every_short_reply_and_scores_only_withdrawn_forms() -> None:
    asked = ContextTurn(
        "ai", "Sitting on the stairs while he carries the boxes past. Is he still there?"
    )
    answer = reply("yeah. 2 more boxes", ContextTurn("client", DISCLOSURE), asked)
    assert exchange.candidate(answer) and not exchange.eligible(answer)
    assert exchange.candidate(reply("fine")) and exchange.eligible(reply("fine"))
    for text in ("thanks so much", "are you still there?", DISCLOSURE):
        assert not exchange.candidate(reply(text))


def test_assent_with_fillers_to_a_reflection_is_not_read() -> None:
    reflection = ContextTurn(
        "ai", "So you're not like those chain smokers, you're not smoking packs a day."
    )
    for text in ("Oh, no. No.", "Uh, yeah.", "No, not really.", "Sounds good."):
        assert not exchange.eligible(reply(text, ContextTurn("client", DISCLOSURE), reflection))


def test_try_steers_as_an_imperative_and_not_inside_a_reflection() -> None:
    assert steers("Try to get some sleep tonight.")
    assert steers("Why don't you try journaling?")
    assert not steers("So you go along with your peers to try to fit in more.")


@pytest.mark.parametrize(
    "turn",
    [
        "And it sounds like you really feel you need some kind of-",
        "So, if I could just ask you a couple of questions—",
        "Like some immediate feedback in terms of like [inaudible 00:05:53]",
    ],
)
def test_a_backchannel_to_a_turn_broken_off_mid_sentence_is_not_read(turn: str) -> None:
    item = reply("Uh-huh.", ContextTurn("client", DISCLOSURE), ContextTurn("ai", turn))
    assert not exchange.candidate(item)


def test_a_finished_turn_or_a_smiley_is_not_broken_off() -> None:
    for turn in (SUGGESTION, "Have you considered a support group? Many find it helps :-)"):
        item = reply("ok", ContextTurn("client", DISCLOSURE), ContextTurn("ai", turn))
        assert exchange.eligible(item)


LECTURE = ContextTurn(
    "ai", "Shouting really does damage children. You've got to think about your kids too."
)
ACCURATE = ContextTurn("ai", "And that look he gave you has stayed with you all day.")


@pytest.mark.parametrize(
    "text",
    [
        "yeah. i know. won't happen again",
        "my bad",
        "i'm probably being silly",
        "ok. ignore me",
        "yeah you're right. i overreacted",
    ],
)
def test_yielding_after_a_lecture_is_read_and_after_a_reflection_is_not(text: str) -> None:
    disclosure = ContextTurn("client", "i shouted at him this morning. he's six")
    assert steers(LECTURE.text)
    assert exchange.eligible(reply(text, disclosure, LECTURE))
    if text != "yeah you're right. i overreacted":  # "you're right" is read after any turn
        assert not exchange.eligible(reply(text, disclosure, ACCURATE))


def test_yielding_with_words_of_its_own_is_not_a_withdrawn_form() -> None:
    assert not exchange.withdrawn_form("i overreacted a bit, but he was out of order")
    assert not exchange.withdrawn_form("i know it's silly but it really got to me")


def test_indifference_to_a_pressed_plan_is_read_and_to_a_choice_asked_for_is_not() -> None:
    plan = ContextTurn("ai", "Here's a plan: 1) talk calmly, 2) set limits. You could try one.")
    choice = ContextTurn("ai", "Of course. Would you like it as a checklist or a short note?")
    for text in ("any of them", "dunno. any of them", "up to you", "whichever"):
        assert exchange.eligible(reply(text, ContextTurn("client", DISCLOSURE), plan)), text
    for text in ("up to you", "whichever", "either way"):
        assert not exchange.eligible(reply(text, ContextTurn("client", DISCLOSURE), choice)), text


@pytest.mark.parametrize(
    ("turn", "text", "read"),
    [
        ("That's exciting! How does he feel about the move?", "she. yeah fine", True),
        ("How do you think he'll cope with it?", "they. idk", True),
        ("So when he left, what was that like?", "She. Whatever.", True),
        # Content after the correction, the AI's own pronoun echoed, or no person in the turn.
        ("How does he feel about the move?", "she. she's already packing boxes", False),
        ("How does she feel about the move?", "she. yeah fine", False),
        ("How do you feel about the move?", "she. yeah fine", False),
    ],
)
def test_a_one_word_correction_of_the_ais_person_then_a_stock_form_is_read(
    turn: str, text: str, read: bool
) -> None:
    item = reply(text, ContextTurn("client", DISCLOSURE), ContextTurn("ai", turn))
    assert exchange.eligible(item) is read
