"""Crisis recall by category on the team test split: which kinds of crisis are missed."""

from __future__ import annotations

from attune_classifier.scoring import MessageScore
from attune_models.corpus import Example
from attune_models.evaluate import crisis_recall_by_category


def example(n: int, label: str, categories: tuple[str, ...]) -> Example:
    return Example.model_validate(
        {
            "id": f"cr-{n:04d}",
            "group": f"g{n}",
            "label": label,
            "markers": (),
            "crisis_categories": categories,
            "register": "chat",
            "topic": "t",
            "context": (),
            "text": "text",
            "hard_negative": False,
            "note": "",
        }
    )


def score(caught: str) -> MessageScore:
    """Caught by an explicit rule, caught by the model alone, or missed."""
    detected = caught in ("rule", "model")
    return MessageScore(0.1, 0.0, 0.0, 0.9 if detected else 0.1, (), (), caught == "rule", detected)


def test_recall_is_reported_per_crisis_category_with_what_the_rules_caught() -> None:
    examples = [
        example(1, "crisis", ("suicidal_ideation",)),
        example(2, "crisis", ("suicidal_ideation",)),
        example(3, "crisis", ("abuse_disclosure",)),
        example(4, "crisis", ("abuse_disclosure", "harm_to_others")),
        example(5, "none", ()),
    ]
    scores = [score(c) for c in ("rule", "missed", "model", "missed", "model")]
    by = crisis_recall_by_category(examples, scores)
    assert set(by) == {"suicidal_ideation", "abuse_disclosure", "harm_to_others"}
    assert (by["suicidal_ideation"]["n"], by["suicidal_ideation"]["by_rule"]) == (2, 1)
    assert by["suicidal_ideation"]["recall"][0] == 0.5
    assert (by["abuse_disclosure"]["n"], by["abuse_disclosure"]["by_rule"]) == (2, 0)
    assert by["abuse_disclosure"]["recall"][0] == 0.5
    assert by["harm_to_others"]["recall"][0] == 0.0
