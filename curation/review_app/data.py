"""What the review page shows: review.csv's rows in review order, the photos the manifests list, the audit."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from curation.decisions import read_table
from curation.manifests import find_manifests, read_manifests

log = logging.getLogger(__name__)

#: review.csv columns the page needs (written by ``carid curate run`` / ``review``).
NEEDED = ("rank", "sha256", "site", "region", "listing_id", "label", "auto_verdict", "auto_reason", "cluster_id")
#: The audit's columns (``data/curated/audit.csv``, written by ``carid curate audit``; review.csv carries them too).
SUGGESTION_COLUMN = "suggestion"
SUGGESTION_REASON_COLUMN = "suggestion_reason"
NEIGHBOUR_COLUMNS = ("near_swift", "near_wagonr")  # space-separated sha256 of the nearest accepted photos per class


class ReviewDataError(Exception):
    """The review cannot be shown (no review.csv, no manifests); the message says what to run."""


@dataclass(frozen=True)
class ReviewItem:
    """One tile: a row of review.csv (one photo occurrence; exact copies share a sha256 and its decision)."""

    rank: int
    sha256: str
    site: str
    region: str
    listing_id: str
    label: str
    auto_verdict: str
    auto_reason: str
    auto_detail: str
    cluster_id: str
    suspicion: str
    suggestion: str  # the audit's suggested action ("" when there is no audit or no suggestion)
    suggestion_reason: str
    near_swift: str  # the audit's nearest accepted Swift photos (space-separated sha256), "" without an audit
    near_wagonr: str


ITEM_COLUMNS = [f.name for f in fields(ReviewItem)]


@dataclass(frozen=True)
class Review:
    items: list[ReviewItem]  # review order
    photos: dict[str, Path]  # sha256 -> the path of a copy a manifest lists (the only files served)
    raw: Path  # the folder every served file must resolve into
    audit: bool  # whether an audit's suggestions are shown
    problems: list[str]

    @property
    def unique(self) -> int:
        return len({i.sha256 for i in self.items})

    def payload(self) -> bytes:
        """The page's data as compact JSON: column names once, then one array per tile."""
        body = {"columns": ITEM_COLUMNS, "rows": [list(astuple(i)) for i in self.items], "audit": self.audit,
                "total": self.unique, "problems": self.problems[:50]}
        return json.dumps(body, separators=(",", ":")).encode("utf-8")


def manifest_photos(root: Path, raw: Path) -> tuple[dict[str, Path], list[str]]:
    """sha256 -> file of every photo the manifests list; paths that leave ``raw`` (``..``, absolute) are refused.

    (A symbolic link under ``raw`` is followed only if it stays inside: see :func:`inside`, checked on serving.)
    """
    photos, problems = read_manifests(find_manifests(raw))
    base = os.path.join(os.path.abspath(raw), "")
    top = os.path.abspath(root)
    out: dict[str, Path] = {}
    notes = [str(p) for p in problems]
    for photo in photos:
        if photo.sha256 in out:
            continue
        path = os.path.normpath(os.path.join(top, photo.path))
        if not path.startswith(base):
            notes.append(f"{photo.source}: path {photo.path!r} is outside {raw}; not served")
            continue
        out[photo.sha256.lower()] = Path(path)
    return out, notes


def inside(path: Path, raw: Path) -> bool:
    """Whether ``path``, symbolic links followed, is a file under ``raw``."""
    try:
        return path.resolve(strict=True).is_relative_to(raw.resolve())
    except OSError:
        return False


Shown = tuple[str, str, str, str]  # suggestion, its reason, nearest swift, nearest wagonr


def _shown(rec: dict[str, str]) -> Shown:
    return (rec.get(SUGGESTION_COLUMN, ""), rec.get(SUGGESTION_REASON_COLUMN, ""),
            *(rec.get(c, "") for c in NEIGHBOUR_COLUMNS))  # type: ignore[return-value]


def read_audit(path: Path) -> dict[str, Shown] | None:
    """sha256 -> (suggestion, reason, nearest swift, nearest wagonr) from audit.csv; None when there is none (or it
    lacks the sha256 / suggestion columns)."""
    if not path.is_file():
        return None
    header, rows = read_table(path)
    if "sha256" not in header or SUGGESTION_COLUMN not in header:
        log.warning("%s: no sha256 or %s column; audit not shown", path, SUGGESTION_COLUMN)
        return None
    return {rec["sha256"].lower(): _shown(rec) for _, rec in rows}


def load_review(root: Path, raw: Path, review_csv: Path, audit_csv: Path) -> Review:
    """Tiles in review.csv's order for photos the manifests list; the audit's suggestions when it exists."""
    if not review_csv.is_file():
        raise ReviewDataError(f"no review file at {review_csv}: run `carid curate review` or `dvc repro` first")
    photos, problems = manifest_photos(root, raw)
    if not photos:
        raise ReviewDataError(f"the manifests under {raw} list no photos: run `carid scrape run` first")
    header, rows = read_table(review_csv)
    missing = [c for c in NEEDED if c not in header]
    if missing:
        raise ReviewDataError(f"{review_csv}, row 1: missing column {', '.join(missing)}; run `carid curate review`")
    audit = read_audit(audit_csv)
    own = SUGGESTION_COLUMN in header  # a review.csv that already carries the audit's suggestions
    items: list[ReviewItem] = []
    unknown = 0
    for line, rec in rows:
        sha = rec["sha256"].lower()
        if sha not in photos:
            unknown += 1
            continue
        try:
            rank = int(rec["rank"])
        except ValueError:
            problems.append(f"{review_csv}, row {line}: rank {rec['rank']!r} is not a number; row skipped")
            continue
        shown = (audit or {}).get(sha) or (_shown(rec) if own else ("", "", "", ""))
        items.append(ReviewItem(rank, sha, rec["site"], rec["region"], rec["listing_id"], rec["label"],
                                rec["auto_verdict"], rec["auto_reason"], rec.get("auto_detail", ""),
                                rec["cluster_id"], rec.get("suspicion", ""), *shown))
    if unknown:
        problems.append(f"{review_csv}: {unknown} rows name photos no manifest lists (review.csv is older than the "
                        "scrape): run `carid curate review` again")
    listed = {i.sha256 for i in items}
    fresh = sum(1 for sha in photos if sha not in listed)
    if fresh:
        problems.append(f"{fresh} photos in the manifests are not in {review_csv} yet: run `carid curate review`")
    items.sort(key=lambda i: i.rank)
    for p in problems:
        log.warning("%s", p)
    shows = audit is not None or (own and any(i.suggestion or i.near_swift for i in items))
    return Review(items, photos, raw, bool(shows), problems)
