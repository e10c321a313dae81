"""The split's records and its CSV files (same columns as ``accepted.csv``)."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from pathlib import Path

from curation.decisions import read_table

COLUMNS = ["sha256", "path", "label", "site", "region", "listing_id", "cluster_id"]
SPLITS = ("train", "val", "test")
ALL_SPLITS = (*SPLITS, "holdout")


class SplitInputError(Exception):
    """An input file that cannot be used; the message names the file and row."""


@dataclass(frozen=True)
class Photo:
    sha256: str
    path: str  # relative to the project root, as accepted.csv has it
    label: str
    site: str
    region: str
    listing_id: str
    cluster_id: str


def read_photos(path: Path) -> list[Photo]:
    """Rows of an accepted.csv (or a split CSV); a missing column or empty field names the file and line."""
    if not path.exists():
        raise SplitInputError(f"{path}: no such file (run `carid curate run` first)")
    header, rows = read_table(path)
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise SplitInputError(f"{path}: missing column(s) {', '.join(missing)}")
    photos: list[Photo] = []
    seen: set[str] = set()
    for line, row in rows:
        empty = [c for c in COLUMNS if not row.get(c)]
        if empty:
            raise SplitInputError(f"{path} line {line}: empty {', '.join(empty)}")
        if row["sha256"] in seen:
            raise SplitInputError(f"{path} line {line}: photo {row['sha256'][:12]} appears twice")
        seen.add(row["sha256"])
        photos.append(Photo(**{c: row[c] for c in COLUMNS}))
    return photos


def csv_text(photos: list[Photo]) -> str:
    """Rows sorted by label then sha256, so the same photos always give the same bytes."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for p in sorted(photos, key=lambda p: (p.label, p.sha256)):
        writer.writerow(asdict(p))
    return buf.getvalue()
