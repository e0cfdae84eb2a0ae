"""`make bench-ingest`: HTTP intake throughput and latency, against a produce-only baseline.

Two servers run side by side on the real broker and are measured the same way:
  ingest    the service as deployed (`python -m attune_ingest`: uvicorn, validation, dedup)
  baseline  a bare ASGI endpoint on the same uvicorn that only produces the posted JSON to
            Kafka with the same producer (acks=all, idempotence), no validation, no dedup
and for each:
  1. single-event POSTs in a closed loop at fixed concurrency: requests/s, latency percentiles
  2. single-event POSTs at a fixed offered rate (open loop; latency counted from the moment a
     request was due, so a stalled server cannot hide its queue): p50/p99
  3. batched POSTs (500 events each) in a closed loop: events/s
Each measurement alternates between the two servers for a few rounds and keeps the best, so
load from elsewhere on the machine skews both alike. The load generator is a minimal asyncio
HTTP/1.1 client with keep-alive connections, in this process; it shares the cores with the
servers and the broker, and its own CPU share is printed: near 100%, it is the limit.
Kafka clients: plain bootstrap only (the local broker of `make kafka-up`, no credentials).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
import uvloop
from aiokafka.admin import AIOKafkaAdminClient
from pydantic_core import from_json, to_json

from attune_runtime.kafka import ManagedProducer, OutRecord, ensure_topics, send_records
from attune_runtime.settings import ServiceSettings
from attune_schemas.topics import CONVERSATION_EVENTS

TARGETS = {"single_rps": 1500.0, "p99_ms_at_rate": 50.0, "batch_eps": 20_000.0, "ratio": 0.5}


# --- the baseline endpoint --------------------------------------------------------------------


def baseline_app(settings: ServiceSettings) -> Any:
    """POST any JSON object or array: each item is produced to conversation.events as is."""
    producer = ManagedProducer(settings, service="bench-baseline")
    topic = settings.topic(CONVERSATION_EVENTS)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await producer.start()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await producer.stop()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        status = 404
        if scope["method"] == "POST":
            payload = from_json(b"".join(chunks))
            items = payload if isinstance(payload, list) else [payload]
            records = [
                OutRecord(topic, str(item.get("conversation_id", "")).encode(), to_json(item))
                for item in items
            ]
            outcomes = await send_records(producer, records)
            status = 202 if all(o is None for o in outcomes) else 503
        headers = [(b"content-type", b"application/json"), (b"content-length", b"2")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


def serve_baseline(port: int) -> None:
    settings = ServiceSettings()
    uvicorn.run(
        baseline_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )


# --- the load generator -----------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection; `post` returns the status code."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def post(self, body: bytes) -> int:
        self.writer.write(
            b"POST /v1/events HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n%s" % (len(body), body)
        )
        return await self._answer()

    async def get(self, path: bytes) -> int:
        self.writer.write(b"GET %s HTTP/1.1\r\nhost: bench\r\n\r\n" % path)
        return await self._answer()

    async def _answer(self) -> int:
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return int(head[9:12])

    def close(self) -> None:
        self.writer.close()


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    items: int = 0
    seconds: float = 0.0
    client_cpu: float = 0.0  # share of one core the load generator used: near 1, it is the limit
    sent: int = 0  # items answered over the whole run, warm-up included
    server_cpu: float = 0.0  # CPU seconds the server used over the whole run

    @property
    def cpu_per_item(self) -> float:
        """Server CPU microseconds per event: steadier than throughput when the cores are shared."""
        return self.server_cpu / self.sent * 1e6 if self.sent else float("nan")

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def item_rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0


def events(n: int, *, batch: int = 1) -> Iterator[bytes]:
    """Fresh valid events (unique ids, 1,000 conversations), one body per `batch` events."""
    text = "I am not sure this is helping, to be honest. Can we try something else today?"
    for i in range(n):
        now = datetime.now(UTC).isoformat()
        items = [
            {
                "event_id": str(uuid.uuid4()),
                "conversation_id": f"bench-{(i * batch + j) % 1000}",
                "tenant_id": "bench",
                "occurred_at": now,
                "type": "message_sent",
                "message_id": f"m-{i}-{j}",
                "sender": "client",
                "text": text,
            }
            for j in range(batch)
        ]
        yield to_json(items if batch > 1 else items[0])


async def closed_loop(
    port: int, *, concurrency: int, seconds: float, batch: int = 1, warmup: float = 1.0
) -> Sample:
    bodies = events(10**9, batch=batch)
    sample = Sample()
    conns = [await Connection.open(port) for _ in range(concurrency)]
    start, cpu = time.perf_counter(), time.process_time()
    measure_from, stop_at = start + warmup, start + warmup + seconds

    async def worker(conn: Connection) -> None:
        while (now := time.perf_counter()) < stop_at:
            status = await conn.post(next(bodies))
            done = time.perf_counter()
            sample.sent += batch
            if now >= measure_from:
                sample.latencies.append(done - now)
                sample.items += batch
                sample.errors += status != 202

    await asyncio.gather(*(worker(c) for c in conns))
    sample.seconds = time.perf_counter() - measure_from
    sample.client_cpu = (time.process_time() - cpu) / (time.perf_counter() - start)
    for c in conns:
        c.close()
    return sample


async def open_loop(port: int, *, rate: float, seconds: float, connections: int = 64) -> Sample:
    """Requests due at a fixed rate; latency from when each was due, queueing included."""
    bodies = list(events(int(rate * seconds)))
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await Connection.open(port))
    sample = Sample(items=len(bodies), sent=len(bodies))
    start, cpu = time.perf_counter(), time.process_time()

    async def one(due: float, body: bytes) -> None:
        conn = await pool.get()
        status = await conn.post(body)
        sample.latencies.append(time.perf_counter() - due)
        sample.errors += status != 202
        pool.put_nowait(conn)

    tasks = []
    for i, body in enumerate(bodies):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, body)))
    await asyncio.gather(*tasks)
    sample.seconds = time.perf_counter() - start
    sample.client_cpu = (time.process_time() - cpu) / sample.seconds
    while not pool.empty():
        pool.get_nowait().close()
    return sample


# --- servers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=out)


async def wait_live(port: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError("server exited; see its log in .run/bench/")
        try:
            conn = await Connection.open(port)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        try:
            await conn.get(b"/health/live")  # any answer: the baseline has no such route
            return
        finally:
            conn.close()
    raise RuntimeError("server did not start")


PHASES = ("single", "rate", "batch")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(phase: str, port: int, pid: int, args: argparse.Namespace) -> Sample:
    before = cpu_seconds(pid)
    if phase == "single":
        sample = await closed_loop(port, concurrency=args.concurrency, seconds=args.seconds)
    elif phase == "rate":
        sample = await open_loop(port, rate=args.rate, seconds=args.seconds)
    else:
        sample = await closed_loop(
            port, concurrency=args.batch_concurrency, seconds=args.seconds, batch=args.batch
        )
    sample.server_cpu = cpu_seconds(pid) - before
    return sample


def better(phase: str, new: Sample, old: Sample | None) -> bool:
    """Best of the rounds: most items/s, or for the fixed rate the lowest p99."""
    if old is None:
        return True
    if phase == "rate":
        return new.percentile(99) < old.percentile(99)
    return new.item_rate > old.item_rate


def report(ingest: dict[str, Sample], base: dict[str, Sample], args: argparse.Namespace) -> None:
    def row(label: str, f: Callable[[dict[str, Sample]], float], unit: str, fmt: str) -> None:
        a, b = f(ingest), f(base)
        ratio = a / b if b else float("nan")
        print(f"  {label:<34} {a:>10{fmt}} {b:>10{fmt}} {ratio:>7.2f}x  {unit}")

    print(f"\n  {'':<34} {'ingest':>10} {'baseline':>10} {'ratio':>8}")
    c = args.concurrency
    row(f"single: requests/s @{c}", lambda r: r["single"].rate, "", ".0f")
    row(f"single: p50 latency @{c}", lambda r: r["single"].percentile(50), "ms", ".1f")
    row(f"single: p90 latency @{c}", lambda r: r["single"].percentile(90), "ms", ".1f")
    row(f"single: p99 latency @{c}", lambda r: r["single"].percentile(99), "ms", ".1f")
    row(f"rate {args.rate:.0f}/s: p50 latency", lambda r: r["rate"].percentile(50), "ms", ".1f")
    row(f"rate {args.rate:.0f}/s: p99 latency", lambda r: r["rate"].percentile(99), "ms", ".1f")
    row(f"batch {args.batch}: events/s", lambda r: r["batch"].item_rate, "", ".0f")
    row(f"batch {args.batch}: p99 latency", lambda r: r["batch"].percentile(99), "ms", ".1f")
    row("single: server CPU per request", lambda r: r["single"].cpu_per_item, "us", ".0f")
    row(f"batch {args.batch}: server CPU per event", lambda r: r["batch"].cpu_per_item, "us", ".1f")
    errors = {
        n: sum(s.errors for s in r.values()) for n, r in (("ingest", ingest), ("baseline", base))
    }
    print(f"  non-202 answers: {errors}")
    cpu = ", ".join(
        f"{phase} {ingest[phase].client_cpu:.0%}/{base[phase].client_cpu:.0%}" for phase in PHASES
    )
    print(f"  load generator's share of a core (ingest/baseline): {cpu}")

    single_ratio = ingest["single"].rate / base["single"].rate
    batch_ratio = ingest["batch"].item_rate / base["batch"].item_rate
    cost_ratio = min(base[p].cpu_per_item / ingest[p].cpu_per_item for p in ("single", "batch"))
    checks = [
        ("single-event requests/s >= 1,500", ingest["single"].rate >= TARGETS["single_rps"]),
        (
            f"p99 <= 50 ms at {args.rate:.0f} requests/s",
            ingest["rate"].percentile(99) <= TARGETS["p99_ms_at_rate"],
        ),
        ("batched events/s >= 20,000", ingest["batch"].item_rate >= TARGETS["batch_eps"]),
        (
            ">= 0.5x the baseline in throughput (single and batched)",
            min(single_ratio, batch_ratio) >= TARGETS["ratio"],
        ),
        (
            f">= 0.5x the baseline in server CPU per event (worst of the two: {cost_ratio:.2f}x)",
            cost_ratio >= TARGETS["ratio"],
        ),
    ]
    print("\n  targets (this 2-core machine):")
    for label, ok in checks:
        print(f"    [{'met' if ok else 'MISSED'}] {label}")


async def run(args: argparse.Namespace) -> None:
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    await ensure_topics(bootstrap, partitions=3, prefix=prefix)
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "ATTUNE_TOPIC_PREFIX": prefix}
    ports = {"ingest": free_port(), "baseline": free_port()}
    commands = {
        "ingest": [sys.executable, "-m", "attune_ingest"],
        "baseline": [sys.executable, "-m", "attune_ingest.bench", "--serve-baseline"],
    }
    envs = {
        "ingest": {
            **env,
            "ATTUNE_INGEST_HTTP_PORT": str(ports["ingest"]),
            "ATTUNE_INGEST_GROUP_ID": f"{prefix}ingest",
        },
        "baseline": env,
    }
    commands["baseline"].append(str(ports["baseline"]))
    procs = {n: spawn(commands[n], envs[n], Path(".run/bench") / f"{n}.log") for n in ports}
    best: dict[str, dict[str, Sample]] = {"ingest": {}, "baseline": {}}
    try:
        for name, proc in procs.items():
            await wait_live(ports[name], proc)
        # Both servers run throughout; each measurement alternates between them, and the best
        # of the rounds is kept, so load from elsewhere on the machine skews both alike.
        for round_ in range(args.rounds):
            for phase in PHASES:
                order = ["ingest", "baseline"] if round_ % 2 == 0 else ["baseline", "ingest"]
                for name in order:
                    print(f"  round {round_ + 1}/{args.rounds}: {phase:<6} {name} ...", flush=True)
                    sample = await measure(phase, ports[name], procs[name].pid, args)
                    if better(phase, sample, best[name].get(phase)):
                        best[name][phase] = sample
        report(best["ingest"], best["baseline"], args)
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(timeout=30)
        await delete_topics(bootstrap, prefix)


async def delete_topics(bootstrap: str, prefix: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if topics:
            await admin.delete_topics(topics)
    finally:
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per measurement")
    parser.add_argument("--concurrency", type=int, default=32, help="single-event clients")
    parser.add_argument("--rate", type=float, default=500.0, help="offered requests/s")
    parser.add_argument("--batch", type=int, default=500, help="events per batched request")
    parser.add_argument("--batch-concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="alternating; best kept")
    parser.add_argument("--serve-baseline", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_baseline:
        serve_baseline(args.serve_baseline)
        return
    print(
        f"bench-ingest: {args.rounds} rounds of {args.seconds:.0f} s per measurement,"
        f" on {os.cpu_count()} cores"
    )
    uvloop.run(run(args))


if __name__ == "__main__":
    main()
