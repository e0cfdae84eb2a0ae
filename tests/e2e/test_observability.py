"""Dashboards and alert rules against real data: a real Prometheus (the Debian package) scrapes
the four running services after the demo replay, and every panel's and every rule's PromQL is
run through its HTTP API."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from demo import SCRIPTS, Pager, build_events  # deploy/demo/demo.py
from tests.e2e.conftest import SERVICES, Stack, free_port, run_id, running_stack, wait_until

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        shutil.which("prometheus") is None, reason="prometheus not installed (.ci/run installs it)"
    ),
]

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
RULES = ROOT / "deploy" / "prometheus" / "rules.yml"
TOKEN = "scrape-token-for-the-test"
# Panels whose series appear only when something goes wrong; the replay is healthy.
MAY_BE_EMPTY: set[str] = set()


@pytest.fixture
async def stack(bootstrap: str, prefix: str, pager: Pager, tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(
        bootstrap, prefix, tmp_path, pager=pager, settings={"ATTUNE_METRICS_TOKEN": TOKEN}
    ) as running:
        yield running


@pytest.fixture
def prometheus(stack: Stack, tmp_path: Path) -> Iterator[str]:
    """Prometheus on loopback scraping every service each second, with the project's rules."""
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {
                "job_name": "attune",
                "authorization": {"credentials": TOKEN},
                "static_configs": [
                    {"targets": [f"127.0.0.1:{stack.ports[s]}"], "labels": {"service": s}}
                    for s in SERVICES
                ],
            }
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    log = (tmp_path / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=log,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def query(http: httpx.AsyncClient, base: str, expr: str) -> list[dict[str, Any]]:
    r = await http.get(f"{base}/api/v1/query", params={"query": expr})
    body = r.json()
    assert r.status_code == 200 and body["status"] == "success", (expr, body)
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def panels() -> list[tuple[str, str, str]]:
    """(dashboard, panel title, expr) for every target of every dashboard."""
    found = []
    for path in DASHBOARDS:
        for p in json.loads(path.read_text())["panels"]:
            found += [(path.stem, p["title"], t["expr"]) for t in p["targets"]]
    return found


def rules() -> list[dict[str, Any]]:
    return [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]


def metric_names(expr: str) -> set[str]:
    """The metric names an expression reads (a regex name matcher counts as one name)."""
    names = set(re.findall(r"\b((?:attune|faststream)_[a-z_]+)\b", expr))
    names |= {f'{{__name__=~"{m}"}}' for m in re.findall(r'__name__=~"([^"]+)"', expr)}
    return {n for n in names if not n.endswith("_")} or {"up"}


async def replay(stack: Stack, pager: Pager, bootstrap_producer: Any) -> None:
    """The demo's three conversations through ingest, and one record no one can read."""
    rid, start = run_id(), datetime.now(UTC) - timedelta(minutes=30)
    convs = {name: build_events(name, rid, start) for name in SCRIPTS}
    async with httpx.AsyncClient(timeout=10, auth=stack.auth()) as client:
        for events in convs.values():
            for e in events:
                r = await client.post(f"{stack.url('ingest')}/v1/events", json=e)
                assert r.status_code == 202, r.text
    await bootstrap_producer.send_and_wait(
        f"{stack.prefix}conversation.raw", b"not json at all", key=b"x"
    )
    crisis = convs["crisis"][0]["conversation_id"]
    await wait_until(lambda: pager.for_conversation(crisis))


async def test_every_panel_and_rule_runs_on_real_data(
    stack: Stack, pager: Pager, prometheus: str, producer: Any
) -> None:
    await replay(stack, pager, producer)
    async with httpx.AsyncClient(timeout=10) as http:
        # Every service scraped, and the rates have two samples to work with after the replay.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                up = await query(http, prometheus, 'up{job="attune"} == 1')
                lag = await query(http, prometheus, "attune_consumer_lag")
                if len(up) == len(SERVICES) and lag:
                    break
            except (httpx.HTTPError, AssertionError):
                pass
            await asyncio.sleep(1)
        await asyncio.sleep(6)  # rate() over [5m] needs two scrapes after the last change

        empty = []
        for dashboard, title, expr in panels():
            if not await query(http, prometheus, expr) and title not in MAY_BE_EMPTY:
                empty.append(f"{dashboard}: {title}: {expr}")
        missing = []
        for rule in rules():
            await query(http, prometheus, rule["expr"])  # must evaluate without error
            for name in metric_names(rule["expr"]):
                selector = name if name.startswith("{") else f"{{__name__={json.dumps(name)}}}"
                if not await query(http, prometheus, selector):
                    missing.append(f"{rule['alert']}: {name}")
        evaluated = (await http.get(f"{prometheus}/api/v1/rules")).json()["data"]["groups"]

    assert not empty, "panels with no series after the replay:\n" + "\n".join(empty)
    assert not missing, "rules reading series no service exported:\n" + "\n".join(missing)
    unhealthy = [r["name"] for g in evaluated for r in g["rules"] if r["health"] == "err"]
    assert not unhealthy, unhealthy
