"""``<out>/<split>/<label>/<file>``: the folder layout of Keras' ``image_dataset_from_directory``."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from splitting.records import ALL_SPLITS, read_photos

log = logging.getLogger(__name__)


def _link_or_copy(src: Path, dst: Path) -> bool:
    """Hard-link src to dst (True), or copy it when a link is impossible (another file system)."""
    try:
        os.link(src, dst)
        return True
    except OSError:
        shutil.copy2(src, dst)
        return False


def export_folders(split_dir: Path, root: Path, out: Path) -> dict[str, int]:
    """Build the layout in a temp folder beside ``out``, then swap it in; returns photos per split and 'copied'."""
    out = out.resolve()
    tmp = out.with_name(f".{out.name}.part")
    shutil.rmtree(tmp, ignore_errors=True)
    counts = {"copied": 0}
    try:
        for split in ALL_SPLITS:
            photos = read_photos(split_dir / f"{split}.csv")
            for p in photos:
                src = root / p.path
                if not src.is_file():
                    raise FileNotFoundError(f"{split_dir / f'{split}.csv'}: photo {p.sha256[:12]} missing at {src}")
                folder = tmp / split / p.label
                folder.mkdir(parents=True, exist_ok=True)
                if not _link_or_copy(src, folder / f"{p.sha256}{src.suffix.lower() or '.jpg'}"):
                    counts["copied"] += 1
            counts[split] = len(photos)
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if out.exists():
            out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("exported %s to %s", counts, out)
    return counts
