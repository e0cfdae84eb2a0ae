"""Replay the scripted conversations through the running stack and print what a clinician gets.

Run by `make demo` after Kafka and the four services are up. The trail is read back from the
real topics (assessments, alerts, escalation events, control events) and from a local webhook
standing in for the clinical team's pager. Exit status 1 if the expected alerts do not happen.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from attune_runtime.kafka_client import KafkaClientSettings, kafka_client_options

HERE = Path(__file__).resolve().parent
SCRIPTS = json.loads((HERE / "conversations.json").read_text())
PREFIX = os.environ.get("ATTUNE_TOPIC_PREFIX", "")
TRAIL_TOPICS = tuple(
    PREFIX + t
    for t in ("rupture.assessments", "alerts", "escalation.events", "conversation.control")
)
TENANT = os.environ.get("ATTUNE_DEMO_TENANT", "demo-clinic")


def build_events(name: str, run_id: str, start: datetime) -> list[dict[str, Any]]:
    """The script as contract events with a realistic timeline (seconds between turns)."""
    conversation_id = f"demo-{name}-{run_id}"
    session_id = f"{conversation_id}-s1"
    at = start
    events: list[dict[str, Any]] = []
    for n, turn in enumerate(SCRIPTS[name]["turns"], 1):
        at += timedelta(seconds=turn.get("after_s", 0))
        base = {
            "event_id": str(uuid.uuid4()),
            "conversation_id": conversation_id,
            "tenant_id": TENANT,
            "occurred_at": at.isoformat(),
        }
        kind = turn.get("type", "message_sent")
        if kind == "message_sent":
            events.append(
                {
                    **base,
                    "type": kind,
                    "session_id": session_id,
                    "message_id": f"m{n}",
                    "sender": turn["sender"],
                    "text": turn["text"],
                }
            )
        elif kind == "session_started":
            events.append({**base, "type": kind, "session_id": session_id})
        elif kind == "session_ended":
            events.append(
                {**base, "type": kind, "session_id": session_id, "reason": turn["reason"]}
            )
        elif kind == "feedback_submitted":
            events.append(
                {**base, "type": kind, "session_id": session_id, "rating": turn["rating"]}
            )
    return events


@dataclass
class Pager:
    """A webhook receiver standing in for the clinical team's pager."""

    port: int
    received: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    # (conversation id, the request's `traceparent` header) of every page, in order.
    traceparents: list[tuple[str | None, str | None]] = field(default_factory=list)

    def start(self) -> ThreadingHTTPServer:
        pager = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                page = json.loads(body)
                pager.traceparents.append(
                    (page.get("conversation_id"), self.headers.get("traceparent"))
                )
                pager.received.append((time.monotonic(), page))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def for_conversation(self, conversation_id: str) -> list[tuple[float, dict[str, Any]]]:
        return [(t, p) for t, p in self.received if p.get("conversation_id") == conversation_id]


async def open_trail(bootstrap: str) -> AIOKafkaConsumer:
    """Read the trail topics from their current end (no consumer group: nothing committed)."""
    consumer = AIOKafkaConsumer(
        *TRAIL_TOPICS,
        **kafka_client_options(KafkaClientSettings(kafka_bootstrap_servers=bootstrap)),
        enable_auto_commit=False,
        auto_offset_reset="latest",
    )
    await consumer.start()
    for _ in range(50):
        if {tp.topic for tp in consumer.assignment()} >= set(TRAIL_TOPICS):
            break
        await asyncio.sleep(0.1)
    else:
        await consumer.stop()
        sys.exit("demo: trail topics do not exist; are the services running? (make services-up)")
    for tp in consumer.assignment():  # resolve positions now, so only this run's records are read
        await consumer.position(tp)
    return consumer


