"""Precision by alert kind from the clinicians' verdicts (`attune feedback export`).

A verdict says what an alert was: a true rupture or a confirmed crisis (the alert was right), a
false alarm, or the wrong type (something was there, but not what the alert said). Precision of
a kind is the share of its alerts the clinicians confirmed.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

DEFAULT = Path(".run/feedback/verdicts.jsonl")
CONFIRMED = frozenset({"true_rupture", "crisis_confirmed"})


def load_verdicts(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def precision_by_kind(verdicts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per alert kind (and `all`): verdicts, confirmed, false alarms, wrong type, precision."""
    out: dict[str, dict[str, Any]] = {}
    kinds = sorted({str(v["kind"]) for v in verdicts})
    for kind in [*kinds, "all"]:
        mine = [v for v in verdicts if kind == "all" or v["kind"] == kind]
        said = Counter(str(v["verdict"]) for v in mine)
        confirmed = sum(said[c] for c in CONFIRMED)
        out[kind] = {
            "verdicts": len(mine),
            "confirmed": confirmed,
            "false_alarm": said["false_alarm"],
            "wrong_type": said["wrong_type"],
            "precision": round(confirmed / len(mine), 4) if mine else None,
            "false_alarm_rate": round(said["false_alarm"] / len(mine), 4) if mine else None,
            "model_versions": sorted({str(v["model_version"]) for v in mine}),
        }
    return out


def table(found: dict[str, dict[str, Any]]) -> str:
    lines = ["clinicians' verdicts: precision by alert kind"]
    lines.append(f"  {'kind':14} {'verdicts':>8} {'confirmed':>9} {'false alarm':>11} "
                 f"{'wrong type':>10} {'precision':>9}")  # fmt: skip
    for kind, r in found.items():
        shown = "-" if r["precision"] is None else f"{r['precision']:.2f}"
        lines.append(
            f"  {kind:14} {r['verdicts']:>8} {r['confirmed']:>9} {r['false_alarm']:>11} "
            f"{r['wrong_type']:>10} {shown:>9}"
        )
    return "\n".join(lines)
