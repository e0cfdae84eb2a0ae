"""Operations artefacts stay true to the code: rules, dashboards, compose file, make help."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from attune_classifier.metrics import ClassifierMetrics
from attune_escalation.metrics import EscalationMetrics
from attune_ingest.metrics import IngestMetrics
from attune_router.metrics import RouterMetrics
from attune_runtime.consumers import ConsumerMetrics

ROOT = Path(__file__).resolve().parents[2]
PROM = ROOT / "deploy" / "prometheus"


def attune_series() -> set[str]:
    """Every sample name the services export (counters as *_total, histograms as *_bucket…)."""
    registry = CollectorRegistry()
    for metrics in (
        IngestMetrics,
        ClassifierMetrics,
        RouterMetrics,
        EscalationMetrics,
        ConsumerMetrics,
    ):
        metrics(registry)
    names = set()
    for family in registry.collect():
        names.add(family.name)
        names.update(f"{family.name}{suffix}" for suffix in ("_total", "_bucket", "_sum", "_count"))
    return names


def referenced(text: str) -> set[str]:
    return set(re.findall(r"\battune_[a-z_]+\b", text)) - {"attune_"}


def test_dashboard_and_rules_only_query_metrics_that_exist() -> None:
    known = attune_series()
    exprs = " ".join(
        t["expr"]
        for dashboard in (ROOT / "deploy/grafana/dashboards").glob("*.json")
        for p in json.loads(dashboard.read_text())["panels"]
        for t in p["targets"]
    )
    rules = (PROM / "rules.yml").read_text()
    missing = {m for m in referenced(exprs) | referenced(rules) if not m.endswith("_")} - known
    assert not missing, f"queries name metrics no service exports: {sorted(missing)}"


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool not installed (.ci/run installs it)"
)
def test_prometheus_rules_are_valid_and_fire_as_tested() -> None:
    subprocess.run(["promtool", "check", "rules", "rules.yml"], cwd=PROM, check=True)
    subprocess.run(["promtool", "test", "rules", "rules_test.yml"], cwd=PROM, check=True)


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_docker_compose_file_validates() -> None:
    secrets = {"ATTUNE_AUTH_JWT_SECRET": "x" * 32, "ATTUNE_METRICS_TOKEN": "y" * 32}
    subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT,
        check=True,
        env={**os.environ, **secrets},
    )
    # Without the secrets compose refuses to start rather than run with none.
    unset = {k: v for k, v in os.environ.items() if k not in secrets}
    refused = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT,
        env=unset,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "ATTUNE_AUTH_JWT_SECRET" in refused.stderr
    # The services on the SASL_SSL broker, each with its own credentials.
    passwords = {
        f"ATTUNE_KAFKA_PASSWORD_{s}": "z" * 16
        for s in ("INGEST", "CLASSIFIER", "ROUTER", "ESCALATION")
    } | {"ATTUNE_KAFKA_ADMIN_PASSWORD": "z" * 16}
    secure = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "-f", "deploy/docker/compose.secure.yml",
         "--profile", "secure", "config"],
        cwd=ROOT, check=True, env={**os.environ, **secrets, **passwords},
        capture_output=True, text=True,
    )  # fmt: skip
    assert secure.stdout.count("KAFKA_SECURITY_PROTOCOL: SASL_SSL") == 5


def test_every_make_target_has_a_help_line() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = re.findall(r"^([a-z0-9-]+):", makefile, re.MULTILINE)
    undocumented = [t for t in targets if not re.search(rf"^{t}:.*## ", makefile, re.MULTILINE)]
    assert not undocumented
    help_text = subprocess.run(
        ["make", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert all(t in help_text for t in targets)
