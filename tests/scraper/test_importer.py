"""carid scrape import-folder: photos a person already has, with the scraper's checks."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from PIL import Image

from scraper.importer import import_folder


def _jpeg(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (320, 240)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def test_import_folder(tmp_path: Path) -> None:
    src = tmp_path / "photos"
    good = _jpeg(src / "a.jpg", (200, 0, 0))
    _jpeg(src / "sub" / "b.jpeg", (0, 200, 0))
    _jpeg(src / "copy-of-a.jpg", (200, 0, 0))  # same bytes as a.jpg
    (src / "notes.txt").write_text("not a photo")
    (src / "broken.jpg").write_bytes(good[: len(good) // 2])
    _jpeg(src / "tiny.jpg", (0, 0, 200), (20, 20))
    root = tmp_path / "proj"
    out = root / "data/raw/local/mine"
    added, skipped = import_folder(src, out, root, "local", "mine", "swift")
    assert added == 2
    assert skipped == {"not-an-image": 1, "undecodable": 1, "too-small": 1, "already-imported": 1}
    with (out / "manifest.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert {r["label"] for r in rows} == {"swift"} and {r["region"] for r in rows} == {"mine"}
    assert all((root / r["path"]).is_file() and r["path"].startswith("data/raw/local/mine/images/") for r in rows)
    again, skipped_again = import_folder(src, out, root, "local", "mine", "swift")
    assert again == 0 and skipped_again["already-imported"] == 3
