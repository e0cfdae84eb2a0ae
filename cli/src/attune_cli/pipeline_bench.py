"""`make bench-pipeline`: the four services end to end on the real broker, as ratios measured
in one run against a raw aiokafka pass-through chain of the same length.

Both chains get the same offered load for the same time: ordinary conversations at `--rate`
events/s (background) and, every `--probe-every` seconds, one crisis message in a new
conversation (the probe).

- Attune: HTTP into ingest -> conversation.events -> classifier -> rupture.assessments ->
  router -> alerts -> escalation -> webhook page. A probe's latency runs from its POST to the
  page reaching the webhook receiver in this process.
- Baseline: a producer -> three topics joined by two pass-through processes (consume, produce
  with acks=all and idempotence, commit per batch) -> a consumer in this process. A probe's
  latency runs from its send to its arrival at the last consumer.

Per stage, records/s is what the stage's consumer group committed from the start of the load
until it had caught up with its input: the offered rate when it keeps up, its capacity when it
does not; lag is what it had left to read when the load stopped. Each chain first carries one
probe end to end (warm-up) before the clock starts. The router reads one assessment per client
turn and escalation only alerts, where each pass-through reads every record: compare how long
after the load each caught up rather than their rates. Each probe's time is also split by hop:
the timestamps of its records on each topic of the chain say when each stage wrote it. Numbers
vary with the machine; read the ratios.

Kafka clients: plain bootstrap only (the local broker of `make kafka-up`, no credentials).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from attune_auth import keys
from attune_auth.db import Tenant, make_engine, make_sessions
from attune_auth.migrate import upgrade_async
from attune_runtime.kafka import ensure_topics

TENANT = "bench-clinic"
SERVICES = ("ingest", "classifier", "router", "escalation")
# What each stage consumes (its consumer group is the prefix and its name).
STAGE_INPUTS = {
    "classifier": "conversation.events",
    "router": "rupture.assessments",
    "escalation": "alerts",
}
# The hops of a probe's way: into the first topic, then each stage's output (the last stage's
# is the page, or the baseline's last consumer).
HOPS = ("intake", *STAGE_INPUTS)
ENGAGEMENT = "escalation (engagement chart)"
PARTITIONS = 3
RAW_TOPICS = ("raw.events", "raw.assessments", "raw.alerts")
ORDINARY = (
    "Work was fine today, I went for a walk at lunch and it helped.",
    "I cooked dinner with my sister and we talked about the holidays.",
    "Sleep was a bit better this week, maybe six hours most nights.",
    "I tried the breathing exercise before the meeting and it went okay.",
)
AI_TURN = "That sounds like a step forward. What made the difference this time?"
CRISIS = "I have been thinking that everyone would be better off if I killed myself."


@dataclass
class Run:
    """What one chain did under the load."""

    sent: int = 0
    failed: int = 0  # events in batches the chain refused or dropped (counted in `sent` too)
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    missing: int = 0
    stage_rates: dict[str, float] = field(default_factory=dict)
    stage_lag: dict[str, int] = field(default_factory=dict)
    # Seconds after the load until the stage had caught up; None: not within --settle.
    stage_drain: dict[str, float | None] = field(default_factory=dict)
    # Each probe's send and arrival, wall clock (s), to line up with the records' timestamps.
    probes_sent: dict[str, float] = field(default_factory=dict)
    probes_arrived: dict[str, float] = field(default_factory=dict)
    # Per hop (HOPS), each probe's ms in it: where the end-to-end latency goes.
    hop_ms: list[list[float]] = field(default_factory=list)

    def quantile(self, q: float) -> float:
        return quantile(self.latencies_ms, q)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Arrivals:
    """Probe ids and when they arrived (monotonic), filled from any thread."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.lock = threading.Lock()

    def mark(self, probe: str) -> None:
        with self.lock:
            self.at.setdefault(probe, time.monotonic())


