"""The Helm chart: `helm lint`, and `helm template` validated against the Kubernetes JSON
schemas that kubernetes-validate bundles (installed with the workspace; nothing is fetched),
and what the manifests must say for the services to run as they do in compose."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic_settings import BaseSettings

from attune_auth.settings import AuthSettings
from attune_classifier.settings import ClassifierSettings
from attune_escalation.settings import EscalationSettings
from attune_ingest.settings import IngestSettings
from attune_router.settings import RouterSettings
from attune_runtime.topics import TopicSettings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "attune"
SERVICES = ("ingest", "classifier", "router", "escalation")
SETTINGS: dict[str, type[BaseSettings]] = {
    "ATTUNE_INGEST_": IngestSettings,
    "ATTUNE_CLASSIFIER_": ClassifierSettings,
    "ATTUNE_ROUTER_": RouterSettings,
    "ATTUNE_ESCALATION_": EscalationSettings,
    "ATTUNE_AUTH_": AuthSettings,
    "ATTUNE_TOPICS_": TopicSettings,
}
# Read by every service's settings under these exact names (validation aliases).
SHARED_ENV = {"KAFKA_BOOTSTRAP_SERVERS", "ATTUNE_TOPIC_PREFIX", "ATTUNE_METRICS_TOKEN"}


def helm_binary() -> str | None:
    """`.ci/run` installs helm into the project's .run/bin (a Go module build)."""
    local = ROOT / ".run" / "bin" / "helm"
    return str(local) if local.exists() else shutil.which("helm")


HELM = helm_binary()
pytestmark = pytest.mark.skipif(HELM is None, reason="helm not installed (.ci/run installs it)")


def helm(*args: str) -> str:
    assert HELM is not None
    env = {**os.environ, "HELM_CACHE_HOME": "/tmp/attune-helm-cache"}
    done = subprocess.run(
        [HELM, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def render(*overrides: str) -> list[dict[str, Any]]:
    sets = [a for o in overrides for a in ("--set", o)]
    out = helm("template", "attune", str(CHART), "--namespace", "clinic", *sets)
    return [d for d in yaml.safe_load_all(out) if d]


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def container(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"]["template"]["spec"]["containers"][0]
    return spec


def test_helm_lint_passes_with_the_defaults_and_with_everything_enabled() -> None:
    helm("lint", "--strict", str(CHART))
    helm("lint", "--strict", str(CHART), "--set", "serviceMonitor.enabled=true")


def test_every_manifest_is_valid_against_the_kubernetes_schemas() -> None:
    docs = render("serviceMonitor.enabled=true")
    for doc in docs:
        if doc["apiVersion"].startswith("monitoring.coreos.com/"):
            continue  # a prometheus-operator CRD: no schema bundled; checked below instead
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)
    monitors = by_kind(docs, "ServiceMonitor")
    assert len(monitors) == len(SERVICES)
    for m in monitors.values():
        (endpoint,) = m["spec"]["endpoints"]
        assert endpoint["path"] == "/metrics" and endpoint["port"] == "http"
        assert endpoint["authorization"]["credentials"] == {
            "name": "attune",
            "key": "metrics-token",
        }


def test_a_broken_manifest_is_rejected_by_the_validation() -> None:
    (deployment,) = [d for d in render() if d["kind"] == "Deployment"][:1]
    container(deployment)["livenessProbe"]["httpGet"]["port"] = {"not": "a port"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, kubernetes_validate.latest_version(), strict=True)


def test_the_four_services_run_with_probes_resources_and_configurable_replicas() -> None:
    docs = render("services.router.replicas=5")
    deployments = by_kind(docs, "Deployment")
    assert set(deployments) == {f"attune-{s}" for s in SERVICES}
    assert deployments["attune-router"]["spec"]["replicas"] == 5
    assert deployments["attune-ingest"]["spec"]["replicas"] == 2
    for name, d in deployments.items():
        c = container(d)
        assert c["image"] == f"{name}:0.1.0"
        assert c["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert c["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert c["resources"]["requests"]["cpu"] and c["resources"]["limits"]["memory"]
        assert d["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert set(by_kind(docs, "Service")) == set(deployments)
    budgets = by_kind(docs, "PodDisruptionBudget")
    assert set(budgets) == set(deployments)
    for name, pdb in budgets.items():
        assert (
            pdb["spec"]["selector"]["matchLabels"]
            == (deployments[name]["spec"]["selector"]["matchLabels"])
        )


def test_topics_and_migrations_are_hooks_before_install_and_upgrade() -> None:
    jobs = by_kind(render("topics.replicationFactor=3", "topics.partitions=12"), "Job")
    assert set(jobs) == {"attune-topics", "attune-migrate"}
    commands = {n: container(j)["command"][-2:] for n, j in jobs.items()}
    assert commands == {
        "attune-topics": ["topics", "apply"],
        "attune-migrate": ["attune_cli", "migrate"],
    }
    for j in jobs.values():
        annotations = j["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert container(j)["image"] == "attune-cli:0.1.0"
    # Topics first, then the databases.
    weights = {n: int(j["metadata"]["annotations"]["helm.sh/hook-weight"]) for n, j in jobs.items()}
    assert weights["attune-topics"] < weights["attune-migrate"]
    env = {e["name"]: e.get("value") for e in container(jobs["attune-topics"])["env"]}
    assert env["ATTUNE_TOPICS_REPLICATION_FACTOR"] == "3"
    assert env["ATTUNE_TOPICS_PARTITIONS"] == "12"
    # With the migration job, escalation does not migrate on start.
    escalation = by_kind(render(), "Deployment")["attune-escalation"]
    env = {e["name"]: e.get("value") for e in container(escalation)["env"]}
    assert env["ATTUNE_ESCALATION_MIGRATE_ON_START"] == "false"
    assert not by_kind(render("topics.enabled=false", "migrate.enabled=false"), "Job")


def test_secrets_are_referenced_and_every_variable_is_a_real_setting() -> None:
    docs = render("env.ATTUNE_ROUTER_LOG_LEVEL=DEBUG")
    assert not by_kind(docs, "Secret"), "the chart references secrets; it never writes them"
    for d in [*by_kind(docs, "Deployment").values(), *by_kind(docs, "Job").values()]:
        env = {e["name"]: e for e in container(d)["env"]}
        for secret in (
            "ATTUNE_AUTH_JWT_SECRET",
            "ATTUNE_METRICS_TOKEN",
            "ATTUNE_AUTH_DATABASE_URL",
        ):
            assert env[secret]["valueFrom"]["secretKeyRef"]["name"] == "attune", (d, secret)
            assert "value" not in env[secret]
        for name in env:
            if name in SHARED_ENV:
                continue
            prefix = next((p for p in SETTINGS if name.startswith(p)), None)
            assert prefix is not None, f"{d['metadata']['name']}: {name} is read by no settings"
            field = name.removeprefix(prefix).lower()
            assert field in SETTINGS[prefix].model_fields, f"{name}: no setting {field!r}"
    escalation = container(by_kind(docs, "Deployment")["attune-escalation"])
    env = {e["name"]: e for e in escalation["env"]}
    assert (
        env["ATTUNE_ESCALATION_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "database-url"
    )
    assert env["ATTUNE_ESCALATION_HTTP_HOST"]["value"] == "0.0.0.0"
