"""Local features (curation.local): ORB keypoints in a photo's own upright pixels, and candidate pairs where one photo
is a piece of another, found through shared descriptor keys that agree on where it sits."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from imagekit import jpeg_bytes, sample_photo, scene, write_jpeg
from PIL import Image, ImageOps

from benchmarks.dedup_external import crop
from benchmarks.dedup_external import original as bench_original
from carid.params import load_params
from curation import local
from curation.dedup import dedup_params, near_duplicate_clusters
from curation.hashing import fingerprint_file

ROOT = Path(__file__).resolve().parents[2]
PARAMS = dedup_params(load_params(ROOT / "params.yaml").curate)


def points(*imgs: Image.Image) -> list[local.Keypoints]:
    return [local.keypoints(jpeg_bytes(i, 92)) for i in imgs]


def near(xy: np.ndarray, ref: np.ndarray, within: float = 3.0) -> float:
    """The share of the points ``xy`` within ``within`` pixels of one of ``ref``."""
    return float(np.mean(np.linalg.norm(xy[:, None, :] - ref[None, :, :], axis=2).min(axis=1) <= within))


def sizes(*imgs: Image.Image) -> list[tuple[int, int]]:
    return [i.size for i in imgs]


def test_keypoints_sit_in_the_photo_s_own_pixels_so_a_crop_s_are_the_original_s_shifted() -> None:
    pytest.importorskip("skimage.data")
    img = sample_photo("astronaut", 600)
    piece = img.crop((90, 30, 540, 420))  # kept its pixels: everything moved by (-90, -30)
    whole, part = points(img, piece)
    assert 40 <= len(whole.xy) <= local.FEATURES and whole.descriptors.shape == (len(whole.xy), 32)
    assert 300 < whole.xy.max() <= 600
    # each keeps its strongest corners, which differ where the crop cut some away; of the crop's keypoints moved
    # back, many land within 3 pixels of one of the original's, and none would unmoved
    moved = part.xy + np.array([90, 30], dtype=np.float32)
    assert near(moved, whole.xy) >= 0.2 and near(part.xy, whole.xy) < 0.05


def test_a_large_photo_is_seen_halved_and_its_keypoints_still_sit_in_its_own_pixels() -> None:
    pytest.importorskip("skimage.data")
    img = sample_photo("astronaut", 512)
    big = img.resize((1024, 1024), Image.Resampling.LANCZOS)  # over SIDE: halved back to 512 by the decode
    assert local.SIDE < 1024
    small, large = points(img, big)
    assert 512 < large.xy.max() <= 1024
    assert near(large.xy / 2, small.xy) >= 0.5
    buf = io.BytesIO()
    big.save(buf, "PNG")  # not a JPEG: Pillow's decode, halved by OpenCV
    png = local.keypoints(buf.getvalue())
    assert near(png.xy, large.xy) >= 0.5


def test_an_upright_decode_puts_a_turned_photo_s_keypoints_where_it_is_shown() -> None:
    img = scene(2, (480, 360))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: shown after a quarter turn clockwise
    turned = local.keypoints(jpeg_bytes(img.transpose(Image.Transpose.ROTATE_90), 92, exif=exif.tobytes()))
    plain = local.keypoints(jpeg_bytes(img, 92))
    assert turned.xy[:, 0].max() > 360  # x runs along the shown photo's 480-pixel width
    assert near(turned.xy, plain.xy) >= 0.8


def test_an_off_centre_crop_is_proposed_and_a_piece_of_another_photo_is_not() -> None:
    """A crop of 20% off the left only, and one of 15% off the top and 10% off the right (outside every window the
    hash routes look at) are proposed with their original; a crop of another photo, of a size that could be a piece
    of it, is not."""
    pytest.importorskip("skimage.data")
    a, b = sample_photo("astronaut", 512), sample_photo("coffee", 512)
    imgs = [a, crop(a, 0.2, 0, 0, 0), crop(a, 0, 0.15, 0.1, 0), crop(b, 0.1, 0.1, 0.1, 0.1)]
    found = local.fitted_pairs(points(*imgs), sizes(*imgs), PARAMS.local_min_votes).tolist()
    assert [0, 1] in found and [0, 2] in found
    assert not any(3 in pair for pair in found)


def test_only_a_piece_that_keeps_most_of_each_side_is_proposed() -> None:
    """The left 45% of a photo is an exact piece of it but another photo to train on (half a car): not proposed,
    and neither is a photo of the same size (the hash routes compare those)."""
    pytest.importorskip("skimage.data")
    img = sample_photo("chelsea", 512)
    imgs = [img, crop(img, 0, 0, 0.55, 0), img.copy()]
    assert local.fitted_pairs(points(*imgs), sizes(*imgs), 1).tolist() == []
    assert not local.piece(img.size, imgs[1].size) and not local.piece(img.size, img.size)
    assert local.piece(img.size, crop(img, 0.2, 0.2, 0.2, 0.2).size)


def test_keypoints_many_gives_every_photo_in_order_and_nothing_for_an_unreadable_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = []
    for k in range(6):
        path = tmp_path / f"p{k}.jpg"
        path.write_bytes(jpeg_bytes(scene(10 + k)))
        paths.append(path)
    (tmp_path / "bad.jpg").write_bytes(b"not a photo")
    paths.insert(3, tmp_path / "bad.jpg")
    monkeypatch.setattr(local, "POOL_MIN_PHOTOS", 2)
    shapes = [(400, 300)] * len(paths)
    one, two = local.keypoints_many(paths, shapes, 1), local.keypoints_many(paths, shapes, 2)
    assert len(one) == len(paths) and one[3] == local.EMPTY
    for x, y in zip(one, two, strict=True):
        np.testing.assert_array_equal(x.descriptors, y.descriptors)
    assert all(len(k.xy) for i, k in enumerate(one) if i != 3)


@pytest.mark.parametrize("name,edit", [
    ("astronaut", lambda i: crop(i, 0.2, 0, 0, 0)),  # off-centre: no window of the hash routes holds it
    ("brick", lambda i: crop(i, 0.05, 0.05, 0.05, 0.05)),  # a texture: its 64-bit hashes are close to noise
    ("brick", lambda i: ImageOps.expand(i, border=51, fill=(20, 20, 20))),  # ... and a frame round it
])
def test_clustering_finds_what_only_local_features_propose(tmp_path: Path, name: str, edit: object) -> None:
    """With the route off (``local_min_votes`` 0) the copy stays apart; with it, registration confirms it."""
    pytest.importorskip("skimage.data")
    img = sample_photo(name, 512)
    paths = [write_jpeg(tmp_path, "original", img), write_jpeg(tmp_path, "copy", edit(img))]  # type: ignore[operator]
    prints = [fingerprint_file(p).fingerprint for p in paths]
    assert all(prints)
    assert near_duplicate_clusters(paths, prints, PARAMS).labels == [0, 0]  # type: ignore[arg-type]
    off = near_duplicate_clusters(paths, prints, replace(PARAMS, local_min_votes=0))  # type: ignore[arg-type]
    assert off.labels == [0, 1]


def test_a_photo_with_few_corners_needs_half_of_them_to_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmark's microaneurysms are 102 pixels wide with about 10 keypoints; a crop of 20% off the left and
    bottom and 5% off the others keeps 3, which cannot cast ``local_min_votes`` (6) however well they agree."""
    pytest.importorskip("skimage.data")
    img = bench_original("microaneurysms")
    imgs = [img, crop(img, 0.20, 0.05, 0.05, 0.20)]
    found = points(*imgs)
    assert len(found[1].xy) < PARAMS.local_min_votes
    assert local.fitted_pairs(found, sizes(*imgs), PARAMS.local_min_votes).tolist() == [[0, 1]]
    monkeypatch.setattr(local, "FEW_MIN", PARAMS.local_min_votes)
    assert local.fitted_pairs(found, sizes(*imgs), PARAMS.local_min_votes).tolist() == []


