"""``carid predict``: label photos with the exported model; an unreadable file is reported and skipped."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from carid.images import PHOTO_SUFFIXES
from training.data import UnreadablePhoto, decode

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = PHOTO_SUFFIXES  # the one list of photo suffixes every stage reads (HEIC and AVIF too)


@dataclass(frozen=True)
class Prediction:
    path: Path
    label: str = ""  # empty when the file could not be read
    probability: float = 0.0  # of ``label``
    error: str = ""


@dataclass(frozen=True)
class Exported:
    model_path: Path
    classes: tuple[str, str]
    image_size: int


def read_export(folder: Path) -> Exported:
    meta_path = folder / "metadata.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"no exported model in {folder} (metadata.json missing): run `dvc repro` or "
                                f"`carid train export` first")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    first, second = meta["classes"]
    return Exported(folder / "model.keras", (str(first), str(second)), int(meta["input"]["size"]))


def expand(paths: Sequence[Path]) -> list[Path]:
    """Files as given; folders searched recursively for image files, in sorted order."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES))
        else:
            out.append(p)
    return out


def predict_files(exported: Exported, files: Sequence[Path], batch_size: int = 64) -> Iterator[Prediction]:
    """One Prediction per file, in order, decoding a batch at a time."""
    from training.evaluate import load_model, predict

    model = load_model(exported.model_path)
    for start in range(0, len(files), batch_size):
        chunk = files[start:start + batch_size]
        arrays: list[np.ndarray] = []
        ok: list[int] = []
        results: list[Prediction | None] = [None] * len(chunk)
        for i, f in enumerate(chunk):
            try:
                arrays.append(decode(f, exported.image_size))
                ok.append(i)
            except UnreadablePhoto as exc:
                results[i] = Prediction(f, error=str(exc))
        if arrays:
            probs = predict(model, np.stack(arrays))
            for i, prob in zip(ok, probs, strict=True):
                wagonr = bool(prob >= 0.5)
                results[i] = Prediction(chunk[i], exported.classes[int(wagonr)],
                                        round(float(prob if wagonr else 1 - prob), 4))
        yield from (r for r in results if r is not None)
