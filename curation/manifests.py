"""Read every shard's ``manifest.csv`` under ``data/raw`` into photo records."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from curation.decisions import Problem, read_table

log = logging.getLogger(__name__)
NEEDED = ("sha256", "path", "site", "region", "listing_id", "label")


@dataclass(frozen=True)
class Photo:
    """One photo occurrence (a listing's copy of an image) from a manifest."""

    sha256: str
    path: str  # relative to the project root
    site: str
    region: str
    listing_id: str
    label: str
    width: int
    height: int
    source: str  # "manifest.csv:row" for messages


def find_manifests(raw: Path) -> list[Path]:
    return sorted(raw.glob("*/*/manifest.csv"))


def read_manifests(paths: list[Path]) -> tuple[list[Photo], list[Problem]]:
    """Photos in a stable order (site, region, listing, manifest order) and per-row problems."""
    photos: list[Photo] = []
    problems: list[Problem] = []
    for path in paths:
        header, rows = read_table(path)
        missing = [c for c in NEEDED if c not in header]
        if missing:
            problems.append(Problem(str(path), 1, f"missing column {', '.join(missing)}; manifest skipped"))
            continue
        for line, rec in rows:
            if len(rec.get("sha256", "")) != 64:
                problems.append(Problem(str(path), line, f"bad sha256 {rec.get('sha256', '')!r}; row skipped"))
                continue
            try:
                width, height = int(rec.get("width") or 0), int(rec.get("height") or 0)
            except ValueError:
                width = height = 0
            photos.append(Photo(rec["sha256"], rec["path"], rec["site"], rec["region"], rec["listing_id"],
                                rec["label"], width, height, f"{path}:{line}"))
    photos.sort(key=lambda p: (p.site, p.region, p.listing_id))  # stable: keeps gallery order
    return photos, problems
