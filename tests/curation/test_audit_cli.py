"""`carid curate audit` on a small curated project: the review follows it, bad input falls back or is rebuilt,
audit.csv is output only, and a person takes a suggestion through review.csv and `carid curate fold`."""

from __future__ import annotations

import contextlib
import csv
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from curatekit import project, rows, run_cli
from trainkit import cache_dir_at


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with cache_dir_at(tmp_path_factory.mktemp("cache")) as path:
        yield path


@pytest.fixture
def proj(tmp_path: Path, cache: Path) -> Iterator[Path]:
    root = project(tmp_path)
    with contextlib.chdir(root):
        yield root


_run = run_cli


def _params(root: Path, **audit: object) -> Path:
    text = (root / "params.yaml").read_text(encoding="utf-8")
    for key, value in audit.items():
        lines = [ln for ln in text.splitlines() if ln.startswith(f"  {key}:")]
        assert len(lines) == 1, key
        text = text.replace(lines[0], f"  {key}: {value}")
    path = root / "edited-params.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_review_follows_the_audit_and_audit_csv_is_output_only(proj: Path, cache: Path) -> None:
    out = _run("curate", "run")
    assert "review sheet" not in out and not (proj / "data/curated/review.csv").exists()
    decisions_before = (proj / "data/curation/decisions.csv").read_bytes()
    out = _run("curate", "audit")
    assert "accepted photos scored" in out
    audit = rows(proj / "data/curated/audit.csv")
    accepted = rows(proj / "data/curated/accepted.csv")
    assert {r["sha256"] for r in audit} == {r["sha256"] for r in accepted}
    assert [float(r["suspicion"]) for r in audit] == sorted((float(r["suspicion"]) for r in audit), reverse=True)
    assert rows(proj / "data/curated/audited.csv") == accepted  # auto_reject_above is null
    review = rows(proj / "data/curated/review.csv")
    by_sha = {r["sha256"]: r for r in audit}
    audited = [r for r in review if r["sha256"] in by_sha and r["verdict"] == "accepted"]
    # accepted photos first (a rejected copy stays beside its cluster's kept photo), most suspicious first, with
    # the audit's suggestion and neighbours beside them
    clusters = {r["cluster_id"] for r in audited}
    assert {r["cluster_id"] for r in review[: len(audited) + 1]} <= clusters
    assert all(r["cluster_id"] not in clusters for r in review[len(audited) + 1:])
    assert all(r["suspicion"] == "" for r in review if r not in audited)  # one scale in the column: the audit's
    shown = [float(r["suspicion"]) for r in audited]
    assert shown == sorted(shown, reverse=True)
    for r in audited:
        assert r["suggestion"] == by_sha[r["sha256"]]["suggestion"]
        assert len(r["near_swift"].split()) == 3 and len(r["near_wagonr"].split()) == 3
    sheet = (proj / "data/curated/review.html").read_text(encoding="utf-8")
    assert sheet.count("<div class='nb'>swift: ") == len(audited)
    # a hand-edited audit.csv is overwritten, and it never decides anything
    first = (proj / "data/curated/audit.csv").read_text(encoding="utf-8")
    with (proj / "data/curated/audit.csv").open("a", encoding="utf-8") as fh:
        fh.write(f"{audit[-1]['sha256']},swift,0,0,0,0,0,0,0,0,1.0,reject: not-a-car,edited by hand,,\n")
    _run("curate", "run")
    _run("curate", "audit")
    assert (proj / "data/curated/audit.csv").read_text(encoding="utf-8") == first
    assert (proj / "data/curation/decisions.csv").read_bytes() == decisions_before
    assert audit[-1]["sha256"] in {r["sha256"] for r in rows(proj / "data/curated/accepted.csv")}
    # a missing feature cache is rebuilt, with the same result
    shutil.rmtree(cache / "features")
    _run("curate", "audit")
    assert (proj / "data/curated/audit.csv").read_text(encoding="utf-8") == first
    assert list((cache / "features").rglob("*.npz"))


def test_too_few_photos_per_class_falls_back_to_the_layout_order(proj: Path) -> None:
    _run("curate", "review")  # the layout order's review, for comparison: with folds 5 the audit runs here
    params = _params(proj, folds=7)
    _run("curate", "run", "--params", str(params), "--review")
    layout = [r["sha256"] for r in rows(proj / "data/curated/review.csv")]
    out = _run("curate", "audit", "--params", str(params))
    assert "only 6 accepted swift photos from 6 listings for 7 folds" in out
    assert "colour-layout order" in out
    assert [r["sha256"] for r in rows(proj / "data/curated/review.csv")] == layout
    assert rows(proj / "data/curated/audit.csv") == []  # header only: nothing suggested
    assert rows(proj / "data/curated/audited.csv") == rows(proj / "data/curated/accepted.csv")


def test_a_person_takes_a_suggestion_through_fold(proj: Path) -> None:
    _run("curate", "review")
    path = proj / "data/curated/review.csv"
    review = rows(path)
    target = next(r for r in review if r["verdict"] == "accepted" and r["label"] == "swift")
    other = next(r for r in review if r["verdict"] == "accepted" and r["sha256"] != target["sha256"])
    target["suggestion"], target["accept_suggestion"] = "relabel: wagonr", "yes"
    other["suggestion"], other["accept_suggestion"] = "reject: not-a-car", ""  # not taken: no decision
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(review[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(review)
    out = _run("curate", "fold")
    assert "folded 1 decisions" in out and "1 from accepted audit suggestions" in out
    got = {r["sha256"]: r for r in rows(proj / "data/curation/decisions.csv")}
    assert got[target["sha256"]]["decision"] == "relabel" and got[target["sha256"]]["label"] == "wagonr"
    assert other["sha256"] not in got


def test_auto_reject_above_leaves_photos_out_of_audited_csv(proj: Path) -> None:
    params = _params(proj, reject_min=0.0, auto_reject_above=0.0)
    _run("curate", "run")
    out = _run("curate", "audit", "--params", str(params))
    assert "rejected by audit.auto_reject_above" in out
    audit = {r["sha256"]: r for r in rows(proj / "data/curated/audit.csv")}
    left_out = {s for s, r in audit.items() if float(r["suspicion"]) > 0 and r["suggestion"].startswith("reject")}
    assert left_out
    kept = {r["sha256"] for r in rows(proj / "data/curated/audited.csv")}
    assert kept == set(audit) - left_out
    assert all("applied" in audit[s]["suggestion_reason"] for s in left_out)