def webhook(arrivals: Arrivals) -> tuple[ThreadingHTTPServer, int]:
    """The clinical team's pager: records when each incident's first page arrives."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            page = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            arrivals.mark(page.get("conversation_id", ""))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, int(server.server_address[1])


def event(conversation: str, n: int, sender: str, text: str) -> dict[str, Any]:
    return {
        "type": "message_sent",
        "event_id": str(uuid.uuid4()),
        "conversation_id": conversation,
        "tenant_id": TENANT,
        "occurred_at": datetime.now(UTC).isoformat(),
        "session_id": f"{conversation}-s1",
        "message_id": f"m{n}",
        "sender": sender,
        "text": text,
    }


def background(run: str, conversations: int) -> Callable[[int], list[dict[str, Any]]]:
    """Ordinary conversations, AI and client turns alternating, round robin."""
    turn = 0

    def take(count: int) -> list[dict[str, Any]]:
        nonlocal turn
        batch = []
        for _ in range(count):
            c, t = turn % conversations, turn // conversations
            client = t % 2 == 1
            text = ORDINARY[(c + t) % len(ORDINARY)] if client else AI_TURN
            batch.append(event(f"bg-{run}-{c}", t, "client" if client else "ai", text))
            turn += 1
        return batch

    return take


async def drive(
    *,
    send: Callable[[list[dict[str, Any]]], Coroutine[Any, Any, None]],
    rate: float,
    seconds: float,
    probe_every: float,
    run: str,
    arrivals: Arrivals,
    result: Run,
) -> dict[str, float]:
    """Offer `rate` events/s for `seconds`, a crisis probe every `probe_every` s; returns
    each probe's send time."""
    take = background(run, conversations=max(1, int(rate)))
    tick = 0.05
    sent_at: dict[str, float] = {}
    start = time.monotonic()
    next_probe = start + 1.0
    owed = 0.0
    pending: set[asyncio.Task[None]] = set()
    while (now := time.monotonic()) < start + seconds:
        owed += rate * tick
        batch = take(int(owed))
        owed -= len(batch)
        if now >= next_probe:
            probe = f"probe-{run}-{len(sent_at)}"
            batch.insert(0, event(probe, 1, "client", CRISIS))
            sent_at[probe] = now
            next_probe += probe_every
        if batch:
            task = asyncio.create_task(send(batch))
            pending.add(task)
            task.add_done_callback(settled(pending, result, len(batch)))
            result.sent += len(batch)
        await asyncio.sleep(
            max(0.0, start + (tick * (1 + (now - start) // tick)) - time.monotonic())
        )
    await asyncio.gather(*pending, return_exceptions=True)  # counted by `settled`
    result.seconds = time.monotonic() - start
    return sent_at


def settled(
    pending: set[asyncio.Task[None]], result: Run, events: int
) -> Callable[[asyncio.Task[None]], None]:
    """A send's done callback: no longer pending, and its events counted if it failed."""

    def done(task: asyncio.Task[None]) -> None:
        pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            result.failed += events

    return done


async def committed(admin: AIOKafkaAdminClient, group: str, topic: str) -> int:
    offsets = await admin.list_consumer_group_offsets(group)
    return sum(m.offset for tp, m in offsets.items() if tp.topic == topic and m.offset > 0)


async def end_offsets(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        return sum((await consumer.end_offsets(parts)).values())
    finally:
        await consumer.stop()


async def warm_up(
    send: Callable[[list[dict[str, Any]]], Coroutine[Any, Any, None]], run: str, arrivals: Arrivals
) -> None:
    """One probe through the whole chain before the clock starts: processes started, groups
    joined, connections open."""
    probe = f"probe-{run}-warm-up"
    await send([event(probe, 1, "client", CRISIS)])
    deadline = time.monotonic() + 180
    while probe not in arrivals.at:
        if time.monotonic() > deadline:
            raise RuntimeError("the warm-up probe did not come through in 180 s")
        await asyncio.sleep(0.1)


async def measure(
    *,
    bootstrap: str,
    stages: dict[str, tuple[str, str]],
    send: Callable[[list[dict[str, Any]]], Coroutine[Any, Any, None]],
    args: argparse.Namespace,
    run: str,
    arrivals: Arrivals,
) -> Run:
    """Drive the load through a chain whose stages are {name: (group, input topic)}, in order.

    A stage's rate is what it committed from the start of the load until it had caught up
    with its input (after the stages before it had): equal to the offered rate when it keeps
    up, its capacity when it does not."""
    result = Run()
    await warm_up(send, run, arrivals)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        before = {s: await committed(admin, g, t) for s, (g, t) in stages.items()}
        start = time.monotonic()
        sent_at = await drive(
            send=send, rate=args.rate, seconds=args.seconds, probe_every=args.probe_every,
            run=run, arrivals=arrivals, result=result,
        )  # fmt: skip
        for stage, (group, topic) in stages.items():
            result.stage_lag[stage] = await end_offsets(bootstrap, topic) - await committed(
                admin, group, topic
            )
        stopped = time.monotonic()
        deadline = stopped + args.settle
        for stage, (group, topic) in stages.items():
            while True:
                done = await committed(admin, group, topic)
                caught_up = done >= await end_offsets(bootstrap, topic)
                if caught_up or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            result.stage_rates[stage] = (done - before[stage]) / (time.monotonic() - start)
            result.stage_drain[stage] = time.monotonic() - stopped if caught_up else None
    finally:
        await admin.close()
    while time.monotonic() < deadline:
        if set(sent_at) <= set(arrivals.at):
            break
        await asyncio.sleep(0.1)
    result.latencies_ms = [
        (arrivals.at[p] - t) * 1000 for p, t in sent_at.items() if p in arrivals.at
    ]
    result.missing = len(sent_at) - len(result.latencies_ms)
    wall = time.time() - time.monotonic()
    result.probes_sent = {p: t + wall for p, t in sent_at.items()}
    result.probes_arrived = {p: arrivals.at[p] + wall for p in sent_at if p in arrivals.at}
    return result


async def first_written(bootstrap: str, topic: str, keys: set[str]) -> dict[str, float]:
    """When the first record of each key was written to `topic` (its timestamp, s)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        found: dict[str, float] = {}
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for records in batch.values():
                for r in records:
                    key = r.key.decode() if r.key is not None else ""
                    if key in keys and key not in found:
                        found[key] = r.timestamp / 1000
        return found
    finally:
        await consumer.stop()


def hop_latencies(
    sent: dict[str, float], written: list[dict[str, float]], arrived: dict[str, float]
) -> list[list[float]]:
    """Per hop, each probe's ms in it: its send -> each topic in turn -> its arrival.

    A probe missing anywhere (never arrived) counts in no hop.
    """
    hops: list[list[float]] = [[] for _ in range(len(written) + 1)]
    for probe, at in sent.items():
        points = [at, *(w.get(probe) for w in written), arrived.get(probe)]
        if any(p is None for p in points):
            continue
        times = [p for p in points if p is not None]
        for hop, (start, end) in enumerate(pairwise(times)):
            hops[hop].append((end - start) * 1000)
    return hops


async def trace_hops(bootstrap: str, topics: list[str], result: Run) -> None:
    """Where each probe's time went: the records' timestamps on every topic of the chain."""
    probes = set(result.probes_sent)
    written = [await first_written(bootstrap, t, probes) for t in topics]
    result.hop_ms = hop_latencies(result.probes_sent, written, result.probes_arrived)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def seed_identity(path: Path) -> str:
    """An identity database with the bench tenant; returns its integrator key."""
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    engine = make_engine(url)
    try:
        async with make_sessions(engine)() as session, session.begin():
            now = datetime.now(UTC)
            session.add(Tenant(id=TENANT, name=TENANT, created_at=now))
            await session.flush()
            new = await keys.create_key(session, tenant_id=TENANT, name="bench", now=now)
    finally:
        await engine.dispose()
    return new.key


async def wait_ready(urls: dict[str, str], procs: dict[str, subprocess.Popen[bytes]]) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        for name, url in urls.items():
            deadline = time.monotonic() + 120
            while True:
                if procs[name].poll() is not None:
                    raise RuntimeError(f"{name} exited; see its log")
                try:
                    if (await client.get(f"{url}/health/ready")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} not ready")
                await asyncio.sleep(0.3)


def spawn(
    command: list[str], log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def stop(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        proc.terminate()
    for proc in procs.values():
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


async def attune(args: argparse.Namespace, prefix: str, workdir: Path, arrivals: Arrivals) -> Run:
    key = await seed_identity(workdir / "identity.db")
    server, pager_port = webhook(arrivals)
    ports = {s: free_port() for s in SERVICES}
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": args.bootstrap,
        "ATTUNE_TOPIC_PREFIX": prefix,
        "ATTUNE_AUTH_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'identity.db'}",
        "ATTUNE_AUTH_JWT_SECRET": uuid.uuid4().hex * 2,
        "ATTUNE_ESCALATION_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'escalation.db'}",
        "ATTUNE_ESCALATION_CONSOLE_NOTIFICATIONS": "false",
        "ATTUNE_ESCALATION_CHANNELS": json.dumps(
            {"pager": {"type": "webhook", "url": f"http://127.0.0.1:{pager_port}/pager"}}
        ),
        "PYTHONUNBUFFERED": "1",
    }
    for s in SERVICES:
        env[f"ATTUNE_{s.upper()}_HTTP_PORT"] = str(ports[s])
        env[f"ATTUNE_{s.upper()}_GROUP_ID"] = f"{prefix}{s}"
        env[f"ATTUNE_{s.upper()}_LOG_LEVEL"] = "WARNING"
    procs = {
        s: spawn([sys.executable, "-m", f"attune_{s}"], workdir / f"{s}.log", env) for s in SERVICES
    }
    urls = {s: f"http://127.0.0.1:{p}" for s, p in ports.items()}
    try:
        await wait_ready(urls, procs)
        async with httpx.AsyncClient(
            timeout=30, headers={"authorization": f"Bearer {key}"}
        ) as client:

            async def send(batch: list[dict[str, Any]]) -> None:
                r = await client.post(f"{urls['ingest']}/v1/events", json=batch)
                if r.status_code != 202:
                    raise RuntimeError(f"ingest answered {r.status_code}: {r.text[:300]}")

            stages = {s: (f"{prefix}{s}", f"{prefix}{t}") for s, t in STAGE_INPUTS.items()}
            chain = [t for _, t in stages.values()]
            # Escalation also reads every assessment, for the console's engagement chart.
            stages[ENGAGEMENT] = (f"{prefix}escalation-engagement", f"{prefix}rupture.assessments")
            result = await measure(
                bootstrap=args.bootstrap, stages=stages, send=send, args=args,
                run=prefix.rstrip("."), arrivals=arrivals,
            )  # fmt: skip
            await trace_hops(args.bootstrap, chain, result)
            return result
    finally:
        stop(procs)
        server.shutdown()


async def passthrough(bootstrap: str, source: str, sink: str, group: str) -> None:
    """One baseline stage: consume, produce each record (acks=all, idempotent), commit per batch."""
    consumer = AIOKafkaConsumer(
        source, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
        enable_auto_commit=False,
    )  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await consumer.start()
    await producer.start()
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=500, max_records=256)
            futures = [
                await producer.send(sink, r.value, key=r.key)
                for records in batch.values()
                for r in records
            ]
            await asyncio.gather(*futures)
            if futures:
                await consumer.commit()
    finally:
        await producer.stop()
        await consumer.stop()


async def baseline(args: argparse.Namespace, prefix: str, workdir: Path, arrivals: Arrivals) -> Run:
    topics = [f"{prefix}{t}" for t in RAW_TOPICS]
    await ensure_topics(args.bootstrap, partitions=PARTITIONS, names=topics)
    groups = [f"{prefix}raw-{n}" for n in range(1, len(topics) + 1)]
    chain = zip(topics, topics[1:], groups, strict=False)
    procs = {
        f"raw-{n}": spawn(
            [
                sys.executable,
                "-m",
                "attune_cli.pipeline_bench",
                "--bootstrap",
                args.bootstrap,
                "--passthrough",
                src,
                dst,
                group,
            ],
            workdir / f"raw-{n}.log",
        )
        for n, (src, dst, group) in enumerate(chain, 1)
    }
    producer = AIOKafkaProducer(
        bootstrap_servers=args.bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )
    last = AIOKafkaConsumer(
        topics[-1], bootstrap_servers=args.bootstrap, group_id=groups[-1],
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip

    async def arrive() -> None:
        while True:
            batch = await last.getmany(timeout_ms=200, max_records=1000)
            for records in batch.values():
                for r in records:
                    if r.key is not None and r.key.startswith(b"probe-"):
                        arrivals.mark(r.key.decode())
            if batch:
                await last.commit()

    await producer.start()
    await last.start()
    receiver = asyncio.create_task(arrive())
    try:

        async def send(batch: list[dict[str, Any]]) -> None:
            futures = [
                await producer.send(
                    topics[0], json.dumps(e).encode(), key=e["conversation_id"].encode()
                )
                for e in batch
            ]
            await asyncio.gather(*futures)

        stages = {
            "classifier": (groups[0], topics[0]),
            "router": (groups[1], topics[1]),
            "escalation": (groups[2], topics[2]),
        }
        result = await measure(
            bootstrap=args.bootstrap, stages=stages, send=send, args=args,
            run=prefix.rstrip("."), arrivals=arrivals,
        )  # fmt: skip
        await trace_hops(args.bootstrap, topics, result)
        return result
    finally:
        receiver.cancel()
        await asyncio.gather(receiver, return_exceptions=True)
        await last.stop()
        await producer.stop()
        stop(procs)


def report(args: argparse.Namespace, ours: Run, raw: Run) -> None:
    print(
        f"offered: {args.rate:.0f} events/s of ordinary conversations for {args.seconds:.0f} s, "
        f"a crisis probe every {args.probe_every:g} s; machine: {os.cpu_count()} cores"
    )
    print(
        f"intake: attune {ours.sent / ours.seconds:.0f} events/s accepted over HTTP, baseline "
        f"{raw.sent / raw.seconds:.0f} events/s produced -> "
        f"{(ours.sent / ours.seconds) / (raw.sent / raw.seconds):.2f}"
        + "".join(
            f"; {name}: {r.failed} events in failed sends"
            for name, r in (("attune", ours), ("baseline", raw))
            if r.failed
        )
    )

    def drained(r: Run, stage: str) -> str:
        after = r.stage_drain[stage]
        caught = f"caught up {after:.1f} s later" if after is not None else "not caught up"
        return f"lag {r.stage_lag[stage]} at the end of the load, {caught}"

    for stage in STAGE_INPUTS:
        print(
            f"{stage}: attune {ours.stage_rates[stage]:.0f} records/s ({drained(ours, stage)}), "
            f"pass-through {raw.stage_rates[stage]:.0f} records/s ({drained(raw, stage)})"
        )
    if ENGAGEMENT in ours.stage_rates:
        print(f"{ENGAGEMENT}: attune {ours.stage_rates[ENGAGEMENT]:.0f} records/s "
              f"({drained(ours, ENGAGEMENT)})")  # fmt: skip
    for name, r in (("attune", ours), ("baseline", raw)):
        print(
            f"{name}: {len(r.latencies_ms)} probes, p50 {r.quantile(0.5):.0f} ms, "
            f"p99 {r.quantile(0.99):.0f} ms, max {max(r.latencies_ms, default=float('nan')):.0f} ms"
            + (f", {r.missing} never arrived" if r.missing else "")
        )
    for name, r in (("attune", ours), ("baseline", raw)):
        spent = ", ".join(
            f"{hop} {quantile(ms, 0.5):.0f}/{quantile(ms, 0.99):.0f}"
            for hop, ms in zip(HOPS, r.hop_ms, strict=False)
        )
        print(f"{name}: where a probe's time goes, p50/p99 ms: {spent}")
    print(
        f"crisis message -> first page: p50 x{ours.quantile(0.5) / raw.quantile(0.5):.1f}, "
        f"p99 x{ours.quantile(0.99) / raw.quantile(0.99):.1f} the pass-through chain's "
        f"(target: attune p99 <= 1000 ms: {'met' if ours.quantile(0.99) <= 1000 else 'NOT met'})"
    )


async def bench(args: argparse.Namespace) -> None:
    prefix = f"benchp{uuid.uuid4().hex[:6]}."
    await ensure_topics(args.bootstrap, partitions=PARTITIONS, prefix=prefix)
    with tempfile.TemporaryDirectory(prefix="attune-bench-") as tmp:
        ours = await attune(args, prefix, Path(tmp), Arrivals())
        raw = await baseline(args, prefix, Path(tmp), Arrivals())
    report(args, ours, raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument("--rate", type=float, default=1000.0, help="background events/s")
    parser.add_argument("--seconds", type=float, default=30.0, help="load time per chain")
    parser.add_argument("--probe-every", type=float, default=0.5, help="s between crisis probes")
    parser.add_argument("--settle", type=float, default=60.0, help="s to wait for late probes")
    parser.add_argument("--passthrough", nargs=3, metavar=("SOURCE", "SINK", "GROUP"))
    args = parser.parse_args()
    if args.passthrough:
        asyncio.run(passthrough(args.bootstrap, *args.passthrough))
        return
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
