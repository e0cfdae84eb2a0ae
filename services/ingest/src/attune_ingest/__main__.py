from __future__ import annotations

from attune_ingest.app import create_app
from attune_ingest.settings import IngestSettings
from attune_runtime.server import run


def main() -> None:
    run("ingest", IngestSettings(), create_app)


if __name__ == "__main__":
    main()
