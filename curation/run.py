"""``carid curate run``: manifests + decisions.csv -> accepted / rejected / review outputs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from carid.params import CurateParams
from curation.decisions import Problem, read_decisions
from curation.dedup import dedup_params, keep_ranks, near_duplicate_clusters
from curation.hashing import fingerprint_many
from curation.manifests import Photo, find_manifests, read_manifests
from curation.outputs import Curated
from curation.quality import QualityThresholds, check_quality
from curation.suspicion import suspicion
from curation.verdicts import Measured, apply_decisions, automatic, orphan_problems

log = logging.getLogger(__name__)


class CurateError(Exception):
    """Curation cannot run; nothing was written."""


@dataclass(frozen=True)
class CuratePaths:
    root: Path  # project root: manifest paths are relative to it
    raw: Path  # data/raw
    decisions: Path  # data/curation/decisions.csv
    out: Path  # data/curated


def thresholds(p: CurateParams) -> QualityThresholds:
    return QualityThresholds(min_side=p.min_side, blur_min=p.blur_min, dark_max=p.dark_max,
                             bright_min=p.bright_min, aspect_min=p.aspect_min, aspect_max=p.aspect_max,
                             gray_max_spread=p.gray_max_spread, graphic_flat_min=p.graphic_flat_min,
                             graphic_focus_min=p.graphic_focus_min)


def first_copies(photos: list[Photo]) -> dict[str, Photo]:
    """The first occurrence of each unique image (by sha256), in photo order."""
    first: dict[str, Photo] = {}
    for photo in photos:
        first.setdefault(photo.sha256, photo)
    return first


def measure(first: dict[str, Photo], root: Path, p: CurateParams, progress: bool
            ) -> tuple[dict[str, Measured], list[Problem], dict[str, np.ndarray]]:
    """Fingerprint, cluster and quality-check each unique image once; with each readable image's colour layout
    (from the same decode, in the fingerprint workers)."""
    shas = list(first)
    problems: list[Problem] = []
    paths = [root / first[s].path for s in shas]
    for sha, path in zip(shas, paths, strict=True):
        if not path.exists():
            file, _, row = first[sha].source.rpartition(":")
            problems.append(Problem(file, int(row), f"image {first[sha].path} is missing on disk; rejected as "
                                                    "unreadable"))
    results = fingerprint_many(paths, workers=p.workers, progress=progress)
    readable = [(i, r.fingerprint) for i, r in enumerate(results) if r.fingerprint is not None]
    readable_paths = [paths[i] for i, _ in readable]
    found = near_duplicate_clusters(readable_paths, [fp for _, fp in readable], dedup_params(p), p.workers)
    labels = found.labels
    rank_of = {readable[k][0]: r for k, r in keep_ranks(found, readable_paths, p.workers).items()}
    cluster_of = {i: c for (i, _), c in zip(readable, labels, strict=True)}
    next_cluster = max(labels, default=-1) + 1
    t = thresholds(p)
    measured: dict[str, Measured] = {}
    layouts: dict[str, np.ndarray] = {}
    for i, (sha, result) in enumerate(zip(shas, results, strict=True)):
        fp = result.fingerprint
        if fp is None:
            measured[sha] = Measured(result.error or "unreadable", 0, 0.0, (), next_cluster)
            next_cluster += 1
        else:
            measured[sha] = Measured("", fp.width * fp.height, fp.sharpness, tuple(check_quality(fp, t)),
                                     cluster_of[i], rank_of.get(i, 0.0))
            layouts[sha] = np.asarray(fp.layout, dtype=np.float32)
    return measured, problems, layouts


def suspicion_scores(first: dict[str, Photo], layouts: dict[str, np.ndarray]) -> dict[str, float]:
    """The colour-layout outlier score of each unique image (:mod:`curation.suspicion`); unreadable ones first."""
    good = [sha for sha in first if sha in layouts]
    scores = suspicion(np.stack([layouts[s] for s in good])) if good else np.zeros(0)
    out = {sha: float(s) for sha, s in zip(good, scores, strict=True)}
    top = max(out.values(), default=0.0) + 1.0
    return {sha: out.get(sha, top) for sha in first}  # unreadable photos first


def curate(paths: CuratePaths, p: CurateParams, progress: bool = False) -> Curated:
    """Run curation in memory; raises CurateError / DecisionsError before anything is written."""
    manifests = find_manifests(paths.raw)
    if not manifests:
        raise CurateError(f"no manifest.csv under {paths.raw}/<site>/<region>/: run `carid scrape run` first")
    decisions, problems = read_decisions(paths.decisions)
    photos, manifest_problems = read_manifests(manifests)
    if not photos:
        raise CurateError(f"the manifests under {paths.raw} list no photos")
    first = first_copies(photos)
    measured, missing, layouts = measure(first, paths.root, p, progress)
    verdicts, orphans = apply_decisions(automatic(photos, measured, p.check_actions.review()), decisions)
    all_problems = [*manifest_problems, *missing, *problems, *orphan_problems(orphans, str(paths.decisions))]
    for problem in all_problems:
        log.warning("%s", problem)
    return Curated(verdicts, suspicion_scores(first, layouts), all_problems, orphans, decisions)
