"""`make bench-classifier`: classifier throughput and memory, as ratios measured in one run.

1. In process: messages/s scoring one message at a time vs in batches (the service's path).
2. Through the real broker: the classifier service (consume, score, produce) against a raw
   aiokafka consume-and-produce pass-through of the same events, run right before and right
   after it, all with acks=all and idempotence, all timed by the broker timestamps of their
   output (steady state).
3. Resident memory of the classifier's state with 100,000 active conversations.
4. The marker lexicon on the corpus texts: every pattern one by one (the reference) against the
   prefiltered tables the service runs (`--lexicon` runs only this part, without Kafka).
Numbers vary with the machine; read the ratios.
Kafka clients: plain bootstrap only (the local broker of `make kafka-up`, no credentials).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from attune_classifier import lexicon, lexicon_reference, screening, text_caches
from attune_classifier.app import build
from attune_classifier.model import ModelScorer
from attune_classifier.scoring import ScoringInput
from attune_classifier.settings import ClassifierSettings
from attune_models.corpus import MODELS_DIR, load
from attune_runtime.kafka import ensure_topics
from attune_runtime.logging import configure_logging
from attune_schemas import MessageSent, Sender, encode

ARTIFACTS = MODELS_DIR / "artifacts"


def corpus_inputs(n: int) -> list[ScoringInput]:
    corpus = load()
    items = [e.scoring_input() for e in corpus.train + corpus.test]
    random.Random(1).shuffle(items)
    return (items * (n // len(items) + 1))[:n]


def bench_scoring(scorer: ModelScorer, n: int, batch: int) -> dict[str, float]:
    """Scoring alone: latency of one message at a time, and client messages per CPU-second.

    CPU time, not wall time, is the per-core figure: on a machine shared with other work the
    wall clock measures the neighbours too. The corpus has fewer texts than the run scores, so
    every text cache is emptied before each timed call (`text_caches`): each message costs what
    a message the service has never seen costs.
    """
    items = corpus_inputs(n)
    scorer.score_batch(items[:batch])  # warm up: the models, the tokenizer's word cache
    latencies = []
    for item in items[: n // 4]:
        text_caches.clear()
        t0 = time.perf_counter()
        scorer.score_batch([item])
        latencies.append(time.perf_counter() - t0)
    cpu = wall = 0.0
    for i in range(0, n, batch):
        text_caches.clear()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        scorer.score_batch(items[i : i + batch])
        cpu, wall = cpu + time.process_time() - cpu0, wall + time.perf_counter() - wall0
    ordered = sorted(latencies)
    return {
        "single_p50_ms": 1000 * ordered[len(ordered) // 2],
        "single_p99_ms": 1000 * ordered[int(len(ordered) * 0.99)],
        "single_msgs_per_s": len(latencies) / sum(latencies),
        "batched_msgs_per_cpu_s": n / cpu,
        "batched_msgs_per_s": n / wall,
    }


def conversation_events(conversations: int, turns: int) -> list[MessageSent]:
    """Interleaved conversations, alternating AI and client turns, realistic texts.

    The corpus has fewer texts than a run sends, so each client message ends with a number of
    its own ("… #1234"): a repeated text would be scored from the classifier's text caches, work
    the service never skips for a new message.
    """
    texts = [i.text for i in corpus_inputs(2000)]
    rng = random.Random(2)
    start = datetime.now(UTC) - timedelta(hours=1)
    events: list[MessageSent] = []
    for t in range(turns):
        for c in range(conversations):
            sender = Sender.AI if t % 2 == 0 else Sender.CLIENT
            events.append(
                MessageSent(
                    event_id=uuid.uuid4(),
                    conversation_id=f"bench-{c}",
                    tenant_id="bench",
                    occurred_at=start + timedelta(seconds=t * 30 + c % 30),
                    message_id=f"m{t}",
                    sender=sender,
                    text=f"{rng.choice(texts)} #{len(events)}"
                    if sender is Sender.CLIENT
                    else "What's been on your mind?",
                )
            )
    return events


async def produce(bootstrap: str, topic: str, events: list[MessageSent]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    try:
        futures = [
            await producer.send(topic, encode(e), key=e.conversation_id.encode()) for e in events
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def output_rate(bootstrap: str, topic: str, expected: int, within: float = 600.0) -> float:
    """Records/s over the output topic, from its first to its last broker timestamp."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    stamps: list[int] = []
    deadline = time.monotonic() + within
    try:
        while len(stamps) < expected and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                stamps.extend(r.timestamp for r in records)
    finally:
        await consumer.stop()
    if len(stamps) < expected:
        raise RuntimeError(f"{topic}: {len(stamps)} of {expected} records arrived")
    span = (max(stamps) - min(stamps)) / 1000
    return len(stamps) / span if span > 0 else float("inf")


