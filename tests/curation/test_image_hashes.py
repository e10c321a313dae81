"""The batched hashes (curation.dedup.image_hashes) are imagehash's pHash / dHash and Pillow's windowed resizes, bit
for bit, on real photos at the sizes fingerprints see; and fingerprints call them with one BLAS thread."""

from __future__ import annotations

import numpy as np
import pytest
from imagehash import dhash, phash
from imagekit import scene
from PIL import Image
from scipy.fft import dctn

from curation.dedup import (
    FULL,
    OFF_CENTRE,
    WINDOWS,
    _box,
    content_window,
    image_hashes,
    lanczos_weights,
    off_centre_hashes,
)

skdata = pytest.importorskip("skimage.data")


def as_int(h: object) -> int:
    return int(str(h), 16)


def reference(gray: Image.Image, grid: bool = False) -> list[tuple[int, int]]:
    """The hashes as Pillow and imagehash make them, one resize per window: of the full image, the central windows
    and the frame's, or (``grid``) of the OFF_CENTRE windows."""
    luma = np.asarray(gray)
    windows = [FULL, *WINDOWS]
    inside = content_window(luma)
    if inside is not None:
        windows.append(inside)
    if grid:
        windows = [FULL, *OFF_CENTRE]
    out = [(as_int(phash(gray)), as_int(dhash(gray)))]
    for window in windows[1:]:
        box = _box(gray.size, window)
        big = np.asarray(gray.resize((32, 32), Image.Resampling.LANCZOS, box=box), dtype=np.float64)
        low = dctn(big, type=2)[:8, :8]
        p_bits = (low > np.median(low)).ravel()
        small = np.asarray(gray.resize((9, 8), Image.Resampling.LANCZOS, box=box), dtype=np.int16)
        d_bits = (small[:, 1:] > small[:, :-1]).ravel()
        out.append((int("".join("1" if b else "0" for b in p_bits), 2), int("".join("1" if b else "0" for b in d_bits),
                                                                              2)))
    return out


def work_images() -> list[Image.Image]:
    """Grey work images as fingerprints make them (long side 128), of real photos in both orientations, a generated
    scene, a framed photo, and odd and small sizes."""
    photos = [Image.fromarray(getattr(skdata, name)()).convert("L")
              for name in ("astronaut", "chelsea", "coffee", "rocket", "camera")]
    photos.append(scene(3).convert("L"))
    framed = Image.new("L", (400, 300), 250)
    framed.paste(scene(5).convert("L").resize((340, 240)), (30, 30))
    photos.append(framed)
    out = []
    for img in photos:
        for size in ((128, 96), (96, 128), (128, 85), (117, 128), (40, 31)):
            out.append(img.resize(size, Image.Resampling.BOX))
    return out


def test_hashes_are_imagehash_and_pillow_bit_for_bit() -> None:
    images = work_images()
    framed = 0
    for gray in images:
        assert list(image_hashes(np.asarray(gray))) == reference(gray), gray.size
        framed += content_window(np.asarray(gray)) is not None
    assert framed >= 1  # the frame's window is covered too


def test_off_centre_hashes_are_imagehash_but_for_the_phash_roundings() -> None:
    """The off-centre windows' dHash bit for bit; their pHash skips the thumbnail's roundings (dedup._GridPlan):
    within 4 bits of imagehash's, and equal on most windows."""
    off = []
    for gray in work_images():
        mine, theirs = off_centre_hashes(np.asarray(gray)), reference(gray, grid=True)[1:]
        assert len(mine) == len(theirs) == len(OFF_CENTRE), gray.size
        assert [d for _, d in mine] == [d for _, d in theirs], gray.size  # dHash: bit for bit
        off += [(p ^ q).bit_count() for (p, _), (q, _) in zip(mine, theirs, strict=True)]
    assert max(off) <= 4 and np.mean(off) <= 0.5 and np.mean(np.array(off) == 0) >= 0.8, (max(off), np.mean(off))


def test_weights_are_pillows_fixed_point_coefficients() -> None:
    """A resize through the weights, rounded as Pillow's horizontal pass rounds, is Pillow's own one-axis resize."""
    rng = np.random.default_rng(0)
    row = rng.integers(0, 256, (5, 128)).astype(np.uint8)
    for lo, hi, n_out in ((0, 128, 32), (5, 123, 32), (26, 102, 9), (0, 128, 128)):
        w = lanczos_weights(128, lo, hi, n_out)
        assert np.array_equal(w, np.round(w))  # integers in units of 2**-22
        mine = np.clip(np.floor((row.astype(np.float64) @ w.T + 2**21) / 2**22), 0, 255)
        pillow = np.asarray(Image.fromarray(row).resize((n_out, 5), Image.Resampling.LANCZOS, box=(lo, 0, hi, 5)))
        assert np.array_equal(mine, pillow)
