"""Bring photos a person already has (a folder) into the pipeline, with the scraper's checks.

A folder is a source of its own: ``carid scrape import-folder PATH`` once, or an entry of params.yaml's
``scrape.folders`` (``{my-swifts: {folder: ~/photos/swift, label: swift}}``), which dvc.yaml turns into an
``import@my-swifts`` stage writing ``data/raw/local/my-swifts/``, where curate finds it like any scraped shard.

An import is deterministic: ``fetched_at`` is the file's modification time and every other column comes from
the bytes and the path, so importing an unchanged folder again writes byte-identical outputs (DVC then sees
nothing new downstream, though the stage itself always runs).
"""

from __future__ import annotations

import logging
import mimetypes
from collections import Counter
from dataclasses import dataclass
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
#: The site recorded for imported photos; a folder source named N is the shard data/raw/local/N/.
FOLDER_SITE = "local"
SOURCE_LABELS = ("swift", "wagonr")  # what a folder source may be labelled: the classes the model learns


class SourceError(ValueError):
    """A folder source that cannot be imported; the message names the params file and the entry."""


@dataclass(frozen=True)
class FolderSource:
    """One entry of ``scrape.folders``: ``name`` is its key, ``folder`` as written (``~`` allowed)."""

    name: str
    folder: str
    label: str

    def path(self, root: Path) -> Path:
        """The folder, with ``~`` expanded; a relative one is taken from the project ``root``."""
        return root / Path(self.folder).expanduser()  # an absolute right-hand side replaces root


def import_source(source: FolderSource, params: Path, raw: Path, root: Path,
                  progress: bool = False) -> tuple[Path, int, Counter[str]]:
    """Import ``source`` into ``raw/local/<name>``; returns (that folder, photos added, skipped per reason).

    Raises :class:`SourceError` naming ``params`` and the entry when the label is not one the model learns or
    the folder does not exist.
    """
    where = f"{params}: scrape.folders.{source.name}"
    if source.label not in SOURCE_LABELS:
        raise SourceError(f"{where}.label: {source.label!r} is not one of {', '.join(SOURCE_LABELS)}")
    src = source.path(root)
    if not src.is_dir():
        shown = f"{source.folder} ({src})" if str(src) != source.folder else source.folder
        raise SourceError(f"{where}.folder: {shown} is not a folder" if src.exists()
                          else f"{where}.folder: {shown} does not exist")
    out = raw / FOLDER_SITE / source.name
    added, skipped = import_folder(src, out, root, FOLDER_SITE, source.name, source.label, progress=progress)
    return out, added, skipped


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
            fetched_at=datetime.fromtimestamp(int(path.stat().st_mtime), UTC).isoformat())])
        added += 1
    return added, skipped
