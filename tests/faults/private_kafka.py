"""A Kafka broker of the test's own, started with the project's script, that a test may freeze.

Other work shares the project's broker, so a fault that stops a broker never touches it: this one
has its own state directory and ports (`deploy/kafka/kafka.sh` honours ATTUNE_KAFKA_HOME,
ATTUNE_KAFKA_PORT and ATTUNE_KAFKA_CONTROLLER_PORT). The jars are the ones `make kafka-up`
already fetched into the repository's state directory, linked rather than fetched again.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "kafka" / "kafka.sh"


def kafka_version() -> str:
    pom = (ROOT / "deploy" / "kafka" / "pom.xml").read_text()
    found = re.search(r"<kafka.version>(.+?)</kafka.version>", pom)
    assert found, "deploy/kafka/pom.xml names no kafka.version"
    return found.group(1)


def fetched_jars() -> Path | None:
    """The jars `make kafka-up` fetched, if complete (kafka.sh marks them `.kafka-<version>`)."""
    home = Path(os.environ.get("ATTUNE_KAFKA_HOME", ROOT / ".run" / "kafka"))
    libs = home / "libs"
    return libs if (libs / f".kafka-{kafka_version()}").exists() else None


@dataclass
class PrivateKafka:
    home: Path
    port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    # More of kafka.sh's environment: another server.properties template, SCRAM users.
    env: dict[str, str] = field(default_factory=dict)
    _watchdog: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return int((self.home / "kafka.pid").read_text())

    def _kafka_sh(self, command: str) -> None:
        env = {
            **os.environ,
            "ATTUNE_KAFKA_HOME": str(self.home),
            "ATTUNE_KAFKA_PORT": str(self.port),
            "ATTUNE_KAFKA_CONTROLLER_PORT": str(self.controller_port),
            **self.env,
        }
        subprocess.run([str(SCRIPT), command], env=env, check=True, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        jars = fetched_jars()
        if jars is not None:
            # The marker comes along, so kafka.sh does not fetch; without jars it fetches its own.
            (self.home / "libs").symlink_to(jars.resolve(), target_is_directory=True)
        self._kafka_sh("up")
        # If this process dies without its teardown (os._exit, SIGKILL), the broker must not
        # outlive it: a watchdog in its own session stops it then.
        self._watchdog = subprocess.Popen(
            [
                "bash",
                "-c",
                'while kill -0 "$1" 2>/dev/null; do sleep 1; done; '
                'kill -CONT "$2" 2>/dev/null; kill "$2" 2>/dev/null || exit 0; '
                'for _ in $(seq 30); do kill -0 "$2" 2>/dev/null || exit 0; sleep 1; done; '
                'kill -9 "$2"',
                "watchdog",
                str(os.getpid()),
                str(self.pid),
            ],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def freeze(self) -> None:
        """SIGSTOP: the broker keeps its sockets but answers nothing, as in a long GC pause."""
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def stop(self) -> None:
        """Stop the broker whatever state it is in, then drop its data."""
        try:
            if (self.home / "kafka.pid").exists():
                with contextlib.suppress(ProcessLookupError):
                    self.thaw()  # a stopped process cannot act on SIGTERM
                self._kafka_sh("down")
        finally:
            if self._watchdog is not None:
                self._watchdog.kill()
                self._watchdog.wait()
            shutil.rmtree(self.home / "data", ignore_errors=True)
