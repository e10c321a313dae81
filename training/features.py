"""Pooled ImageNet features (EfficientNet-Lite0) of photos, computed once per photo and cached by content.

``embeddings(photos, root, size)`` is the one entry point, for training's frozen-backbone stage
and for any other stage that wants the same embeddings (e.g. an audit of the review). The cache
is keyed per photo by its sha256 (the stable content key of every carid CSV) under a folder that
names everything else the numbers depend on: the weights file's hash, the input size, the decoder
version and this module's version. Each computed chunk is written as its own ``.npz`` shard, so
an interrupted run keeps what it finished, and a later call with other photos computes only the
ones it has not seen.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from tqdm import tqdm

from carid.paths import cache_dir
from training.data import DECODER_VERSION, decode_many
from training.efficientnet import FEATURES, check_size, pretrained, source_weights

log = logging.getLogger(__name__)

FEATURE_VERSION = 1  # bump when the features change for the same photo, size and weights
CHUNK = 256  # photos decoded and embedded at a time (bounds memory at large sizes)
MAX_SHARDS = 16  # more shards than this are merged into one


class PhotoRef(Protocol):
    """What embeddings() needs of a photo record (``splitting.records.Photo`` and curation's rows have both)."""

    @property
    def sha256(self) -> str: ...

    @property
    def path(self) -> str: ...


def cache_folder(size: int, weights: str = "", cache: Path | None = None) -> Path:
    """Where features for this size and weights file live."""
    _, digest = source_weights(weights)
    base = cache if cache is not None else cache_dir() / "features"
    return base / f"lite0-{digest[:16]}-s{size}-d{DECODER_VERSION}-v{FEATURE_VERSION}"


def _read_shards(folder: Path) -> dict[str, np.ndarray]:
    known: dict[str, np.ndarray] = {}
    for shard in sorted(folder.glob("*.npz")):
        try:
            with np.load(shard) as data:
                keys, rows = data["sha256"], data["features"]
        except FileNotFoundError:
            continue  # merged away by another process meanwhile
        except (OSError, ValueError, KeyError) as exc:
            log.warning("features: ignoring unreadable cache shard %s (%s)", shard, exc)
            continue
        if rows.ndim != 2 or rows.shape[1] != FEATURES or len(keys) != len(rows):
            log.warning("features: ignoring cache shard %s of shape %s", shard, rows.shape)
            continue
        known.update(zip((str(k) for k in keys), rows, strict=True))
    return known


def _write_shard(folder: Path, keys: Sequence[str], rows: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256("".join(keys).encode()).hexdigest()[:24]
    path = folder / f"{name}.npz"
    tmp = folder / f".{name}.{os.getpid()}.part.npz"
    np.savez(tmp, sha256=np.array(keys, dtype="U64"), features=rows.astype(np.float32))
    os.replace(tmp, path)
    return path


def _merge(folder: Path, known: dict[str, np.ndarray]) -> None:
    shards = sorted(folder.glob("*.npz"))
    if len(shards) <= MAX_SHARDS:
        return
    keys = sorted(known)
    merged = _write_shard(folder, keys, np.stack([known[k] for k in keys]))
    for shard in shards:
        if shard != merged:
            shard.unlink(missing_ok=True)


def embeddings(photos: Sequence[PhotoRef], root: Path, size: int, weights: str = "", cache: Path | None = None,
               arrays: np.ndarray | None = None, batch_size: int = 32, progress: bool = False) -> np.ndarray:
    """(n, 1280) float32: the pooled EfficientNet-Lite0 ImageNet features of each photo, in order.

    ``root``: the folder the photos' paths are relative to. ``size``: the square input (see
    ``training.efficientnet.check_size``). ``weights``: a PyTorch Lite0 file ("" for the package's).
    ``arrays``: the photos already decoded at ``size`` (as ``training.data.load_arrays`` gives them), to skip
    decoding. Raises ``training.data.UnreadablePhoto`` naming a file that cannot be decoded, and
    ``training.efficientnet.MissingWeights`` when the weights cannot be found.
    """
    check_size(size, "the embedding size")
    if arrays is not None and arrays.shape != (len(photos), size, size, 3):
        raise ValueError(f"arrays of shape {arrays.shape} do not match {len(photos)} photos at {size}x{size}")
    folder = cache_folder(size, weights, cache)
    known = _read_shards(folder) if folder.is_dir() else {}
    todo = sorted({p.sha256: i for i, p in enumerate(photos) if p.sha256 not in known}.values())
    if todo:
        model = pretrained(size, include_top=False, configured=weights)
        start = time.perf_counter()
        with tqdm(total=len(todo), desc="features", unit="photo", disable=not progress) as bar:
            for at in range(0, len(todo), CHUNK):
                idx = todo[at:at + CHUNK]
                x = arrays[idx] if arrays is not None else decode_many([root / photos[i].path for i in idx], size)
                rows = np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)
                keys = [photos[i].sha256 for i in idx]
                _write_shard(folder, keys, rows)
                known.update(zip(keys, rows, strict=True))
                bar.update(len(idx))
        seconds = time.perf_counter() - start
        log.info("features: %d photos at %dx%d in %.1f s (%.1f photos/s), %d from the cache %s", len(todo), size,
                 size, seconds, len(todo) / max(seconds, 1e-9), len(photos) - len(todo), folder)
        _merge(folder, known)
    else:
        log.info("features: all %d photos at %dx%d from the cache %s", len(photos), size, size, folder)
    if not photos:
        return np.zeros((0, FEATURES), dtype=np.float32)
    return np.stack([known[p.sha256] for p in photos]).astype(np.float32, copy=False)
