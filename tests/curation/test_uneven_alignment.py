"""Verification aligns a copy whose sides were cropped by different amounts (curation.dedup's per-side polish), on
real photographs (scikit-image's samples), and still tells look-alike halves of a photo apart."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from imagekit import sample_photo
from PIL import Image

from carid.params import load_params
from curation.dedup import Evidence, confirmed, decode_luma, dedup_params, evidence_of, match

skdata = pytest.importorskip("skimage.data")
ROOT = Path(__file__).resolve().parents[2]
PARAMS = dedup_params(load_params(ROOT / "params.yaml").curate)
# each side cut by its own amount, as the demo's heavy crops do (10-20%) and a little beyond what the central
# windows of the candidate search reach
BOXES = [(0.12, 0.04, 0.02, 0.10), (0.18, 0.10, 0.10, 0.20), (0.10, 0.20, 0.16, 0.12)]


def evidence(img: Image.Image) -> Evidence:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return evidence_of(decode_luma(buf.getvalue()))


def photo(name: str) -> Image.Image:
    return sample_photo(name, 400)


def cut(img: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    w, h = img.size
    left, top, right, bottom = box
    return img.crop((round(left * w), round(top * h), round(w - right * w), round(h - bottom * h)))


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
def test_an_unevenly_cropped_copy_is_confirmed_at_its_crop_box(name: str) -> None:
    img = photo(name)
    original = evidence(img)
    for box in BOXES:
        m = match(original, evidence(cut(img, box)))
        assert confirmed(m, PARAMS), (box, m)
        found = m.window_a if m.window_b == (0.0, 0.0, 0.0, 0.0) else m.window_b
        assert max(abs(f - b) for f, b in zip(found, box, strict=True)) <= 0.02, (box, found)


def test_the_halves_of_a_photo_are_not_confirmed_as_copies_of_each_other() -> None:
    for name in ("astronaut", "coffee", "chelsea"):
        img = photo(name)
        w, h = img.size
        left, right = img.crop((0, 0, w // 2, h)), img.crop((w - w // 2, 0, w, h))
        assert not confirmed(match(evidence(left), evidence(right)), PARAMS), name
