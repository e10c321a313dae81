"""Quality checks: each reason on crafted images on both sides of its threshold."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from imagekit import scene
from PIL import Image, ImageEnhance, ImageFilter

from curation.hashing import Fingerprint, fingerprint_file
from curation.quality import DEFAULT_THRESHOLDS, check_quality


def measure(img: Image.Image, path: Path) -> Fingerprint:
    img.save(path, "JPEG", quality=88)
    result = fingerprint_file(path)
    assert result.fingerprint is not None
    return result.fingerprint


def reasons(fp: Fingerprint) -> set[str]:
    return {reason for reason, _ in check_quality(fp, DEFAULT_THRESHOLDS)}


@pytest.mark.parametrize("size", [(400, 300), (480, 320), (300, 400)])
def test_ordinary_photos_pass(tmp_path: Path, size: tuple[int, int]) -> None:
    for seed in range(6):
        fp = measure(scene(seed, size), tmp_path / f"{seed}.jpg")
        assert check_quality(fp, DEFAULT_THRESHOLDS) == []


def test_each_reason_on_both_sides(tmp_path: Path) -> None:
    img = scene(7)
    cases = {
        "too-small": (img.resize((50, 50)), img.resize((160, 120))),
        "blurry": (img.filter(ImageFilter.GaussianBlur(4)), img),
        "too-dark": (ImageEnhance.Brightness(img).enhance(0.15), img),
        "too-bright": (Image.fromarray((np.asarray(img, dtype=np.int16) // 8 + 224).astype(np.uint8)), img),
        "odd-aspect": (scene(8, (1000, 100)), scene(8, (600, 300))),
        "grayscale": (img.convert("L").convert("RGB"), img),
    }
    for reason, (bad, good) in cases.items():
        assert reason in reasons(measure(bad, tmp_path / f"{reason}-bad.jpg")), reason
        assert reason not in reasons(measure(good, tmp_path / f"{reason}-good.jpg")), reason


def test_messages_name_the_measured_value() -> None:
    fp = Fingerprint("0" * 64, 0, 0, width=1000, height=100, brightness=20.0, contrast=1.0, sharpness=3.25,
                     saturation=2.0)
    out = dict(check_quality(fp, DEFAULT_THRESHOLDS))
    assert out["blurry"] == "sharpness 3.2 < 20"
    assert out["too-dark"] == "brightness 20.0 < 35"
    assert out["odd-aspect"] == "aspect 10.00 outside 0.5-2.5"
    assert out["too-small"] == "1000x100: short side 100 < 120"
    assert "grayscale" in out and "too-bright" not in out
    t = replace(DEFAULT_THRESHOLDS, blur_min=3.0, dark_max=10.0, min_side=100, aspect_max=12.0,
                gray_max_saturation=1.0)
    assert check_quality(fp, t) == []
