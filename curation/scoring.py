"""Score curation against the demo marketplace's answer key (evaluation only).

Nothing in the pipeline decides anything from the answer key: this module
only measures (duplicate precision / recall overall and per re-upload edit,
whether a duplicate cluster keeps its untouched original, how early the review
shows the junk, what the quality checks cost per body-colour group) for
reports and tests. The one exception, the stand-in reviewer in
``curation.standin``, is named as such.
"""

from __future__ import annotations

import csv
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from math import comb
from pathlib import Path
from typing import Any

from curation.outputs import Curated, review_order
from curation.verdicts import Verdict

#: Verdict reasons that are not quality checks (every other automatic rejection is one).
NOT_QUALITY = frozenset({"", "unreadable", "exact-duplicate", "near-duplicate", "wrong-model", "manual"})
#: The colour groups of the answer key's ``colour_group`` column ("" for junk: no car body).
LIGHT_NEUTRAL = "white-silver-grey"


@dataclass(frozen=True)
class Truth:
    dup_group: str
    junk_kind: str  # "" | interior | wheel | lamp | document | scenery | other-model
    true_model: str
    variant: str = "original"  # how this copy was made from its group's original ("original": it is the original)
    colour_group: str = ""  # white-silver-grey | other | "" (junk, or an older key without the column)


def truth_from_rows(rows: Iterable[Mapping[str, str]]) -> dict[str, Truth]:
    """Truth by sha256. An exact copy shares its original's bytes: that sha256 counts as the original."""
    out: dict[str, Truth] = {}
    for r in rows:
        t = Truth(r["dup_group"], r["junk_kind"], r["true_model"], r.get("variant") or "original",
                  r.get("colour_group") or "")
        if r["sha256"] not in out or t.variant == "original":
            out[r["sha256"]] = t
    return out


def read_answer_key(path: Path) -> dict[str, Truth]:
    """Truth by sha256 from the answer key CSV (older keys without variant / colour columns still read)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return truth_from_rows(csv.DictReader(fh))


def _pairs(groups: Mapping[Any, int]) -> int:
    return sum(comb(n, 2) for n in groups.values())


def _first_verdicts(c: Curated) -> dict[str, Verdict]:
    """Each unique image's first occurrence (later occurrences are exact duplicates of it)."""
    first: dict[str, Verdict] = {}
    for v in c.verdicts:
        first.setdefault(v.photo.sha256, v)
    return first


def recall_by_variant(first: Mapping[str, Verdict], truth: Mapping[str, Truth]) -> dict[str, dict[str, float]]:
    """Per re-upload edit: of the edited copies whose original was curated too, the share in the original's cluster."""
    original = {t.dup_group: sha for sha, t in truth.items() if t.variant == "original" and sha in first}
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for sha, v in first.items():
        t = truth.get(sha)
        if t is None or t.variant == "original" or t.dup_group not in original:
            continue
        total[t.variant] += 1
        found[t.variant] += v.cluster_id == first[original[t.dup_group]].cluster_id
    return {k: {"copies": total[k], "recall": round(found[k] / total[k], 4)} for k in sorted(total)}


def keeps_original(first: Mapping[str, Verdict], truth: Mapping[str, Truth]) -> dict[str, object]:
    """Of the clusters holding an original and an edited copy of it: the share whose kept photo is the original.

    The kept photo of a cluster is the one member whose automatic verdict is not
    ``near-duplicate`` (the other members are near duplicates *of* it).
    """
    members: dict[str, list[str]] = defaultdict(list)
    for sha, v in first.items():
        members[v.cluster_id].append(sha)
    scored = kept_original = 0
    kept_instead: Counter[str] = Counter()
    for shas in members.values():
        originals = {truth[s].dup_group for s in shas if s in truth and truth[s].variant == "original"}
        copies = [s for s in shas if s in truth and truth[s].variant != "original" and truth[s].dup_group in originals]
        kept = [s for s in shas if first[s].auto_reason != "near-duplicate"]
        if not copies or len(kept) != 1:
            continue
        scored += 1
        t = truth.get(kept[0])
        if t is not None and t.variant == "original":
            kept_original += 1
        else:
            kept_instead[t.variant if t else "unknown"] += 1
    return {"clusters": scored, "share": round(kept_original / scored, 4) if scored else 1.0,
            "kept_instead": dict(sorted(kept_instead.items()))}


