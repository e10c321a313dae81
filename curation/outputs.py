"""Write curation's outputs: accepted / rejected / clusters / review CSVs, the report and the contact sheet.

Everything is written to temporary files first and renamed at the end, so a
failed or interrupted run leaves the previous outputs whole.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from carid.atomic import write_texts
from curation.decisions import Decision, Problem
from curation.verdicts import Verdict

ACCEPTED_COLUMNS = ["sha256", "path", "label", "site", "region", "listing_id", "cluster_id"]
REJECTED_COLUMNS = [*ACCEPTED_COLUMNS, "reason", "detail"]
REVIEW_COLUMNS = ["rank", "suspicion", "sha256", "path", "site", "region", "listing_id", "label", "auto_verdict",
                  "auto_reason", "auto_detail", "flag", "cluster_id", "verdict", "decision", "decision_label",
                  "decision_reason", "note"]


@dataclass(frozen=True)
class Curated:
    verdicts: list[Verdict]
    suspicion: dict[str, float]  # by sha256
    problems: list[Problem]
    orphans: list[str]
    decisions: dict[str, Decision]


def _csv_text(columns: Sequence[str], rows: Sequence[dict[str, object]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _row(v: Verdict) -> dict[str, object]:
    p = v.photo
    return {"sha256": p.sha256, "path": p.path, "label": v.label, "site": p.site, "region": p.region,
            "listing_id": p.listing_id, "cluster_id": v.cluster_id, "reason": v.reason, "detail": v.detail}


def review_order(c: Curated) -> list[Verdict]:
    """Flagged first (a photo that failed a quality check set to ``review``), then most suspicious first; members
    of one duplicate cluster stay together (a cluster counts as flagged when one member is), kept photo first."""
    cluster_score: dict[str, float] = {}
    flagged: set[str] = set()
    for v in c.verdicts:
        s = c.suspicion.get(v.photo.sha256, 0.0)
        cluster_score[v.cluster_id] = max(cluster_score.get(v.cluster_id, 0.0), s)
        if v.flag:
            flagged.add(v.cluster_id)
    return sorted(c.verdicts, key=lambda v: (v.cluster_id not in flagged, -cluster_score[v.cluster_id],
                                             v.cluster_id, v.auto_reason != "", v.photo.sha256, v.photo.source))


def review_rows(c: Curated) -> list[dict[str, object]]:
    rows = []
    for rank, v in enumerate(review_order(c), start=1):
        d = c.decisions.get(v.photo.sha256)
        rows.append({**_row(v), "rank": rank, "suspicion": f"{c.suspicion.get(v.photo.sha256, 0.0):.3f}",
                     "label": v.photo.label, "auto_verdict": v.auto_status, "auto_reason": v.auto_reason,
                     "auto_detail": v.auto_detail, "flag": v.flag, "verdict": v.status,
                     "decision": d.decision if d else "", "decision_label": d.label if d else "",
                     "decision_reason": d.reason if d else "", "note": d.note if d else ""})
    return rows


def counts(c: Curated) -> dict[str, object]:
    acc = [v for v in c.verdicts if v.status == "accepted"]
    rej = [v for v in c.verdicts if v.status == "rejected"]
    return {
        "photos": len(c.verdicts), "accepted": len(acc), "rejected": len(rej),
        "rejected_by_reason": dict(sorted(Counter(v.reason for v in rej).items())),
        "flagged_for_review": sum(1 for v in c.verdicts if v.flag),
        "flagged_accepted_by_check": dict(sorted(Counter(part.split(":")[0] for v in acc if v.flag
                                                         for part in v.flag.split("; ")).items())),
        "accepted_by_label": dict(sorted(Counter(v.label for v in acc).items())),
        "accepted_by_site_region": dict(sorted(Counter(f"{v.photo.site}/{v.photo.region}" for v in acc).items())),
        "all_by_site_region": dict(sorted(Counter(f"{v.photo.site}/{v.photo.region}" for v in c.verdicts).items())),
        "clusters_with_duplicates": sum(1 for n in Counter(v.cluster_id for v in c.verdicts).values() if n > 1),
        "decisions_applied": sum(1 for v in c.verdicts if v.decision),
        "orphaned_decisions": len(c.orphans), "problems": len(c.problems),
    }


def _table(title: str, data: dict[str, object]) -> str:
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{v}</td></tr>" for k, v in data.items())
    return f"<h2>{html.escape(title)}</h2><table>{rows}</table>"


_STYLE = ("<style>body{font-family:system-ui,sans-serif;margin:20px}table{border-collapse:collapse}"
          "td{border:1px solid #ccc;padding:2px 8px}.sheet{display:flex;flex-wrap:wrap;gap:6px}"
          ".cl{border:2px solid #888;padding:3px;display:flex;gap:3px}.ph{width:168px;font-size:11px}"
          ".ph img{width:164px;height:123px;object-fit:cover}.rejected{background:#fdd}.accepted{background:#dfd}"
          "code{font-size:10px;word-break:break-all}</style>")


def report_html(c: Curated, extra: dict[str, object] | None = None) -> str:
    n = counts(c)
    parts = [f"<html><head><meta charset='utf-8'><title>carid curation report</title>{_STYLE}</head><body>",
             "<h1>Curation report</h1>",
             _table("Totals", {k: v for k, v in n.items() if not isinstance(v, dict)})]
    for key in ("rejected_by_reason", "flagged_accepted_by_check", "accepted_by_label", "accepted_by_site_region",
                "all_by_site_region"):
        parts.append(_table(key.replace("_", " "), n[key]))  # type: ignore[arg-type]
    if extra:
        parts.append(_table("Measured against the demo's answer key", extra))
    if c.orphans:
        parts.append("<h2>Orphaned decisions (kept in decisions.csv, not applied)</h2><ul>"
                     + "".join(f"<li><code>{s}</code></li>" for s in c.orphans) + "</ul>")
    if c.problems:
        parts.append("<h2>Problems</h2><ul>" + "".join(f"<li>{html.escape(str(p))}</li>" for p in c.problems)
                     + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def contact_sheet_html(c: Curated, out_dir: Path, root: Path) -> str:
    """Thumbnails grouped by duplicate cluster, most suspicious first; images linked, not copied."""
    rel = Path(os.path.relpath(root.resolve(), out_dir.resolve()))
    groups: dict[str, list[Verdict]] = {}
    for v in review_order(c):
        groups.setdefault(v.cluster_id, []).append(v)
    parts = [f"<html><head><meta charset='utf-8'><title>carid review sheet</title>{_STYLE}</head><body>",
             "<h1>Review sheet</h1><p>Flagged photos first, then most suspicious first; a box is one duplicate "
             "cluster. "
             "Copy a row of "
             "review.csv into data/curation/decisions.csv (or edit review.csv and run "
             "<code>carid curate fold</code>) to accept, reject or relabel a photo.</p><div class='sheet'>"]
    for cid, members in groups.items():
        cells = []
        for v in members:
            src = html.escape((rel / v.photo.path).as_posix())
            auto = html.escape(f"auto: {v.auto_status} {v.auto_reason} {v.auto_detail}".strip())
            if v.flag:
                auto += f"<br><b>flagged</b>: {html.escape(v.flag)}"
            person = f"<br>decision: {html.escape(v.decision)}" if v.decision else ""
            cells.append(f"<div class='ph {v.status}'><img loading='lazy' src='{src}' alt=''>"
                         f"<br><b>{v.status}</b> {html.escape(v.label)} s={c.suspicion.get(v.photo.sha256, 0):.2f}"
                         f"<br>{auto}{person}<br><code>{v.photo.sha256}</code></div>")
        parts.append(f"<div class='cl' title='{cid}'>{''.join(cells)}</div>")
    parts.append("</div></body></html>")
    return "\n".join(parts)


def write_all(c: Curated, out_dir: Path, root: Path, extra: dict[str, object] | None = None) -> None:
    """Write every output atomically: all temp files first, then all renames."""
    acc = [_row(v) for v in c.verdicts if v.status == "accepted"]
    rej = [_row(v) for v in c.verdicts if v.status == "rejected"]
    clusters = [{"cluster_id": v.cluster_id, "sha256": v.photo.sha256, "kept": v.auto_reason != "near-duplicate"}
                for v in c.verdicts]
    files = {
        "accepted.csv": _csv_text(ACCEPTED_COLUMNS, acc),
        "rejected.csv": _csv_text(REJECTED_COLUMNS, rej),
        "clusters.csv": _csv_text(["cluster_id", "sha256", "kept"],
                                  sorted({tuple(r.items()): r for r in clusters}.values(),
                                         key=lambda r: (str(r["cluster_id"]), str(r["sha256"])))),
        "review.csv": _csv_text(REVIEW_COLUMNS, review_rows(c)),
        "report.json": json.dumps({**counts(c), "answer_key": extra or {}}, indent=2, sort_keys=True) + "\n",
        "report.html": report_html(c, extra),
        "review.html": contact_sheet_html(c, out_dir, root),
    }
    write_texts(out_dir, files)