async def passthrough(bootstrap: str, source: str, sink: str, count: int) -> None:
    """The baseline: consume, produce each record (acks=all, idempotent), commit per batch."""
    consumer = AIOKafkaConsumer(
        source, bootstrap_servers=bootstrap, group_id=f"{sink}-raw", auto_offset_reset="earliest",
        enable_auto_commit=False,
    )  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await consumer.start()
    await producer.start()
    seen = 0
    try:
        while seen < count:
            batch = await consumer.getmany(timeout_ms=500, max_records=256)
            futures = [
                await producer.send(sink, r.value, key=r.key)
                for records in batch.values()
                for r in records
            ]
            await asyncio.gather(*futures)
            await consumer.commit()
            seen += len(futures)
    finally:
        await producer.stop()
        await consumer.stop()


async def raw_rate(bootstrap: str, source: str, sink: str, count: int) -> float:
    task = asyncio.create_task(passthrough(bootstrap, source, sink, count))
    rate = await output_rate(bootstrap, sink, count)
    await task
    return rate


async def bench_broker(bootstrap: str, conversations: int, turns: int) -> dict[str, float]:
    """The pass-through runs right before and right after the classifier, on the same events;
    the classifier is compared with their mean, since on a shared machine either alone swings."""
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    source = f"{prefix}conversation.events"
    await ensure_topics(bootstrap, partitions=3, prefix=prefix)
    sinks = [f"{prefix}raw.before", f"{prefix}raw.after"]
    await ensure_topics(bootstrap, partitions=3, names=sinks)
    events = conversation_events(conversations, turns)
    client_messages = sum(e.sender is Sender.CLIENT for e in events)
    await produce(bootstrap, source, events)

    before = await raw_rate(bootstrap, source, sinks[0], len(events))

    settings = ClassifierSettings(
        kafka_bootstrap_servers=bootstrap, topic_prefix=prefix, group_id=f"{prefix}classifier",
        log_level="WARNING",
    )  # fmt: skip
    configure_logging("classifier", settings.log_level)  # as the service's entry point does
    service = build(settings)
    async with service.running():
        assessed = await output_rate(bootstrap, f"{prefix}rupture.assessments", client_messages)
    after = await raw_rate(bootstrap, source, sinks[1], len(events))
    # The classifier emits one record per client message but consumes every event.
    consumed = assessed * len(events) / client_messages
    return {
        "events": len(events),
        "raw_before_events_per_s": before,
        "raw_after_events_per_s": after,
        "raw_passthrough_events_per_s": (before + after) / 2,
        "classifier_events_per_s": consumed,
        "classifier_assessments_per_s": assessed,
    }