def share_read_for(order: Sequence[Verdict], truth: Mapping[str, Truth], catch: float = 0.95) -> tuple[float, int]:
    """Share of the automatically accepted photos, read in review order, that holds ``catch`` of their junk.

    Returns (share, accepted junk count); with no accepted junk nothing needs reading: (0.0, 0).
    """
    accepted = [v for v in order if v.auto_status != "rejected"]
    hits = [i for i, v in enumerate(accepted, start=1) if (t := truth.get(v.photo.sha256)) and t.junk_kind]
    if not hits:
        return 0.0, 0
    need = math.ceil(catch * len(hits) - 1e-9)
    return round(hits[need - 1] / len(accepted), 4), len(hits)


def quality_rejections_by_colour(first: Mapping[str, Verdict], truth: Mapping[str, Truth]
                                 ) -> dict[str, dict[str, object]]:
    """Per body-colour group: the share of true car photos (no junk, no re-upload) a quality check rejected,
    how many each check rejected, and the share a check in review mode flagged for a person instead."""
    total: Counter[str] = Counter()
    flagged: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = defaultdict(Counter)
    for sha, v in first.items():
        t = truth.get(sha)
        if t is None or t.junk_kind or t.variant != "original" or not t.colour_group:
            continue
        total[t.colour_group] += 1
        if v.auto_status == "rejected" and v.auto_reason not in NOT_QUALITY:
            reasons[t.colour_group][v.auto_reason] += 1
        flagged[t.colour_group] += bool(getattr(v, "flag", ""))  # verdicts without review mode have no flag
    return {g: {"photos": total[g], "rejected_share": round(sum(reasons[g].values()) / total[g], 4),
                "rejected_by_check": dict(sorted(reasons[g].items())),
                "flagged_share": round(flagged[g] / total[g], 4)} for g in sorted(total)}


TARGET_MODELS = ("swift", "wagonr")


def wrong_target(t: Truth | None, label: str) -> bool:
    """The photo shows the other target model than its listing's label: a relabel, not a reject."""
    return t is not None and t.true_model in TARGET_MODELS and label in TARGET_MODELS and t.true_model != label


