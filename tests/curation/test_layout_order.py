"""The review's colour-layout order: the layout comes from the fingerprint's own decode and matches a full one."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from curation.hashing import fingerprint_bytes
from curation.suspicion import GRID, layout_of, suspicion


def street(seed: int, odd: bool = False) -> bytes:
    """A 400x300 listing-like photo (sky above, road below, a car-coloured block in the middle), or an interior."""
    rng = np.random.default_rng(seed)
    img = np.empty((300, 400, 3), dtype=np.uint8)
    if odd:
        img[:] = (90, 60, 40)
    else:
        img[:150] = (120, 170, 230)
        img[150:] = (90, 90, 90)
        img[110:220, 100:300] = rng.integers(0, 255, 3)
    img = np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def test_the_fingerprint_layout_is_the_full_decodes_within_rounding() -> None:
    data = street(1)
    got = np.asarray(fingerprint_bytes(data).layout)
    with Image.open(io.BytesIO(data)) as img:
        full = np.asarray(layout_of(img.convert("RGB")))
    assert got.shape == (GRID[0] * GRID[1] * 3,)
    assert np.abs(got - full).max() < 0.03


def test_the_odd_photo_comes_first() -> None:
    layouts = np.stack([np.asarray(fingerprint_bytes(street(s, odd=s == 7)).layout) for s in range(20)])
    assert int(np.argmax(suspicion(layouts))) == 7
