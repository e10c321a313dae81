"""A brightened copy whose highlights clipped is confirmed by the tone-matched pHash where the plain one moves too
far, on real photographs (scikit-image's samples); look-alike halves of a photo still stay apart."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from imagekit import jpeg_evidence, sample_photo
from PIL import Image, ImageEnhance

from carid.params import load_params
from curation.dedup import Evidence, confirmed, dedup_params, match

skdata = pytest.importorskip("skimage.data")
ROOT = Path(__file__).resolve().parents[2]
PARAMS = dedup_params(load_params(ROOT / "params.yaml").curate)
NO_TONE = replace(PARAMS, verify_tone_phash256_max=-1)


def evidence(img: Image.Image) -> Evidence:
    return jpeg_evidence(img, 92)


def photo(name: str) -> Image.Image:
    return sample_photo(name, 512)


@pytest.mark.parametrize(("name", "factor"), [("clock", 1.3), ("clock", 1.4), ("coffee", 1.5), ("camera", 1.6)])
def test_a_clipping_brightened_copy_needs_and_passes_the_tone_route(name: str, factor: float) -> None:
    img = photo(name)
    m = match(evidence(img), evidence(ImageEnhance.Brightness(img).enhance(factor)))
    assert m.ncc >= PARAMS.verify_ncc_min  # luma correlates ...
    assert m.phash256 > PARAMS.verify_phash256_max  # ... but the clipped highlights move the plain pHash too far
    assert m.tone_phash256 <= PARAMS.verify_tone_phash256_max, m
    assert confirmed(m, PARAMS)
    assert not confirmed(m, NO_TONE)


@pytest.mark.parametrize("name", ["clock", "coffee", "camera", "astronaut", "text"])
def test_look_alike_halves_stay_apart_brightened_or_not(name: str) -> None:
    img = photo(name)
    w, h = img.size
    left, right = img.crop((0, 0, w // 2, h)), img.crop((w - w // 2, 0, w, h))
    for other in (right, ImageEnhance.Brightness(right).enhance(1.4)):
        m = match(evidence(left), evidence(other))
        assert not confirmed(m, PARAMS), (name, m)
