"""`python -m attune_classifier`: the same command as `attune serve classifier`."""

from __future__ import annotations

from attune_classifier.app import build
from attune_classifier.settings import ClassifierSettings
from attune_runtime.server import main as serve


def main() -> None:
    serve("classifier", ClassifierSettings, build)


if __name__ == "__main__":
    main()
