"""Which copy a near-duplicate cluster keeps: the untouched original, not its upscale, blurred, noisy, cropped,
framed or watermarked re-uploads (real photographs: scikit-image's CC0 / public-domain samples)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from imagekit import sample_photo
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from benchmarks.dedup_external import watermark  # the benchmark's own edit
from carid.params import load_params
from curation.dedup import _ring_is_flat, dedup_params, keep_ranks, keep_view, near_duplicate_clusters
from curation.hashing import fingerprint_many
from curation.verdicts import Measured, keepers

skdata = pytest.importorskip("skimage.data")
ROOT = Path(__file__).resolve().parents[2]
Edit = Callable[[Image.Image], Image.Image]


def photo(name: str) -> Image.Image:
    return sample_photo(name, 400)


def noisy(img: Image.Image) -> Image.Image:
    rng = np.random.default_rng(0)
    arr = np.asarray(img, dtype=np.float32) + rng.normal(0, 12, (img.height, img.width, 3))
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8))


def crop(img: Image.Image, c: float) -> Image.Image:
    w, h = img.size
    return img.crop((round(c * w), round(c * h), round(w - c * w), round(h - c * h)))


EDITS: dict[str, Edit] = {
    "upscale": lambda i: i.resize((i.width * 3 // 2, i.height * 3 // 2), Image.Resampling.BICUBIC),
    "blur": lambda i: i.filter(ImageFilter.GaussianBlur(2)),
    "noise": noisy,
    "crop10": lambda i: crop(i, 0.10),
    "watermark": watermark,
    "brighter": lambda i: ImageEnhance.Brightness(i).enhance(1.3),
    "frame": lambda i: ImageOps.expand(i, border=40, fill=(255, 255, 255)),
}


def kept(tmp_path: Path, name: str | Image.Image, edits: dict[str, Edit]) -> tuple[str, set[int]]:
    """The file name a cluster holding the original keeps, and the set of cluster labels of all the files."""
    img = photo(name) if isinstance(name, str) else name
    paths = [tmp_path / "original.jpg"]
    img.save(paths[0], quality=92)
    for edit, fn in edits.items():
        fn(img).convert("RGB").save(tmp_path / f"{edit}.jpg", quality=90)
        paths.append(tmp_path / f"{edit}.jpg")
    fps = [r.fingerprint for r in fingerprint_many(paths, workers=1)]
    assert all(fps)
    params = dedup_params(load_params(ROOT / "params.yaml").curate)
    found = near_duplicate_clusters(paths, [f for f in fps if f], params)
    ranks = keep_ranks(found, paths)
    measured = {p.name: Measured("", f.width * f.height, f.sharpness, (), found.labels[i], ranks.get(i, 0.0))
                for i, (p, f) in enumerate(zip(paths, fps, strict=True)) if f}
    return keepers(measured, [p.name for p in paths])[found.labels[0]], set(found.labels)


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_a_cluster_of_processed_copies_keeps_the_original(tmp_path: Path, name: str) -> None:
    keep, labels = kept(tmp_path, name, EDITS)
    assert len(labels) == 1  # every copy joined the original's cluster
    assert keep == "original.jpg"


@pytest.mark.parametrize("edit", ["upscale", "crop10", "frame"])
def test_a_pair_keeps_the_original_over_its_upscale_crop_or_frame(tmp_path: Path, edit: str) -> None:
    keep, labels = kept(tmp_path, "chelsea", {edit: EDITS[edit]})
    assert len(labels) == 1
    assert keep == "original.jpg"


def dealer_frame(img: Image.Image) -> Image.Image:
    """A dealer's frame: a red border with a dark outline round its outer edge and the dealer's name in it."""
    h = img.height
    out = ImageOps.expand(img, border=16, fill=(200, 20, 30))
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, 0, out.width - 1, out.height - 1), outline=(90, 10, 15), width=1)
    draw.text((out.width // 2 - 40, h + 18), "AutoHub Delhi", fill=(255, 255, 255))
    return out


def test_a_dealer_frame_loses_to_the_photo_it_holds_even_beside_a_flat_wall(tmp_path: Path) -> None:
    # the photo's top third is a flat wall, so the frame's one-colour lines seem to run on into it and the frame's
    # depth is misread; each side of the ring must then tell the frame (a flat band unlike the picture's edge)
    img = photo("chelsea")
    arr = np.asarray(img).copy()
    arr[: img.height // 3] = (200, 190, 150)
    wall = Image.fromarray(arr)
    keep, labels = kept(tmp_path, wall, {"dealer-frame": dealer_frame})
    assert len(labels) == 1
    assert keep == "original.jpg"


@pytest.mark.parametrize("name", ["hubble_deep_field", "retina"])
def test_a_flat_dark_surround_round_a_crop_window_is_no_frame(tmp_path: Path, name: str) -> None:
    # a telescope's black sky or a retina's dark surround is as flat as a frame round a 5-10% crop window, but it
    # goes on inside the window, so the photo holding the crop is not taken for a framed copy
    photo(name).save(tmp_path / "photo.jpg", quality=92)
    view = keep_view(tmp_path / "photo.jpg")
    assert view is not None
    for c in (0.05, 0.10):
        assert not _ring_is_flat(view, (c, c, c, c)), c
