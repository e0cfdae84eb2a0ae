"""The rated-turn evaluation reports why a rating is or is not a rupture: each half of the score,
how often short replies come with each rating, and the reply's length alone."""

from __future__ import annotations

from attune_classifier.scoring import LexiconScorer
from attune_models import replay
from attune_models.dialogues import Dialogue, DialogueTurn
from attune_models.realdata import rated_turns

LONG = (
    "my landlord says we have to be out by the end of the month and i have nowhere to go, "
    "my sister has no room and the council keeps putting me on hold"
)


def chat(k: int) -> Dialogue:
    turns = (
        DialogueTurn("client", "hi, it has been a rough week", None),
        DialogueTurn("ai", "I'm sorry to hear that. What happened?", None),
        DialogueTurn("client", LONG, 2),
        DialogueTurn("ai", "That sounds frightening. Have you looked at emergency housing?", None),
        DialogueTurn("client", "ok", 5),
        DialogueTurn("client", "so-so", 3),  # a middle rating is left out
    )
    return Dialogue(f"c{k}", "test", turns, {})


def test_short_replies_and_length_are_reported_by_rating() -> None:
    convs = [chat(k) for k in range(8)]
    replayed = replay.assess(LexiconScorer(), [(d.conversation_id, d.events()) for d in convs])

    out = rated_turns(convs, replayed)

    assert (out["low"], out["high"], out["conversations"]) == (8, 8, 8)
    assert out["short_share"] == {"low": 0.0, "high": 1.0}
    assert out["roc_auc_length"][0] == 1.0  # every long turn is the low-rated one
    assert set(out) >= {"roc_auc", "roc_auc_withdrawal", "roc_auc_confrontation"}