async def drain(consumer: AIOKafkaConsumer, trail: dict[str, list[dict[str, Any]]]) -> None:
    batch = await consumer.getmany(timeout_ms=200)
    for tp, records in batch.items():
        for r in records:
            value = json.loads(r.value)
            topic = tp.topic.removeprefix(PREFIX)
            trail.setdefault(value["conversation_id"], []).append({"topic": topic, **value})


def short(text: str, n: int = 64) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def print_trail(
    name: str, events: list[dict[str, Any]], trail: list[dict[str, Any]], pager: Pager
) -> None:
    script = SCRIPTS[name]
    cid = events[0]["conversation_id"]
    texts = {e["message_id"]: e["text"] for e in events if e["type"] == "message_sent"}
    print(f"\n== {name}: {script['client']} ({cid})")
    print(f"   {script['note']}")
    for item in trail:
        topic = item["topic"]
        if topic == "rupture.assessments":
            markers = sorted({e["marker"] for e in item["evidence"]})
            s = item["scores"]
            said = f'"{short(texts.get(item["message_id"] or "", "(" + "session event" + ")"))}"'
            line = (
                f"   assessment  {said:<68} rupture {s['rupture']:.2f} {item['rupture_type']:<13} "
                f"disengagement {s['disengagement']:.2f} crisis {s['crisis']:.2f}"
            )
            print(line)
            if markers:
                print(f"               markers: {', '.join(markers)}")
            if item.get("triggering_turn") and s["rupture"] >= 0.5:
                print(
                    f'               likely trigger (AI): "{short(item["triggering_turn"]["excerpt"], 90)}"'
                )
        elif topic == "alerts":
            print(
                f"   ALERT       {item['status']} {item['kind']} severity={item['severity']} "
                f"risk={item['risk']:.2f} alert_id={item['alert_id']}"
            )
        elif topic == "escalation.events":
            d = item.get("details", {})
            extra = d.get("channel") or d.get("kind") or d.get("outcome") or ""
            print(
                f"   ESCALATION  {item['action']:<20} incident={item['incident_id']} actor={item['actor']} {extra}"
            )
        elif topic == "conversation.control":
            print(
                f"   CONTROL     {item['action']:<20} (to the integrator) reason={item['reason']}"
            )
    pages = pager.for_conversation(cid)
    for _, p in pages:
        tier = f" tier {p['tier']}" if p.get("tier") else ""
        who = ",".join(p.get("recipients") or [])
        print(
            f"   PAGER       webhook received: {p['severity']} {'+'.join(p['kinds'])} ({p['reason']}{tier}"
            f"{' -> ' + who if who else ''}) {p['url']}"
        )
    if not pages:
        print("   (no notification: nothing for a clinician here)")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--ingest", default=os.environ.get("ATTUNE_DEMO_INGEST", "http://127.0.0.1:8001")
    )
    parser.add_argument(
        "--escalation", default=os.environ.get("ATTUNE_DEMO_ESCALATION", "http://127.0.0.1:8004")
    )
    parser.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument(
        "--pager-port", type=int, default=int(os.environ.get("ATTUNE_DEMO_PAGER_PORT", "8099"))
    )
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()

    pager = Pager(args.pager_port)
    server = pager.start()
    run_id = uuid.uuid4().hex[:6]
    start = datetime.now(UTC) - timedelta(minutes=30)
    conversations = {name: build_events(name, run_id, start) for name in SCRIPTS}
    consumer = await open_trail(args.bootstrap)
    trail: dict[str, list[dict[str, Any]]] = {}
    crisis_posted_at: float | None = None
    crisis_msg = next(
        e
        for e in conversations["crisis"]
        if e["type"] == "message_sent" and "better off" in e.get("text", "")
    )
    key, username, password = (
        os.environ.get(f"ATTUNE_DEMO_{n}", "") for n in ("KEY", "USERNAME", "PASSWORD")
    )
    if not (key and username and password):
        print("demo: no credentials: run deploy/demo/credentials.sh first", file=sys.stderr)
        return 1
    integrator = {"authorization": f"Bearer {key}"}
    pages: dict[str, str] = {}  # each conversation's incident in the console
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            # Interleave the three conversations, as live traffic would arrive.
            queues = [list(evs) for evs in conversations.values()]
            while any(queues):
                for q in queues:
                    if q:
                        event = q.pop(0)
                        if event is crisis_msg:
                            crisis_posted_at = time.monotonic()
                        r = await client.post(
                            f"{args.ingest}/v1/events", json=event, headers=integrator
                        )
                        if r.status_code != 202:
                            print(
                                f"demo: ingest answered {r.status_code}: {r.text}", file=sys.stderr
                            )
                            return 1
                await drain(consumer, trail)
            print(
                f"demo: posted {sum(map(len, conversations.values()))} events in 3 conversations (run {run_id})"
            )

            expect = {n: SCRIPTS[n]["expect_alert"] for n in SCRIPTS}
            ids = {n: evs[0]["conversation_id"] for n, evs in conversations.items()}
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline:
                await drain(consumer, trail)
                if all(pager.for_conversation(ids[n]) for n, want in expect.items() if want):
                    break
            # Give a wrongly alerting conversation the time to show itself.
            settle = time.monotonic() + 3
            while time.monotonic() < settle:
                await drain(consumer, trail)

            # Nobody acknowledges the crisis at first: tier 2 is paged at the (shortened) deadline.
            tier2 = time.monotonic() + args.timeout
            while time.monotonic() < tier2 and not any(
                p.get("tier") == 2 for _, p in pager.for_conversation(ids["crisis"])
            ):
                await drain(consumer, trail)

            # A clinician logs in and takes the crisis: acknowledge, join (the AI pauses),
            # resolve (it resumes). Who acted comes from the token, never from the body.
            login = await client.post(
                f"{args.escalation}/v1/auth/token",
                json={"username": username, "password": password},
            )
            if login.status_code != 200:
                print(f"demo: login answered {login.status_code}", file=sys.stderr)
                return 1
            clinician = {"authorization": f"Bearer {login.json()['access_token']}"}
            incidents = (
                await client.get(
                    f"{args.escalation}/v1/incidents",
                    params={"conversation_id": ids["crisis"]},
                    headers=clinician,
                )
            ).json()
            if incidents:
                iid = incidents[0]["id"]
                base = f"{args.escalation}/v1/incidents/{iid}"
                await client.post(f"{base}/ack", headers=clinician)
                await client.post(f"{base}/join", headers=clinician)
                # The clinician's verdict on each alert: the label the model learns from.
                alert_ids = {a["alert_id"] for a in incidents[0].get("alerts", [])}
                if not alert_ids:
                    detail = (await client.get(base, headers=clinician)).json()
                    alert_ids = {a["alert_id"] for a in detail["alerts"]}
                await client.post(
                    f"{base}/resolve",
                    json={
                        "outcome": "client_safe",
                        "verdicts": [
                            {"alert_id": a, "verdict": "crisis_confirmed"}
                            for a in sorted(alert_ids)
                        ],
                    },
                    headers=clinician,
                )
                settle = time.monotonic() + 2
                while time.monotonic() < settle:
                    await drain(consumer, trail)
            for name, cid in ids.items():
                found = await client.get(
                    f"{args.escalation}/v1/incidents",
                    params={"conversation_id": cid, "status": "all"},
                    headers=clinician,
                )
                for i in found.json():
                    pages[name] = f"{args.escalation}/console/incidents/{i['id']}"
    finally:
        await consumer.stop()
        server.shutdown()

    for name, events in conversations.items():
        print_trail(name, events, trail.get(events[0]["conversation_id"], []), pager)

    failures = []
    for name, events in conversations.items():
        cid = events[0]["conversation_id"]
        alerted = any(t["topic"] == "alerts" for t in trail.get(cid, []))
        paged = bool(pager.for_conversation(cid))
        if SCRIPTS[name]["expect_alert"] and not (alerted and paged):
            failures.append(f"{name}: expected an alert and a notification")
        if not SCRIPTS[name]["expect_alert"] and alerted:
            failures.append(f"{name}: alerted but should not have")
    crisis_pages = pager.for_conversation(conversations["crisis"][0]["conversation_id"])
    tiers = [p.get("tier") for _, p in crisis_pages if p.get("reason") in ("opened", "escalated")]
    if tiers[:2] != [1, 2]:
        failures.append(f"crisis: expected tier 1 then tier 2 paged, got tiers {tiers}")
    rupture_pages = pager.for_conversation(conversations["rupture"][0]["conversation_id"])
    if len([p for _, p in rupture_pages if p.get("reason") == "opened"]) != 1:
        failures.append("rupture: expected one grouped first notification")
    print()
    if len(tiers) >= 2:
        at = {
            p.get("tier"): t for t, p in crisis_pages if p.get("reason") in ("opened", "escalated")
        }
        print(
            f"demo: crisis left unacknowledged: tier 1 paged, then tier 2 {at[2] - at[1]:.1f} s later"
            " (deadline shortened to 12 s in deploy/demo/policies.yaml)"
        )
    if rupture_pages:
        _, first = rupture_pages[0]
        print(
            f"demo: the rupture conversation's first notification carried {'+'.join(first['kinds'])}"
            f" in one page ({len(rupture_pages)} notification(s) in all)"
        )
    if crisis_posted_at is not None and crisis_pages:
        print(
            f"demo: crisis message -> clinician notification: {(crisis_pages[0][0] - crisis_posted_at) * 1000:.0f} ms end to end"
        )
    if failures:
        print("demo: FAILED: " + "; ".join(failures))
        return 1
    print(
        "demo: OK - the rupture and crisis conversations reached a clinician; the ordinary one did not."
    )
    await print_retention(args.bootstrap)
    print(
        f"demo: clinician console: {args.escalation}/console - log in as {username},"
        f" password {password} (also in .run/demo.env)"
    )
    for name, url in pages.items():
        print(f"demo: console page of the {name} incident: {url}")
    print(
        f"demo: on-call now and next: {args.escalation}/console/oncall; silences (supervisors"
        f" create them, a crisis is never silenced): {args.escalation}/console/silences"
    )
    print(
        f"demo: events were sent with integrator key {key[:10]}… of tenant {TENANT}"
        f" (Authorization: Bearer <key>), and clinician {username} logged in with"
        f" POST {args.escalation}/v1/auth/token; the credentials are in .run/demo.env."
    )
    return 0


async def print_retention(bootstrap: str) -> None:
    """What the broker keeps and for how long, read from the real topics, and the text's own."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    from attune_schemas.topics import TOPICS

    admin = AIOKafkaAdminClient(
        **kafka_client_options(KafkaClientSettings(kafka_bootstrap_servers=bootstrap))
    )
    await admin.start()
    try:
        described = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, PREFIX + t.name) for t in TOPICS]
        )
    finally:
        await admin.close()
    kept = []
    for response in described:
        for resource in response.resources:
            name, entries = resource[3], resource[4]
            ms = int({e[0]: e[1] for e in entries}["retention.ms"])
            # retention.ms -1 is Kafka's "never delete" (the audit stream).
            held = "for good" if ms < 0 else f"{ms / 86_400_000:g} d"
            kept.append(f"{name.removeprefix(PREFIX)} {held}")
    days = os.environ.get("ATTUNE_ESCALATION_RETENTION_DAYS", "30")
    print(f"demo: retention: topics keep records {', '.join(kept)}")
    print(
        "demo: retention: incident text (evidence, recent messages, notes) is deleted"
        f" {days} days after the incident is resolved (ATTUNE_ESCALATION_RETENTION_DAYS);"
        " the audit trail stays"
    )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
