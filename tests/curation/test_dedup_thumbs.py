"""Verification's thumbnails (curation.dedup._thumbs, matrix products) are Pillow's bilinear ``resize(box=)`` of each
window, standardised; and the batched window boxes are the one-at-a-time ones."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from curation.dedup import THUMB, _box, _boxes, _thumbs

skdata = pytest.importorskip("skimage.data")


def pillow_thumbs(plane: np.ndarray, windows: list[tuple[float, float, float, float]]) -> np.ndarray:
    image = Image.fromarray(plane, "F")
    out = []
    for window in windows:
        box = _box(image.size, window)
        t = np.asarray(image.resize((THUMB, THUMB), Image.Resampling.BILINEAR, box=box), dtype=np.float64).ravel()
        t -= t.mean()
        out.append(t / (np.linalg.norm(t) or 1.0))
    return np.array(out)


@pytest.mark.parametrize("shape", [(120, 160), (160, 120), (107, 160), (40, 31), (20, 20)])
def test_thumbnails_are_pillows_bilinear_resizes(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    photo = np.asarray(Image.fromarray(skdata.astronaut()).convert("L").resize(shape[::-1]), dtype=np.float32)
    windows = [(0.0, 0.0, 0.0, 0.0), (0.2, 0.2, 0.2, 0.2), (0.45, 0.0, 0.0, 0.45)]
    windows += [tuple(rng.uniform(0.0, 0.4, 4)) for _ in range(30)]
    mine, theirs = _thumbs(photo, windows), pillow_thumbs(photo, windows)
    assert mine.shape == (len(windows), THUMB * THUMB)
    assert np.abs(mine - theirs).max() < 1e-5


def test_a_flat_window_stays_zero() -> None:
    plane = np.full((60, 80), 7.0, dtype=np.float32)
    assert not np.any(_thumbs(plane, [(0.0, 0.0, 0.0, 0.0)]))


def test_batched_boxes_round_as_python_does() -> None:
    rng = np.random.default_rng(1)
    for size in ((160, 120), (37, 91)):
        # halves land exactly on .5 pixel positions, where rounding to even matters
        windows = [tuple(rng.uniform(0.0, 0.45, 4)) for _ in range(2000)]
        windows += [(k / size[0] / 2, 0.0, k / size[0] / 2, 0.5 / size[1]) for k in range(size[0])]
        assert _boxes(size, windows) == [_box(size, w) for w in windows]
