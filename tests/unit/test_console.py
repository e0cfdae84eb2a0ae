"""The clinician console's pages over the API: login redirect, queue order and tenant, the
incident page's evidence, trigger turn and clinical words, the audited read, the live stream,
the crisis protocol; and the actions the console calls (hand back, verdicts)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from attune_auth.principal import Role
from attune_escalation.console import views
from attune_escalation.db import AlertVerdict, EngagementPoint, IncidentAlert, IncidentTurn
from attune_escalation.retention import REDACTED
from attune_runtime.clock import ManualClock
from attune_schemas import (
    Alert,
    AlertKind,
    CrisisCategory,
    Evidence,
    MarkerFamily,
    MessageSent,
    RuptureType,
    Sender,
    Severity,
    encode,
)
from attune_schemas.assessment import Engagement, TriggeringTurn
from tests.factories import T0, Script, alert, assessment, recent_turns
from tests.identity import Identity
from tests.unit.escalation_support import Api, running_api


def rupture(conversation: str = "conv-r", **kw: object) -> Alert:
    return alert(conversation_id=conversation, **kw).model_copy(  # type: ignore[arg-type]
        update={
            "rupture_type": RuptureType.CONFRONTATION,
            "triggering_turn": TriggeringTurn(
                message_id="m2", excerpt="Try a gratitude journal tonight.", seconds_before=14
            ),
            "model_version": "rupture-lr-test",
        }
    )


def crisis(conversation: str = "conv-c", tenant: str = "tenant-a") -> Alert:
    return alert(
        conversation_id=conversation,
        kind=AlertKind.CRISIS,
        severity=Severity.CRITICAL,
        tenant_id=tenant,
    ).model_copy(
        update={
            "crisis_categories": (CrisisCategory.SUICIDAL_IDEATION,),
            "evidence": (
                Evidence(
                    marker="suicidal_ideation",
                    family=MarkerFamily.CRISIS,
                    message_id="m9",
                    excerpt="no reason to keep going",
                ),
            ),
        }
    )


async def incident_of(api: Api, conversation: str) -> str:
    found = await api.http.get("/v1/incidents", params={"conversation_id": conversation})
    iid: str = found.json()[0]["id"]
    return iid


PROTOCOLS = """
default:
  steps: ["Call the on-call lead."]
tenants:
  tenant-a:
    steps: ["Stay with the client and ask about safety directly."]
    numbers: [{label: "Clinic crisis line", number: "+44 20 7946 0000"}]
