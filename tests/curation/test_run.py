"""Curation end to end on real rendered photos: verdicts, decisions, bad input, and real `dvc repro`."""

from __future__ import annotations

from pathlib import Path

import pytest
from curatekit import project, rows
from dvckit import dvc as _dvc
from dvckit import dvc_project

from carid.params import load_params
from curation.decisions import DecisionsError
from curation.outputs import write_all
from curation.run import CuratePaths, curate


def test_curate_verdicts_and_outputs(tmp_path: Path) -> None:
    root = project(tmp_path)
    params = load_params(root / "params.yaml").curate
    paths = CuratePaths(root, root / "data/raw", root / "data/curation/decisions.csv", root / "data/curated")
    missing = next((root / "data/raw/local/wagonr/images").iterdir())
    missing.unlink()
    c = curate(paths, params)
    reasons = {v.photo.sha256: (v.status, v.reason) for v in c.verdicts}
    assert sorted(r for s, r in reasons.values() if s == "rejected") == [
        "near-duplicate", "too-small", "unreadable"]
    assert any("missing on disk" in str(p) and "manifest.csv" in str(p) for p in c.problems)
    write_all(c, paths.out, root)
    accepted = rows(paths.out / "accepted.csv")
    assert len(accepted) == 14 - 3  # 14 photos; the copy, the ruined one and the missing one rejected
    rejected = {r["reason"]: r for r in rows(paths.out / "rejected.csv")}
    assert rejected["too-small"]["detail"].startswith("100x75")
    near = rejected["near-duplicate"]
    assert near["detail"].startswith("of ") and near["cluster_id"] in {r["cluster_id"] for r in accepted}
    review = rows(paths.out / "review.csv")
    assert len(review) == 14 and [int(r["rank"]) for r in review] == list(range(1, 15))
    assert (paths.out / "review.html").read_text().count("<img") == 14


def test_conflicting_decisions_stop_before_anything_is_written(tmp_path: Path) -> None:
    root = project(tmp_path)
    sha = rows(root / "data/raw/local/swift/manifest.csv")[0]["sha256"]
    decisions = root / "data/curation/decisions.csv"
    text = f"sha256,decision,label,reason,note\r\n{sha},reject,,,\r\n{sha},accept,,,\r\n"
    decisions.write_text(text, encoding="utf-8")
    paths = CuratePaths(root, root / "data/raw", decisions, root / "data/curated")
    with pytest.raises(DecisionsError, match="row 3"):
        curate(paths, load_params(root / "params.yaml").curate)
    assert not paths.out.exists() and decisions.read_bytes() == text.encode()


@pytest.mark.slow
def test_editing_decisions_reruns_curate_with_real_dvc(tmp_path: Path) -> None:
    root = project(tmp_path)
    dvc_project(root, "curate")
    assert "Running stage 'curate'" in _dvc(root, "repro")
    assert "Running stage" not in _dvc(root, "repro")  # nothing changed, nothing runs
    target = rows(root / "data/curated/accepted.csv")[0]["sha256"]
    with (root / "data/curation/decisions.csv").open("a", encoding="utf-8") as fh:
        fh.write(f"{target},reject,,interior,a person looked\n")
    assert "Running stage 'curate'" in _dvc(root, "repro")
    rejected = {r["sha256"]: r for r in rows(root / "data/curated/rejected.csv")}
    assert rejected[target]["reason"] == "manual" and rejected[target]["detail"] == "interior"
    assert target not in {r["sha256"] for r in rows(root / "data/curated/accepted.csv")}
