"""``carid curate audit``: curate's verdicts + the feature cache -> audit.csv, audited.csv and the review in its order.

The I/O around :mod:`curation.audit`: which photos are audited (the accepted ones) and which only teach (photos of
listings titled for another model, which the checks rejected as wrong-model; photos a person rejected), their
embeddings from the pretrained feature cache (``training.features.embeddings``: computed once per photo and
cached by sha256, so a missing or partial cache is filled, never trusted blindly), the ImageNet head's
probabilities from the same embeddings, and the files. ``audit.csv`` is an output, rewritten on every run and never
read as decisions: only ``decisions.csv`` decides, and a suggestion becomes a decision when a person accepts it
(``accept_suggestion`` in review.csv, then ``carid curate fold``) or when ``audit.auto_reject_above`` is set.
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import numpy as np

from carid.atomic import write_texts
from carid.params import AuditParams
from curation.audit import OTHER, REJECTED, TARGETS, Audit, AuditError, AuditInput, AuditRow, AuditSettings, audit
from curation.decisions import read_decisions
from curation.outputs import ACCEPTED_COLUMNS, Curated, csv_text, read_verdicts, review_files

log = logging.getLogger(__name__)

AUDIT_COLUMNS = [f.name for f in fields(AuditRow)]


@dataclass(frozen=True)
class AuditPaths:
    root: Path  # project root: photo paths are relative to it
    curated: Path  # data/curated: verdicts.csv in; audit.csv, audited.csv, review.csv, review.html out
    decisions: Path  # data/curation/decisions.csv (read: a person's rejects teach the audit)


@dataclass(frozen=True)
class AuditResult:
    curated: Curated  # with ``audit`` filled (empty when the audit fell back)
    audit: Audit | None  # None: fell back to the colour-layout order (see ``notes``)
    notes: list[str]
    auto_rejected: list[str]  # sha256 of accepted photos left out of audited.csv by audit.auto_reject_above
    seconds: float


@dataclass(frozen=True)
class _Ref:
    sha256: str
    path: str


def settings(p: AuditParams) -> AuditSettings:
    return AuditSettings(folds=p.folds, C=p.c, neighbours=p.neighbours, shown_neighbours=p.shown_neighbours,
                         relabel_min=p.relabel_min, reject_min=p.reject_min, min_extra_class=p.min_extra_class,
                         other_near_k=p.other_near_k, relabel_agree=p.relabel_agree)


def imagenet_probabilities(features: np.ndarray, weights: str = "") -> np.ndarray:
    """Softmax of EfficientNet-Lite0's own ImageNet-1k classifier applied to pooled features (its last layer)."""
    from training.efficientnet import source_weights
    from training.torchfile import read_state_dict

    source, _ = source_weights(weights)
    sd = read_state_dict(source)
    logits = features.astype(np.float64) @ sd["_fc.weight"].T.astype(np.float64) + sd["_fc.bias"]
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def audit_input(c: Curated, root: Path, size: int, weights: str = "", progress: bool = False) -> AuditInput:
    """The first copy of every accepted photo (audited), of every photo rejected only for its title's model
    (teaches ``other-model``) and of every photo a person rejected that the checks had accepted (teaches
    ``rejected``), with their embeddings (computed where the cache lacks them)."""
    from training.features import embeddings

    seen: set[str] = set()
    refs: list[_Ref] = []
    labels: list[str] = []
    groups: list[str] = []
    audited: list[bool] = []
    for v in c.verdicts:
        sha = v.photo.sha256
        if sha in seen:
            continue
        seen.add(sha)
        if v.status == "accepted" and v.label in TARGETS:
            label, is_audited = v.label, True
        elif v.status == "rejected" and v.auto_reason == "wrong-model" and v.photo.label == "other" \
                and not v.decision:
            label, is_audited = OTHER, False
        elif v.decision == "reject" and v.auto_status == "accepted":
            label, is_audited = REJECTED, False
        else:
            continue
        refs.append(_Ref(sha, v.photo.path))
        labels.append(label)
        groups.append(f"{v.photo.site}/{v.photo.listing_id}")
        audited.append(is_audited)
    features = embeddings(refs, root, size, weights, progress=progress)
    probs = imagenet_probabilities(features, weights) if len(features) else None
    return AuditInput([r.sha256 for r in refs], labels, groups, features, probs, np.asarray(audited, dtype=bool))


def run_audit(c: Curated, root: Path, p: AuditParams, weights: str = "", progress: bool = False) -> AuditResult:
    """Audit the accepted photos of ``c``; AuditError (too few photos per class) falls back to the layout order.

    Raises ``training.efficientnet.MissingWeights`` and ``training.data.UnreadablePhoto`` (one line each)."""
    start = time.perf_counter()
    inp = audit_input(c, root, p.embed_size, weights, progress)
    try:
        result = audit(inp, settings(p))
    except AuditError as exc:
        log.warning("audit: %s", exc)
        return AuditResult(c, None, [str(exc)], [], time.perf_counter() - start)
    rows = {r.sha256: r for r in result.rows}
    auto: list[str] = []
    if p.auto_reject_above is not None:
        for sha, r in rows.items():
            if r.suggestion.startswith("reject") and r.suspicion > p.auto_reject_above:
                rows[sha] = replace(r, suggestion_reason=f"{r.suggestion_reason} (applied: suspicion above "
                                                         f"audit.auto_reject_above {p.auto_reject_above})")
                auto.append(sha)
    return AuditResult(replace(c, audit=rows), result, result.notes, auto, time.perf_counter() - start)


def audit_text(result: AuditResult) -> str:
    """audit.csv: one row per audited photo, most suspicious first (only the header after a fallback)."""
    buf = io.StringIO()
    rows = sorted(result.curated.audit.values(), key=lambda r: (-r.suspicion, r.sha256))
    buf.write(csv_text(AUDIT_COLUMNS, [asdict(r) for r in rows]))
    return buf.getvalue()


def audited_text(result: AuditResult) -> str:
    """audited.csv: accepted.csv's rows less the photos ``audit.auto_reject_above`` rejected (the split reads it)."""
    out = set(result.auto_rejected)
    rows: list[dict[str, object]] = [
        {"sha256": v.photo.sha256, "path": v.photo.path, "label": v.label, "site": v.photo.site,
         "region": v.photo.region, "listing_id": v.photo.listing_id, "cluster_id": v.cluster_id}
        for v in result.curated.verdicts if v.status == "accepted" and v.photo.sha256 not in out]
    return csv_text(ACCEPTED_COLUMNS, rows)


def write_audit(result: AuditResult, out_dir: Path, root: Path) -> None:
    """audit.csv, audited.csv, review.csv and review.html, atomically (all temp files first, then the renames)."""
    files = {"audit.csv": audit_text(result), "audited.csv": audited_text(result),
             **review_files(result.curated, out_dir, root)}
    write_texts(out_dir, files)


def audit_from_files(paths: AuditPaths, p: AuditParams, weights: str = "", progress: bool = False) -> AuditResult:
    """The audit stage: verdicts.csv (written by ``carid curate run``) and decisions.csv in, nothing written."""
    decisions, _ = read_decisions(paths.decisions)
    c = read_verdicts(paths.curated / "verdicts.csv", decisions)
    return run_audit(c, paths.root, p, weights, progress)
