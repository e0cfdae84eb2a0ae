"""Every Kafka client the product builds connects with the settings' credentials.

The real SASL_SSL broker is tests/faults/test_kafka_sasl_ssl.py; here: the options themselves,
and a walk over the product's source that fails on any Kafka client built without them (a new
one cannot be forgotten).
"""

from __future__ import annotations

import ast
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from faststream.security import SASLPlaintext, SASLScram256, SASLScram512
from prometheus_client import CollectorRegistry
from pydantic import SecretStr, ValidationError

from attune_runtime.clock import SystemClock
from attune_runtime.health import ConsumerProgress
from attune_runtime.kafka import ManagedProducer, make_broker
from attune_runtime.kafka_client import (
    KafkaClientSettings,
    SaslMechanism,
    broker_security,
    kafka_client_options,
)
from attune_runtime.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = [ROOT / "runtime", ROOT / "auth", ROOT / "services", ROOT / "cli", ROOT / "deploy"]
CLIENTS = {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient", "KafkaBroker"}
# Benches measure against the local PLAINTEXT broker and say so in their docstring.
PLAIN_ONLY = "Kafka clients: plain bootstrap only"


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _passes_options(node: ast.Call) -> bool:
    for keyword in node.keywords:
        value = keyword.value
        if isinstance(value, ast.Call):
            name = _called(value)
            if keyword.arg is None and name == "kafka_client_options":
                return True
            if keyword.arg == "security" and name == "broker_security":
                return True
    return False


def client_constructions() -> list[tuple[str, int, str, bool]]:
    found = []
    for folder in PRODUCT:
        for path in sorted(folder.rglob("*.py")):
            if ".venv" in path.parts:
                continue
            source = path.read_text()
            if PLAIN_ONLY in source:
                continue
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Call) and _called(node) in CLIENTS:
                    where = str(path.relative_to(ROOT))
                    found.append((where, node.lineno, _called(node), _passes_options(node)))
    return found


def test_every_kafka_client_is_built_with_the_client_options() -> None:
    found = client_constructions()
    # The sites this walk must see (so a broken walk cannot pass by finding nothing).
    files = {where for where, *_ in found}
    assert {
        "runtime/src/attune_runtime/kafka.py",
        "runtime/src/attune_runtime/replay.py",
        "runtime/src/attune_runtime/topics.py",
        "cli/src/attune_cli/dlq.py",
        "deploy/demo/demo.py",
    } <= files
    assert len(found) >= 10
    plain = [f"{where}:{line} {name}" for where, line, name, ok in found if not ok]
    assert plain == [], "built without kafka_client_options / broker_security"


def test_plaintext_is_the_default_and_carries_no_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KAFKA_SECURITY_PROTOCOL", raising=False)
    settings = KafkaClientSettings(kafka_bootstrap_servers="k:9092")
    assert kafka_client_options(settings) == {
        "bootstrap_servers": "k:9092",
        "security_protocol": "PLAINTEXT",
    }
    assert broker_security(settings) is None


def test_sasl_ssl_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k:9094")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "attune-router")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "pw-router")
    settings = ServiceSettings()  # any service's settings: no service prefix on KAFKA_*
    options = kafka_client_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-256"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "attune-router",
        "pw-router",
    )
    assert options["ssl_context"].check_hostname  # the broker's name is verified
    assert "pw-router" not in repr(settings)  # a secret, never printed or logged
    security = broker_security(settings)
    assert isinstance(security, SASLScram256)
    assert security.use_ssl and security.username == "attune-router"


@pytest.mark.parametrize(
    ("mechanism", "kind"),
    [("SCRAM-SHA-512", SASLScram512), ("SCRAM-SHA-256", SASLScram256), ("PLAIN", SASLPlaintext)],
)
def test_broker_security_matches_the_mechanism(mechanism: SaslMechanism, kind: type) -> None:
    settings = KafkaClientSettings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism=mechanism,
        kafka_sasl_username="u",
        kafka_sasl_password=SecretStr("p"),
    )
    security = broker_security(settings)
    assert isinstance(security, kind)
    assert security is not None and not security.use_ssl


def test_ssl_alone_builds_a_tls_context_without_sasl() -> None:
    options = kafka_client_options(KafkaClientSettings(kafka_security_protocol="SSL"))
    assert "ssl_context" in options and "sasl_mechanism" not in options


def test_incomplete_credentials_are_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"):
        KafkaClientSettings(kafka_security_protocol="SASL_SSL", kafka_sasl_username="u")
    with pytest.raises(ValidationError, match="KAFKA_SSL_KEYFILE needs KAFKA_SSL_CERTFILE"):
        KafkaClientSettings(kafka_ssl_keyfile=Path("/k.pem"))
    with pytest.raises(ValidationError):
        KafkaClientSettings(kafka_security_protocol="SASL_GSSAPI")  # type: ignore[arg-type]


def test_the_service_broker_and_producer_carry_the_credentials() -> None:
    settings = ServiceSettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="u",
        kafka_sasl_password=SecretStr("p"),
    )
    broker = make_broker(
        settings,
        service="t",
        registry=CollectorRegistry(),
        progress=ConsumerProgress(SystemClock()),
    )
    builder: partial[Any] = broker.config.broker_config.builder  # type: ignore[assignment]
    consumers = builder.keywords  # what aiokafka's consumers are built with
    assert consumers["security_protocol"] == "SASL_SSL"
    assert consumers["sasl_mechanism"] == "SCRAM-SHA-512"
    assert consumers["sasl_plain_username"] == "u" and consumers["ssl_context"] is not None
    assert ManagedProducer(settings, service="t").settings is settings
