"""The photo renderer: deterministic JPEGs, near-duplicate variants, distinct shapes per model."""

from __future__ import annotations

import io
import random
import statistics
from dataclasses import replace
from itertools import combinations

import imagehash
import numpy as np
import pytest
from PIL import Image, ImageDraw

from marketplace import render
from marketplace.specs import JUNK_KINDS, STYLES, PhotoSpec


def _spec(seed: int = 7, model: str = "swift", junk: str = "", variant: str = "original", style: str = "main",
          difficulty: float = 0.5, photo_id: str | None = None) -> PhotoSpec:
    return PhotoSpec(photo_id or f"p{seed}-{variant}", model, junk, seed, f"g{seed}", variant, style, difficulty)


def _decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def test_same_spec_gives_identical_bytes_and_other_scenes_differ() -> None:
    spec = _spec(seed=123, model="wagonr")
    assert render.render_photo(spec) == render.render_photo(spec)
    assert render.render_photo(spec) != render.render_photo(replace(spec, scene_seed=124))
    assert render.render_photo(spec) != render.render_photo(replace(spec, model="swift"))


@pytest.mark.parametrize("style", STYLES)
def test_output_is_a_jpeg_of_the_style_size(style: str) -> None:
    for seed, model in enumerate(["swift", "wagonr", "dzire", "alto", "baleno", "celerio"]):
        img = _decode(render.render_photo(_spec(seed=seed, model=model, style=style)))
        assert img.format == "JPEG"
        assert img.mode == "RGB"
        assert img.size == render.IMAGE_SIZES[style]
    assert render.IMAGE_SIZES == {"main": (400, 300), "hyderabad": (480, 320)}


def test_render_image_matches_the_jpeg() -> None:
    spec = _spec(seed=5)
    img = render.render_image(spec)
    assert img.mode == "RGB"
    assert img.size == _decode(render.render_photo(spec)).size


def test_exact_copy_has_the_original_bytes() -> None:
    for seed in range(3):
        original = render.render_photo(_spec(seed=seed, variant="original", photo_id=f"a{seed}"))
        assert render.render_photo(_spec(seed=seed, variant="exact", photo_id=f"b{seed}")) == original


def _phash(data: bytes) -> imagehash.ImageHash:
    return imagehash.phash(_decode(data))


@pytest.mark.parametrize("style", STYLES)
def test_altered_copies_are_near_duplicates_and_scenes_are_far_apart(style: str) -> None:
    seeds = range(40, 60)
    originals = {s: _phash(render.render_photo(_spec(seed=s, model=("swift", "wagonr")[s % 2], style=style)))
                 for s in seeds}
    for seed in list(seeds)[:5]:
        for variant in ("reencode", "resize", "crop", "watermark"):
            spec = _spec(seed=seed, model=("swift", "wagonr")[seed % 2], variant=variant, style=style)
            data = render.render_photo(spec)
            assert data != render.render_photo(replace(spec, variant="original"))
            assert _phash(data) - originals[seed] <= 12, (seed, variant)
    distances = [a - b for a, b in combinations(originals.values(), 2)]
    assert statistics.median(distances) > 20


def test_variants_change_what_they_should() -> None:
    original = render.render_image(_spec(seed=9))
    assert render.render_image(_spec(seed=9, variant="reencode")).tobytes() == original.tobytes()
    w, h = original.size
    rw, rh = render.render_image(_spec(seed=9, variant="resize")).size
    assert 0.6 * w - 1 <= rw <= 0.85 * w + 1 and 0.6 * h - 1 <= rh <= 0.85 * h + 1
    cw, ch = render.render_image(_spec(seed=9, variant="crop")).size
    assert 0.9 * w <= cw < w and 0.9 * h <= ch < h


def _side_ratio(model: str, seed: int, difficulty: float) -> float:
    """Height over length of one car's bounding box, drawn side-on onto a blank canvas."""
    canvas = Image.new("RGB", (800, 500), (255, 0, 255))
    view = render.View(squash=1.0, depth=0.0, lift=0.0, persp=0.0, front=True, flip=False)
    render._draw_car(ImageDraw.Draw(canvas), model, random.Random(seed), difficulty, view, 100.0, 450.0, 600.0,
                     (200, 200, 200))
    car = np.any(np.asarray(canvas) != np.array([255, 0, 255], dtype=np.uint8), axis=2)
    rows, cols = np.flatnonzero(car.any(axis=1)), np.flatnonzero(car.any(axis=0))
    return float(rows[-1] - rows[0] + 1) / float(cols[-1] - cols[0] + 1)


def test_wagonr_is_taller_and_boxier_than_swift_and_difficulty_closes_the_gap() -> None:
    def mean_ratio(model: str, difficulty: float) -> float:
        return statistics.mean(_side_ratio(model, seed, difficulty) for seed in range(12))

    easy_gap = mean_ratio("wagonr", 0.0) - mean_ratio("swift", 0.0)
    hard_gap = mean_ratio("wagonr", 1.0) - mean_ratio("swift", 1.0)
    assert easy_gap > 0.1
    assert 0 < hard_gap < easy_gap


def test_colour_and_background_do_not_depend_on_the_model() -> None:
    # The same scene seed draws the same background for a Swift and a WagonR: only the car differs.
    swift = render.render_image(_spec(seed=77, model="swift", difficulty=0.0))
    wagonr = render.render_image(_spec(seed=77, model="wagonr", difficulty=0.0))
    assert swift.getpixel((2, 2)) == wagonr.getpixel((2, 2))
    assert swift.tobytes() != wagonr.tobytes()


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("kind", JUNK_KINDS)
def test_every_junk_kind_renders(kind: str, style: str) -> None:
    spec = _spec(seed=3, junk=kind, style=style)
    data = render.render_photo(spec)
    img = _decode(data)
    assert img.size == render.IMAGE_SIZES[style]
    assert data == render.render_photo(spec)
    assert data != render.render_photo(replace(spec, junk=""))
