"""The split stage's leakage check catches copies that were brightened or cropped before re-upload."""

from __future__ import annotations

from pathlib import Path

import pytest
from imagekit import sample_photo
from PIL import Image, ImageEnhance

from carid.params import load_params
from splitting.leakage import find_leaks
from splitting.records import Photo

skdata = pytest.importorskip("skimage.data")
REPO = Path(__file__).resolve().parents[2]


def photo(name: str) -> Image.Image:
    return sample_photo(name, 320)


def put(root: Path, name: str, img: Image.Image) -> Photo:
    rel = f"images/{name}.jpg"
    (root / "images").mkdir(exist_ok=True)
    img.save(root / rel, quality=90)
    return Photo(name.ljust(64, "0"), rel, "swift", "gaadibazaar", "delhi", f"L-{name}", "c0")


@pytest.mark.parametrize("edit", ["crop", "brighten"])
def test_leakage_check_catches_a_cropped_or_brightened_copy(tmp_path: Path, edit: str) -> None:
    originals = {n: photo(n) for n in ("astronaut", "coffee", "chelsea", "rocket")}
    train = [put(tmp_path, n, img) for n, img in originals.items()]
    src = originals["coffee"]
    w, h = src.size
    copy = (src.crop((round(0.12 * w), round(0.12 * h), round(0.88 * w), round(0.88 * h))) if edit == "crop"
            else ImageEnhance.Brightness(src).enhance(1.3))
    val = [put(tmp_path, "copy", copy), put(tmp_path, "other", photo("retina"))]
    leaks = find_leaks({"train": train, "val": val}, tmp_path, load_params(REPO / "params.yaml").curate)
    assert [(leak.photo, leak.train_photo) for leak in leaks] == [(val[0].sha256, train[1].sha256)]
