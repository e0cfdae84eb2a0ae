"""`python -m attune_ingest`: the same command as `attune serve ingest`."""

from __future__ import annotations

from attune_ingest.app import serving
from attune_ingest.settings import IngestSettings
from attune_runtime.server import main as serve


def main() -> None:
    serve("ingest", IngestSettings, serving)


if __name__ == "__main__":
    main()
