"""Export the contracts as JSON Schema files (`make schemas`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from attune_schemas.topics import TOPICS

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "json"


def rendered() -> dict[str, str]:
    """File name -> JSON text, for every value model and the topic table."""
    files: dict[str, str] = {}
    for spec in TOPICS:
        name = f"{spec.value_name}.schema.json"
        if name not in files:
            files[name] = _dump(spec.value.json_schema(mode="serialization"))
    table = [
        {
            "name": t.name,
            "key": t.key,
            "value": t.value_name,
            "partitions": t.partitions,
            "dlq": t.dlq,
            "produced_by": t.produced_by,
            "consumed_by": t.consumed_by,
            "description": t.description,
        }
        for t in TOPICS
    ]
    files["topics.json"] = _dump(table)
    return files


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    expected = rendered()
    for stale in directory.glob("*.json"):
        if stale.name not in expected:
            stale.unlink()
    written = []
    for name, text in expected.items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args()
    for path in write(args.out):
        print(path)


if __name__ == "__main__":
    main()
