"""Registration: whether one photo is a piece of another at the same pixel scale (a crop, or the picture inside a
frame), found by phase correlation and confirmed by the correlation of the pixels it lines up.

Verification (:mod:`curation.dedup`) compares 32x32 thumbnails of candidate windows. That is robust to edits and
cheap, but a crop's window is found only to a pixel or two of the thumbnail's grid, and a photo made of fine detail
(a texture of bricks or gravel, a field of stars, a page of text) is close to noise at 32x32: a misalignment of a
pixel or two drops its correlation to 0.2-0.9 where the copy is exact. A crop or a frame that keeps the photo's
pixels (no resize: what a phone's crop tool and a dealer's frame do) is a translation, and phase correlation
finds a translation exactly, whatever the photo shows: the peak of the inverse transform of the normalised cross
power spectrum. The pixels it lines up are then compared directly; an exact piece correlates at 0.99 or more
despite JPEG, different photos do not (the demo's look-alike listing photos of a car from one side: at most 0.93).

A photo resized (an upscale, a downscale) is not a translation either, but its size says so: two photos of one
aspect ratio and different sizes (:func:`resized`) are compared with the larger shrunk to the smaller's size, at no
shift (:func:`compare`). The thumbnails search scales too, but a texture shrunk to 32x32 from two resolutions is
two different noises (the benchmark's brick and its 150% upscale: refused there, 0.995 here).

Only pairs whose sizes allow it are registered (:func:`fits`): the smaller photo fits inside the larger and holds
:data:`SHARE_MIN` to :data:`SHARE_MAX` of its area. Two photos of one size would register at no shift, which the
thumbnails have already compared; on the demo that gate leaves 435 of seed 7's 2,346 candidate pairs that the
thumbnails refused. Both photos are compared at one scale, the larger's long side at most :data:`SIDE` pixels, so
that a crop's offset stays a whole number of pixels up to that size (above it, the offset is rounded and fine detail
correlates less). A crop that was also resized is not a translation; the thumbnails, which search scales, are what
find those.

Written with numpy's FFT by hand, since the libraries that offer it (scikit-image's ``phase_cross_correlation``,
OpenCV's ``phaseCorrelate``) are not runtime dependencies and it is a dozen lines.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from carid.images import to_rgb

SIDE = 1024  # long side, in pixels, of the larger photo of a pair at registration (the smaller at the same scale)
SHARE_MIN = 0.3  # the smaller photo's area, as a share of the larger's: a crop of 20% a side keeps 0.36, a frame
SHARE_MAX = 0.97  # of 10% of the long side about 0.6; over SHARE_MAX the photos are about one size (see above)
MIN_SIDE = 16  # pixels: a smaller photo under this on a side is not registered
ASPECT_TOLERANCE = 0.01  # photos whose aspect ratios differ by at most this share may be one photo resized


@dataclass(frozen=True)
class Registration:
    ncc: float  # correlation of the smaller photo with the region of the larger it lines up with; -2: none
    window: tuple[float, float, float, float]  # that region, as shares cut off the larger's left, top, right, bottom


NONE = Registration(-2.0, (0.0, 0.0, 0.0, 0.0))


def fits(big: tuple[int, int], small: tuple[int, int]) -> bool:
    """Whether a photo of size ``small`` (width, height) could be a piece of one of size ``big`` at its scale."""
    return bool(fits_many(np.array([big]), np.array([small]))[0])


def fits_many(big: np.ndarray, small: np.ndarray) -> np.ndarray:
    """:func:`fits` per row of two (n, 2) arrays of (width, height)."""
    area, big_area = small[:, 0] * small[:, 1], big[:, 0] * big[:, 1]
    return np.asarray(np.all(small <= big, axis=1) & (area >= SHARE_MIN * big_area) & (area <= SHARE_MAX * big_area))


def resized(big: tuple[int, int], small: tuple[int, int]) -> bool:
    """Whether ``big`` could be ``small`` resized: one aspect ratio (within :data:`ASPECT_TOLERANCE`), other sizes."""
    (w, h), (bw, bh) = small, big
    return (w, h) != (bw, bh) and abs(bw * h - bh * w) <= ASPECT_TOLERANCE * bw * h


def scale_for(big: tuple[int, int]) -> float:
    """The factor both photos of a pair are shrunk by: the larger's long side to at most :data:`SIDE`."""
    return min(1.0, SIDE / max(big))


def scaled_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def decode_scaled(data: bytes, size: tuple[int, int]) -> np.ndarray:
    """Upright luma (EXIF orientation applied, alpha on white) as float32 at ``size`` (width, height, upright)."""
    with Image.open(io.BytesIO(data)) as img:
        if max(img.size) > max(size):
            img.draft("RGB", (max(size), max(size)))  # a reduced JPEG decode at least this large either way up
        grey = to_rgb(img).convert("L")
    if grey.size != size:
        grey = grey.resize(size, Image.Resampling.BOX)
    return np.asarray(grey, dtype=np.float32)


def _correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    """Pearson correlation of two arrays of one shape; None when either is flat."""
    a, b = a - a.mean(), b - b.mean()
    norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / norm if norm > 1e-6 * a.size else None


def compare(shrunk: np.ndarray, small: np.ndarray) -> Registration:
    """A photo resized: the larger, shrunk to the smaller's size, against the smaller at no shift."""
    if shrunk.shape != small.shape or min(small.shape) < MIN_SIDE:
        return NONE
    ncc = _correlation(shrunk, small)
    return NONE if ncc is None else Registration(ncc, (0.0, 0.0, 0.0, 0.0))


def register(big: np.ndarray, small: np.ndarray) -> Registration:
    """Where ``small`` lies inside ``big`` (2-D float arrays at one scale) by phase correlation over the placements
    that keep it whole inside, and the correlation of the pixels there."""
    bh, bw = big.shape
    h, w = small.shape
    if h > bh or w > bw or min(h, w) < MIN_SIDE:
        return NONE
    spectrum = np.fft.rfft2(big - big.mean()) * np.conj(np.fft.rfft2(small - small.mean(), s=(bh, bw)))
    spectrum /= np.abs(spectrum) + 1e-6
    peaks = np.fft.irfft2(spectrum, s=(bh, bw))[: bh - h + 1, : bw - w + 1]
    y, x = np.unravel_index(int(peaks.argmax()), peaks.shape)
    ncc = _correlation(big[y:y + h, x:x + w], small)
    if ncc is None:  # a flat photo lines up anywhere
        return NONE
    return Registration(ncc, (x / bw, y / bh, (bw - x - w) / bw, (bh - y - h) / bh))
