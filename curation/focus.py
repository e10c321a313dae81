"""Two measurements of a photo's edges, taken on its luma at native resolution: focus and flat share.

**Focus** (the ``blurry`` check) is the blur metric of Crété-Roffet et al., "The blur effect: perception and
estimation with a new no-reference perceptual blur metric" (SPIE 6492, 2007), turned round so that higher is
sharper: re-blur the photo with a 9-pixel mean along one axis, and see how much of the neighbour-to-neighbour
variation the re-blur removes. A sharp photo loses much of it; a photo that is already blurred loses little, since
blurring a blurred photo changes it little. It is a ratio, so it does not depend on contrast or brightness, and it is
taken at the photo's own resolution (up to :data:`MAX_SIDE`), so a radius-2 blur counts as a radius-2 blur on a
400 px and on a 1600 px photo, where a measure on a thumbnail (the Laplacian variance at 128 px, which this replaces)
sees a radius-2 blur on a 400 px photo shrink to 0.7 px and passes it. Per axis::

    DF = |g[x+1] - g[x]|                  variation of the photo
    DB = |g[x+1+k] - g[x-k]| / h          variation of its h-pixel mean (h = 2k + 1 = 9): a mean's difference is
                                          the difference of the two pixels entering and leaving the window
    focus_axis = sum(max(0, DF - DB)) / sum(DF)

and ``focus = min(focus_x, focus_y)`` (the paper's blur is the max of 1 - focus over the axes, so motion blur along
one axis counts). ``skimage.measure.blur_effect`` implements the paper too (Sobel differences, every pixel, floats:
3 ms on a 400x300 photo); this form is written by hand because scikit-image is not a runtime dependency and
fingerprints must run at 1,000 photos/s on 2 cores: it uses the identity above and only :data:`LINES` evenly spaced
rows and columns (sub-sampling across an axis does not change the blur along it), about 0.3 ms on a 400x300 photo.

**Impulse share** is the share of pixels that stand :data:`IMPULSE_STEP` levels above or below both neighbours
along a line, the lesser over rows and columns (a thin line across one axis is not an impulse along the other):
salt-and-pepper noise. Verification compares a photo over ``curation.dedup.IMPULSE_MIN`` (0.01) once more after a
3x3 median. Chosen on the external benchmark's 16 photos and seed 7's demo photos, and on scikit-learn's
``china.jpg``: at a step of 60 the benchmark's originals measured at most 0.0023, their Gaussian-noise copies
0.0041, the salt-and-pepper copies (4% of pixels black or white, then JPEG) 0.021 or more, the demo at most 0.0059,
but the temple's fine detail in ``china.jpg`` 0.0117, over the limit; at 90 it measures 0.0021, the benchmark's
originals 0.0003, their salt-and-pepper copies 0.019 or more, seed 7 at most 0.0057. Held out
(``tests/curation/test_impulse.py``, and seeds 11 and 23): scikit-learn's ``flower.jpg`` and scikit-image's
moon, cat and page measure at most 0.0052 (the page of text), their salt-and-pepper copies 0.019-0.038 (0.010-0.020
at half the density), seeds 11 and 23 at most 0.0059 (no demo photo reaches 0.01).

**Flat share** (the ``graphic`` check) is the share of those neighbour differences that are exactly 0. Graphics
(documents, screenshots, logos) are drawn: large areas of one exact colour with sharp edges. Photos carry sensor noise,
so neighbours rarely match exactly, except in clipped highlights or in JPEG blocks of flat sky.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_SIDE = 1600  # the focus is measured at native resolution up to this long side (JPEG: a 1/2^k draft above it)
LINES = 96  # rows (and columns) sampled
REBLUR = 9  # the re-blur's width in pixels, as in the paper


#: a pixel this many luma levels above (or below) both its neighbours along a line is an impulse
IMPULSE_STEP = 90


@dataclass(frozen=True)
class EdgeStats:
    focus: float  # 0-1, higher is sharper: share of neighbour variation a 9-pixel re-blur removes (worst axis)
    flat_share: float  # 0-1: share of neighbour differences (rows and columns) that are exactly 0
    impulse_share: float = 0.0  # 0-1: share of pixels that are impulses (IMPULSE_STEP), the lesser of the two axes


def _lines(n: int) -> np.ndarray:
    return np.arange(n) if n <= LINES else np.linspace(0, n - 1, LINES).astype(np.intp)


def _axis(rows: np.ndarray) -> tuple[int, int, int, int, int]:
    """(sum DF, sum of what the re-blur removes x h, flat differences, differences, impulses) along axis 1 of
    ``rows``."""
    g = rows.astype(np.int16)  # every value below stays within int16: at most REBLUR * 255; sums are int64
    df = np.diff(g, axis=1)
    rise, fall = df > IMPULSE_STEP, df < -IMPULSE_STEP
    impulses = int(np.count_nonzero(rise[:, :-1] & fall[:, 1:])) + int(np.count_nonzero(fall[:, :-1] & rise[:, 1:]))
    np.abs(df, out=df)
    total = df.size
    flat = total - int(np.count_nonzero(df))
    if g.shape[1] <= REBLUR:
        return 0, 0, flat, total, impulses
    db = g[:, REBLUR:] - g[:, :-REBLUR]  # h x the variation of the h-pixel mean
    np.abs(db, out=db)
    k = (REBLUR - 1) // 2
    dfa = df[:, k:k + db.shape[1]]
    removed = dfa * REBLUR
    removed -= db
    np.maximum(removed, 0, out=removed)
    return int(dfa.sum()), int(removed.sum()), flat, total, impulses


def edge_stats(luma: np.ndarray) -> EdgeStats:
    """Focus, flat share and impulse share of a 2-D uint8 luma array (any orientation gives the same numbers)."""
    if luma.ndim != 2 or min(luma.shape) < 2:
        return EdgeStats(0.0, 1.0)
    focus, flat, total, impulse = 1.0, 0, 0, 1.0
    for rows in (luma[_lines(luma.shape[0])], luma[:, _lines(luma.shape[1])].T):
        variation, removed, f, n, spikes = _axis(rows)
        focus = min(focus, removed / (REBLUR * variation) if variation else 0.0)
        flat, total = flat + f, total + n
        impulse = min(impulse, spikes / rows.size)
    return EdgeStats(focus=float(focus), flat_share=flat / total if total else 1.0, impulse_share=float(impulse))
