"""Event contracts: decoding, validation errors that never echo values, the topic table."""

from __future__ import annotations

import json
import string
from datetime import UTC, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from attune_schemas import (
    FeedbackSubmitted,
    InvalidMessage,
    MessageSent,
    SessionEnded,
    SessionMissed,
    SessionStarted,
    conversation_event_adapter,
    decode,
    encode,
)
from attune_schemas.export import rendered
from attune_schemas.topics import BY_NAME, TOPICS, topic
from tests.factories import T0, alert, assessment, event_json

JSON_DIR = Path(__file__).resolve().parents[2] / "schemas" / "json"


def rejected(data: Any) -> InvalidMessage:
    with pytest.raises(InvalidMessage) as info:
        decode(conversation_event_adapter, data)
    return info.value


def pairs(exc: InvalidMessage) -> set[tuple[str, str]]:
    return {(e.field, e.reason) for e in exc.errors}


# --- decoding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "model"),
    [
        ("session_started", SessionStarted),
        ("message_sent", MessageSent),
        ("session_ended", SessionEnded),
        ("session_missed", SessionMissed),
        ("feedback_submitted", FeedbackSubmitted),
    ],
)
def test_discriminated_union_decodes_each_event_type(
    event_type: str, model: type[BaseModel]
) -> None:
    data = event_json(type=event_type, conversation_id="conv-7")

    event = decode(conversation_event_adapter, json.dumps(data).encode())

    assert type(event) is model
    assert event.type == event_type
    assert str(event.event_id) == data["event_id"]
    assert event.conversation_id == "conv-7"


def test_decode_accepts_an_already_parsed_object() -> None:
    event = decode(conversation_event_adapter, event_json(text="I am fine"))

    assert isinstance(event, MessageSent)
    assert event.text == "I am fine"


def test_encode_then_decode_round_trips_every_topic_value() -> None:
    # What a producer writes, the consumer of that topic reads back unchanged.
    samples: dict[str, BaseModel] = {
        "conversation.events": decode(conversation_event_adapter, event_json()),
        "rupture.assessments": assessment(rupture=0.7, markers=("rejecting_intervention",)),
        "alerts": alert(),
    }
    for name, model in samples.items():
        assert decode(topic(name).value, encode(model)) == model


# --- timestamps -------------------------------------------------------------------------------


def test_naive_timestamp_is_rejected() -> None:
    exc = rejected(event_json(occurred_at="2026-03-02T09:00:00"))

    assert exc.reason == "invalid_event"
    assert pairs(exc) == {("occurred_at", "Input should have timezone info")}


def test_naive_timestamp_in_a_payload_field_is_rejected() -> None:
    exc = rejected(event_json(type="session_missed", scheduled_for="2026-03-02T09:00:00"))

    assert [e.field for e in exc.errors] == ["scheduled_for"]


def test_timestamps_are_normalised_to_utc() -> None:
    event = decode(
        conversation_event_adapter,
        event_json(
            type="session_missed",
            occurred_at="2026-03-02T10:00:00+01:00",
            scheduled_for="2026-03-02T04:00:00-05:00",
        ),
    )

    assert isinstance(event, SessionMissed)
    assert event.occurred_at == T0
    assert event.occurred_at.tzinfo is UTC
    assert event.scheduled_for.tzinfo is UTC
    assert event.scheduled_for.hour == 9


def test_timestamps_built_in_python_are_normalised_too() -> None:
    tokyo = timezone(timedelta(hours=9))
    a = assessment(at=T0.astimezone(tokyo))

    assert a.occurred_at.tzinfo is UTC
    assert a.assessed_at.tzinfo is UTC
    assert a.occurred_at == T0


# --- validation errors ------------------------------------------------------------------------


def test_unknown_fields_are_rejected() -> None:
    exc = rejected(event_json(mood="sad"))

    assert pairs(exc) == {("mood", "Extra inputs are not permitted")}


def test_unknown_nested_fields_are_rejected() -> None:
    data = json.loads(encode(assessment()))
    data["scores"]["anger"] = 0.4

    with pytest.raises(InvalidMessage) as info:
        decode(topic("rupture.assessments").value, data)

    assert pairs(info.value) == {("scores.anger", "Extra inputs are not permitted")}


def test_bad_json_is_invalid_json() -> None:
    exc = rejected(b'{"event_id": ')

    assert exc.reason == "invalid_json"
    assert [e.field for e in exc.errors] == ["(body)"]
    assert str(exc) == "invalid_json"


def test_json_that_is_not_an_object_names_the_body() -> None:
    exc = rejected(b"[1, 2]")

    assert exc.reason == "invalid_event"
    assert pairs(exc) == {("(body)", "Input should be an object")}


def test_invalid_event_lists_every_field_with_its_reason() -> None:
    # Field names are reported without the union tag ("message_sent.sender" -> "sender").
    exc = rejected(event_json(sender="robot", message_id="", occurred_at="2026-03-02T09:00:00"))

    assert exc.reason == "invalid_event"
    assert pairs(exc) == {
        ("sender", "Input should be 'client', 'ai' or 'clinician'"),
        ("message_id", "String should have at least 1 character"),
        ("occurred_at", "Input should have timezone info"),
    }


def test_missing_required_field_is_named() -> None:
    data = event_json(type="feedback_submitted")
    del data["rating"]

    assert pairs(rejected(data)) == {("rating", "Field required")}


@pytest.mark.parametrize("event_type", ["nope", 5, None])
def test_unknown_event_type_names_the_type_field(event_type: object) -> None:
    exc = rejected(event_json(type="message_sent") | {"type": event_type})

    assert exc.reason == "invalid_event"
    assert [e.field for e in exc.errors] == ["type"]


