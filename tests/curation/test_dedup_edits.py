"""Near duplicates after photometric edits, crops and frames, on real photographs (scikit-image's CC0 / public
domain samples), against look-alike non-duplicates; and which copy a cluster keeps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from imagekit import sample_photo
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from carid.params import load_params
from curation.dedup import dedup_params, keep_ranks, near_duplicate_clusters
from curation.hashing import fingerprint_many
from curation.verdicts import Measured, keepers

skdata = pytest.importorskip("skimage.data")
ROOT = Path(__file__).resolve().parents[2]


def photo(name: str) -> Image.Image:
    return sample_photo(name, 384)


def crop(img: Image.Image, c: float) -> Image.Image:
    w, h = img.size
    return img.crop((round(c * w), round(c * h), round(w - c * w), round(h - c * h)))


EDITS = {
    "brightness+30": lambda i: ImageEnhance.Brightness(i).enhance(1.3),
    "brightness-30": lambda i: ImageEnhance.Brightness(i).enhance(0.7),
    "contrast-30": lambda i: ImageEnhance.Contrast(i).enhance(0.7),
    "grayscale": lambda i: i.convert("L").convert("RGB"),
    "crop10": lambda i: crop(i, 0.10),
    "crop20": lambda i: crop(i, 0.20),
    "frame10": lambda i: ImageOps.expand(i, border=38, fill=(255, 255, 255)),
    "blur": lambda i: i.filter(ImageFilter.GaussianBlur(2)),
}


def clusters_of(paths: list[Path]) -> list[int]:
    fps = [r.fingerprint for r in fingerprint_many(paths, workers=1)]
    assert all(fps)
    params = dedup_params(load_params(ROOT / "params.yaml").curate)
    return near_duplicate_clusters(paths, [f for f in fps if f], params).labels


def test_edited_copies_join_their_original_and_look_alikes_stay_apart(tmp_path: Path) -> None:
    paths: list[Path] = []
    for name in ("astronaut", "coffee"):
        img = photo(name)
        img.save(tmp_path / f"{name}.jpg", quality=92)
        paths.append(tmp_path / f"{name}.jpg")
        for edit, fn in EDITS.items():
            fn(img).save(tmp_path / f"{name}-{edit}.jpg", quality=90)
            paths.append(tmp_path / f"{name}-{edit}.jpg")
        # look-alikes: the two halves of the same photo share its colours and textures but not its content
        w, h = img.size
        img.crop((0, 0, w // 2, h)).save(tmp_path / f"{name}-left.jpg", quality=92)
        img.crop((w // 2, 0, w, h)).save(tmp_path / f"{name}-right.jpg", quality=92)
        paths += [tmp_path / f"{name}-left.jpg", tmp_path / f"{name}-right.jpg"]
    labels = clusters_of(paths)
    per = len(EDITS) + 3
    for k in range(2):
        group = labels[k * per: k * per + len(EDITS) + 1]
        names = [p.name for p in paths[k * per: k * per + len(EDITS) + 1]]
        assert len(set(group)) == 1, dict(zip(names, group, strict=True))
        left, right = labels[k * per + len(EDITS) + 1], labels[k * per + len(EDITS) + 2]
        assert left != right and left != group[0] and right != group[0]
    assert labels[0] != labels[per]  # two different photos never merge


def test_a_cluster_keeps_its_untouched_original(tmp_path: Path) -> None:
    img = photo("chelsea")
    paths = [tmp_path / "original.jpg"]
    img.save(paths[0], quality=92)
    edits = {**EDITS, "upscale": lambda i: i.resize((i.width * 3 // 2, i.height * 3 // 2), Image.Resampling.BICUBIC),
             "noise": lambda i: Image.fromarray((np.asarray(i, dtype=np.float32) + np.random.default_rng(0).normal(
                 0, 12, (i.height, i.width, 3))).clip(0, 255).astype(np.uint8))}
    for edit, fn in edits.items():
        fn(img).save(tmp_path / f"{edit}.jpg", quality=90)
        paths.append(tmp_path / f"{edit}.jpg")
    fps = [r.fingerprint for r in fingerprint_many(paths, workers=1)]
    params = dedup_params(load_params(ROOT / "params.yaml").curate)
    found = near_duplicate_clusters(paths, [f for f in fps if f], params)
    ranks = keep_ranks(found, paths)
    measured = {p.name: Measured("", f.width * f.height, f.sharpness, (), found.labels[i], ranks.get(i, 0.0))
                for i, (p, f) in enumerate(zip(paths, fps, strict=True)) if f}
    keep = keepers(measured, [p.name for p in paths])
    assert keep[found.labels[0]] == "original.jpg"