def test_only_a_photo_that_may_meet_its_original_at_half_its_scale_or_a_tiny_one_keeps_the_pyramid() -> None:
    assert not local.pyramids([(400, 300), (480, 320), (378, 290)]).any()  # the demo's: one scale for all
    assert local.pyramids([(400, 300), (102, 102)]).tolist() == [False, True]
    # a 640-pixel crop of a 1,000-pixel photo is seen at its own scale, the photo halved to 500: only the crop (and
    # a photo its size) needs the pyramid; a 300-pixel photo cannot be a piece of a halved one
    assert local.pyramids([(1000, 750), (640, 480), (300, 225)]).tolist() == [False, True, False]


@pytest.mark.parametrize("name,keep", [("retina", 0.7), ("hubble_deep_field", 0.62)])
def test_a_crop_halved_once_less_than_its_original_meets_it_through_its_pyramid(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, keep: float) -> None:
    """scikit-image's retina (1,411 pixels, halved twice to 353) and a crop of 70% of its sides (987, halved once to
    494); its deep field (1,000, halved to 500) and a crop of 62% (620, whole). At one level each the pairs share
    2-3 votes; with the crop's pyramid 7-79 (measured while choosing the rule)."""
    data = pytest.importorskip("skimage.data")
    img = Image.fromarray(getattr(data, name)()).convert("RGB")
    w, h = img.size
    part = img.crop((w - int(w * keep), h - int(h * keep), w, h))
    paths = [write_jpeg(tmp_path, "original", img), write_jpeg(tmp_path, "crop", part)]
    shapes = [img.size, part.size]
    assert local.pyramids(shapes).tolist() == [False, True]
    assert local.fitted_pairs(local.keypoints_many(paths, shapes), shapes, PARAMS.local_min_votes).tolist() == [[0, 1]]
    monkeypatch.setattr(local, "pyramids", lambda sizes: np.zeros(len(sizes), dtype=bool))
    monkeypatch.setattr(local, "FEW_CORNERS", 0)  # the retina is smooth: its few corners would bring the pyramid
    assert local.fitted_pairs(local.keypoints_many(paths, shapes), shapes, PARAMS.local_min_votes).tolist() == []


def test_a_smooth_photo_is_looked_at_with_the_pyramid_even_where_its_size_needs_none() -> None:
    smooth = scene(4, (400, 300))  # gradients and flat shapes: few corners at its own scale
    one = local.keypoints(jpeg_bytes(smooth, 92), 1)
    direct = local._orb(1).detectAndCompute(np.asarray(smooth.convert("L")), None)[0]
    assert len(direct) < local.FEW_CORNERS
    assert len(one.xy) > len(direct)  # the pyramid's coarser levels add corners