def test_missing_event_type_names_the_type_field() -> None:
    data = event_json()
    del data["type"]

    assert [e.field for e in rejected(data).errors] == ["type"]


# --- privacy: a rejected value never reaches an error, hence never a log line ------------------

# Generated values start with a mark no error template contains, so a hit is a real echo and
# not a value that happens to spell part of a message ("String should").
MARK = "¶"
WORD = st.text(alphabet=string.ascii_letters + string.digits, min_size=6, max_size=30)
# Two words with a space: never a valid id, uuid, timestamp, number or enum member.
SECRET = st.builds(lambda a, b: f"{MARK}{a} {b}", WORD, WORD)
TEXT = st.text(min_size=12, max_size=2000).map(lambda t: f"{MARK} {t}")

# (event type, field) pairs where a text value is the wrong type.
WRONG_TYPED_FIELDS = [
    ("message_sent", "event_id"),
    ("message_sent", "conversation_id"),
    ("message_sent", "tenant_id"),
    ("message_sent", "occurred_at"),
    ("message_sent", "schema_version"),
    ("message_sent", "message_id"),
    ("message_sent", "session_id"),
    ("message_sent", "sender"),
    ("message_sent", "in_reply_to"),
    ("session_ended", "reason"),
    ("session_missed", "scheduled_for"),
    ("feedback_submitted", "rating"),
]

# A valid `text` with one other field broken.
OTHER_FAILURES: list[dict[str, Any]] = [
    {"sender": "robot"},
    {"occurred_at": "2026-03-02T09:00:00"},
    {"event_id": "not-a-uuid"},
    {"schema_version": 99},
    {"conversation_id": ""},
    {"mood": "sad"},
    {"type": "message_snt"},
]


def assert_not_echoed(secret: str, exc: InvalidMessage) -> None:
    assert exc.errors, "a rejection must say why"
    assert secret not in str(exc)
    assert secret not in repr(exc)
    for error in exc.errors:
        assert secret not in error.reason
        assert secret not in error.field
        assert secret not in repr(error)


@settings(max_examples=150, derandomize=True, deadline=None, database=None)
@given(
    secret=SECRET,
    where=st.sampled_from(WRONG_TYPED_FIELDS),
    as_json=st.booleans(),
)
def test_text_in_a_wrong_typed_field_is_never_echoed(
    secret: str, where: tuple[str, str], as_json: bool
) -> None:
    event_type, field = where
    data = event_json(type=event_type) | {field: secret}
    payload: Any = json.dumps(data).encode() if as_json else data

    with pytest.raises(InvalidMessage) as info:
        decode(conversation_event_adapter, payload)

    assert_not_echoed(secret, info.value)


@settings(max_examples=150, derandomize=True, deadline=None, database=None)
@given(
    text=TEXT,
    broken=st.sampled_from(OTHER_FAILURES),
    as_json=st.booleans(),
)
def test_message_text_of_a_rejected_event_is_never_echoed(
    text: str, broken: dict[str, Any], as_json: bool
) -> None:
    data = event_json(text=text) | broken
    payload: Any = json.dumps(data).encode() if as_json else data

    with pytest.raises(InvalidMessage) as info:
        decode(conversation_event_adapter, payload)

    assert_not_echoed(text, info.value)


def test_text_in_the_type_field_is_never_echoed() -> None:
    secret = "I keep thinking about ending it"

    exc = rejected(event_json(type=secret))

    assert [e.field for e in exc.errors] == ["type"]
    assert_not_echoed(secret, exc)


# --- the topic table --------------------------------------------------------------------------


def test_topic_names_are_unique() -> None:
    names = [t.name for t in TOPICS]

    assert len(names) == len(set(names))
    assert set(BY_NAME) == set(names)


def test_every_dead_letter_topic_is_in_the_table_and_carries_dead_letters() -> None:
    dlqs = {t.dlq for t in TOPICS if t.dlq is not None}

    assert dlqs == {"conversation.events.dlq", "rupture.assessments.dlq", "alerts.dlq"}
    for name in dlqs:
        assert name in BY_NAME, f"{name} is named as a DLQ but missing from the table"
        assert BY_NAME[name].value_name == "DeadLetter"
        assert BY_NAME[name].dlq is None  # no dead letters of dead letters


def test_every_topic_is_keyed_by_conversation() -> None:
    # One conversation's events stay in order on one partition, through every service. Silences
    # are no conversation's: compacted, keyed by silence, so the newest version of each is kept.
    assert {t.name: t.key for t in TOPICS} == {
        t.name: "silence_id" if t.name == "silences" else "conversation_id" for t in TOPICS
    }


# --- exported JSON Schema ---------------------------------------------------------------------


def test_exported_json_schema_is_not_stale() -> None:
    expected = rendered()
    on_disk = {p.name: p.read_text() for p in JSON_DIR.glob("*.json")}
    hint = "schemas/json/ is stale: run `make schemas` and commit the result"

    assert sorted(on_disk) == sorted(expected), hint
    for name, text in expected.items():
        assert on_disk[name] == text, f"{name}: {hint}"


def test_exported_topic_table_matches_the_code() -> None:
    table = json.loads(rendered()["topics.json"])

    assert [t["name"] for t in table] == [t.name for t in TOPICS]
    assert {t["value"] for t in table} == {
        "ConversationEvent",
        "DeadLetter",
        "RuptureAssessment",
        "Alert",
        "EscalationEvent",
        "ConversationControl",
        "Silence",
    }
