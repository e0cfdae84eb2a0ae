"""How every Kafka client connects: the cluster's address, TLS and SASL credentials.

Every client Attune builds (the services' brokers and producers, the replay readers, admin
clients, the CLI) takes its connection keywords from `kafka_client_options`, so a cluster that
wants SASL_SSL gets it from every one of them, or from none. The settings are read from the
environment without a service prefix (`KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_USERNAME`, ...), as
`KAFKA_BOOTSTRAP_SERVERS` is: one cluster, whichever service connects.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, Literal

import structlog
from aiokafka.conn import create_conn
from aiokafka.errors import AuthenticationFailedError, SaslAuthenticationFailed
from aiokafka.helpers import create_ssl_context
from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)
from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = structlog.get_logger(__name__)

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


def _env(name: str) -> Any:
    """Read from the unprefixed variable (`KAFKA_...`) or by field name."""
    return AliasChoices(name.upper(), name)


class KafkaClientSettings(BaseSettings):
    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore")

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", validation_alias=_env("kafka_bootstrap_servers")
    )
    kafka_security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT", validation_alias=_env("kafka_security_protocol")
    )
    kafka_sasl_mechanism: SaslMechanism = Field(
        default="SCRAM-SHA-512", validation_alias=_env("kafka_sasl_mechanism")
    )
    kafka_sasl_username: str | None = Field(
        default=None, validation_alias=_env("kafka_sasl_username")
    )
    kafka_sasl_password: SecretStr | None = Field(
        default=None, validation_alias=_env("kafka_sasl_password")
    )
    # The CA that signed the brokers' certificates; unset, the system's trusted CAs.
    kafka_ssl_cafile: Path | None = Field(default=None, validation_alias=_env("kafka_ssl_cafile"))
    # A client certificate, for clusters that authenticate clients by TLS (mutual TLS).
    kafka_ssl_certfile: Path | None = Field(
        default=None, validation_alias=_env("kafka_ssl_certfile")
    )
    kafka_ssl_keyfile: Path | None = Field(default=None, validation_alias=_env("kafka_ssl_keyfile"))
    kafka_ssl_key_password: SecretStr | None = Field(
        default=None, validation_alias=_env("kafka_ssl_key_password")
    )

    @model_validator(mode="after")
    def _complete(self) -> KafkaClientSettings:
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )
        if self.kafka_ssl_keyfile is not None and self.kafka_ssl_certfile is None:
            raise ValueError("KAFKA_SSL_KEYFILE needs KAFKA_SSL_CERTFILE")
        return self

    @property
    def uses_tls(self) -> bool:
        return self.kafka_security_protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.kafka_security_protocol.startswith("SASL_")


def kafka_client_options(settings: KafkaClientSettings) -> dict[str, Any]:
    """The keyword arguments every aiokafka client (producer, consumer, admin) is built with."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.uses_tls:
        key_password = settings.kafka_ssl_key_password
        options["ssl_context"] = create_ssl_context(
            cafile=settings.kafka_ssl_cafile,
            certfile=settings.kafka_ssl_certfile,
            keyfile=settings.kafka_ssl_keyfile,
            password=key_password.get_secret_value() if key_password is not None else None,
        )
    if settings.uses_sasl:
        assert settings.kafka_sasl_password is not None  # the validator saw to it
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return options


_SASL: dict[str, type[SASLPlaintext | SASLScram256 | SASLScram512]] = {
    "PLAIN": SASLPlaintext,
    "SCRAM-SHA-256": SASLScram256,
    "SCRAM-SHA-512": SASLScram512,
}


def broker_security(settings: KafkaClientSettings) -> BaseSecurity | None:
    """`kafka_client_options` as the security object FastStream's KafkaBroker takes."""
    options = kafka_client_options(settings)
    protocol = options["security_protocol"]
    if protocol == "PLAINTEXT":
        return None
    ssl_context = options.get("ssl_context")
    if protocol == "SSL":
        return BaseSecurity(ssl_context=ssl_context, use_ssl=True)
    return _SASL[options["sasl_mechanism"]](
        options["sasl_plain_username"],
        options["sasl_plain_password"],
        ssl_context=ssl_context,
        use_ssl=protocol == "SASL_SSL",
    )


class KafkaAuthenticationFailed(RuntimeError):
    """The cluster answered and refused us: retrying will not help, the settings are wrong."""


async def raise_if_refused(settings: KafkaClientSettings) -> None:
    """Raise KafkaAuthenticationFailed if the first bootstrap server refuses our credentials.

    aiokafka reports a refused login or certificate as "Unable to bootstrap", which callers
    retry as if the cluster were down; one connection of our own tells the two apart.
    """
    if settings.kafka_security_protocol == "PLAINTEXT":
        return
    host, _, port = settings.kafka_bootstrap_servers.split(",")[0].strip().rpartition(":")
    options = kafka_client_options(settings)
    del options["bootstrap_servers"]
    try:
        conn = await create_conn(host, int(port), request_timeout_ms=10_000, **options)
    except (SaslAuthenticationFailed, AuthenticationFailedError, ssl.SSLError) as exc:
        reason = (
            "authentication failed" if not isinstance(exc, ssl.SSLError) else "TLS handshake failed"
        )
        log.error(
            "kafka_authentication_failed",
            bootstrap_servers=settings.kafka_bootstrap_servers,
            security_protocol=settings.kafka_security_protocol,
            sasl_mechanism=settings.kafka_sasl_mechanism if settings.uses_sasl else None,
            username=settings.kafka_sasl_username,
            reason=reason,
            error=str(exc),
        )
        raise KafkaAuthenticationFailed(
            f"Kafka at {settings.kafka_bootstrap_servers}: {reason} "
            f"({settings.kafka_security_protocol}"
            + (
                f", {settings.kafka_sasl_mechanism} as {settings.kafka_sasl_username}"
                if settings.uses_sasl
                else ""
            )
            + f"): {exc}"
        ) from exc
    except Exception:
        return  # unreachable, or something else: the caller's retry deals with it
    conn.close()
