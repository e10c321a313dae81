"""Per-image fingerprints: sha256 of the bytes, pHash / dHash, size, and the measurements quality checks use.

Fast path: each file is read once (sha256 of the raw bytes), and JPEGs are decoded at reduced scale with Pillow's
draft mode (libjpeg scales 1/2, 1/4, 1/8 inside the IDCT), so a 400x300 photo is decoded straight to 200x150.
Every decode goes through :func:`carid.images.to_rgb`: EXIF orientation applied, transparency composited on white,
CMYK / 16-bit / palette / LA converted; HEIC and AVIF read through :mod:`carid.images`' registered plugins.
Hashes and colour statistics are measured on one small "work" image, at most ``WORK_SIDE`` pixels on its long side;
focus and flat share (:mod:`curation.focus`) on the luma at native resolution, since a blur shrinks with the photo.
Hashes are imagehash's pHash and dHash (64 bits) of the work image and of its windows, bit for bit, all from one
batch of matrix products (:func:`curation.dedup.image_hashes`).
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

import numpy as np
from PIL import Image
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from carid.images import to_rgb
from curation.dedup import image_hashes, off_centre_hashes, value_hash
from curation.focus import MAX_SIDE, edge_stats
from curation.pool import one_blas_thread
from curation.suspicion import layout_of

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
    windows: tuple[tuple[int, int], ...] = ()  # (pHash, dHash) of central windows (curation.dedup.WINDOWS), then
    # of the picture inside a frame when there is one
    off_centre: tuple[tuple[int, int], ...] = ()  # (pHash, dHash) of curation.dedup.OFF_CENTRE's uneven windows
    focus: float = 1.0  # 0-1, higher is sharper, at native resolution: curation.focus (the blurry check)
    flat_share: float = 0.0  # 0-1, share of exactly equal neighbours at native resolution (the graphic check)
    layout: tuple[float, ...] = ()  # 12x9x3 mean colours, 0-1, of the upright photo: the review's layout order
    value_hash: tuple[int, int] | None = None  # (pHash, dHash) of the value plane (max of R, G, B): hue turns keep it
    impulse_share: float = 0.0  # 0-1, share of salt-and-pepper pixels at native resolution (curation.focus)


@dataclass(frozen=True)
class HashResult:
    """Either a fingerprint, or why the file could not be read (never both)."""

    fingerprint: Fingerprint | None = None
    error: str = ""  # "<kind>: <path> ..." where kind is empty, not-an-image, truncated, undecodable or unreadable
    warning: str = ""  # what was wrong with a readable file but did not stop it being used (a corrupt EXIF block)


def _draft_size(width: int, height: int, side: int) -> tuple[int, int]:
    """The size to ask ``draft`` for so that the decode's long side is at least ``side`` (or the whole photo)."""
    long_side = max(width, height)
    if long_side <= side:
        return width, height
    return max(1, width * side // long_side), max(1, height * side // long_side)


def _shrink(img: Image.Image, side: int) -> Image.Image:
    w, h = img.size
    if max(w, h) <= side:
        return img
    scale = side / max(w, h)
    return img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX)


@dataclass(frozen=True)
class Decoded:
    width: int  # of the stored image, upright (EXIF orientation applied)
    height: int
    work: Image.Image  # RGB, upright, transparency on white, at most WORK_SIDE on its long side
    luma: np.ndarray  # uint8 grey at native resolution, at most focus.MAX_SIDE on its long side; not turned upright
    problems: tuple[str, ...]  # what was wrong but did not stop the decode (a corrupt EXIF block)


