"""Fingerprints: sha256 of the bytes, hashes robust to re-encoding / resizing / cropping / watermarks."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from imagekit import scene
from PIL import Image, ImageDraw

from curation.hashing import Fingerprint, HashResult, fingerprint_file, fingerprint_many

PHASH_MAX, DHASH_MAX = 10, 12


def save(img: Image.Image, path: Path, quality: int = 90) -> Path:
    img.save(path, "JPEG", quality=quality)
    return path


def fp(path: Path) -> Fingerprint:
    result = fingerprint_file(path)
    assert result.fingerprint is not None, result.error
    return result.fingerprint


def near(a: Fingerprint, b: Fingerprint) -> bool:
    return (a.phash ^ b.phash).bit_count() <= PHASH_MAX and (a.dhash ^ b.dhash).bit_count() <= DHASH_MAX


def copies(img: Image.Image) -> dict[str, Image.Image]:
    w, h = img.size
    marked = img.copy()
    ImageDraw.Draw(marked).text((w - 110, h - 20), "cars4u.example", fill=(255, 255, 255))
    dx, dy = int(w * 0.05), int(h * 0.05)
    return {"resize70": img.resize((int(w * 0.7), int(h * 0.7)), Image.Resampling.BILINEAR),
            "crop5": img.crop((dx // 2, dy // 2, w - dx // 2, h - dy // 2)), "watermark": marked}


def test_fingerprint_fields_and_sha256(tmp_path: Path) -> None:
    path = save(scene(1), tmp_path / "a.jpg")
    f = fp(path)
    assert f.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (f.width, f.height) == (400, 300)
    assert 0 <= f.phash < 2**64 and 0 <= f.dhash < 2**64
    assert 0 < f.brightness < 255 and f.contrast > 0 and f.sharpness > 0 and f.colour_spread > 0


def test_copies_are_near_and_other_scenes_are_not(tmp_path: Path) -> None:
    for seed in range(5):
        original = scene(seed)
        f0 = fp(save(original, tmp_path / f"{seed}.jpg"))
        assert near(f0, fp(save(original, tmp_path / f"{seed}-q60.jpg", quality=60))), "re-encoded"
        for name, copy in copies(original).items():
            assert near(f0, fp(save(copy, tmp_path / f"{seed}-{name}.jpg"))), name
    others = [fp(save(scene(100 + i), tmp_path / f"other-{i}.jpg")) for i in range(12)]
    assert not any(near(a, b) for i, a in enumerate(others) for b in others[i + 1:])


def test_png_and_grayscale_and_tiny_images(tmp_path: Path) -> None:
    img = scene(3)
    img.save(tmp_path / "a.png")
    img.convert("L").save(tmp_path / "g.jpg")
    Image.new("RGB", (2, 1), (10, 200, 30)).save(tmp_path / "tiny.png")
    assert near(fp(tmp_path / "a.png"), fp(save(img, tmp_path / "a.jpg")))
    assert fp(tmp_path / "g.jpg").colour_spread == 0
    assert fp(tmp_path / "tiny.png").sharpness == 0


def test_bad_files_give_errors_not_exceptions(tmp_path: Path) -> None:
    good = save(scene(4), tmp_path / "good.jpg")
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    (tmp_path / "text.jpg").write_text("<html>not found</html>")
    (tmp_path / "empty.jpg").write_bytes(b"")
    for name in ("truncated.jpg", "text.jpg", "empty.jpg", "missing.jpg"):
        result = fingerprint_file(tmp_path / name)
        assert result.fingerprint is None and name in result.error


@pytest.mark.parametrize("workers", [1, 2])
def test_fingerprint_many_keeps_order(tmp_path: Path, workers: int) -> None:
    paths = [save(scene(i, (160, 120)), tmp_path / f"{i}.jpg") for i in range(8)]
    paths.insert(3, tmp_path / "missing.jpg")
    results = fingerprint_many(paths, workers=workers, progress=workers == 2)
    assert [r.fingerprint.sha256 if r.fingerprint else None for r in results] == [
        hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None for p in paths]
    assert results[3] == HashResult(error=results[3].error) and results[3].error


def test_reduced_decode_matches_full_decode_roughly(tmp_path: Path) -> None:
    """Draft-mode JPEG decoding changes pixels a little, never the hashes by much."""
    buf = io.BytesIO()
    img = scene(5, (1600, 1200))
    img.save(buf, "PNG")
    small = fp(save(img.resize((400, 300), Image.Resampling.LANCZOS), tmp_path / "small.jpg"))
    (tmp_path / "big.png").write_bytes(buf.getvalue())
    assert near(small, fp(save(img, tmp_path / "big.jpg")))
    assert near(small, fp(tmp_path / "big.png"))
