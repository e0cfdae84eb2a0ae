"""Dashboards and alert rules against real data: a real Prometheus (the Debian package) scrapes
the four running services after the demo replay, and every panel's and every rule's PromQL is
run through its HTTP API. The replay leaves the crisis unacknowledged until tier 2 is paged,
then acknowledges it, and one channel fails, so the clinical-response panels have data."""

from __future__ import annotations

import asyncio
import json
import math
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
POLICIES = ROOT / "deploy" / "demo" / "policies.yaml"
# Every panel of this dashboard must show a positive value, not only a series: the test makes
# the pipeline acknowledge, escalate to tier 2 and fail a notification.
CLINICAL = "attune-clinical-response"
TOKEN = "scrape-token-for-the-test"
# Panels whose series appear only when something goes wrong; the replay is healthy.
MAY_BE_EMPTY: set[str] = set()


@pytest.fixture
async def stack(bootstrap: str, prefix: str, pager: Pager, tmp_path: Path) -> AsyncIterator[Stack]:
    """The stack with the demo's escalation policies (the crisis tier 1 deadline shortened to
    12 s, so tier 2 is paged within the test) and a second webhook channel nobody listens on,
    tried once: every page to it is a failed notification."""
    channels = {
        "pager": {"type": "webhook", "url": f"http://127.0.0.1:{pager.port}/pager"},
        "unreachable": {"type": "webhook", "url": f"http://127.0.0.1:{free_port()}/down"},
    }
    settings = {
        "ATTUNE_METRICS_TOKEN": TOKEN,
        "ATTUNE_ESCALATION_POLICIES_FILE": str(POLICIES),
        "ATTUNE_ESCALATION_CHANNELS": json.dumps(channels),
        "ATTUNE_ESCALATION_NOTIFY_MAX_ATTEMPTS": "1",
        "ATTUNE_ESCALATION_NOTIFY_QUICK_ATTEMPTS": "1",
    }
    async with running_stack(
        bootstrap, prefix, tmp_path, pager=pager, settings=settings
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
    # A starting Prometheus answers 503 in plain text: an AssertionError the callers wait out.
    assert r.status_code == 200, (expr, r.status_code, r.text[:200])
    body = r.json()
    assert body["status"] == "success", (expr, body)
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


async def until_series(http: httpx.AsyncClient, base: str, expr: str, count: int = 1) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if len(await query(http, base, expr)) >= count:
                return
        except (httpx.HTTPError, AssertionError):
            pass
        await asyncio.sleep(0.5)
    raise AssertionError(f"no series for {expr}")


async def replay(stack: Stack, pager: Pager, bootstrap_producer: Any) -> None:
    """The demo's three conversations through ingest and one record no one can read; nobody
    acknowledges the crisis until tier 2 is paged, then a clinician does."""
    rid, start = run_id(), datetime.now(UTC) - timedelta(minutes=30)
    convs = {name: build_events(name, rid, start) for name in SCRIPTS}
    crisis = convs["crisis"][0]["conversation_id"]
    async with httpx.AsyncClient(timeout=10, auth=stack.auth()) as client:
        for events in convs.values():
            for e in events:
                r = await client.post(f"{stack.url('ingest')}/v1/events", json=e)
                assert r.status_code == 202, r.text
        await bootstrap_producer.send_and_wait(
            f"{stack.prefix}conversation.raw", b"not json at all", key=b"x"
        )
        await wait_until(
            lambda: any(p.get("tier") == 2 for _, p in pager.for_conversation(crisis)), within=90
        )
        escalation = stack.url("escalation")
        found = (
            await client.get(f"{escalation}/v1/incidents", params={"conversation_id": crisis})
        ).json()
        r = await client.post(f"{escalation}/v1/incidents/{found[0]['id']}/ack")
        assert r.status_code == 200, r.text


async def test_every_panel_and_rule_runs_on_real_data(
    stack: Stack, pager: Pager, prometheus: str, producer: Any
) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        # Every service scraped before anything happens, so what follows is an increase.
        await until_series(http, prometheus, 'up{job="attune"} == 1', len(SERVICES))
        await replay(stack, pager, producer)
        # Lag reported, the incident gauges refreshed (every 5 s) after the acknowledgement,
        # and rate() over the window has a scrape after the last change.
        await until_series(http, prometheus, "attune_consumer_lag")
        await asyncio.sleep(8)

        empty, flat = [], []
        for dashboard, title, expr in panels():
            result = await query(http, prometheus, expr)
            if not result and title not in MAY_BE_EMPTY:
                empty.append(f"{dashboard}: {title}: {expr}")
            values = [float(r["value"][1]) for r in result]
            if dashboard == CLINICAL and not any(math.isfinite(v) and v > 0 for v in values):
                flat.append(f"{title}: {expr} = {values}")
        # What the test made happen shows where it should, not only somewhere on the panel.
        happened = {
            "tier 2 paged": 'increase(attune_escalation_escalations_total{tier="2"}[1h]) > 0',
            "a failed page": 'increase(attune_escalation_notifications_total{result="failed",'
            'channel="unreachable"}[1h]) > 0',
            "crisis acknowledged": "histogram_quantile(0.5, sum by (le) (rate("
            'attune_escalation_time_to_acknowledge_seconds_bucket{severity="critical"}[1h]))) > 0',
        }
        unseen = [
            what for what, expr in happened.items() if not await query(http, prometheus, expr)
        ]
        missing = []
        for rule in rules():
            await query(http, prometheus, rule["expr"])  # must evaluate without error
            for name in metric_names(rule["expr"]):
                selector = name if name.startswith("{") else f"{{__name__={json.dumps(name)}}}"
                if not await query(http, prometheus, selector):
                    missing.append(f"{rule['alert']}: {name}")
        evaluated = (await http.get(f"{prometheus}/api/v1/rules")).json()["data"]["groups"]

    assert not empty, "panels with no series after the replay:\n" + "\n".join(empty)
    assert not flat, "clinical panels with nothing to show:\n" + "\n".join(flat)
    assert not unseen, unseen
    assert not missing, "rules reading series no service exported:\n" + "\n".join(missing)
    unhealthy = [r["name"] for g in evaluated for r in g["rules"] if r["health"] == "err"]
    assert not unhealthy, unhealthy
