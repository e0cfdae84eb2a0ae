"""Each service's AsyncAPI document, as the service builds it, exported next to the JSON Schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from attune_classifier.app import build as build_classifier
from attune_classifier.scoring import LexiconScorer
from attune_classifier.settings import ClassifierSettings
from attune_escalation.app import build as build_escalation
from attune_escalation.settings import EscalationSettings
from attune_ingest.app import build as build_ingest
from attune_ingest.settings import IngestSettings
from attune_router.app import build as build_router
from attune_router.settings import RouterSettings
from attune_runtime.service import Service
from attune_schemas.export import DEFAULT_DIR as JSON_DIR

DEFAULT_DIR = JSON_DIR.parent / "asyncapi"
# Fixed rather than read from the environment: the exported documents must not depend on it.
COMMON: dict[str, Any] = {"kafka_bootstrap_servers": "kafka:9092", "topic_prefix": ""}

BUILDERS: dict[str, Callable[[], Service[Any]]] = {
    "ingest": lambda: build_ingest(IngestSettings(**COMMON, group_id="attune-ingest")),
    "classifier": lambda: build_classifier(
        ClassifierSettings(**COMMON, group_id="attune-classifier", scorer="lexicon"),
        scorer=LexiconScorer(),
    ),
    "router": lambda: build_router(RouterSettings(**COMMON, group_id="attune-router")),
    "escalation": lambda: build_escalation(
        EscalationSettings(
            **COMMON, group_id="attune-escalation", database_url="sqlite+aiosqlite://"
        )
    ),
}


def documents() -> dict[str, dict[str, Any]]:
    """Service name -> its AsyncAPI document."""
    return {name: build().asyncapi() for name, build in BUILDERS.items()}


def rendered() -> dict[str, str]:
    """File name -> JSON text."""
    return {
        f"{name}.asyncapi.json": json.dumps(doc, indent=2, sort_keys=True) + "\n"
        for name, doc in documents().items()
    }


def write(directory: Path = DEFAULT_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered().items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written
