"""Registration (curation.register): a same-scale piece of a photo is placed by phase correlation and confirmed by
its pixels, where the 32x32 thumbnails cannot align fine detail; verification falls back to it only for pairs the
thumbnails refused whose sizes allow it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from imagekit import jpeg_bytes, sample_photo, write_jpeg
from PIL import Image, ImageFilter, ImageOps

from carid.params import load_params
from curation import dedup, register
from curation.dedup import (
    FULL,
    Match,
    confirmed,
    dedup_params,
    keep_ranks,
    near_duplicate_clusters,
)
from curation.hashing import fingerprint_file

ROOT = Path(__file__).resolve().parents[2]
PARAMS = dedup_params(load_params(ROOT / "params.yaml").curate)


def texture(seed: int, size: tuple[int, int] = (400, 300)) -> np.ndarray:
    """Fine random detail (gravel-like): close to noise at 32x32, so only an exact alignment correlates."""
    rng = np.random.default_rng(seed)
    img = Image.fromarray(rng.integers(0, 256, (size[1], size[0]), dtype=np.uint8)).filter(ImageFilter.BoxBlur(1))
    return np.asarray(img, dtype=np.float32)


def test_fits_takes_a_smaller_photo_that_could_be_a_piece_of_the_larger() -> None:
    assert register.fits((400, 300), (280, 210))  # a crop of 15% a side: 0.49 of the area
    assert register.fits((480, 360), (400, 300))  # a frame of 10% a side round a 400x300 photo: 0.69
    assert not register.fits((400, 300), (400, 300))  # one size: the thumbnails compared it at no shift
    assert not register.fits((400, 300), (396, 298))  # about one size (0.98 of the area)
    assert not register.fits((400, 300), (150, 120))  # a small piece (0.15): a close-up, not a crop
    assert not register.fits((400, 300), (300, 310))  # taller than the larger: not inside it either way
    assert register.scale_for((800, 600)) == 1.0
    assert register.scale_for((4096, 3072)) == pytest.approx(register.SIDE / 4096)


def test_an_exact_piece_is_placed_where_it_was_cut_and_correlates_near_one() -> None:
    big = texture(1)
    for x, y, w, h in ((37, 21, 300, 220), (0, 0, 256, 200), (100, 80, 300, 220)):
        found = register.register(big, big[y:y + h, x:x + w] + np.float32(9.0))  # brighter: no matter
        assert found.ncc > 0.999
        assert found.window == pytest.approx((x / 400, y / 300, (400 - x - w) / 400, (300 - y - h) / 300))


def test_a_piece_of_another_photo_or_a_flat_one_does_not_register() -> None:
    assert register.register(texture(1), texture(2)[20:240, 30:330]).ncc < 0.2
    assert register.register(texture(1), np.full((200, 300), 128, dtype=np.float32)) == register.NONE
    assert register.register(texture(1)[:100, :100], texture(1)) == register.NONE  # the larger one must hold it


def test_decode_scaled_turns_the_photo_upright_at_the_size_asked_for() -> None:
    img = Image.fromarray(texture(3).astype(np.uint8)).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: shown after a quarter turn clockwise
    data = jpeg_bytes(img.transpose(Image.Transpose.ROTATE_90), exif=exif.tobytes())
    upright = register.decode_scaled(data, (400, 300))
    assert upright.shape == (300, 400)
    plain = register.decode_scaled(jpeg_bytes(img), (400, 300))
    assert np.corrcoef(upright.ravel(), plain.ravel())[0, 1] > 0.95
    assert register.decode_scaled(jpeg_bytes(img), (200, 150)).shape == (150, 200)


@pytest.mark.parametrize("kept", [dedup.REGISTER_KEPT, 1])
def test_a_texture_s_uneven_crop_and_frame_are_confirmed_by_registration_and_the_original_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: int) -> None:
    """scikit-image's gravel: its uneven crop and its frame are candidates whose thumbnails correlate at 0.5-0.9
    (a pixel of misalignment at 32x32), so only registration confirms them; without it (an unreachable limit) they
    stay apart. The crop and the frame each lose a field-of-view point to the original, which is kept. The same
    with a job keeping one registration decode at a time (``kept`` 1: each is decoded again when needed)."""
    pytest.importorskip("skimage.data")
    monkeypatch.setattr(dedup, "REGISTER_KEPT", kept)
    img = sample_photo("gravel", 512)
    w, h = img.size
    crop = img.crop((round(0.11 * w), round(0.17 * h), round(w - 0.19 * w), round(h - 0.13 * h)))
    framed = ImageOps.expand(img, border=51, fill=(250, 250, 250))
    paths = [write_jpeg(tmp_path, n, i) for n, i in (("original", img), ("crop", crop), ("frame", framed))]
    prints = [fingerprint_file(p).fingerprint for p in paths]
    assert all(prints)
    found = near_duplicate_clusters(paths, prints, PARAMS)  # type: ignore[arg-type]
    assert found.labels[0] == found.labels[1] == found.labels[2]
    assert any(m.registered for _, _, m in found.confirmed)
    ranks = keep_ranks(found, paths)
    assert max(ranks, key=ranks.__getitem__) == 0
    without = near_duplicate_clusters(paths, prints, replace(PARAMS, verify_register_ncc_min=1.0))  # type: ignore[arg-type]
    assert len(set(without.labels)) > 1


def test_a_registered_match_confirms_on_its_correlation_alone() -> None:
    m = Match(0.985, 120, (0.1, 0.1, 0.1, 0.1), FULL, full_ncc=0.3, registered=True)
    assert confirmed(m, PARAMS)
    assert not confirmed(replace(m, ncc=PARAMS.verify_register_ncc_min - 0.01), PARAMS)
    assert not confirmed(replace(m, registered=False, ncc=0.5), PARAMS)


def test_a_texture_s_upscale_is_confirmed_by_comparing_it_shrunk_to_the_original_s_size(tmp_path: Path) -> None:
    """scikit-image's brick and its 150% upscale: both shrunk to 32x32 from two resolutions, a texture is two
    different noises (refused); compared at the original's size, the pixels correlate at about 0.995."""
    pytest.importorskip("skimage.data")
    img = sample_photo("brick", 512)
    up = img.resize((img.width * 3 // 2, img.height * 3 // 2), Image.Resampling.BICUBIC)
    paths = [write_jpeg(tmp_path, "original", img), write_jpeg(tmp_path, "upscale", up)]
    prints = [fingerprint_file(p).fingerprint for p in paths]
    assert register.resized((up.width, up.height), (img.width, img.height))
    found = near_duplicate_clusters(paths, prints, PARAMS)  # type: ignore[arg-type]
    assert found.labels == [0, 0] and found.confirmed[0][2].registered
    assert found.confirmed[0][2].window_a == found.confirmed[0][2].window_b == FULL  # no piece: the keep rule's
    # upscale test decides, not a field-of-view point
    without = near_duplicate_clusters(paths, prints, replace(PARAMS, verify_register_ncc_min=1.0))  # type: ignore[arg-type]
    assert without.labels == [0, 1]


def test_resized_takes_one_aspect_ratio_at_another_size() -> None:
    assert register.resized((600, 450), (400, 300))
    assert register.resized((802, 600), (400, 300))  # 0.25% wider: within ASPECT_TOLERANCE
    assert not register.resized((400, 300), (400, 300))
    assert not register.resized((600, 400), (400, 300))  # 3:2 against 4:3
    np.testing.assert_allclose(register.compare(texture(4), texture(4)).ncc, 1.0, atol=1e-5)
    assert register.compare(texture(4), texture(4)[:, :200]) == register.NONE
