"""The ``split`` stage: read accepted.csv, split, check for leakage, write the CSVs and the report."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from carid.atomic import write_texts
from carid.params import CurateParams, SplitParams
from curation.decisions import CLASS_LABELS
from splitting.assign import NotEnoughPhotos, assign, holdout, interleave, make_groups, quotas
from splitting.leakage import LeakageError, find_leaks
from splitting.records import ALL_SPLITS, SPLITS, Photo, csv_text, read_photos
from splitting.report import SplitResult, region_mix, report_json, report_md

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SplitPaths:
    root: Path  # project root; photo paths in the CSVs are relative to it
    accepted: Path
    out: Path


def split_photos(photos: list[Photo], p: SplitParams) -> SplitResult:
    """Pure part: the photos of each split and the holdout; the leakage check is not run here."""
    on_holdout_site = [ph.site in p.holdout.sites for ph in photos]
    linked: set[int] = set()
    for g in make_groups(photos, p.seed):
        sites = {on_holdout_site[i] for i in g.members}
        if len(sites) == 2:
            linked.update(g.members)
    main = [ph for i, ph in enumerate(photos) if not on_holdout_site[i] and ph.label in CLASS_LABELS]
    held = [ph for i, ph in enumerate(photos) if on_holdout_site[i] and i not in linked]
    shared = sum(1 for i in linked if on_holdout_site[i])
    available = {c: sum(1 for ph in main if ph.label == c) for c in CLASS_LABELS}
    q = quotas(p.sizes.model_dump(), available, CLASS_LABELS)
    dealt = assign(main, interleave(main, make_groups(main, p.seed)), q)
    splits = {s: dealt[s] for s in SPLITS}
    splits["holdout"] = holdout(held, p.seed, CLASS_LABELS, p.holdout.per_class, p.holdout.balance)
    return SplitResult(splits, len(dealt["unused"]), shared, leaks=[], accepted_mix=region_mix(main))


def run_split(paths: SplitPaths, p: SplitParams, check: CurateParams, progress: bool = False) -> SplitResult:
    """Split, check, then write train/val/test/holdout.csv and the report; on any error nothing is written."""
    photos = read_photos(paths.accepted)
    result = split_photos(photos, p)
    splits = result.splits
    leaks = find_leaks(splits, paths.root, check, progress)
    result = replace(result, leaks=leaks)
    if leaks:
        first = leaks[0]
        raise LeakageError(f"{len(leaks)} photo(s) outside train are near duplicates of train photos, first "
                           f"{first.photo[:12]} in {first.split} ~ {first.train_photo[:12]} in train")
    files = {f"{s}.csv": csv_text(splits[s]) for s in ALL_SPLITS}
    files["report.json"] = report_json(result)
    files["report.md"] = report_md(result)
    write_texts(paths.out, files)
    log.info("split: %s", ", ".join(f"{s} {len(splits[s])}" for s in ALL_SPLITS))
    return result


__all__ = ["LeakageError", "NotEnoughPhotos", "SplitPaths", "run_split", "split_photos"]
