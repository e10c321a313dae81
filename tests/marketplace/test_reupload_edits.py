"""Edited re-uploads (photometric changes, heavy crops, frames) and the market's body-colour mix."""

from __future__ import annotations

import io
import statistics
from collections import Counter
from dataclasses import replace

import imagehash
import numpy as np
import pytest
from PIL import Image

from carid.params import DEFAULT_MARKETPLACE
from marketplace import render
from marketplace.inventory import Inventory
from marketplace.specs import REUPLOAD_VARIANTS, STYLES, VARIANTS, PhotoSpec

NEW_EDITS = ("brightness", "saturation", "hue", "grayscale", "heavy-crop", "frame")
SEEDS = range(20, 26)


def _spec(seed: int, variant: str = "original", style: str = "main", model: str = "swift") -> PhotoSpec:
    return PhotoSpec(f"q{seed}-{variant}", model, "", seed, f"g{seed}", variant, style, 0.5)


def _pair(seed: int, variant: str, style: str = "main") -> tuple[np.ndarray, np.ndarray]:
    """The original's and the edited copy's pixels (before JPEG), as int arrays."""
    original = render.render_image(_spec(seed, style=style))
    edited = render.render_image(_spec(seed, variant, style))
    return np.asarray(original, dtype=np.int16), np.asarray(edited, dtype=np.int16)


def _luma(a: np.ndarray) -> np.ndarray:
    return (a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114).ravel()


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(_luma(a), _luma(b))[0, 1])


def test_every_edit_is_a_named_variant() -> None:
    assert set(NEW_EDITS) <= set(REUPLOAD_VARIANTS)
    assert {"exact", "reencode", "resize", "crop", "watermark"} <= set(REUPLOAD_VARIANTS)
    assert VARIANTS[0] == "original" and VARIANTS[1:] == REUPLOAD_VARIANTS


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("variant", NEW_EDITS)
def test_edits_render_deterministically_and_differ_from_the_original(variant: str, style: str) -> None:
    spec = _spec(31, variant, style)
    data = render.render_photo(spec)
    assert data == render.render_photo(spec)
    assert data != render.render_photo(replace(spec, variant="original"))
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "JPEG" and img.mode == "RGB"


@pytest.mark.parametrize("variant", ("brightness", "saturation", "hue", "grayscale"))
def test_photometric_edits_keep_the_picture(variant: str) -> None:
    """Same geometry, and the luminance still follows the original's pixel by pixel (another scene does not)."""
    for seed in SEEDS:
        original, edited = _pair(seed, variant)
        assert original.shape == edited.shape
        assert _corr(original, edited) > 0.9, (seed, variant)
        _, other = _pair(seed + 100, "original")
        assert abs(_corr(original, other)) < 0.8


def test_brightness_edit_changes_brightness_or_contrast_by_15_to_30_percent() -> None:
    changes = []
    for seed in SEEDS:
        original, edited = _pair(seed, "brightness")
        mean_ratio = edited.mean() / original.mean()
        std_ratio = edited.std() / original.std()
        changes.append(max(abs(mean_ratio - 1), abs(std_ratio - 1)))
    assert min(changes) > 0.08 and max(changes) < 0.7
    assert statistics.median(changes) > 0.15


def test_grayscale_edit_is_the_originals_luminance() -> None:
    for seed in SEEDS:
        original = render.render_image(_spec(seed))
        edited = np.asarray(render.render_image(_spec(seed, "grayscale")))
        assert (edited[..., 0] == edited[..., 1]).all() and (edited[..., 1] == edited[..., 2]).all()
        assert (edited[..., 0] == np.asarray(original.convert("L"))).all()


def test_hue_edit_turns_every_hue_by_one_angle() -> None:
    turns = []
    for seed in SEEDS:
        a = np.asarray(render.render_image(_spec(seed)).convert("HSV"), dtype=np.int16)
        b = np.asarray(render.render_image(_spec(seed, "hue")).convert("HSV"), dtype=np.int16)
        coloured = (a[..., 1] > 80) & (a[..., 2] > 60)
        diff = ((b[..., 0] - a[..., 0] + 128) % 256 - 128)[coloured]
        turn = float(np.median(diff))
        assert np.mean(np.abs(diff - turn) <= 4) > 0.9, seed  # one turn for all hues
        turns.append(abs(turn) * 360 / 256)
    assert all(8 <= t <= 42 for t in turns), turns


def test_saturation_edit_changes_saturation() -> None:
    for seed in SEEDS:
        a = np.asarray(render.render_image(_spec(seed)).convert("HSV"), dtype=np.float64)[..., 1].mean()
        b = np.asarray(render.render_image(_spec(seed, "saturation")).convert("HSV"), dtype=np.float64)[..., 1].mean()
        assert abs(b / a - 1) > 0.1, seed  # a boost saturates already vivid pixels, so less than x1.3 on average


def _find(haystack: np.ndarray, needle: np.ndarray, xs: range, ys: range) -> tuple[int, int] | None:
    nh, nw = needle.shape[:2]
    for y in ys:
        for x in xs:
            if np.array_equal(haystack[y:y + nh, x:x + nw], needle):
                return x, y
    return None