"""


@pytest.fixture
async def console(tmp_path: Path, clock: ManualClock, identity: Identity) -> AsyncIterator[Api]:
    protocols = tmp_path / "protocols.yaml"
    protocols.write_text(PROTOCOLS)
    async with running_api(
        tmp_path / "console.db", clock, identity, crisis_protocols_file=protocols
    ) as running:
        yield running


async def test_without_a_session_the_pages_redirect_to_the_login_page(console: Api) -> None:
    for path in ("/console", f"/console/incidents/{uuid.uuid4()}", "/console/stream"):
        answer = await console.http.get(path, headers={"authorization": ""})
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/console/login"
    login = await console.http.get("/console/login", headers={"authorization": ""})
    assert login.status_code == 200 and 'id="login"' in login.text


async def test_an_integrator_key_is_not_a_console_login(console: Api, identity: Identity) -> None:
    answer = await console.http.get(
        "/console", headers={"authorization": "Bearer " + identity.keys["tenant-a"]}
    )
    assert answer.status_code == 403


async def test_the_queue_puts_crisis_first_then_the_longest_waiting_and_only_its_tenant(
    console: Api, clock: ManualClock
) -> None:
    await console.alert(rupture("conv-old", at=T0))
    clock.advance(timedelta(seconds=30))
    await console.alert(rupture("conv-new", at=T0 + timedelta(seconds=30)))
    await console.alert(crisis("conv-c"))
    await console.alert(crisis("conv-b", tenant="tenant-b"))
    clock.advance(timedelta(seconds=95))

    page = (await console.http.get("/console")).text

    order = [await incident_of(console, c) for c in ("conv-c", "conv-old", "conv-new")]
    positions = [page.index(f'data-id="{i}"') for i in order]
    assert positions == sorted(positions)
    assert page.count("<tr class=") == 3  # tenant-b's crisis is not in tenant-a's queue
    assert "CRISIS" in page and 'class="sev-critical crisis"' in page
    assert ">2:05<" in page  # the oldest has waited 125 s
    # No conversation text on the queue, and none in any link.
    assert "not helpful" not in page and "keep going" not in page


async def test_the_incident_page_shows_evidence_the_trigger_turn_and_clinical_names(
    console: Api, identity: Identity
) -> None:
    await console.alert(rupture())
    iid = await incident_of(console, "conv-r")

    page = (await console.http.get(f"/console/incidents/{iid}")).text

    assert '<mark class="evidence fam-confrontation">that&#39;s not helpful</mark>' in page
    assert "Rejecting the therapist&#39;s intervention" in page  # the 3RS name
    assert "Likely triggering turn" in page and "Try a gratitude journal tonight." in page
    assert "Acknowledge the AI&#39;s part and apologise" in page  # repair moves, confrontation
    assert "Repair moves: confrontation rupture" in page
    assert "Incident opened" in page  # the escalation timeline, in words
    assert "Crisis protocol" not in page


async def test_reading_an_incident_page_is_audited(console: Api, identity: Identity) -> None:
    from tests.unit.test_auth import audit_records

    await console.alert(rupture())
    iid = await incident_of(console, "conv-r")
    await console.http.get(f"/console/incidents/{iid}")

    reads = [r for r in await audit_records(identity) if r.action == "incident_read"]
    assert [r.target for r in reads] == [f"incident:{iid}"]


async def test_another_tenants_incident_page_is_not_found(
    console: Api, identity: Identity, clock: ManualClock
) -> None:
    await console.alert(rupture())
    iid = await incident_of(console, "conv-r")
    other = identity.bearer("tenant-b", Role.CLINICIAN, clock)

    answer = await console.http.get(f"/console/incidents/{iid}", headers=other)

    assert answer.status_code == 404 and "not helpful" not in answer.text


async def test_a_crisis_page_shows_the_tenants_protocol_and_numbers(console: Api) -> None:
    await console.alert(crisis())
    iid = await incident_of(console, "conv-c")

    page = (await console.http.get(f"/console/incidents/{iid}")).text

    assert "Crisis protocol" in page
    assert "Stay with the client and ask about safety directly." in page
    assert 'href="tel:+44 20 7946 0000"' in page
    assert "Call the on-call lead." not in page  # the default is for tenants without their own
    assert '<mark class="evidence fam-crisis">no reason to keep going</mark>' in page
    assert "Suicidal ideation" in page


async def test_text_deleted_by_retention_is_shown_as_deleted(console: Api) -> None:
    await console.alert(rupture())
    iid = await incident_of(console, "conv-r")
    async with console.service.parts.sessions() as session, session.begin():
        for row in await session.scalars(select(IncidentAlert)):
            body = dict(row.body)
            body["evidence"] = [{**e, "excerpt": REDACTED} for e in body["evidence"]]
            body["triggering_turn"] = {**body["triggering_turn"], "excerpt": REDACTED}
            row.body = body

    page = (await console.http.get(f"/console/incidents/{iid}")).text

    assert "not helpful" not in page and "gratitude" not in page
    assert page.count("Text deleted after the retention period.") == 2


async def test_the_stream_sends_the_queue_rows(console: Api) -> None:
    await console.alert(crisis())
    iid = await incident_of(console, "conv-c")

    answer = await console.http.get("/console/stream")

    assert answer.headers["content-type"].startswith("text/event-stream")
    assert "event: queue" in answer.text and f'data-id="{iid}"' in answer.text


async def test_hand_back_resumes_the_ai_and_keeps_the_incident_open(console: Api) -> None:
    await console.alert(rupture())
    iid = await incident_of(console, "conv-r")
    await console.http.post(f"/v1/incidents/{iid}/join")

    answer = await console.http.post(f"/v1/incidents/{iid}/handback")

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "acknowledged" and body["ai_paused"] is False
    assert body["timeline"][-1]["action"] == "handed_back"
    await console.service.parts.relay.relay_once()
    controls = [json.loads(m.body)["action"] for m in console.controls]
    assert controls == ["pause_ai", "clinician_joining", "resume_ai"]
    again = await console.http.post(f"/v1/incidents/{iid}/join")  # and can be joined again
    assert again.json()["status"] == "joined" and again.json()["ai_paused"] is True


async def test_a_resolution_stores_a_verdict_per_alert_with_the_model_version(
    console: Api,
) -> None:
    a = rupture()
    await console.alert(a)
    iid = await incident_of(console, "conv-r")

    unknown = await console.http.post(
        f"/v1/incidents/{iid}/resolve",
        json={
            "outcome": "repaired",
            "verdicts": [{"alert_id": str(uuid.uuid4()), "verdict": "false_alarm"}],
        },
    )
    assert unknown.status_code == 422 and unknown.json()["detail"].startswith("alerts not part")

    done = await console.http.post(
        f"/v1/incidents/{iid}/resolve",
        json={
            "outcome": "repaired",
            "verdicts": [
                {
                    "alert_id": str(a.alert_id),
                    "verdict": "wrong_type",
                    "markers": ["minimal_response"],
                }
            ],
        },
    )
    assert done.status_code == 200, done.text
    async with console.service.parts.sessions() as session:
        [v] = (await session.scalars(select(AlertVerdict))).all()
    assert (v.alert_id, v.verdict, v.model_version, v.kind) == (
        str(a.alert_id),
        "wrong_type",
        "rupture-lr-test",
        "rupture",
    )
    assert v.markers == ["minimal_response"] and v.clinician == "clinician@tenant-a"


def test_the_example_crisis_protocols_file_loads() -> None:
    from attune_escalation.console.protocols import load

    example = load(
        Path(__file__).parents[2] / "deploy" / "escalation" / "crisis-protocols.example.yaml"
    )

    assert example.of("demo-clinic").numbers[0].number == "999"
    assert example.of("another-clinic") == example.default


async def engaged(api: Api, conversation: str, at: datetime, length: float, latency: float) -> None:
    a = assessment(conversation_id=conversation, at=at).model_copy(
        update={
            "engagement": Engagement(
                reply_length_ratio=length, reply_latency_ratio=latency, client_turns_seen=5
            )
        }
    )
    await api.service.broker.publish(
        encode(a), topic="rupture.assessments", key=conversation.encode()
    )


async def test_the_engagement_trend_is_drawn_from_the_assessments(
    console: Api, clock: ManualClock
) -> None:
    for n, (length, latency) in enumerate([(1.0, 1.0), (0.8, 1.5), (0.3, 3.0), (0.2, 4.5)]):
        await engaged(console, "conv-r", T0 + timedelta(seconds=30 * n), length, latency)
    await engaged(console, "conv-other", T0, 5.0, 5.0)  # another conversation: not drawn
    await console.alert(rupture(at=T0 + timedelta(seconds=90)))
    iid = await incident_of(console, "conv-r")

    page = (await console.http.get(f"/console/incidents/{iid}")).text

    assert '<svg class="chart" role="img"' in page
    assert (
        "Over the client&#39;s last 4 replies: reply length from 1.0× to 0.2× the client&#39;s"
        in page
    )
    assert page.count('class="dot length"') == 4 and page.count('class="dot latency"') == 4
    assert "<td>0.20×</td><td>4.50×</td>" in page  # the numbers, for screen readers too
    assert "5.00×" not in page


async def test_an_assessment_is_stored_once_and_old_replies_age_out(console: Api) -> None:
    a = assessment(conversation_id="conv-r", at=T0).model_copy(
        update={"engagement": Engagement(reply_length_ratio=0.5)}
    )
    for _ in range(2):  # redelivered
        await console.service.broker.publish(encode(a), topic="rupture.assessments", key=b"conv-r")
    await engaged(console, "conv-r", T0 + timedelta(hours=25), 1.0, 1.0)
    await console.service.broker.publish(b"{not json", topic="rupture.assessments", key=b"conv-r")

    async with console.service.parts.sessions() as session:
        points = (await session.scalars(select(EngagementPoint))).all()

    assert [p.at for p in points] == [T0 + timedelta(hours=25)]  # older than a day: gone


# --- the conversation timeline -------------------------------------------------------------------

SAID = (
    (Sender.CLIENT, "I have been sleeping badly again."),
    (Sender.AI, "Try a gratitude journal tonight."),
    (Sender.CLIENT, "Honestly that's not helpful at all."),
)


def with_timeline(a: Alert) -> Alert:
    flagged = Evidence(
        marker="rejecting_intervention",
        family=MarkerFamily.CONFRONTATION,
        message_id="m3",
        start=9,
        end=27,
        excerpt="that's not helpful",
    )
    return a.model_copy(update={"evidence": (flagged,), "recent_turns": recent_turns(*SAID)})


async def test_the_incident_page_shows_one_timeline_of_the_recent_messages(
    console: Api,
) -> None:
    first = with_timeline(rupture(at=T0))
    later = alert(
        conversation_id="conv-r", kind=AlertKind.DISENGAGEMENT, severity=Severity.WARNING
    ).model_copy(
        update={
            "evidence": (),
            # Overlaps the first alert's turns: m2 and m3 again, then two new ones.
            "recent_turns": recent_turns(
                *SAID[1:],
                (Sender.AI, "What would help more right now?"),
                (Sender.CLIENT, "whatever"),
                first=2,
                until=T0 + timedelta(seconds=30),
            ),
        }
    )
    with capture_logs() as logs:
        await console.alert(first)
        await console.alert(later)
    iid = await incident_of(console, "conv-r")

    page = (await console.http.get(f"/console/incidents/{iid}")).text

    assert re.findall(r'data-message="(m\d)"', page) == ["m1", "m2", "m3", "m4", "m5"]
    assert re.findall(r"<strong>(Client|AI)</strong>", page) == [
        "Client", "AI", "Client", "AI", "Client"
    ]  # fmt: skip
    assert (
        "<blockquote>Honestly "
        '<mark class="evidence fam-confrontation">that&#39;s not helpful</mark>'
        " at all.</blockquote>"
    ) in page  # the span highlighted inside the whole message
    assert 'class="turn ai trigger" data-message="m2"' in page
    assert 'class="turn client flagged" data-message="m3"' in page
    assert 'class="turn client" data-message="m5"' in page
    assert page.count("Try a gratitude journal tonight.") == 1
    async with console.service.parts.sessions() as session:
        kept = (await session.scalars(select(IncidentTurn))).all()
        bodies = [a.body for a in await session.scalars(select(IncidentAlert))]
    assert sorted(t.message_id for t in kept) == ["m1", "m2", "m3", "m4", "m5"]
    assert all("recent_turns" not in b for b in bodies)  # kept once, in the turns
    assert "sleeping badly" not in json.dumps(logs, default=str)


async def test_a_flagged_message_older_than_the_kept_turns_is_shown_by_its_evidence(
    console: Api,
) -> None:
    await console.alert(
        rupture().model_copy(
            update={"recent_turns": recent_turns((Sender.AI, "Shall we go on?"), first=7)}
        )
    )
    iid = await incident_of(console, "conv-r")

    page = (await console.http.get(f"/console/incidents/{iid}")).text

    # m2 (the trigger) and m3 (evidence) fell out of the window: first, by what the alert says.
    assert re.findall(r'data-message="(m\d)"', page) == ["m2", "m3", "m7"]
    assert '<mark class="evidence fam-confrontation">that&#39;s not helpful</mark>' in page
    assert "<blockquote>Try a gratitude journal tonight.</blockquote>" in page
    assert "<blockquote>Shall we go on?</blockquote>" in page


def test_overlapping_spans_are_cut_into_runs_and_the_graver_family_colours_the_overlap() -> None:
    def span(family: str, start: int | None, end: int | None) -> views.Span:
        return views.Span("m", "M", family, family, None, "rule", start, end)

    turn = views.Turn(
        "m1",
        "client",
        spans=[span("withdrawal", 0, 8), span("crisis", 4, 14), span("withdrawal", 30, 99)],
        kept=True,
        text="I am done with it all, fine.",
    )

    assert turn.pieces == [
        views.Piece("I am", "withdrawal"),
        views.Piece(" done with", "crisis"),
        views.Piece(" it all, fine.", None),
    ]
    assert turn.outside == [turn.spans[2]]  # past the kept text: quoted under the message
    assert "".join(p.text for p in turn.pieces) == turn.text
    assert views.Turn("m2", "client", kept=True, text=None).pieces == []


def test_a_span_without_offsets_is_highlighted_where_its_excerpt_appears() -> None:
    ok = views.Span("minimal_response", "Minimal response", "withdrawal", "W", "ok", "rule")
    gone = views.Span("denial", "Denial", "withdrawal", "W", "I'm fine", "rule")

    turn = views.Turn("m5", "client", spans=[ok, gone], kept=True, text="ok")

    assert turn.pieces == [views.Piece("ok", "withdrawal")]
    assert turn.outside == [gone]


async def test_while_the_incident_is_open_new_messages_join_its_timeline(console: Api) -> None:
    await console.alert(with_timeline(rupture(at=T0)))  # kept: m1 to m3, the last at T0
    iid = await incident_of(console, "conv-r")
    live = Script("conv-r", start=T0)
    live.n = 3
    joined = live.say(Sender.CLINICIAN, "Hi, I'm Sam from the care team.", 20)
    reply = live.client("ok, thanks for stepping in", 30)
    elsewhere = Script("conv-other", start=T0).client("never stored: no incident here")
    replayed = Script("conv-r", start=T0 - timedelta(hours=1)).client("older than the alerts")

    async def send(*events: MessageSent) -> None:
        for e in events:
            await console.service.broker.publish(
                encode(e), topic="conversation.events", key=e.conversation_id.encode()
            )

    with capture_logs() as logs:
        await send(joined, reply, reply, elsewhere, replayed)
    page = (await console.http.get(f"/console/incidents/{iid}")).text

    assert re.findall(r'data-message="(m\d)"', page) == ["m1", "m2", "m3", "m4", "m5"]
    assert (
        'class="turn clinician" data-message="m4"' in page and "<strong>Clinician</strong>" in page
    )
    assert "<blockquote>ok, thanks for stepping in</blockquote>" in page
    async with console.service.parts.sessions() as session:
        stored = [
            (t.incident_id, t.message_id) for t in await session.scalars(select(IncidentTurn))
        ]
    assert sorted(stored) == [(iid, f"m{n}") for n in range(1, 6)]  # once each, this incident
    assert [e["message_id"] for e in logs if e["event"] == "turn_added"] == ["m4", "m5"]
    assert "stepping in" not in json.dumps(logs, default=str)

    resolved = await console.http.post(f"/v1/incidents/{iid}/resolve", json={"outcome": "repaired"})
    assert resolved.status_code == 200
    await send(live.client("after the incident was resolved"))
    async with console.service.parts.sessions() as session:
        assert len((await session.scalars(select(IncidentTurn))).all()) == 5
