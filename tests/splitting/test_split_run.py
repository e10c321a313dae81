"""The split stage on real image files: outputs, determinism, the leakage check, errors, export, real DVC."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml
from dvckit import cli as _cli
from dvckit import dvc as _dvc
from dvckit import dvc_project
from imagekit import scene

from carid.params import load_params
from splitting.leakage import LeakageError, find_leaks
from splitting.records import COLUMNS, Photo, csv_text, read_photos
from splitting.run import SplitPaths, run_split

REPO = Path(__file__).resolve().parents[2]
SIZES = {"train": 12, "val": 4, "test": 4}


def project(tmp_path: Path, listings: int = 16) -> Path:
    """accepted.csv over real JPEGs: ``listings`` main-site listings of 2 photos and 4 Hyderabad listings."""
    root = tmp_path / "proj"
    root.mkdir()
    raw = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    raw["split"]["sizes"] = SIZES
    (root / "params.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    photos = []
    for li in range(listings + 4):
        site, region = ("gaadibazaar", ("delhi", "maharashtra")[li % 2]) if li < listings else (
            "hyderabad-motors", "hyderabad")
        for k in range(2):
            n = 2 * li + k
            rel = Path(f"data/raw/{site}/{region}/images/p{n:03d}.jpg")
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            scene(n, (200, 150)).save(root / rel, quality=90)
            photos.append(Photo(f"{n:064x}", str(rel), ("swift", "wagonr")[li % 4 // 2], site, region, f"L{li}",
                                f"c{n}"))
    (root / "data/curated").mkdir(parents=True)
    (root / "data/curated/accepted.csv").write_text(csv_text(photos), encoding="utf-8")
    return root


def paths(root: Path, out: str = "data/split") -> SplitPaths:
    return SplitPaths(root, root / "data/curated/accepted.csv", root / out)


def test_split_writes_balanced_csvs_and_a_report_byte_identical_on_a_rerun(tmp_path: Path) -> None:
    root = project(tmp_path)
    p = load_params(root / "params.yaml")
    result = run_split(paths(root), p.split, p.curate)
    out = root / "data/split"
    for name, n in SIZES.items():
        rows = read_photos(out / f"{name}.csv")
        assert len(rows) == n and sum(r.label == "swift" for r in rows) == n // 2
    assert {r.site for r in read_photos(out / "holdout.csv")} == {"hyderabad-motors"}
    assert result.leaks == []
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| train | 6 | 6 | 12 |" in report and "near duplicates of a train photo" in report
    run_split(paths(root, "again"), p.split, p.curate)
    for name in ("train.csv", "val.csv", "test.csv", "holdout.csv", "report.json"):
        assert (out / name).read_bytes() == (root / "again" / name).read_bytes(), name


def test_leakage_check_finds_a_planted_near_duplicate(tmp_path: Path) -> None:
    root = project(tmp_path)
    photos = read_photos(root / "data/curated/accepted.csv")
    train, val = photos[:6], photos[6:10]
    img = scene(0, (200, 150)).resize((180, 135))  # photo 0, resized and re-encoded: curation might have missed it
    img.save(root / val[1].path, quality=70)
    leaks = find_leaks({"train": train, "val": val}, root, load_params(root / "params.yaml").curate)
    assert [(leak.split, leak.photo, leak.train_photo) for leak in leaks] == [("val", val[1].sha256, train[0].sha256)]


def test_a_leak_stops_the_split_and_writes_nothing(tmp_path: Path) -> None:
    root = project(tmp_path)
    p = load_params(root / "params.yaml")
    run_split(paths(root, "first"), p.split, p.curate)
    train = read_photos(root / "first/train.csv")
    test = read_photos(root / "first/test.csv")
    shutil.copy(root / train[0].path, root / test[0].path)  # a test photo that is a copy of a train photo
    with pytest.raises(LeakageError, match="near duplicates of train photos"):
        run_split(paths(root), p.split, p.curate)
    assert not (root / "data/split").exists()


def test_too_few_photos_is_one_clear_line_and_writes_nothing(tmp_path: Path) -> None:
    root = project(tmp_path, listings=8)  # 8 swift + 8 wagonr photos on the main site; 10 per class needed
    code, output = _cli(root, "split", "run")
    assert code == 1
    assert "not enough swift photos" in output and "= 10" in output and "have 8" in output
    assert "nothing was written" in output and not (root / "data/split").exists()


def test_bad_accepted_csv_names_the_file_and_line(tmp_path: Path) -> None:
    root = project(tmp_path)
    accepted = root / "data/curated/accepted.csv"
    lines = accepted.read_text(encoding="utf-8").splitlines()
    lines[3] = ",".join(["", *lines[3].split(",")[1:]])
    accepted.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, output = _cli(root, "split", "run")
    assert code == 1 and "accepted.csv line 4: empty sha256" in output.replace("\n", "")


def test_export_hard_links_the_keras_folder_layout(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert _cli(root, "split", "run")[0] == 0
    code, output = _cli(root, "split", "export")
    assert code == 0, output
    images = root / "data/split/images"
    for name, n in SIZES.items():
        for label in ("swift", "wagonr"):
            files = sorted((images / name / label).iterdir())
            assert len(files) == n // 2
            src = root / next(r.path for r in read_photos(root / f"data/split/{name}.csv")
                              if r.sha256 == files[0].stem)
            assert os.path.samefile(files[0], src)  # a hard link, not a copy
    assert len(list((images / "holdout").rglob("*.jpg"))) == len(read_photos(root / "data/split/holdout.csv"))


def test_dvc_reruns_split_only_when_audited_or_its_params_change(tmp_path: Path) -> None:
    root = project(tmp_path)
    # the split reads the audit's audited.csv: accepted.csv as it is while audit.auto_reject_above is null
    shutil.copyfile(root / "data/curated/accepted.csv", root / "data/curated/audited.csv")
    dvc_project(root, "split")
    assert "Running stage 'split'" in _dvc(root, "repro")
    assert "Running stage" not in _dvc(root, "repro")

    def edit(section: str, key: str, value: object) -> None:
        raw = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
        raw[section][key] = value
        (root / "params.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")

    edit("curate", "blur_min", 0.3)  # a curate param the split does not read
    assert "Running stage" not in _dvc(root, "repro")
    edit("split", "seed", 99)
    assert "Running stage 'split'" in _dvc(root, "repro")
    audited = root / "data/curated/audited.csv"
    audited.write_text("\n".join(audited.read_text(encoding="utf-8").splitlines()[:-1]) + "\n", encoding="utf-8")
    assert "Running stage 'split'" in _dvc(root, "repro")
    assert COLUMNS[0] in (root / "data/split/train.csv").read_text(encoding="utf-8")
