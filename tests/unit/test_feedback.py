"""The feedback loop: verdicts given in the console become training examples in the corpus
format of models/, precision by alert kind, and an optional part of training."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from attune_auth.principal import Role
from attune_cli.main import app as cli
from attune_escalation.db import IncidentAlert, IncidentTurn
from attune_escalation.retention import REDACTED
from attune_models import feedback
from attune_models.corpus import Example, load, read_examples
from attune_runtime.clock import ManualClock
from attune_schemas import Alert, AlertKind, Evidence, MarkerFamily, Severity
from tests.identity import Identity
from tests.unit.escalation_support import Api
from tests.unit.test_auth import audit_records
from tests.unit.test_console import crisis, rupture, with_timeline


async def resolved(api: Api, a: Alert, verdict: str, markers: list[str] | None = None) -> str:
    await api.alert(a)
    found = await api.http.get("/v1/incidents", params={"conversation_id": a.conversation_id})
    iid: str = found.json()[0]["id"]
    answer = await api.http.post(
        f"/v1/incidents/{iid}/resolve",
        json={
            "outcome": "false_alarm" if verdict == "false_alarm" else "repaired",
            "verdicts": [{"alert_id": str(a.alert_id), "verdict": verdict, "markers": markers}],
        },
    )
    assert answer.status_code == 200, answer.text
    return iid


def disengaged(conversation: str) -> Alert:
    return rupture(
        conversation, kind=AlertKind.DISENGAGEMENT, severity=Severity.WARNING
    ).model_copy(
        update={
            "evidence": (
                Evidence(
                    marker="shorter_replies",
                    family=MarkerFamily.DISENGAGEMENT,
                    message_id="m8",
                    source="behaviour",
                ),
            )
        }
    )


async def export(api: Api, identity: Identity, clock: ManualClock) -> dict[str, Any]:
    answer = await api.http.get(
        "/v1/feedback", headers=identity.bearer("tenant-a", Role.ADMIN, clock)
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_verdicts_export_as_corpus_examples_and_labels(
    api: Api, identity: Identity, clock: ManualClock
) -> None:
    await resolved(api, rupture("c-true"), "true_rupture")
    await resolved(api, crisis("c-crisis"), "crisis_confirmed")
    await resolved(api, rupture("c-false"), "false_alarm")
    await resolved(api, rupture("c-wrong"), "wrong_type", markers=["minimal_response"])
    await resolved(api, disengaged("c-dis"), "true_rupture")  # no text: a label, no example

    body = await export(api, identity, clock)

    examples = [Example.model_validate(e) for e in body["examples"]]
    by_text = {(e.label, e.text, e.hard_negative) for e in examples}
    assert by_text == {
        ("confrontation", "that's not helpful", False),
        ("crisis", "no reason to keep going", False),
        ("none", "that's not helpful", True),
        ("withdrawal", "that's not helpful", False),
    }
    [true] = [e for e in examples if e.label == "confrontation"]
    assert true.markers == ("rejecting_intervention",)
    assert [t.text for t in true.context] == ["Try a gratitude journal tonight."]
    assert (
        true.note == "Clinician verdict true_rupture on a rupture alert of model rupture-lr-test."
    )
    [wrong] = [e for e in examples if e.label == "withdrawal"]
    assert wrong.markers == ("minimal_response",)  # the clinician's correction
    assert [e.crisis_categories for e in examples if e.label == "crisis"] == [
        ("suicidal_ideation",)
    ]
    assert body["skipped"] == 1 and len(body["verdicts"]) == 5
    assert {v["kind"] for v in body["verdicts"]} == {"rupture", "crisis", "disengagement"}
    assert all("excerpt" not in json.dumps(v) for v in body["verdicts"])
    exported = [r for r in await audit_records(identity) if r.action == "feedback_exported"]
    assert [r.details for r in exported] == [{"examples": 4, "verdicts": 5}]


async def test_another_tenants_verdicts_are_not_exported(
    api: Api, identity: Identity, clock: ManualClock
) -> None:
    await resolved(api, rupture("c-a"), "true_rupture")
    other = await api.http.get(
        "/v1/feedback", headers=identity.bearer("tenant-b", Role.ADMIN, clock)
    )
    assert other.json() == {"examples": [], "verdicts": [], "skipped": 0}


async def test_text_deleted_by_retention_is_not_exported(
    api: Api, identity: Identity, clock: ManualClock
) -> None:
    await resolved(api, rupture("c-old"), "true_rupture")
    async with api.service.parts.sessions() as session, session.begin():
        for row in await session.scalars(select(IncidentAlert)):
            row.body = {
                **row.body,
                "evidence": [{**e, "excerpt": REDACTED} for e in row.body["evidence"]],
            }

    body = await export(api, identity, clock)

    assert body["examples"] == [] and body["skipped"] == 1 and len(body["verdicts"]) == 1


async def test_the_command_writes_what_training_and_evaluation_read(
    api: Api, tmp_path: Path
) -> None:
    await resolved(api, rupture("c-1"), "true_rupture")
    await resolved(api, rupture("c-2"), "false_alarm")
    await resolved(api, crisis("c-3"), "crisis_confirmed")
    url = str(api.service.parts.engine.url)

    args = ["feedback", "export", "--out", str(tmp_path), "--database-url", url]
    result = await asyncio.to_thread(CliRunner().invoke, cli, args)  # the command runs its loop

    assert result.exit_code == 0, result.output
    examples = tmp_path / "examples.jsonl"
    assert len(read_examples(examples)) == 3
    plain, with_feedback = load(), load(feedback=examples)
    assert len(with_feedback.train) == len(plain.train) + 3
    assert with_feedback.test == plain.test  # the frozen test split never moves
    assert with_feedback.data_hash != plain.data_hash  # the model names what it learned from
    table = feedback.precision_by_kind(feedback.load_verdicts(tmp_path / "verdicts.jsonl"))
    assert table["rupture"]["precision"] == 0.5 and table["rupture"]["false_alarm"] == 1
    assert table["crisis"]["precision"] == 1.0 and table["all"]["verdicts"] == 3
    assert "rupture" in feedback.table(table)


async def test_the_whole_flagged_message_is_exported_while_the_incident_keeps_it(
    api: Api, identity: Identity, clock: ManualClock
) -> None:
    await resolved(api, with_timeline(rupture("c-whole")), "true_rupture")

    [example] = (await export(api, identity, clock))["examples"]

    assert example["text"] == "Honestly that's not helpful at all."  # not only the span
    assert [t["text"] for t in example["context"]] == ["Try a gratitude journal tonight."]
    async with api.service.parts.sessions() as session, session.begin():
        for turn in await session.scalars(select(IncidentTurn)):
            turn.text = None  # as retention leaves it
    [spans_only] = (await export(api, identity, clock))["examples"]
    assert spans_only["text"] == "that's not helpful"
