"""Evidence does not depend on how events are batched.

The demo's rupture story used to get its triggering AI turn when events arrived one by one and
none when they arrived in one batch, as a restart backlog, or through `attune-score`: the
trigger was looked up after the whole batch had gone into an 8-turn window. Here the same
traffic is fed every way the service can receive it and must give identical assessments.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiokafka import ConsumerRecord
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from attune_classifier.app import Classifier, build
from attune_classifier.offline import main as attune_score
from attune_classifier.scoring import LexiconScorer
from attune_classifier.settings import ClassifierSettings
from attune_runtime.clock import ManualClock
from attune_runtime.service import Service
from attune_schemas import ConversationEvent, RuptureAssessment, conversation_event_adapter, encode
from demo import SCRIPTS, build_events  # deploy/demo/demo.py
from tests.factories import T0

T = TypeVar("T")
NOW = T0 + timedelta(days=1)  # the service clock: after every event of the story


def _traffic() -> list[ConversationEvent]:
    """The demo's three conversations interleaved as live traffic arrives, plus an ordinary
    chat in another tenant under the rupture story's conversation id."""
    stories = [build_events(name, "b", T0) for name in SCRIPTS]
    rupture_id = stories[list(SCRIPTS).index("rupture")][0]["conversation_id"]
    twin = [
        {**e, "tenant_id": "other-clinic", "conversation_id": rupture_id, "event_id": f"{n:032x}"}
        for n, e in enumerate(build_events("ordinary", "b", T0))
    ]
    queues = [*stories, twin]
    mixed = [e for round_ in itertools.zip_longest(*queues) for e in round_ if e is not None]
    return [conversation_event_adapter.validate_python(e) for e in mixed]


EVENTS = _traffic()
RECORDS = [
    ConsumerRecord(
        topic="conversation.events",
        partition=0,
        offset=n,
        timestamp=int(e.occurred_at.timestamp() * 1000),
        timestamp_type=0,
        key=e.conversation_id.encode(),
        value=encode(e),
        checksum=None,
        serialized_key_size=len(e.conversation_id),
        serialized_value_size=len(encode(e)),
        headers=[],
    )
    for n, e in enumerate(EVENTS)
]


def _service() -> Service[Classifier]:
    """The classifier as deployed, with the transparent scorer (the model is retrained often)."""
    return build(
        ClassifierSettings(scorer="lexicon"),
        clock=ManualClock(NOW),
        registry=CollectorRegistry(),
        scorer=LexiconScorer(),
    )


def _comparable(a: RuptureAssessment | dict[str, Any]) -> dict[str, Any]:
    data = a.model_dump(mode="json") if isinstance(a, RuptureAssessment) else a
    return {k: v for k, v in data.items() if k != "assessed_at"}


def _chunks(items: Sequence[T], cuts: list[int]) -> list[list[T]]:
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(items)}), len(items)]
    return [list(items[lo:hi]) for lo, hi in itertools.pairwise(bounds)]


def _one_by_one() -> list[dict[str, Any]]:
    assessor = _service().parts.assessor
    return [_comparable(a) for e in EVENTS for a in assessor.process([(e, 0)])]


EXPECTED = _one_by_one()


def _expected_from(restart: int) -> list[dict[str, Any]]:
    later = {str(e.event_id) for e in EVENTS[restart:]}
    return [a for a in EXPECTED if a["source_event_id"] in later]


def _rupture(assessments: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        a["message_id"]: a
        for a in assessments
        if a["tenant_id"] == "demo-clinic"
        and a["conversation_id"].startswith("demo-rupture")
        and a["message_id"]
    }


def test_one_by_one_the_rupture_story_names_the_support_group_suggestion() -> None:
    # The reference every other way of feeding must match: a trigger is there to be lost.
    story = _rupture(EXPECTED)
    suggestion = "Many people find it helpful to connect with others"
    for reply in ("m9", "m11"):  # the rejection, then "You don't understand me at all."
        trigger = story[reply]["triggering_turn"]
        assert trigger is not None and trigger["message_id"] == "m8", reply
        assert trigger["excerpt"].startswith(suggestion)


def test_one_batch_gives_the_same_assessments_trigger_included() -> None:
    got = [_comparable(a) for a in _service().parts.assessor.process([(e, 0) for e in EVENTS])]

    assert got == EXPECTED


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(
    restart=st.integers(min_value=0, max_value=len(EVENTS)),
    rebuild_cuts=st.lists(st.integers(min_value=1, max_value=len(EVENTS) - 1), max_size=8),
    live_cuts=st.lists(st.integers(min_value=1, max_value=len(EVENTS) - 1), max_size=8),
)
def test_batches_of_any_size_and_a_restart_backlog_give_the_same_assessments(
    restart: int, rebuild_cuts: list[int], live_cuts: list[int]
) -> None:
    service = _service()
    assert service.parts.warm_up is not None
    # Committed before a restart: the new process rebuilds these through the path it uses on
    # partition assignment, in whatever chunks the reader returns; outputs are discarded.
    for chunk in _chunks(RECORDS[:restart], rebuild_cuts):
        service.parts.warm_up.apply(chunk)
    # The rest is the backlog (all of the traffic when restart is 0), in batches of any size.
    got = [
        _comparable(a)
        for batch in _chunks([(e, 0) for e in EVENTS[restart:]], live_cuts)
        for a in service.parts.assessor.process(batch)
    ]

    assert got == _expected_from(restart)


def test_attune_score_gives_the_same_assessments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "traffic.jsonl"
    source.write_text("".join(e.model_dump_json() + "\n" for e in EVENTS))

    assert attune_score([str(source), "--scorer", "lexicon"]) == 0

    out, _ = capsys.readouterr()
    assert [_comparable(json.loads(line)) for line in out.splitlines()] == EXPECTED
