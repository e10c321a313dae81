"""Bring photos a person already has (a folder) into the pipeline, with the scraper's checks."""

from __future__ import annotations

import logging
import mimetypes
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from carid.images import PHOTO_SUFFIXES
from carid.paths import relative_to_root
from scraper.fetch import Retry
from scraper.images import Rejected, clean_partials, inspect_image, store_image
from scraper.manifest import Manifest, ManifestRow

log = logging.getLogger(__name__)
SUFFIXES = PHOTO_SUFFIXES  # the one list of photo suffixes every stage reads


def import_folder(src: Path, out_dir: Path, root: Path, site: str, region: str, label: str,
                  min_side: int = 64, progress: bool = False) -> tuple[int, Counter[str]]:
    """Copy every image under ``src`` into ``out_dir`` (content-hash names) and add manifest rows.

    Each photo is its own listing (``listing_id`` = first 16 hex of its sha256), so
    re-importing the same folder adds nothing. Returns (photos added, skipped per reason).
    """
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: no such folder")
    manifest = Manifest(out_dir)
    manifest.load()
    clean_partials(out_dir / "images")
    skipped: Counter[str] = Counter()
    added = 0
    files = sorted(p for p in src.rglob("*") if p.is_file())
    for path in tqdm(files, desc=f"import {src}", unit="photo", disable=not progress):
        if path.suffix.lower() not in SUFFIXES:
            skipped["not-an-image"] += 1
            continue
        body = path.read_bytes()
        ctype = mimetypes.guess_type(path.name)[0] or "image/unknown"
        try:
            info = inspect_image(body, ctype, min_side)
        except (Retry, Rejected) as exc:
            reason = exc.reason
            log.warning("%s skipped: %s", path, reason)
            skipped[reason] += 1
            continue
        listing_id = info.sha256[:16]
        if listing_id in manifest.done:
            skipped["already-imported"] += 1
            continue
        stored = store_image(out_dir / "images", body, info)
        manifest.add_listing(listing_id, [ManifestRow(
            sha256=info.sha256, path=relative_to_root(stored, root), site=site, region=region,
            listing_id=listing_id, listing_url="", image_url=path.resolve().as_uri(), title=path.name,
            label=label, width=info.width, height=info.height, bytes=info.size,
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"))])
        added += 1
    return added, skipped
