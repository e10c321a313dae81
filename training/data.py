"""Photos decoded and resized once into uint8 arrays, cached by content, so a second run trains at once.

The cache key is the photos' sha256 digests in order, the size and the decoder version: the
same split at the same size loads from one ``.npz`` file whatever its path. Decoding is
:func:`carid.images.decode_to_array` (draft decode, EXIF orientation, alpha on white, bilinear
resize of the whole photo), the same function prediction and the prediction service use.
Works without TensorFlow: plain numpy arrays feed any backend.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from carid.images import UnreadablePhoto as UnreadablePhoto  # re-exported: training callers catch it from here
from carid.images import decode_to_array
from carid.paths import cache_dir
from curation.decisions import CLASS_LABELS
from splitting.records import Photo, read_photos

log = logging.getLogger(__name__)

DECODER_VERSION = 2  # bump when decode() changes, so old cache entries are not reused


@dataclass(frozen=True)
class Arrays:
    x: np.ndarray  # (n, size, size, 3) uint8
    y: np.ndarray  # (n,) float32, 1.0 for CLASS_LABELS[1] (wagonr)
    photos: tuple[Photo, ...]


def decode(path: Path, size: int) -> np.ndarray:
    """One photo as a (size, size, 3) uint8 array, upright and on white; raises UnreadablePhoto naming the file."""
    return decode_to_array(path, size)


def _decode_job(job: tuple[str, int]) -> np.ndarray:
    return decode(Path(job[0]), job[1])


def decode_many(paths: Sequence[Path], size: int, workers: int = 0, progress: bool = False) -> np.ndarray:
    """Decode every path in order (``workers`` processes; 0: one per core)."""
    out = np.empty((len(paths), size, size, 3), dtype=np.uint8)
    workers = workers or os.cpu_count() or 1
    jobs = [(str(p), size) for p in paths]
    with ExitStack() as stack:
        results: Iterator[np.ndarray] = map(_decode_job, jobs)
        if workers > 1 and len(jobs) >= 64:
            # spawn, not fork: the caller may already hold TensorFlow or JAX threads
            pool = stack.enter_context(ProcessPoolExecutor(max_workers=workers,
                                                           mp_context=multiprocessing.get_context("spawn")))
            results = pool.map(_decode_job, jobs, chunksize=max(1, len(jobs) // (workers * 8)))
        for i, arr in enumerate(tqdm(results, total=len(jobs), desc="decode", unit="photo", disable=not progress)):
            out[i] = arr
    return out


def cache_key(photos: Sequence[Photo], size: int) -> str:
    h = hashlib.sha256(f"v{DECODER_VERSION}/{size}/".encode())
    for p in photos:
        h.update(p.sha256.encode())
    return h.hexdigest()[:32]


def labels(photos: Sequence[Photo]) -> np.ndarray:
    bad = [p for p in photos if p.label not in CLASS_LABELS]
    if bad:
        raise ValueError(f"photo {bad[0].sha256[:12]} has label {bad[0].label!r}, not one of {CLASS_LABELS}")
    return np.array([CLASS_LABELS.index(p.label) for p in photos], dtype=np.float32)


def load_arrays(photos: Sequence[Photo], root: Path, size: int, cache: Path | None = None,
                progress: bool = False) -> Arrays:
    """The photos as arrays, from the cache when this exact list was decoded before at this size."""
    folder = cache if cache is not None else cache_dir() / "arrays"
    path = folder / f"{cache_key(photos, size)}.npy"
    y = labels(photos)
    if path.exists():
        x = np.load(path)
        if x.shape == (len(photos), size, size, 3):
            log.info("loaded %d photos at %dx%d from the cache %s", len(photos), size, size, path)
            return Arrays(x, y, tuple(photos))
    x = decode_many([root / p.path for p in photos], size, progress=progress)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    with tmp.open("wb") as fh:
        np.save(fh, x)
    os.replace(tmp, path)
    return Arrays(x, y, tuple(photos))


def load_split(split_csv: Path, root: Path, size: int, cache: Path | None = None, progress: bool = False) -> Arrays:
    return load_arrays(read_photos(split_csv), root, size, cache, progress)