def bench_memory(conversations: int) -> dict[str, float]:
    """In a fresh interpreter: RSS of the classifier's windows with N live conversations."""
    code = f"""
import gc, os, uuid, psutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from attune_classifier.assess import Assessor
from attune_classifier.scoring import MessageScore
from attune_classifier.window import Windows
from attune_runtime.clock import SystemClock
from attune_schemas import MessageSent, Sender

class Flat:
    version = "flat"
    elevated = 0.5
    exchange_notable = float("inf")
    def score_batch(self, items):
        return [MessageScore(0.9, 0.05, 0.04, 0.01, (), (), False) for _ in items]

proc = psutil.Process(os.getpid())
gc.collect(); before = proc.memory_info().rss
windows = Windows(max_conversations={conversations} + 1, idle_expiry=timedelta(hours=6))
assessor = Assessor(scorer=Flat(), windows=windows, clock=SystemClock())
start = datetime.now(UTC)
text_ai = "It sounds like the week has been a lot. What felt hardest about it for you?"
text_client = "honestly work mostly, my manager keeps moving deadlines and I am not sleeping well"
for c in range({conversations}):
    batch = []
    for t in range(8):
        batch.append((MessageSent(event_id=uuid.uuid4(), conversation_id=f"c{{c}}", tenant_id="t",
            occurred_at=start + timedelta(seconds=t * 40), message_id=f"m{{t}}",
            sender=Sender.AI if t % 2 == 0 else Sender.CLIENT,
            text=(text_ai if t % 2 == 0 else text_client) + f" {{c}}"), 0))
    assessor.process(batch)
gc.collect(); after = proc.memory_info().rss
print(len(windows), before, after)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    live, before, after = int(out[0]), int(out[1]), int(out[2])
    return {"conversations": live, "rss_mb": after / 1e6, "state_mb": (after - before) / 1e6,
            "bytes_per_conversation": (after - before) / live}  # fmt: skip


def lexicon_turns() -> list[tuple[str, str | None]]:
    """Every text of the corpus (client messages and context turns), with the turn before it."""
    corpus = load()
    turns: list[tuple[str, str | None]] = []
    for example in corpus.train + corpus.test:
        before: str | None = None
        for turn in example.context:
            turns.append((turn.text, before))
            before = turn.text if turn.sender != "client" else before
        turns.append((example.text, before))
    return turns


def _rate(run: Callable[[str, str | None], object], turns: list[tuple[str, str | None]]) -> float:
    """Messages per CPU second (one core, whatever else the machine runs), whole passes, >= 1 s."""
    done, t0 = 0, time.process_time()
    while done == 0 or time.process_time() - t0 < 1.0:
        for text, before in turns:
            run(text, before)
        done += len(turns)
    return done / (time.process_time() - t0)


def _rules_reference(text: str, before: str | None) -> object:
    return (
        lexicon_reference.find_markers(text),
        lexicon_reference.screening_hits(before, text),
        lexicon_reference.crisis_cue_counts(text),
        lexicon_reference.crisis_excluded(text),
    )


def _rules(text: str, before: str | None) -> object:
    # What the scorer reads from the lexicon for one new message (find_markers without its cache).
    return (
        lexicon.scan_markers(text),
        screening.screening_hits(before, text),
        lexicon.crisis_cue_counts(text),
        lexicon.crisis_excluded(text),
    )


def bench_lexicon() -> dict[str, float]:
    turns = lexicon_turns()
    return {
        "texts": len(turns),
        "markers_reference_msgs_per_s": _rate(
            lambda t, _: lexicon_reference.find_markers(t), turns
        ),
        "markers_msgs_per_s": _rate(lambda t, _: lexicon.scan_markers(t), turns),
        "rules_reference_msgs_per_s": _rate(_rules_reference, turns),
        "rules_msgs_per_s": _rate(_rules, turns),
    }


def print_lexicon() -> None:
    r = bench_lexicon()
    naive, fast = r["markers_reference_msgs_per_s"], r["markers_msgs_per_s"]
    print(
        f"4. lexicon on {r['texts']:.0f} corpus texts, per CPU second: find_markers one pattern "
        f"at a time {naive:.0f} msg/s, prefiltered {fast:.0f} msg/s -> x{fast / naive:.1f}"
    )
    naive, fast = r["rules_reference_msgs_per_s"], r["rules_msgs_per_s"]
    print(
        f"   all lexicon rules per message (markers, screening, cues, exclusions): "
        f"{naive:.0f} msg/s -> {fast:.0f} msg/s, x{fast / naive:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument("--messages", type=int, default=4000)
    # 12,000 events: a run of a few seconds, long enough for steady state on the broker.
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=12)
    parser.add_argument("--memory-conversations", type=int, default=100_000)
    parser.add_argument(
        "--lexicon", action="store_true", help="only the lexicon part (4.), no Kafka needed"
    )
    args = parser.parse_args()
    if args.lexicon:
        print_lexicon()
        return

    scorer = ModelScorer.load(ARTIFACTS)
    print(f"model {scorer.version}; machine: {os.cpu_count()} cores")
    s = bench_scoring(scorer, args.messages, batch=256)
    print(
        f"1. scoring in process: one message at a time p50 {s['single_p50_ms']:.2f} ms, "
        f"p99 {s['single_p99_ms']:.2f} ms ({s['single_msgs_per_s']:.0f} msg/s); batched (256) "
        f"{s['batched_msgs_per_cpu_s']:.0f} msg per CPU-second ({s['batched_msgs_per_s']:.0f} "
        f"msg/s wall) -> batching x{s['batched_msgs_per_s'] / s['single_msgs_per_s']:.1f}"
    )
    b = asyncio.run(bench_broker(args.bootstrap, args.conversations, args.turns))
    raw, ours = b["raw_passthrough_events_per_s"], b["classifier_events_per_s"]
    print(
        f"2. through Kafka ({b['events']:.0f} events): raw aiokafka pass-through {raw:.0f} ev/s "
        f"(before {b['raw_before_events_per_s']:.0f}, after {b['raw_after_events_per_s']:.0f}), "
        f"classifier {ours:.0f} ev/s ({b['classifier_assessments_per_s']:.0f} assessments/s) "
        f"-> {ours / raw:.2f} of the pass-through"
    )
    gc.collect()
    m = bench_memory(args.memory_conversations)
    print(
        f"3. memory: {m['conversations']:.0f} active conversations hold {m['state_mb']:.0f} MB "
        f"({m['bytes_per_conversation'] / 1e3:.1f} kB each); process RSS {m['rss_mb']:.0f} MB"
    )
    print_lexicon()


if __name__ == "__main__":
    main()
