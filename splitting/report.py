"""The split report: counts per split, class and region, the region mix and the leakage check."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from splitting.leakage import Leak
from splitting.records import ALL_SPLITS, SPLITS, Photo


@dataclass(frozen=True)
class SplitResult:
    splits: dict[str, list[Photo]]  # train, val, test, holdout
    unused: int  # main-site photos in no split (surplus, or the rest of a group cut short)
    shared_with_main: int  # holdout-site photos dropped because a duplicate cluster links them to the main site
    leaks: list[Leak]
    accepted_mix: dict[str, float]  # region shares of all accepted main-site photos


def region_mix(photos: Sequence[Photo]) -> dict[str, float]:
    counts = Counter(p.region for p in photos)
    total = sum(counts.values()) or 1
    return {r: round(n / total, 4) for r, n in sorted(counts.items())}


def summary(r: SplitResult) -> dict[str, object]:
    overall = r.accepted_mix
    counts = {s: dict(sorted(Counter(p.label for p in r.splits[s]).items())) for s in ALL_SPLITS}
    mixes = {s: region_mix(r.splits[s]) for s in ALL_SPLITS}
    deviation = max((abs(mixes[s].get(reg, 0.0) - share) for s in SPLITS for reg, share in overall.items()),
                    default=0.0)
    return {
        "counts": counts,
        "totals": {s: len(r.splits[s]) for s in ALL_SPLITS},
        "region_mix": mixes,
        "region_mix_overall": overall,
        "region_mix_max_deviation": round(deviation, 4),
        "by_region": {s: dict(sorted(Counter(f"{p.region}/{p.label}" for p in r.splits[s]).items()))
                      for s in ALL_SPLITS},
        "unused": r.unused,
        "holdout_shared_with_main": r.shared_with_main,
        "leaks": len(r.leaks),
    }


def report_json(r: SplitResult) -> str:
    return json.dumps(summary(r), indent=2, sort_keys=True) + "\n"


def report_md(r: SplitResult) -> str:
    s = summary(r)
    counts: dict[str, dict[str, int]] = s["counts"]  # type: ignore[assignment]
    mixes: dict[str, dict[str, float]] = s["region_mix"]  # type: ignore[assignment]
    labels = sorted({lab for c in counts.values() for lab in c})
    regions = sorted({reg for m in mixes.values() for reg in m})
    lines = ["# Split report", "", "## Photos per split and class", "",
             "| split | " + " | ".join(labels) + " | total |", "|---" * (len(labels) + 2) + "|"]
    for sp in ALL_SPLITS:
        lines.append(f"| {sp} | " + " | ".join(str(counts[sp].get(lab, 0)) for lab in labels)
                     + f" | {sum(counts[sp].values())} |")
    lines += ["", "## Region mix (share of each split's photos)", "",
              "| split | " + " | ".join(regions) + " |", "|---" * (len(regions) + 1) + "|"]
    for sp in (*ALL_SPLITS, "accepted"):
        mix = s["region_mix_overall"] if sp == "accepted" else mixes[sp]
        assert isinstance(mix, dict)
        lines.append(f"| {sp} | " + " | ".join(f"{mix.get(reg, 0.0):.3f}" for reg in regions) + " |")
    lines += ["", f"Largest gap between a split's region share and that of all accepted main-site photos: "
                  f"{s['region_mix_max_deviation']:.3f}.", "",
              "## Leakage check", "",
              f"- near duplicates of a train photo in val, test or holdout: **{len(r.leaks)}**",
              "- photos of one listing or one duplicate cluster are always in one split",
              f"- holdout-site photos left out because a duplicate links them to the main site: {r.shared_with_main}",
              f"- main-site photos in no split (surplus, or the rest of a group cut short): {r.unused}", ""]
    return "\n".join(lines)
