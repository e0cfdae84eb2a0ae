"""The services on a broker that only speaks SASL_SSL (SCRAM-SHA-512 over TLS), as in production.

A private broker of this module's own (a throwaway CA, a SCRAM user created at format time):
`attune topics apply`, ingest and the classifier connect with the credentials of their settings,
and events posted to ingest come out of the classifier. With a wrong password or a CA that did
not sign the broker's certificate, the CLI and a service stop at once and say why, rather than
retrying as if the broker were down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from typer.testing import CliRunner

from attune_cli.main import app as cli
from attune_runtime.kafka_client import (
    KafkaAuthenticationFailed,
    KafkaClientSettings,
    kafka_client_options,
)
from tests.factories import event_json
from tests.faults.private_kafka import PrivateKafka
from tests.faults.secure_kafka import Certificates, make_certificates, secure_kafka
from tests.integration.services import classifier, ingest

USER, PASSWORD = "attune-services", "scram-password-for-tests"
PREFIX = "sasl."


@pytest.fixture(scope="module")
def secured(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[PrivateKafka, Certificates]]:
    kafka, certificates = secure_kafka(tmp_path_factory.mktemp("kafka-sasl"), {USER: PASSWORD})
    try:
        kafka.start()
        yield kafka, certificates
    finally:
        kafka.stop()


def credentials(kafka: PrivateKafka, ca: Path, *, password: str = PASSWORD) -> dict[str, Any]:
    """The client settings a deployment gives every service (KAFKA_* in the environment)."""
    return {
        "kafka_bootstrap_servers": kafka.bootstrap,
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": "SCRAM-SHA-512",
        "kafka_sasl_username": USER,
        "kafka_sasl_password": password,
        "kafka_ssl_cafile": str(ca),
    }


async def topics_apply(settings: dict[str, Any]) -> tuple[int, str]:
    env = {k.upper(): v for k, v in settings.items()} | {"ATTUNE_TOPIC_PREFIX": PREFIX}
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["topics", "apply"], env=env)
    return result.exit_code, result.output


async def test_services_work_over_sasl_ssl_with_their_credentials(
    secured: tuple[PrivateKafka, Certificates],
) -> None:
    kafka, certificates = secured
    settings = credentials(kafka, certificates.ca)
    code, output = await topics_apply(settings)
    assert code == 0, output
    assert f"created {PREFIX}conversation.events" in output

    kw = {k: v for k, v in settings.items() if k != "kafka_bootstrap_servers"}
    events = [event_json(conversation_id="c-sasl", text=f"message {i}") for i in range(3)]
    async with (
        asyncio.timeout(60),
        classifier(kafka.bootstrap, PREFIX, **kw),
        ingest(kafka.bootstrap, PREFIX, **kw) as client,
    ):
        r = await client.post("/v1/events", json=events)
        assert r.status_code == 202, r.text
        # An operator's reader with the same credentials sees the classifier's output.
        reader = AIOKafkaConsumer(
            f"{PREFIX}rupture.assessments",
            **kafka_client_options(KafkaClientSettings(**settings)),
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await reader.start()
        try:
            assessed: list[bytes | None] = []
            while b"c-sasl" not in assessed:
                for records in (await reader.getmany(timeout_ms=500)).values():
                    assessed += [record.key for record in records]
        finally:
            await reader.stop()


@pytest.mark.parametrize("wrong", ["password", "ca"])
async def test_wrong_credentials_stop_at_once_and_say_why(
    secured: tuple[PrivateKafka, Certificates], tmp_path: Path, wrong: str
) -> None:
    kafka, certificates = secured
    if wrong == "password":
        settings, said = (
            credentials(kafka, certificates.ca, password="not-it"),
            "authentication failed",
        )
    else:
        other_ca = make_certificates(tmp_path).ca  # a CA that did not sign the broker
        settings, said = credentials(kafka, other_ca), "TLS handshake failed"

    async with asyncio.timeout(45):  # a hang fails the test before the CLI's own 60 s wait
        code, output = await topics_apply(settings)
    assert code == 1
    assert said in output

    kw = {k: v for k, v in settings.items() if k != "kafka_bootstrap_servers"}
    with pytest.raises(KafkaAuthenticationFailed, match=said):
        async with asyncio.timeout(45), ingest(kafka.bootstrap, PREFIX, **kw):
            pass