@pytest.mark.parametrize("style", STYLES)
def test_heavy_crop_is_a_crop_of_the_original_cutting_10_to_20_percent_per_side(style: str) -> None:
    margins = []
    for seed in SEEDS:
        original, edited = _pair(seed, "heavy-crop", style)
        h, w = original.shape[:2]
        ch, cw = edited.shape[:2]
        at = _find(original, edited, range(int(0.1 * w) - 1, int(0.2 * w) + 2),
                   range(int(0.1 * h) - 1, int(0.2 * h) + 2))
        assert at is not None, seed  # the pixels are the original's, cut out
        left, top = at
        right, bottom = w - left - cw, h - top - ch
        for cut, side in ((left, w), (right, w), (top, h), (bottom, h)):
            assert 0.1 * side - 1 <= cut <= 0.2 * side + 1, (seed, cut, side)
        margins.append((left, right, top, bottom))
    assert sum(1 for m in margins if m[0] != m[1] or m[2] != m[3]) >= len(margins) - 1  # off-centre crops


@pytest.mark.parametrize("style", STYLES)
def test_frame_surrounds_the_original_with_a_border_of_5_to_10_percent(style: str) -> None:
    kinds: Counter[str] = Counter()
    for seed in SEEDS:
        original, edited = _pair(seed, "frame", style)
        h, w = original.shape[:2]
        fh, fw = edited.shape[:2]
        # The outermost ring is one solid frame colour.
        ring = np.concatenate([edited[0], edited[-1], edited[:, 0], edited[:, -1]])
        assert (ring == ring[0]).all(), seed
        if (fw, fh) != (w, h):  # grown: the original, untouched, in the middle
            bx, by = (fw - w) // 2, (fh - h) // 2
            assert 0.05 * w - 1 <= bx <= 0.1 * w + 1 and 0.05 * h - 1 <= by <= 0.1 * h + 1
            assert np.array_equal(edited[by:by + h, bx:bx + w], original), seed
            kinds["grown"] += 1
        else:  # shrunk into the same size: the original, resized, inside a border of 5-10%
            found = []
            for bx in range(int(0.05 * w), int(0.1 * w) + 2):
                by = int(h * bx / w)
                for dy in (-1, 0, 1):
                    inner = Image.fromarray(original.astype(np.uint8)).resize(
                        (w - 2 * bx, h - 2 * (by + dy)), Image.Resampling.BILINEAR)
                    part = edited[by + dy:h - by - dy, bx:w - bx]
                    if part.shape[:2] == (inner.height, inner.width):
                        found.append(np.abs(part - np.asarray(inner, dtype=np.int16)).mean())
            assert min(found) < 0.5, seed
            kinds["shrunk"] += 1
    assert sum(kinds.values()) == len(SEEDS)


@pytest.mark.parametrize("variant", ("brightness", "saturation", "hue", "grayscale"))
def test_photometric_edits_stay_near_duplicates_by_phash(variant: str) -> None:
    for seed in list(SEEDS)[:4]:
        a = imagehash.phash(Image.open(io.BytesIO(render.render_photo(_spec(seed)))))
        b = imagehash.phash(Image.open(io.BytesIO(render.render_photo(_spec(seed, variant)))))
        assert a - b <= 12, (seed, variant, a - b)


def test_every_variant_is_reuploaded_at_the_default_seed() -> None:
    photos = [p for lst in Inventory(DEFAULT_MARKETPLACE).listings for p in lst.photos]
    counts = Counter(p.variant for p in photos)
    assert set(counts) == set(VARIANTS)
    reuploads = sum(n for v, n in counts.items() if v != "original")
    assert 0.04 <= reuploads / len(photos) <= 0.08  # the re-upload rate stays about 6%
    assert min(counts[v] for v in REUPLOAD_VARIANTS) >= 25


def test_colour_mix_follows_the_market() -> None:
    """About 45% of the cars are white, silver or grey, whatever the model."""
    cars = [p for lst in Inventory(DEFAULT_MARKETPLACE).listings for p in lst.photos
            if not p.junk and p.variant == "original"]
    paints = [render.body_colour(p) for p in cars]
    assert all(paints)
    groups = Counter((p.model, c.group) for p, c in zip(cars, paints, strict=True) if c is not None)
    share = sum(n for (_, g), n in groups.items() if g == "white-silver-grey") / len(cars)
    assert 0.41 <= share <= 0.49, share
    per_model = {m: groups[(m, "white-silver-grey")] / (groups[(m, "white-silver-grey")] + groups[(m, "other")])
                 for m in ("swift", "wagonr")}
    assert abs(per_model["swift"] - per_model["wagonr"]) < 0.05, per_model
    assert abs(sum(c.share for c in render.BODY_COLOURS) - 1) < 1e-9
    assert render.body_colour(replace(cars[0], junk="interior")) is None


def test_the_car_is_painted_in_its_body_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the answer key calls a photo's colour is the paint the renderer uses."""
    spec = _spec(44)
    plain = render.render_image(spec).tobytes()
    said = render.body_colour(spec)
    assert said is not None
    painted = {}
    for colour in render.BODY_COLOURS[:4]:
        monkeypatch.setattr(render, "_scene_colour", lambda _seed, c=colour: c)
        painted[colour.name] = render.render_image(spec).tobytes()
    assert len(set(painted.values())) == 4  # the paint shows
    if said.name in painted:
        assert painted[said.name] == plain
    monkeypatch.setattr(render, "_scene_colour", lambda _seed: said)
    assert render.render_image(spec).tobytes() == plain
