"""Per-image fingerprints: sha256 of the bytes, pHash / dHash, size, and the measurements quality checks use.

Fast path: each file is read once (sha256 of the raw bytes), and JPEGs are decoded at reduced scale with Pillow's
draft mode (libjpeg scales 1/2, 1/4, 1/8 inside the IDCT), so a 400x300 photo is decoded straight to 200x150.
Everything else is measured on one small "work" image, at most ``WORK_SIDE`` pixels on its long side, so the
numbers do not depend on the photo's resolution. Hashes come from ``imagehash`` (pHash, dHash; 8x8 -> 64 bits).
The brightness / contrast / Laplacian sharpness / colour-spread statistics are a few numpy lines, written by hand
because the libraries that offer them (OpenCV, cleanvision) are heavy dependencies for four means and variances.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image
from tqdm import tqdm

log = logging.getLogger(__name__)

WORK_SIDE = 128  # long side, in pixels, of the image every measurement is taken on


@dataclass(frozen=True)
class Fingerprint:
    sha256: str  # hex digest of the file's bytes
    phash: int  # 64-bit perceptual hash
    dhash: int  # 64-bit difference hash
    width: int  # of the stored image, not of the reduced decode
    height: int
    brightness: float  # mean luma, 0-255
    contrast: float  # standard deviation of luma
    sharpness: float  # variance of the 4-neighbour Laplacian of the luma at WORK_SIDE
    colour_spread: float  # 99th percentile over pixels of max(R, G, B) - min(R, G, B): 0 for a monochrome photo


@dataclass(frozen=True)
class HashResult:
    """Either a fingerprint, or why the file could not be read (never both)."""

    fingerprint: Fingerprint | None = None
    error: str = ""


def _hash_int(h: imagehash.ImageHash) -> int:
    return int(str(h), 16)


def _work_image(img: Image.Image) -> Image.Image:
    """The decoded image as RGB, at most WORK_SIDE on its long side (JPEG: decoded at reduced scale)."""
    w, h = img.size
    long_side = max(w, h)
    if long_side > WORK_SIDE:
        # ask for a decode no smaller than the work size: draft picks the largest 1/2^k scale above it
        img.draft("RGB", (max(1, w * WORK_SIDE // long_side), max(1, h * WORK_SIDE // long_side)))
    rgb = img.convert("RGB")
    rw, rh = rgb.size
    if max(rw, rh) > WORK_SIDE:
        scale = WORK_SIDE / max(rw, rh)
        rgb = rgb.resize((max(1, round(rw * scale)), max(1, round(rh * scale))), Image.Resampling.BOX)
    return rgb


def laplacian_variance(gray: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian (the usual focus measure); 0 for images under 3x3."""
    if gray.shape[0] < 3 or gray.shape[1] < 3:
        return 0.0
    g = gray.astype(np.float32)
    lap = g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4.0 * g[1:-1, 1:-1]
    return float(lap.var())


def fingerprint_bytes(data: bytes) -> Fingerprint:
    """Fingerprint an encoded image; raises whatever Pillow raises for a bad one."""
    with Image.open(io.BytesIO(data)) as img:
        width, height = img.size
        work = _work_image(img)
    gray = work.convert("L")
    luma = np.asarray(gray)
    rgb = np.asarray(work.reduce(2), dtype=np.int16)  # a percentile: a quarter of the pixels will do
    spread = (rgb.max(axis=2) - rgb.min(axis=2)).ravel()
    k = int(0.99 * (len(spread) - 1))
    return Fingerprint(
        sha256=hashlib.sha256(data).hexdigest(),
        phash=_hash_int(imagehash.phash(gray)),
        dhash=_hash_int(imagehash.dhash(gray)),
        width=width,
        height=height,
        brightness=float(luma.mean()),
        contrast=float(luma.std()),
        sharpness=laplacian_variance(luma),
        colour_spread=float(np.partition(spread, k)[k]),
    )


def fingerprint_file(path: Path) -> HashResult:
    """Fingerprint one file; an unreadable, truncated or non-image file gives an error result, never an exception."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        return HashResult(error=f"cannot read {path}: {e.strerror or e}")
    try:
        return HashResult(fingerprint_bytes(data))
    except Exception as e:  # any decoder failure (OSError, SyntaxError, ValueError, DecompressionBomb ...)
        return HashResult(error=f"cannot decode {path}: {type(e).__name__}: {e}")


def _chunksize(n: int, workers: int) -> int:
    return max(1, min(64, n // (workers * 8)))


def _results(paths: list[Path], workers: int) -> Iterator[HashResult]:
    if workers <= 1 or len(paths) < 2 * workers:
        yield from map(fingerprint_file, paths)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(fingerprint_file, paths, chunksize=_chunksize(len(paths), workers))


def fingerprint_many(paths: list[Path], workers: int = 2, progress: bool = False) -> list[HashResult]:
    """Fingerprint every path over ``workers`` processes; results in the order of ``paths``."""
    results: Iterable[HashResult] = _results(paths, workers)
    if progress:
        results = tqdm(results, total=len(paths), desc="fingerprint", unit="photo")
    out = list(results)
    failed = sum(1 for r in out if r.fingerprint is None)
    if failed:
        log.info("fingerprinted %d files, %d unreadable", len(out), failed)
    return out
