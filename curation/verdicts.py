"""Automatic verdicts and a person's decisions, combined. Pure logic: no file I/O.

Per photo occurrence, the first matching rule rejects it: unreadable, exact
duplicate (a later copy of the same bytes), near duplicate (not the best photo
of its perceptual-hash cluster), a failed quality check set to ``reject`` (one
set to ``review`` only flags the photo), a wrong model
(``other`` / ``unknown`` label). A person's decision then wins: ``reject``
rejects every copy, ``accept`` and ``relabel`` accept the first copy (later
exact copies stay rejected, or the same image would be counted twice).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from curation.decisions import CLASS_LABELS, Decision, Problem
from curation.manifests import Photo


@dataclass(frozen=True)
class Measured:
    """What curation measured of one image (by sha256)."""

    error: str  # "" when readable
    pixels: int  # width x height
    sharpness: float
    quality: tuple[tuple[str, str], ...]  # failed checks: (reason, measured value)
    cluster: int  # near-duplicate cluster index
    keep_rank: float = 0.0  # higher: kept before the other members of its cluster (curation.dedup.keep_ranks)


@dataclass(frozen=True)
class Verdict:
    photo: Photo
    status: str  # accepted | rejected
    label: str  # final label
    reason: str  # "" when accepted, else the rejection reason
    detail: str  # measured value, the photo it duplicates, or a person's reason
    auto_status: str
    auto_reason: str
    auto_detail: str
    cluster_id: str
    decision: str  # "" when a person has not decided
    flag: str = ""  # review-mode checks it failed ("graphic: flat share ..."); accepted all the same


def cluster_id(index: int) -> str:
    return f"c{index:06d}"


def keepers(measured: Mapping[str, Measured], order: Sequence[str]) -> dict[int, str]:
    """The photo kept per cluster: its least-processed copy, by ``keep_rank`` (curation.dedup.keep_ranks), then
    most pixels, then sharpest, then first seen."""
    best: dict[int, tuple[tuple[float, int, float, int], str]] = {}
    for pos, sha in enumerate(order):
        m = measured[sha]
        if m.error:
            continue
        key = (m.keep_rank, m.pixels, m.sharpness, -pos)
        if m.cluster not in best or key > best[m.cluster][0]:
            best[m.cluster] = (key, sha)
    return {c: sha for c, (_, sha) in best.items()}


def automatic(photos: Sequence[Photo], measured: Mapping[str, Measured],
              review: frozenset[str] = frozenset()) -> list[Verdict]:
    """The automatic verdict of each photo occurrence. Quality checks named in ``review`` never reject: a photo
    failing them is flagged (``Verdict.flag``), and rejected or accepted on the other rules alone."""
    order = list(dict.fromkeys(p.sha256 for p in photos))
    keep = keepers(measured, order)
    first: dict[str, Photo] = {}
    out = []
    for photo in photos:
        m = measured[photo.sha256]
        reason, detail = "", ""
        rejecting = [q for q in m.quality if q[0] not in review]
        flag = "; ".join(f"{r}: {d}" for r, d in m.quality if r in review)
        if m.error:
            reason, detail = "unreadable", m.error
        elif photo.sha256 in first:
            src = first[photo.sha256]
            reason, detail = "exact-duplicate", f"same bytes as {src.site}/{src.listing_id}"
        elif keep[m.cluster] != photo.sha256:
            reason, detail = "near-duplicate", f"of {keep[m.cluster]}"
        elif rejecting:
            reason, detail = rejecting[0]
        elif photo.label not in CLASS_LABELS:
            reason, detail = "wrong-model", f"label {photo.label!r} from the title"
        first.setdefault(photo.sha256, photo)
        status = "rejected" if reason else "accepted"
        out.append(Verdict(photo, status, photo.label, reason, detail, status, reason, detail,
                           cluster_id(m.cluster), "", flag))
    return out


def apply_decisions(verdicts: Sequence[Verdict], decisions: Mapping[str, Decision]) -> tuple[list[Verdict], list[str]]:
    """Decisions win over automatic verdicts; returns new verdicts and orphaned sha256s (kept, never dropped)."""
    seen: set[str] = set()
    out = []
    for v in verdicts:
        d = decisions.get(v.photo.sha256)
        first_copy = v.photo.sha256 not in seen
        seen.add(v.photo.sha256)
        if d is None:
            out.append(v)
        elif d.decision == "reject":
            out.append(replace(v, status="rejected", reason="manual", detail=d.reason or d.note, decision="reject"))
        elif not first_copy:
            out.append(replace(v, decision=d.decision))
        else:
            label = d.label or v.label
            if label in CLASS_LABELS:
                out.append(replace(v, status="accepted", label=label, reason="", detail="", decision=d.decision))
            else:  # accepting a photo with no class label: keep it rejected, and say why
                out.append(replace(v, decision=d.decision, detail=f"{v.detail}; accept needs a label (swift|wagonr)"))
    orphans = sorted(set(decisions) - seen)
    return out, orphans


def orphan_problems(orphans: Sequence[str], decisions_file: str) -> list[Problem]:
    return [Problem(decisions_file, 0, f"decision for {sha} matches no photo in the data; kept, not applied")
            for sha in orphans]
