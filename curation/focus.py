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


@dataclass(frozen=True)
class EdgeStats:
    focus: float  # 0-1, higher is sharper: share of neighbour variation a 9-pixel re-blur removes (worst axis)
    flat_share: float  # 0-1: share of neighbour differences (rows and columns) that are exactly 0


def _lines(n: int) -> np.ndarray:
    return np.arange(n) if n <= LINES else np.linspace(0, n - 1, LINES).astype(np.intp)


def _axis(rows: np.ndarray) -> tuple[int, int, int, int]:
    """(sum DF, sum of what the re-blur removes x h, flat differences, differences) along axis 1 of ``rows``."""
    g = rows.astype(np.int16)  # every value below stays within int16: at most REBLUR * 255; sums are int64
    df = np.diff(g, axis=1)
    np.abs(df, out=df)
    total = df.size
    flat = total - int(np.count_nonzero(df))
    if g.shape[1] <= REBLUR:
        return 0, 0, flat, total
    db = g[:, REBLUR:] - g[:, :-REBLUR]  # h x the variation of the h-pixel mean
    np.abs(db, out=db)
    k = (REBLUR - 1) // 2
    dfa = df[:, k:k + db.shape[1]]
    removed = dfa * REBLUR
    removed -= db
    np.maximum(removed, 0, out=removed)
    return int(dfa.sum()), int(removed.sum()), flat, total


def edge_stats(luma: np.ndarray) -> EdgeStats:
    """Focus and flat share of a 2-D uint8 luma array (any orientation gives the same numbers)."""
    if luma.ndim != 2 or min(luma.shape) < 2:
        return EdgeStats(0.0, 1.0)
    focus, flat, total = 1.0, 0, 0
    for rows in (luma[_lines(luma.shape[0])], luma[:, _lines(luma.shape[1])].T):
        variation, removed, f, n = _axis(rows)
        focus = min(focus, removed / (REBLUR * variation) if variation else 0.0)
        flat, total = flat + f, total + n
    return EdgeStats(focus=float(focus), flat_share=flat / total if total else 1.0)
