"""`carid curate` commands a person uses: review, fold, decide, and the demo's stand-in reviewer."""

from __future__ import annotations

import contextlib
import csv
from pathlib import Path

import pytest
from curatekit import project, rows, run_cli
from typer.testing import CliRunner

from carid.cli import app

runner = CliRunner()


@pytest.fixture
def proj(tmp_path: Path):  # type: ignore[no-untyped-def]
    root = project(tmp_path)
    with contextlib.chdir(root):
        yield root


_run = run_cli


def test_review_fold_keeps_existing_decisions(proj: Path) -> None:
    _run("curate", "review")
    review = rows(proj / "data/curated/review.csv")
    decisions = proj / "data/curation/decisions.csv"
    keep = review[-1]["sha256"]
    decisions.write_text(f"sha256,decision,label,reason,note\n{keep},accept,,,mine\n", encoding="utf-8")
    review[0]["decision"], review[0]["decision_reason"] = "reject", "interior"
    review[1]["decision"], review[1]["decision_label"] = "relabel", "wagonr"
    review[2]["decision"] = "maybe"  # not understood: reported, skipped
    with (proj / "data/curated/review.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(review[0]), delimiter=";", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(review)
    out = _run("curate", "fold")
    assert "folded 2 decisions" in out and "row 4" in out and "'maybe'" in out
    got = {r["sha256"]: r for r in rows(decisions)}
    assert got[review[0]["sha256"]]["decision"] == "reject" and got[review[0]["sha256"]]["reason"] == "interior"
    assert got[review[1]["sha256"]]["label"] == "wagonr"
    assert got[keep]["note"] == "mine"  # an earlier decision is never dropped
    _run("curate", "run")
    rejected = {r["sha256"]: r for r in rows(proj / "data/curated/rejected.csv")}
    assert rejected[review[0]["sha256"]]["reason"] == "manual"


def test_decide_by_prefix_and_errors(proj: Path) -> None:
    _run("curate", "review")
    sha = rows(proj / "data/curated/review.csv")[0]["sha256"]
    assert "recorded 1" in _run("curate", "decide", sha[:10], "--reject", "--reason", "document")
    assert rows(proj / "data/curation/decisions.csv")[0]["reason"] == "document"
    bad = runner.invoke(app, ["curate", "decide", "zz", "--reject"])
    assert bad.exit_code != 0 and "matches 0 photos" in bad.output
    both = runner.invoke(app, ["curate", "decide", sha, "--reject", "--accept"])
    assert both.exit_code != 0 and "exactly one" in both.output


def test_conflicting_decisions_fail_cleanly(proj: Path) -> None:
    sha = rows(proj / "data/raw/local/swift/manifest.csv")[0]["sha256"]
    (proj / "data/curation/decisions.csv").write_text(
        f"sha256,decision\n{sha},reject\n{sha},accept\n", encoding="utf-8")
    result = runner.invoke(app, ["curate", "run"])
    assert result.exit_code != 0 and "row 3" in result.output and "nothing was written" in result.output
    assert not (proj / "data/curated").exists()


def test_standin_reviewer_rejects_accepted_junk(proj: Path, tmp_path: Path) -> None:
    _run("curate", "run")
    accepted = rows(proj / "data/curated/accepted.csv")
    key = tmp_path / "key.csv"
    with key.open("w", encoding="utf-8", newline="") as fh:  # pretend the answer key calls one photo junk
        writer = csv.DictWriter(fh, fieldnames=["sha256", "dup_group", "junk_kind", "true_model"])
        writer.writeheader()
        for i, r in enumerate(accepted):
            writer.writerow({"sha256": r["sha256"], "dup_group": r["sha256"], "junk_kind": "interior" if i == 0 else "",
                             "true_model": r["label"]})
    assert "added 1 reject" in _run("curate", "standin-review", "--answer-key", str(key))
    decision = rows(proj / "data/curation/decisions.csv")[0]
    assert decision["sha256"] == accepted[0]["sha256"] and "stand-in reviewer" in decision["note"]
