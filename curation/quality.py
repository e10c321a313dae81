"""Quality checks on a fingerprint: each failed check gives its reason and the measured value.

Reasons: too-small, blurry, too-dark, too-bright, odd-aspect, grayscale (cleanvision's issue types, minus the ones
that need a model). Unreadable files never get here: the caller rejects them from ``HashResult.error``.
"""

from __future__ import annotations

from dataclasses import dataclass

from curation.hashing import Fingerprint


@dataclass(frozen=True)
class QualityThresholds:
    min_side: int  # too-small below this many pixels on the short side
    blur_min: float  # blurry below this sharpness (Laplacian variance at hashing.WORK_SIDE)
    dark_max: float  # too-dark below this mean luma
    bright_min: float  # too-bright above this mean luma
    aspect_min: float  # odd-aspect when width / height is outside [aspect_min, aspect_max]
    aspect_max: float
    gray_max_spread: float  # grayscale at or below this colour spread (channels equal within JPEG noise)


#: Ordinary 400x300 / 480x320 JPEG car photos pass: they measure sharpness in the hundreds at WORK_SIDE and mean luma
#: 60-200 (see tests/curation/test_quality.py). Grayscale means monochrome, not pale: a monochrome JPEG measures a
#: colour spread of 0 at any JPEG quality, colour scenes faded to 5% of their saturation 8 or more, and a sample of
#: 300 of the demo's accepted photos (seed 7) 26 or more.
DEFAULT_THRESHOLDS = QualityThresholds(min_side=120, blur_min=20.0, dark_max=35.0, bright_min=230.0,
                                       aspect_min=0.5, aspect_max=2.5, gray_max_spread=4.0)


def check_quality(fp: Fingerprint, t: QualityThresholds) -> list[tuple[str, str]]:
    """The failed checks as (reason, measured value) pairs, in a fixed order; empty when the photo passes."""
    failed: list[tuple[str, str]] = []
    short = min(fp.width, fp.height)
    if short < t.min_side:
        failed.append(("too-small", f"{fp.width}x{fp.height}: short side {short} < {t.min_side}"))
    if fp.sharpness < t.blur_min:
        failed.append(("blurry", f"sharpness {fp.sharpness:.1f} < {t.blur_min:g}"))
    if fp.brightness < t.dark_max:
        failed.append(("too-dark", f"brightness {fp.brightness:.1f} < {t.dark_max:g}"))
    if fp.brightness > t.bright_min:
        failed.append(("too-bright", f"brightness {fp.brightness:.1f} > {t.bright_min:g}"))
    aspect = fp.width / fp.height if fp.height else float("inf")
    if not t.aspect_min <= aspect <= t.aspect_max:
        failed.append(("odd-aspect", f"aspect {aspect:.2f} outside {t.aspect_min:g}-{t.aspect_max:g}"))
    if fp.colour_spread <= t.gray_max_spread:
        failed.append(("grayscale", f"colour spread {fp.colour_spread:.0f} <= {t.gray_max_spread:g}"))
    return failed
