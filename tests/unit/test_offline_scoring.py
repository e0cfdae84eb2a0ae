"""attune-score: the service's code path over a file, bad lines named and skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attune_classifier.offline import main
from tests.factories import event_json
from tests.unit.test_classifier_assess import rupture_story


def test_scores_every_conversation_and_names_bad_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    story = rupture_story()
    other = event_json(conversation_id="other", text="my week was good, I went running twice")
    lines = [e.model_dump_json() for e in story.events[:4]]
    lines += ["{not json", json.dumps(other), json.dumps(dict(other, sender="robot")), ""]
    lines += [e.model_dump_json() for e in story.events[4:]]
    source = tmp_path / "conversations.jsonl"
    source.write_text("\n".join(lines) + "\n")

    status = main([str(source)])

    out, err = capsys.readouterr()
    assessments = [json.loads(line) for line in out.splitlines()]
    assert status == 1  # some lines were bad
    assert "line 5: invalid_json" in err
    assert "line 7: invalid_event: sender: Input should be 'client', 'ai' or 'clinician'" in err
    assert "8 assessments, 2 bad lines" in err
    assert [a["conversation_id"] for a in assessments].count("dana") == 7
    assert [a["conversation_id"] for a in assessments].count("other") == 1
    manifest = json.loads(
        (Path(__file__).parents[2] / "models/artifacts/manifest.json").read_text()
    )
    assert {a["model_version"] for a in assessments} == {manifest["model_version"]}
    rejection = next(a for a in assessments if a["message_id"] == "m8")
    assert rejection["rupture_type"] == "confrontation"
    assert rejection["triggering_turn"]["message_id"] == "m7"


def test_a_clean_file_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "one.jsonl"
    source.write_text(
        json.dumps(event_json(conversation_id="c", text="fine thanks, busy day")) + "\n"
    )
    assert main([str(source), "--scorer", "lexicon"]) == 0
    out, _ = capsys.readouterr()
    assert json.loads(out)["model_version"] == "lexicon-1"
