"""A hue-turned copy is confirmed through the value planes (max of R, G, B) where luma alone does not settle it, on
real photographs (scikit-image's samples), and look-alike halves of a photo still stay apart."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from imagekit import jpeg_evidence, sample_photo
from PIL import Image

from carid.params import load_params
from curation.dedup import (
    Evidence,
    candidate_pairs,
    confirmed,
    dedup_params,
    image_hashes,
    match,
    near_duplicate_clusters,
    value_hash,
)
from curation.hashing import fingerprint_bytes
from marketplace.render import render_image
from marketplace.specs import PhotoSpec

skdata = pytest.importorskip("skimage.data")
ROOT = Path(__file__).resolve().parents[2]
PARAMS = dedup_params(load_params(ROOT / "params.yaml").curate)


def evidence(img: Image.Image) -> Evidence:
    return jpeg_evidence(img, 90)


def photo(name: str) -> Image.Image:
    return sample_photo(name, 400)


def hue_turned(img: Image.Image, degrees: float) -> Image.Image:
    """Every hue turned, saturation and value kept (the demo marketplace's hue re-upload does the same)."""
    hsv = np.asarray(img.convert("HSV")).copy()
    hsv[..., 0] = (hsv[..., 0].astype(np.int16) + round(degrees / 360 * 256)) % 256
    return Image.fromarray(hsv, "HSV").convert("RGB")


@pytest.mark.parametrize("name", ["coffee", "retina"])
def test_a_hue_turned_copy_is_confirmed_by_its_value_plane(name: str) -> None:
    img = photo(name)
    original = evidence(img)
    luma_alone = []
    for degrees in (40, 90, 150):
        m = match(original, evidence(hue_turned(img, degrees)))
        assert confirmed(m, PARAMS), (degrees, m)
        luma_alone.append(m.ncc >= PARAMS.verify_ncc_min and m.phash256 <= PARAMS.verify_phash256_max)
    assert not all(luma_alone)  # these photos need the value planes: luma's pHash moves too far


def test_grayscale_copies_still_match_and_halves_stay_apart() -> None:
    for name in ("coffee", "retina", "astronaut"):
        img = photo(name)
        assert confirmed(match(evidence(img), evidence(img.convert("L").convert("RGB"))), PARAMS), name
        w, h = img.size
        left, right = img.crop((0, 0, w // 2, h)), img.crop((w - w // 2, 0, w, h))
        assert not confirmed(match(evidence(left), evidence(right)), PARAMS), name
        assert not confirmed(match(evidence(left), evidence(hue_turned(right, 90))), PARAMS), name


def test_the_value_hash_is_the_whole_value_planes_hash() -> None:
    rgb = np.asarray(photo("coffee").resize((128, 85)))
    value = np.maximum(np.maximum(rgb[..., 0], rgb[..., 1]), rgb[..., 2])
    assert value_hash(rgb) == image_hashes(value)[0]
    assert value_hash(rgb) != image_hashes(np.asarray(photo("coffee").resize((128, 85)).convert("L")))[0]


@pytest.mark.parametrize("scene", [20, 26, 28])
def test_a_recoloured_copy_whose_luma_hashes_moved_meets_its_original_through_the_value_hash(
        scene: int, tmp_path: Path) -> None:
    """The demo's hue re-upload of a drawn car: on flat paint the turn moves luma, and with it every luma hash
    beyond the candidate limits; the value plane (max of R, G, B) is what a hue turn keeps."""
    paths, prints = [], []
    for suffix, variant in (("", "original"), ("-hue", "hue")):
        spec = PhotoSpec(f"p{scene}{suffix}", "swift", "", scene, f"g{scene}", variant, "main", 0.3)
        out = io.BytesIO()
        render_image(spec).save(out, "JPEG", quality=90)
        paths.append(tmp_path / f"{spec.photo_id}.jpg")
        paths[-1].write_bytes(out.getvalue())
        prints.append(fingerprint_bytes(out.getvalue()))
    full, windows = [(f.phash, f.dhash) for f in prints], [f.windows for f in prints]
    off_centre = [f.off_centre for f in prints]
    assert len(candidate_pairs(full, windows, PARAMS, off_centre=off_centre)) == 0
    with_value = candidate_pairs(full, windows, PARAMS, off_centre=off_centre, value=[f.value_hash for f in prints])
    assert with_value.tolist() == [[0, 1]]
    assert near_duplicate_clusters(paths, prints, PARAMS).labels == [0, 0]
