"""Curation end to end on real rendered photos: verdicts, decisions, bad input, and real `dvc repro`."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image

from carid.params import load_params
from curation.decisions import DecisionsError
from curation.outputs import write_all
from curation.run import CuratePaths, curate
from marketplace.render import render_photo
from marketplace.specs import PhotoSpec
from scraper.importer import import_folder

REPO = Path(__file__).resolve().parents[2]


def _spec(i: int, model: str, variant: str = "original", seed: int | None = None) -> PhotoSpec:
    s = 1000 + i if seed is None else seed
    return PhotoSpec(f"P{i}", model, "", s, f"g{s}", variant, "main", 0.3)


def _project(tmp_path: Path) -> Path:
    """A project with two imported shards: 6 Swift and 6 WagonR photos, copies planted."""
    root = tmp_path / "proj"
    (root / "data/curation").mkdir(parents=True)
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    (root / "data/curation/decisions.csv").write_text("sha256,decision,label,reason,note\n", encoding="utf-8")
    for label, offset in (("swift", 0), ("wagonr", 100)):
        src = tmp_path / f"src-{label}"
        src.mkdir()
        for i in range(6):
            (src / f"{i}.jpg").write_bytes(render_photo(_spec(offset + i, label)))
        if label == "swift":  # a re-encoded copy of photo 0 and a blurred, darkened ruin
            (src / "copy.jpg").write_bytes(render_photo(_spec(50, label, "reencode", seed=1000)))
            img = Image.open(src / "1.jpg").resize((100, 75)).point(lambda v: v // 8)
            img.save(src / "ruined.jpg", quality=60)
        import_folder(src, root / f"data/raw/local/{label}", root, "local", label, label)
    return root


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_curate_verdicts_and_outputs(tmp_path: Path) -> None:
    root = _project(tmp_path)
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
    accepted = _rows(paths.out / "accepted.csv")
    assert len(accepted) == 14 - 3  # 14 photos; the copy, the ruined one and the missing one rejected
    rejected = {r["reason"]: r for r in _rows(paths.out / "rejected.csv")}
    assert rejected["too-small"]["detail"].startswith("100x75")
    near = rejected["near-duplicate"]
    assert near["detail"].startswith("of ") and near["cluster_id"] in {r["cluster_id"] for r in accepted}
    review = _rows(paths.out / "review.csv")
    assert len(review) == 14 and [int(r["rank"]) for r in review] == list(range(1, 15))
    assert (paths.out / "review.html").read_text().count("<img") == 14


def test_conflicting_decisions_stop_before_anything_is_written(tmp_path: Path) -> None:
    root = _project(tmp_path)
    sha = _rows(root / "data/raw/local/swift/manifest.csv")[0]["sha256"]
    decisions = root / "data/curation/decisions.csv"
    text = f"sha256,decision,label,reason,note\r\n{sha},reject,,,\r\n{sha},accept,,,\r\n"
    decisions.write_text(text, encoding="utf-8")
    paths = CuratePaths(root, root / "data/raw", decisions, root / "data/curated")
    with pytest.raises(DecisionsError, match="row 3"):
        curate(paths, load_params(root / "params.yaml").curate)
    assert not paths.out.exists() and decisions.read_bytes() == text.encode()


def _dvc(root: Path, *args: str) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    proc = subprocess.run(["dvc", *args], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.slow
def test_editing_decisions_reruns_curate_with_real_dvc(tmp_path: Path) -> None:
    root = _project(tmp_path)
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    (root / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"curate": stages["curate"]}}), encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    _dvc(root, "init", "-q")
    _dvc(root, "config", "core.analytics", "false")
    assert "Running stage 'curate'" in _dvc(root, "repro")
    assert "Running stage" not in _dvc(root, "repro")  # nothing changed, nothing runs
    target = _rows(root / "data/curated/accepted.csv")[0]["sha256"]
    with (root / "data/curation/decisions.csv").open("a", encoding="utf-8") as fh:
        fh.write(f"{target},reject,,interior,a person looked\n")
    assert "Running stage 'curate'" in _dvc(root, "repro")
    rejected = {r["sha256"]: r for r in _rows(root / "data/curated/rejected.csv")}
    assert rejected[target]["reason"] == "manual" and rejected[target]["detail"] == "interior"
    assert target not in {r["sha256"] for r in _rows(root / "data/curated/accepted.csv")}
