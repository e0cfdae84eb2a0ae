"""A private broker whose only client listener is SASL_SSL (SCRAM-SHA-512), as in production.

A throwaway CA signs the broker's certificate (for 127.0.0.1); the broker reads it as a PEM
keystore. The SCRAM users are created when the storage is formatted, so the broker authenticates
them from its first second. The listener is shaped like compose's `kafka-secure` service.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.faults.private_kafka import PrivateKafka

BROKER_PASSWORD = "broker-secret"

TEMPLATE = """\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:@CONTROLLER_PORT@
listeners=SASL_SSL://127.0.0.1:@PORT@,CONTROLLER://127.0.0.1:@CONTROLLER_PORT@
advertised.listeners=SASL_SSL://127.0.0.1:@PORT@
controller.listener.names=CONTROLLER
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=\
org.apache.kafka.common.security.scram.ScramLoginModule required \
username="broker" password="{broker_password}";
ssl.keystore.type=PEM
ssl.keystore.location={keystore}
ssl.truststore.type=PEM
ssl.truststore.location={truststore}
log.dirs=@DATA_DIR@
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
"""


@dataclass(frozen=True)
class Certificates:
    ca: Path  # what clients trust (KAFKA_SSL_CAFILE)
    keystore: Path  # the broker's key and certificate chain, PEM


_CA_USAGE = x509.KeyUsage(
    digital_signature=True,
    key_cert_sign=True,
    crl_sign=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    encipher_only=False,
    decipher_only=False,
)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(folder: Path) -> Certificates:
    """A CA of this test's own and a broker certificate it signed for 127.0.0.1/localhost."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("attune test CA"))
        .issuer_name(_name("attune test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_CA_USAGE, critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("kafka-secure"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca = folder / "ca.pem"
    ca.write_bytes(ca_cert.public_bytes(pem))
    keystore = folder / "broker.pem"
    keystore.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + cert.public_bytes(pem)
        + ca_cert.public_bytes(pem)
    )
    keystore.chmod(0o600)
    return Certificates(ca=ca, keystore=keystore)


def secure_kafka(home: Path, users: dict[str, str]) -> tuple[PrivateKafka, Certificates]:
    """A private broker (not started) with a SASL_SSL listener and these SCRAM users."""
    home.mkdir(parents=True, exist_ok=True)
    certificates = make_certificates(home)
    template = home / "server.properties.in"
    template.write_text(
        TEMPLATE.format(
            broker_password=BROKER_PASSWORD,
            keystore=certificates.keystore,
            truststore=certificates.ca,
        )
    )
    scram = {"broker": BROKER_PASSWORD, **users}
    kafka = PrivateKafka(
        home,
        env={
            "ATTUNE_KAFKA_TEMPLATE": str(template),
            "ATTUNE_KAFKA_SCRAM": "\n".join(
                f"SCRAM-SHA-512=[name={user},password={password}]"
                for user, password in scram.items()
            ),
        },
    )
    return kafka, certificates
