"""A hue-turned copy is confirmed through the value planes (max of R, G, B) where luma alone does not settle it, on
real photographs (scikit-image's samples), and look-alike halves of a photo still stay apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from imagekit import jpeg_evidence, sample_photo
from PIL import Image

from carid.params import load_params
from curation.dedup import Evidence, confirmed, dedup_params, match

skdata = pytest.importorskip("skimage.data")
ROOT = Path(__file__).resolve().parents[2]
PARAMS = dedup_params(load_params(ROOT / "params.yaml").curate)


def evidence(img: Image.Image) -> Evidence:
    return jpeg_evidence(img, 90)


def photo(name: str) -> Image.Image:
    return sample_photo(name, 400)


def hue_turned(img: Image.Image, degrees: float) -> Image.Image:
    """Every hue turned, saturation and value kept (the demo marketplace's hue re-upload does the same)."""
    hsv = np.asarray(img.convert("HSV")).copy()
    hsv[..., 0] = (hsv[..., 0].astype(np.int16) + round(degrees / 360 * 256)) % 256
    return Image.fromarray(hsv, "HSV").convert("RGB")


@pytest.mark.parametrize("name", ["coffee", "retina"])
def test_a_hue_turned_copy_is_confirmed_by_its_value_plane(name: str) -> None:
    img = photo(name)
    original = evidence(img)
    luma_alone = []
    for degrees in (40, 90, 150):
        m = match(original, evidence(hue_turned(img, degrees)))
        assert confirmed(m, PARAMS), (degrees, m)
        luma_alone.append(m.ncc >= PARAMS.verify_ncc_min and m.phash256 <= PARAMS.verify_phash256_max)
    assert not all(luma_alone)  # these photos need the value planes: luma's pHash moves too far


def test_grayscale_copies_still_match_and_halves_stay_apart() -> None:
    for name in ("coffee", "retina", "astronaut"):
        img = photo(name)
        assert confirmed(match(evidence(img), evidence(img.convert("L").convert("RGB"))), PARAMS), name
        w, h = img.size
        left, right = img.crop((0, 0, w // 2, h)), img.crop((w - w // 2, 0, w, h))
        assert not confirmed(match(evidence(left), evidence(right)), PARAMS), name
        assert not confirmed(match(evidence(left), evidence(hue_turned(right, 90))), PARAMS), name
