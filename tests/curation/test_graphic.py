"""The graphic check tells drawn images (documents, screenshots, logos) from photos, through the real decode path.

``graphic_flat_min`` and ``graphic_focus_min`` (params.yaml) were chosen on the graphics of
:mod:`graphickit` at seeds 0-19 and on the demo's accepted photos. Everything here is held out from that choice: the
graphics are drawn at seeds 100-119, and the photos are scikit-image's bundled photographs (licences in
:mod:`graphickit`) and scikit-learn's two bundled photos (``china.jpg``, ``flower.jpg``, Flickr, CC-BY 2.0).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from graphickit import PHOTO_NAMES, graphics, skimage_image
from PIL import Image

from carid.params import load_params
from curation.hashing import Fingerprint, fingerprint_bytes
from curation.quality import QualityThresholds, check_quality
from curation.run import thresholds

HELD_OUT_SEEDS = range(100, 120)  # the thresholds were chosen on seeds 0-19


@pytest.fixture(scope="module")
def limits() -> QualityThresholds:
    return thresholds(load_params(Path(__file__).resolve().parents[2] / "params.yaml").curate)


def measured(img: Image.Image, fmt: str) -> Fingerprint:
    buf = io.BytesIO()
    img.save(buf, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return fingerprint_bytes(buf.getvalue())


def graphic(fp: Fingerprint, limits: QualityThresholds) -> bool:
    return any(reason == "graphic" for reason, _ in check_quality(fp, limits))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_drawn_graphics_are_flagged(fmt: str, limits: QualityThresholds) -> None:
    drawn = graphics(HELD_OUT_SEEDS)
    assert len(drawn) == 60
    missed = {}
    for name, img in drawn.items():
        fp = measured(img, fmt)
        if not graphic(fp, limits):
            missed[name] = (round(fp.flat_share, 3), round(fp.focus, 3))
    assert not missed, missed


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_real_photos_are_not_flagged(fmt: str, limits: QualityThresholds) -> None:
    from sklearn.datasets import load_sample_image

    photos = {name: skimage_image(name) for name in PHOTO_NAMES}
    photos.update({name: Image.fromarray(np.asarray(load_sample_image(name))) for name in ("china.jpg", "flower.jpg")})
    flagged = {}
    for name, img in photos.items():
        fp = measured(img, fmt)
        if graphic(fp, limits):
            flagged[name] = (round(fp.flat_share, 3), round(fp.focus, 3))
    assert not flagged, flagged
