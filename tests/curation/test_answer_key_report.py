"""`carid curate run --answer-key` prints the new scores and writes them into report.json."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from curatekit import project, rows, spec
from typer.testing import CliRunner

from carid.cli import app
from marketplace.render import render_photo

runner = CliRunner()


@pytest.fixture
def proj(tmp_path: Path) -> Iterator[Path]:
    root = project(tmp_path)
    old = Path.cwd()
    os.chdir(root)
    yield root
    os.chdir(old)


def test_answer_key_scores_are_printed_and_reported(proj: Path, tmp_path: Path) -> None:
    photos = rows(proj / "data/raw/local/swift/manifest.csv") + rows(proj / "data/raw/local/wagonr/manifest.csv")
    original = hashlib.sha256(render_photo(spec(0, "swift"))).hexdigest()
    copy = hashlib.sha256(render_photo(spec(50, "swift", "reencode", seed=1000))).hexdigest()
    assert {original, copy} <= {p["sha256"] for p in photos}
    key = tmp_path / "key.csv"
    with key.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["sha256", "dup_group", "junk_kind", "true_model", "variant",
                                                "body_colour", "colour_group"])
        writer.writeheader()
        for i, p in enumerate(photos):
            sha = p["sha256"]
            group = original if sha == copy else sha
            junk = "interior" if i == 3 else ""
            writer.writerow({"sha256": sha, "dup_group": group, "junk_kind": junk, "true_model": "" if junk else
                             p["label"], "variant": "reencode" if sha == copy else "original",
                             "body_colour": "" if junk else "white", "colour_group": "" if junk else
                             "white-silver-grey"})
    result = runner.invoke(app, ["curate", "run", "--answer-key", str(key)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "  duplicate_recall_by_variant:\n    reencode: {'copies': 1, 'recall': 1.0}" in out
    assert "share_read_for_95pct_of_accepted_junk:" in out and "quality_rejected_by_colour:" in out
    report = json.loads((proj / "data/curated/report.json").read_text(encoding="utf-8"))["answer_key"]
    assert report["duplicate_recall_by_variant"] == {"reencode": {"copies": 1, "recall": 1.0}}
    assert report["keeps_original"]["clusters"] == 1
    assert 0.0 <= report["share_read_for_95pct_of_accepted_junk"] <= 1.0
    assert report["quality_rejected_by_colour"]["white-silver-grey"]["photos"] >= 10