def decode(data: bytes) -> Decoded:
    """Decode an encoded image once for every measurement; raises whatever Pillow raises for a bad one.

    JPEG (the common case) is decoded twice, each time by libjpeg at the scale it is needed at: the luma alone at
    full scale for the focus (no colour conversion) and RGB at 1/2-1/8 scale for the work image; together that costs
    less than one full RGB decode. Other formats are decoded once. The work image goes through
    :func:`carid.images.to_rgb` (EXIF orientation, alpha on white, CMYK, 16-bit, palette, LA); the luma is not turned
    upright, since focus and flat share are the same for a turned or mirrored photo.
    """
    problems: list[str] = []
    with Image.open(io.BytesIO(data)) as img:
        stored = img.size
        fast = img.format == "JPEG" and img.mode in ("L", "RGB", "YCbCr")
        if fast:
            img.draft("RGB", _draft_size(*stored, WORK_SIDE))
            work = _shrink(to_rgb(img, problems), WORK_SIDE)
        else:
            img.draft("RGB", _draft_size(*stored, MAX_SIDE))
            full = to_rgb(img, problems)
            work = _shrink(full, WORK_SIDE)
            luma = np.asarray(_shrink(full, MAX_SIDE).convert("L"))
        work.load()  # to_rgb may hand back the still-lazy image itself: read it before the file closes
    if fast:
        with Image.open(io.BytesIO(data)) as img:
            img.draft("L", _draft_size(*stored, MAX_SIDE))
            img.load()
            luma = np.asarray(_shrink(img if img.mode == "L" else img.convert("L"), MAX_SIDE))
    # to_rgb turned the photo upright: a quarter turn shows as a swapped aspect (a square needs no swap)
    turned = (work.width > work.height) != (stored[0] > stored[1]) and stored[0] != stored[1]
    width, height = (stored[1], stored[0]) if turned else stored
    return Decoded(width, height, work, luma, tuple(dict.fromkeys(problems)))


def laplacian_variance(gray: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian (the usual focus measure); 0 for images under 3x3."""
    if gray.shape[0] < 3 or gray.shape[1] < 3:
        return 0.0
    g = gray.astype(np.float32)
    lap = g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4.0 * g[1:-1, 1:-1]
    return float(lap.var())


def fingerprint_bytes(data: bytes) -> Fingerprint:
    """Fingerprint an encoded image; raises whatever Pillow raises for a bad one."""
    return _fingerprint(data, decode(data))


def _fingerprint(data: bytes, decoded: Decoded) -> Fingerprint:
    width, height, work = decoded.width, decoded.height, decoded.work
    edges = edge_stats(decoded.luma)
    luma = np.asarray(work.convert("L"))
    (phash, dhash), *windows = image_hashes(luma)
    rgb = np.asarray(work.reduce(2))  # a percentile: a quarter of the pixels will do
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]  # three elementwise maxima: 4x faster than max(axis=2)
    spread = (np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)).ravel()
    k = int(0.99 * (len(spread) - 1))
    return Fingerprint(
        sha256=hashlib.sha256(data).hexdigest(),
        phash=phash,
        dhash=dhash,
        width=width,
        height=height,
        brightness=float(luma.mean()),
        contrast=float(luma.std()),
        sharpness=laplacian_variance(luma),
        colour_spread=float(np.partition(spread, k)[k]),
        windows=tuple(windows),
        off_centre=off_centre_hashes(luma),
        focus=edges.focus,
        flat_share=edges.flat_share,
        impulse_share=edges.impulse_share,
        layout=layout_of(work),
        value_hash=value_hash(rgb),  # at half the work image's scale: a 32x32 thumbnail needs no more
    )


def fingerprint_file(path: Path) -> HashResult:
    """Fingerprint one file; an unreadable, truncated or non-image file gives an error result, never an exception."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        return HashResult(error=f"unreadable: cannot read {path}: {e.strerror or e}")
    if not data:
        return HashResult(error=f"empty: {path} is 0 bytes")
    try:
        decoded = decode(data)
        fingerprint = _fingerprint(data, decoded)
    except Image.UnidentifiedImageError:
        return HashResult(error=f"not-an-image: {path} is not an image Pillow can read")
    except Exception as e:  # any decoder failure (OSError, SyntaxError, ValueError, DecompressionBomb ...)
        kind = "truncated" if "truncat" in str(e).lower() else "undecodable"
        return HashResult(error=f"{kind}: cannot decode {path}: {type(e).__name__}: {e}")
    warning = f"{path}: {'; '.join(decoded.problems)}" if decoded.problems else ""
    return HashResult(fingerprint, warning=warning)


def _chunksize(n: int, workers: int) -> int:
    """Photos per task: small enough that the last tasks leave no worker idle for long (16 photos, ~35 ms), large
    enough that sending tasks costs little."""
    return max(1, min(16, n // (workers * 8)))


def _results(paths: list[Path], workers: int) -> Iterator[HashResult]:
    if workers <= 1 or len(paths) < 2 * workers:
        with threadpool_limits(1):
            yield from map(fingerprint_file, paths)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=one_blas_thread) as pool:
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
    warned = [r.warning for r in out if r.warning]
    if warned:  # once per run, not once per photo: the photos are used as stored
        log.warning("%d photo(s) with a corrupt EXIF block were used as stored (orientation not applied); first: %s",
                    len(warned), warned[0])
    return out
