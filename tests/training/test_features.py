"""The feature cache: pooled EfficientNet-Lite0 features computed once per photo, served by content afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from trainkit import cache_dir_at, project

from splitting.records import read_photos
from training.data import load_split
from training.efficientnet import FEATURES, pretrained
from training.features import cache_folder, embeddings

SIZE = 64


@pytest.fixture(scope="module")
def weights_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with cache_dir_at(tmp_path_factory.mktemp("cache")) as path:
        yield path


def test_features_are_the_backbones_and_come_from_the_cache_the_second_time(weights_cache: Path,
                                                                            tmp_path: Path) -> None:
    root, _ = project(tmp_path)
    photos = read_photos(root / "data/split/val.csv")
    cache = tmp_path / "features"
    first = embeddings(photos, root, SIZE, cache=cache)
    assert first.shape == (len(photos), FEATURES) and first.dtype == np.float32 and np.isfinite(first).all()
    assert first.std(axis=0).max() > 0  # different photos, different features
    x = load_split(root / "data/split/val.csv", root, SIZE, cache=tmp_path / "arrays").x
    direct = np.asarray(pretrained(SIZE, include_top=False).predict(x, verbose=0))
    np.testing.assert_allclose(first, direct, rtol=1e-4, atol=1e-4)
    for f in (root / "data/raw").rglob("*.jpg"):
        f.unlink()  # the cache alone must serve the second call
    again = embeddings(list(reversed(photos)), root, SIZE, cache=cache)
    np.testing.assert_array_equal(again, first[::-1])


def test_only_new_photos_are_computed_and_arrays_skip_decoding(weights_cache: Path, tmp_path: Path) -> None:
    root, _ = project(tmp_path)
    val = read_photos(root / "data/split/val.csv")
    test = read_photos(root / "data/split/test.csv")
    cache = tmp_path / "features"
    embeddings(val, root, SIZE, cache=cache)
    shards = set(cache_folder(SIZE, cache=cache).glob("*.npz"))
    x = load_split(root / "data/split/test.csv", root, SIZE, cache=tmp_path / "arrays").x
    for f in (root / "data/raw").rglob("*.jpg"):
        f.unlink()  # test photos come from ``arrays``, val photos from the cache
    both = embeddings([*val, *test], root, SIZE, cache=cache, arrays=np.concatenate(
        [np.zeros((len(val), SIZE, SIZE, 3), np.uint8), x]))
    new = set(cache_folder(SIZE, cache=cache).glob("*.npz")) - shards
    assert len(new) == 1 and both.shape == (len(val) + len(test), FEATURES)
    with np.load(new.pop()) as data:
        assert sorted(data["sha256"]) == sorted(p.sha256 for p in test)  # val was not computed again
    # the same content under another path is the same photo
    moved = [replace(p, path="elsewhere.jpg") for p in test]
    np.testing.assert_array_equal(embeddings(moved, root, SIZE, cache=cache), both[len(val):])


def test_another_size_is_another_cache_and_bad_sizes_are_refused(weights_cache: Path, tmp_path: Path) -> None:
    assert cache_folder(64, cache=tmp_path) != cache_folder(96, cache=tmp_path)
    with pytest.raises(ValueError, match="the embedding size is 50"):
        embeddings([], tmp_path, 50, cache=tmp_path)
    assert embeddings([], tmp_path, SIZE, cache=tmp_path).shape == (0, FEATURES)


def test_odd_photos_are_taken_as_training_takes_them(weights_cache: Path, tmp_path: Path) -> None:
    """A tiny grayscale photo, a palette PNG with transparency and a CMYK JPEG: decoded to RGB at the input size
    like every training photo; an unreadable file is one clear error naming it."""
    from PIL import Image

    from splitting.records import Photo
    from training.data import UnreadablePhoto

    rng = np.random.default_rng(3)
    files = {
        "tiny.png": Image.fromarray(rng.integers(0, 255, (9, 7), dtype=np.uint8), "L"),
        "palette.png": Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).convert("P"),
        "cmyk.jpg": Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).convert("CMYK"),
    }
    photos = []
    for i, (name, img) in enumerate(files.items()):
        if name == "palette.png":
            img.info["transparency"] = 0
        img.save(tmp_path / name)
        photos.append(Photo(f"{i:064x}", name, "swift", "s", "r", f"L{i}", f"c{i}"))
    feats = embeddings(photos, tmp_path, SIZE, cache=tmp_path / "features")
    assert feats.shape == (3, FEATURES) and np.isfinite(feats).all()
    assert len({row.tobytes() for row in feats}) == 3
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(UnreadablePhoto, match=r"broken\.jpg"):
        embeddings([Photo("f" * 64, "broken.jpg", "swift", "s", "r", "L9", "c9")], tmp_path, SIZE,
                   cache=tmp_path / "features")