def in_first_fifth(flags: Sequence[bool]) -> float | None:
    """The share of the flagged photos among the first 20% read (``flags`` in review order); None: nothing to find
    (after a full review, say)."""
    total = sum(flags)
    return round(sum(flags[: max(1, len(flags) // 5)]) / total, 4) if total else None


def read_for(flags: Sequence[bool], catch: float = 0.95) -> float | None:
    """The share of the photos read (``flags`` in review order) when ``catch`` of the flagged ones have been read."""
    hits = [i for i, f in enumerate(flags, start=1) if f]
    if not hits:
        return None
    return round(hits[math.ceil(catch * len(hits) - 1e-9) - 1] / len(flags), 4)


def audit_score(c: Curated, truth: Mapping[str, Truth]) -> dict[str, object]:
    """The review order and the audit's suggestions, over the accepted photos (first copies) in review order.

    Junk here is what a person should reject: the answer key's junk less the photos that show the *other* target
    model (those are scored as relabels). ``*_all`` figures count both as needing a person's action.
    """
    accepted = [v for v in review_order(c) if v.status == "accepted"]
    seen: set[str] = set()
    order = []
    for v in accepted:
        if v.photo.sha256 not in seen:
            seen.add(v.photo.sha256)
            order.append(v)
    n = len(order)
    relabel = [wrong_target(truth.get(v.photo.sha256), v.label) for v in order]
    junk = [bool((t := truth.get(v.photo.sha256)) and t.junk_kind) and not r for v, r in zip(order, relabel,
                                                                                               strict=True)]
    acted = [j or r for j, r in zip(junk, relabel, strict=True)]

    out: dict[str, object] = {"audited": bool(c.audit), "accepted_photos": n, "accepted_junk": sum(junk),
                              "accepted_wrong_target_model": sum(relabel),
                              "junk_in_first_20pct": in_first_fifth(junk),
                              "share_read_for_95pct_of_junk": read_for(junk),
                              "share_read_for_90pct_of_junk": read_for(junk, 0.9),
                              "needing_action_in_first_20pct_all": in_first_fifth(acted),
                              "share_read_for_95pct_all": read_for(acted)}
    if c.audit:
        rel_hit = rel_n = rej_hit = rej_n = 0
        for v, r, j in zip(order, relabel, junk, strict=True):
            a = c.audit.get(v.photo.sha256)
            if a is None or not a.suggestion:
                continue
            t = truth.get(v.photo.sha256)
            if a.suggestion.startswith("relabel"):
                rel_n += 1
                rel_hit += bool(r and t is not None and a.suggestion.endswith(t.true_model))
            else:
                rej_n += 1
                rej_hit += j
        found = sum(1 for v, r in zip(order, relabel, strict=True) if r and (a := c.audit.get(v.photo.sha256))
                    and (t := truth.get(v.photo.sha256)) and a.suggestion == f"relabel: {t.true_model}")
        out |= {"relabel_suggestions": rel_n, "relabel_precision": round(rel_hit / rel_n, 4) if rel_n else None,
                "relabel_recall": round(found / sum(relabel), 4) if sum(relabel) else None,
                "reject_suggestions": rej_n, "reject_precision": round(rej_hit / rej_n, 4) if rej_n else None,
                "reject_recall": round(rej_hit / sum(junk), 4) if sum(junk) else None}
    return out


def score(c: Curated, truth: dict[str, Truth]) -> dict[str, object]:
    """Duplicate pairs precision / recall over unique images, scenes merged, per-edit recall, kept originals,
    junk in the first 20% of the review and the share read to catch 95% of the accepted junk, colour cost."""
    first = _first_verdicts(c)
    cluster_of = {sha: v.cluster_id for sha, v in first.items()}
    known = [sha for sha in cluster_of if sha in truth]
    predicted = Counter(cluster_of[s] for s in known)
    actual = Counter(truth[s].dup_group for s in known)
    both = Counter((cluster_of[s], truth[s].dup_group) for s in known)
    tp, pred_pairs, true_pairs = _pairs(both), _pairs(predicted), _pairs(actual)
    groups_per_cluster = Counter(c_id for c_id, _ in both)
    full_order = review_order(c)
    order = list(dict.fromkeys(v.photo.sha256 for v in full_order))
    junk = {s for s in order if s in truth and truth[s].junk_kind}
    first20 = set(order[: max(1, len(order) // 5)])
    read95, accepted_junk = share_read_for(full_order, truth)
    keep = keeps_original(first, truth)
    return {
        "images_scored": len(known),
        "duplicate_precision": round(tp / pred_pairs, 4) if pred_pairs else 1.0,
        "duplicate_recall": round(tp / true_pairs, 4) if true_pairs else 1.0,
        "duplicate_recall_by_variant": recall_by_variant(first, truth),
        "clusters_mixing_scenes": sum(1 for n in groups_per_cluster.values() if n > 1),
        "keeps_original_share": keep["share"],
        "keeps_original": keep,
        "junk_images": len(junk),
        "junk_in_first_20pct_of_review": round(len(junk & first20) / len(junk), 4) if junk else 0.0,
        "accepted_junk": accepted_junk,
        "share_read_for_95pct_of_accepted_junk": read95,
        "junk_still_accepted": sum(1 for v in c.verdicts if v.status == "accepted" and v.photo.sha256 in junk),
        "quality_rejected_by_colour": quality_rejections_by_colour(first, truth),
    }
