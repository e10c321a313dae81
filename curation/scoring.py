"""Score curation against the demo marketplace's answer key (evaluation only).

Nothing in the pipeline decides anything from the answer key: this module
only measures (duplicate precision / recall, junk found early in the review)
for reports and tests. The one exception, the stand-in reviewer in
``curation.standin``, is named as such.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from math import comb
from pathlib import Path
from typing import Any

from curation.outputs import Curated, review_order


@dataclass(frozen=True)
class Truth:
    dup_group: str
    junk_kind: str  # "" | interior | wheel | lamp | document | scenery | other-model
    true_model: str


def read_answer_key(path: Path) -> dict[str, Truth]:
    """Truth by sha256 (exact copies share a sha256 and a duplicate group)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {r["sha256"]: Truth(r["dup_group"], r["junk_kind"], r["true_model"]) for r in csv.DictReader(fh)}


def _pairs(groups: Mapping[Any, int]) -> int:
    return sum(comb(n, 2) for n in groups.values())


def score(c: Curated, truth: dict[str, Truth]) -> dict[str, object]:
    """Duplicate pairs precision / recall over unique images, scenes merged, junk in the first 20%."""
    cluster_of = {v.photo.sha256: v.cluster_id for v in c.verdicts}
    known = [sha for sha in cluster_of if sha in truth]
    predicted = Counter(cluster_of[s] for s in known)
    actual = Counter(truth[s].dup_group for s in known)
    both = Counter((cluster_of[s], truth[s].dup_group) for s in known)
    tp, pred_pairs, true_pairs = _pairs(both), _pairs(predicted), _pairs(actual)
    groups_per_cluster = Counter(c_id for c_id, _ in both)
    order = list(dict.fromkeys(v.photo.sha256 for v in review_order(c)))
    junk = {s for s in order if s in truth and truth[s].junk_kind}
    first = set(order[: max(1, len(order) // 5)])
    return {
        "images_scored": len(known),
        "duplicate_precision": round(tp / pred_pairs, 4) if pred_pairs else 1.0,
        "duplicate_recall": round(tp / true_pairs, 4) if true_pairs else 1.0,
        "clusters_mixing_scenes": sum(1 for n in groups_per_cluster.values() if n > 1),
        "junk_images": len(junk),
        "junk_in_first_20pct_of_review": round(len(junk & first) / len(junk), 4) if junk else 0.0,
        "junk_still_accepted": sum(1 for v in c.verdicts if v.status == "accepted" and v.photo.sha256 in junk),
    }
