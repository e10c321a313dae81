"""HEIC and AVIF phone photos, generated here, go through every place a photo file is picked up by its suffix:
``carid scrape import-folder`` and ``carid predict`` on a folder (both use ``carid.images.PHOTO_SUFFIXES``)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from dvckit import cli
from imagekit import scene

from carid.images import PHOTO_SUFFIXES
from curation.hashing import fingerprint_file
from training.predict import expand

SIZE = (400, 300)


def phone_folder(folder: Path) -> dict[str, Path]:
    """A JPEG, an AVIF (Pillow writes it) and a HEIC (pillow-heif writes it), each of a different scene."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    folder.mkdir(parents=True)
    files = {"jpg": folder / "plain.jpg", "avif": folder / "phone.avif", "heic": folder / "iphone.HEIC"}
    scene(1, SIZE).save(files["jpg"], "JPEG", quality=90)
    scene(2, SIZE).save(files["avif"], "AVIF", quality=80)
    scene(3, SIZE).save(files["heic"], "HEIF", quality=80)
    (folder / "notes.txt").write_text("not a photo", encoding="utf-8")
    return files


def test_the_suffix_list_holds_the_phone_formats() -> None:
    assert {".heic", ".heif", ".avif", ".jpg"} <= PHOTO_SUFFIXES


def test_scrape_import_folder_takes_heic_and_avif(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    phone_folder(tmp_path / "phone")
    code, out = cli(root, "scrape", "import-folder", str(tmp_path / "phone"), "--label", "swift", "--region", "phone")
    assert code == 0, out
    assert "imported 3 photos" in out and "not-an-image 1" in out
    with (root / "data/raw/local/phone/manifest.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    stored = sorted(Path(r["path"]).suffix for r in rows)
    assert stored == [".avif", ".heic", ".jpg"]  # named by the format Pillow read, not by the file's name
    assert {r["title"] for r in rows} == {"plain.jpg", "phone.avif", "iphone.HEIC"}
    for r in rows:
        assert (int(r["width"]), int(r["height"])) == SIZE
        fp = fingerprint_file(root / r["path"]).fingerprint  # the curate stage reads what was stored
        assert fp is not None and (fp.width, fp.height) == SIZE


def test_predict_expands_a_folder_to_heic_and_avif(tmp_path: Path) -> None:
    files = phone_folder(tmp_path / "phone")
    assert expand([tmp_path / "phone"]) == sorted(files.values())


@pytest.fixture
def tiny_export(tmp_path: Path) -> Path:
    """An exported model of the smallest kind ``carid predict`` loads: mean colour -> one sigmoid."""
    import keras

    folder = tmp_path / "export"
    folder.mkdir()
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.save(folder / "model.keras")
    (folder / "metadata.json").write_text(json.dumps({"classes": ["swift", "wagonr"], "input": {"size": 32}}),
                                          encoding="utf-8")
    return folder


def test_carid_predict_labels_heic_and_avif_in_a_folder(tmp_path: Path, tiny_export: Path) -> None:
    files = phone_folder(tmp_path / "phone")
    code, out = cli(tmp_path, "predict", str(tmp_path / "phone"), "--model", str(tiny_export))
    assert code == 0, out
    labelled = {Path(line.split("\t")[0]).name: line.split("\t")[1] for line in out.splitlines() if "\t" in line}
    assert set(labelled) == {p.name for p in files.values()}
    assert set(labelled.values()) <= {"swift", "wagonr"}
    assert "error" not in out
