"""The after-the-fact leakage check: no photo of val, test or holdout may be a near duplicate of a train photo.

It fingerprints the split photos afresh and applies curation's own definition of a near
duplicate (``curation.dedup.near_duplicate_clusters``: full-image and central-window hashes as
candidates, confirmed on the decoded photos, so brightened, recoloured, cropped and framed copies
count), so a duplicate that curation missed, or a CSV edited by hand, still shows up here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from carid.params import CurateParams
from curation.dedup import dedup_params, near_duplicate_clusters
from curation.hashing import fingerprint_many
from splitting.records import Photo

log = logging.getLogger(__name__)


class LeakageError(Exception):
    """Near duplicates across train and another split; nothing is written."""


@dataclass(frozen=True)
class Leak:
    split: str  # val, test or holdout
    photo: str  # sha256 of the photo there
    train_photo: str  # sha256 of its near duplicate in train


def find_leaks(splits: dict[str, list[Photo]], root: Path, p: CurateParams, progress: bool = False) -> list[Leak]:
    """Every (split photo, train photo) near-duplicate pair, the split photo not in train."""
    entries = [(name, photo) for name, photos in splits.items() for photo in photos]
    paths = [root / photo.path for _, photo in entries]
    results = fingerprint_many(paths, workers=p.workers, progress=progress)
    unreadable = [str(path) for path, r in zip(paths, results, strict=True) if r.fingerprint is None]
    if unreadable:
        raise LeakageError(f"cannot check leakage: {len(unreadable)} photo(s) unreadable, first {unreadable[0]}")
    fingerprints = [r.fingerprint for r in results if r.fingerprint is not None]
    labels = near_duplicate_clusters(paths, fingerprints, dedup_params(p), p.workers).labels
    train_of: dict[int, str] = {}
    for (name, photo), label in zip(entries, labels, strict=True):
        if name == "train":
            train_of.setdefault(label, photo.sha256)
    leaks = [Leak(name, photo.sha256, train_of[label]) for (name, photo), label in zip(entries, labels, strict=True)
             if name != "train" and label in train_of]
    log.info("leakage check: %d photos, %d near duplicates of train outside train", len(entries), len(leaks))
    return leaks
