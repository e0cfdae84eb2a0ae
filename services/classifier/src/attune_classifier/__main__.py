from __future__ import annotations

from attune_classifier.app import build
from attune_classifier.settings import ClassifierSettings
from attune_runtime.server import run


def main() -> None:
    run("classifier", ClassifierSettings(), build)


if __name__ == "__main__":
    main()
