"""A tiny, learnable split on real JPEG files for training tests: swift photos lean red, wagonr photos blue."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

from carid.params import Params, load_params
from splitting.records import Photo, csv_text

REPO = Path(__file__).resolve().parents[1]
SIZE = 48
COUNTS = {"train": 32, "val": 12, "test": 12, "holdout": 8}


def toy_photo(rng: np.random.Generator, label: str) -> Image.Image:
    img = rng.integers(0, 120, (60, 80, 3)).astype(np.uint8)
    channel = 0 if label == "swift" else 2
    y0, x0 = int(rng.integers(0, 30)), int(rng.integers(0, 40))
    img[y0:y0 + 30, x0:x0 + 40, channel] = 230
    return Image.fromarray(img, "RGB")


def project(tmp_path: Path, variants: dict[str, dict[str, object]] | None = None, seed: int = 0) -> tuple[Path, Params]:
    """A project root with data/split/{train,val,test,holdout}.csv over toy JPEGs and a tiny train section."""
    root = tmp_path / "proj"
    rng = np.random.default_rng(seed)
    n = 0
    for split, count in COUNTS.items():
        photos = []
        for i in range(count):
            label = ("swift", "wagonr")[i % 2]
            site, region = ("hyderabad-motors", "hyderabad") if split == "holdout" else ("gaadibazaar", "delhi")
            rel = Path(f"data/raw/{site}/{region}/images/t{n:04d}.jpg")
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            toy_photo(rng, label).save(root / rel, quality=92)
            photos.append(Photo(f"{seed:08x}{n:056x}", str(rel), label, site, region, f"L{n}", f"c{n}"))
            n += 1
        (root / "data/split").mkdir(parents=True, exist_ok=True)
        (root / f"data/split/{split}.csv").write_text(csv_text(photos), encoding="utf-8")
    raw = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    raw["train"]["image_size"] = SIZE
    raw["train"]["batch_size"] = 8
    raw["train"]["variants"] = variants or {"baseline": {"model": "baseline", "augment": False, "epochs": 2,
                                                         "learning_rate": 0.001}}
    (root / "params.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    return root, load_params(root / "params.yaml")


@contextmanager
def cache_dir_at(path: Path) -> Iterator[Path]:
    """``CARID_CACHE_DIR`` pointed at ``path`` for the block (weights, features and arrays go there), then restored."""
    old = os.environ.get("CARID_CACHE_DIR")
    os.environ["CARID_CACHE_DIR"] = str(path)
    try:
        yield path
    finally:
        if old is None:
            os.environ.pop("CARID_CACHE_DIR", None)
        else:
            os.environ["CARID_CACHE_DIR"] = old
