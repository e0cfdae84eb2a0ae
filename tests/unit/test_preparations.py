"""Affairs put in order with no reason given are explicit crisis language (the guide's
preparations); the same acts with an ordinary reason, or done by someone else, are not."""

from __future__ import annotations

import pytest

from attune_classifier.preparations import preparation_hits
from attune_classifier.screening import explicit_hits
from attune_schemas import CrisisCategory

IDEATION = CrisisCategory.SUICIDAL_IDEATION.value


@pytest.mark.parametrize(
    "text",
    [
        # Two kinds of preparation.
        "gave my guitar to my brother and told my best mate all my passwords",
        "rehomed the rabbits yesterday. also cancelled all my subscriptions",
        "made my will last week and wrote to each of my kids",
        "asked my aunt to be their guardian and closed my savings accounts",
        # One, with a finality that gives no reason.
        "gave all my books away. won't need them",
        "i've written out the cat's feeding routine for the neighbour, she'll have him long term",
        "cancelled the gym and the phone contract. nothing left to sort now",
        "been to see my solicitor. everything's in order now",
        "gave my niece my mum's ring. just in case",
    ],
)
def test_preparations_without_a_reason_are_ideation(text: str) -> None:
    assert preparation_hits(text)
    assert IDEATION in {h.marker for h in explicit_hits(text, None)}


@pytest.mark.parametrize(
    "text",
    [
        # An ordinary reason in the message.
        "moving abroad in march so i gave my bike to my cousin and cancelled the broadband",
        "big clear-out this weekend, gave all my old clothes away and cancelled netflix",
        "before my operation i asked my sister to be their guardian, just in case",
        "rehomed the dog because the new landlord won't allow pets, and cancelled the lease",
        "gave my old switch to my nephew, he's outgrown the tablet. won't need it now",
        "cancelled my phone contract and went to a new provider, way cheaper",
        # Someone else's act.
        "mum gave my hoodies to the charity shop without asking, so annoying",
        "my dad's made his will and cancelled his gym. he's very organised",
        # One act and nothing final; not a thing given away.
        "updated my will and the power of attorney. then we went for cake",
        "gave my sister a lift to work and my number to her friend",
        "i cancelled the milk deliveries, we never drink it",
        "I'm ready now, what's the first question?",
        # Stated safety.
        "gave my records away and cancelled the papers. i'm not suicidal, just decluttering",
    ],
)
def test_the_same_acts_with_a_reason_or_by_someone_else_are_not(text: str) -> None:
    assert not preparation_hits(text)


def test_the_hit_spans_the_preparations() -> None:
    text = "Gave my records away. And I won't be needing them."
    (hit,) = preparation_hits(text)
    assert text[hit.start : hit.end].lower().startswith("gave my records away")
    assert text[hit.start : hit.end].endswith("won't be needing them")
