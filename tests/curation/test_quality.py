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
                     colour_spread=2.0, focus=0.3, flat_share=0.1)
    out = dict(check_quality(fp, DEFAULT_THRESHOLDS))
    assert out["blurry"] == "focus 0.30 < 0.45"
    assert out["too-dark"] == "brightness 20.0 < 35"
    assert out["odd-aspect"] == "aspect 10.00 outside 0.5-2.5"
    assert out["too-small"] == "1000x100: short side 100 < 120"
    assert out["grayscale"] == "colour spread 2 <= 4" and "too-bright" not in out and "graphic" not in out
    t = replace(DEFAULT_THRESHOLDS, blur_min=0.2, dark_max=10.0, min_side=100, aspect_max=12.0,
                gray_max_spread=1.0)
    assert check_quality(fp, t) == []
    drawn = replace(fp, focus=0.85, flat_share=0.93)
    assert dict(check_quality(drawn, DEFAULT_THRESHOLDS))["graphic"] == "flat share 0.93 >= 0.7, focus 0.85 >= 0.72"


def mean_saturation(img: Image.Image) -> float:
    """What the grayscale check measured before: mean HSV saturation, 0-255."""
    return float(np.asarray(img.convert("HSV"))[:, :, 1].mean())


def pale_car(seed: int, body: int) -> Image.Image:
    """A white, silver or grey car (``body`` grey level) on a grey road under an overcast sky, its colour only in
    small details: tail lamps, a yellow number plate, a strip of trees, as in real photos of such cars."""
    rng = np.random.default_rng(seed)
    h, w = 300, 400
    t = np.linspace(0.0, 1.0, h)[:, None, None]
    arr = (200 - 90 * t) * np.ones((1, w, 3))  # sky to road, neutral
    arr += rng.normal(0, 2.0, (h, w, 1))  # luma noise only
    x0, x1, y0, y1 = 70 + int(rng.integers(0, 40)), 330 - int(rng.integers(0, 40)), 120, 230
    arr[y0:y1, x0:x1] = body
    arr[95:110, :, :] = (70, 95, 60)  # a strip of trees at the horizon
    arr[y0 + 20:y0 + 32, x0:x0 + 10] = (190, 30, 30)  # tail lamps
    arr[y0 + 20:y0 + 32, x1 - 10:x1] = (190, 30, 30)
    arr[y1 - 25:y1 - 12, (x0 + x1) // 2 - 25:(x0 + x1) // 2 + 25] = (225, 190, 40)  # number plate
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB").filter(ImageFilter.GaussianBlur(0.6))


@pytest.mark.parametrize("body", [235, 190, 140])  # white, silver, grey
def test_pale_colour_photos_are_not_grayscale(tmp_path: Path, body: int) -> None:
    """White, silver and grey cars keep their colour; the old mean-saturation rule (< 12) rejected every one."""
    for seed in range(8):
        car = pale_car(seed, body)
        assert mean_saturation(car) < 12
        assert "grayscale" not in reasons(measure(car, tmp_path / f"{seed}.jpg"))


@pytest.mark.parametrize("quality", [40, 75, 95])
def test_monochrome_photos_are_grayscale_at_any_jpeg_quality(tmp_path: Path, quality: int) -> None:
    for seed in range(4):
        mono = scene(seed).convert("L")
        for mode in ("L", "RGB"):
            path = tmp_path / f"{seed}-{mode}.jpg"
            mono.convert(mode).save(path, "JPEG", quality=quality)
            result = fingerprint_file(path)
            assert result.fingerprint is not None
            assert "grayscale" in reasons(result.fingerprint), (seed, mode)


SKIMAGE_COLOUR = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "retina", "cat", "colorwheel")
SKIMAGE_GRAY = ("camera", "moon", "coins", "page", "text", "clock", "grass", "gravel", "brick")


def test_grayscale_on_photos_it_was_not_tuned_on(tmp_path: Path) -> None:
    """scikit-image's bundled sample images (they ship inside the package; nothing here was chosen on them): every
    colour one keeps its colour, every grayscale one is monochrome, saved as L or as RGB."""
    skdata = pytest.importorskip("skimage.data")
    for name in SKIMAGE_COLOUR:
        colour = Image.fromarray(np.asarray(getattr(skdata, name)())[:, :, :3].astype(np.uint8))
        assert "grayscale" not in reasons(measure(colour, tmp_path / f"{name}.jpg")), name
    for name in SKIMAGE_GRAY:
        gray = Image.fromarray(np.asarray(getattr(skdata, name)()).astype(np.uint8))
        for mode in ("L", "RGB"):
            assert "grayscale" in reasons(measure(gray.convert(mode), tmp_path / f"{name}-{mode}.jpg")), (name, mode)
