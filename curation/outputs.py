"""Write curation's outputs: accepted / rejected / clusters / verdicts / review CSVs, the report and the contact sheet.

Everything is written to temporary files first and renamed at the end, so a
failed or interrupted run leaves the previous outputs whole.

``verdicts.csv`` holds every photo occurrence with its verdicts in manifest order; the audit stage reads it back
(:func:`read_verdicts`) to write the review in the audit's order without curating again.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from carid.atomic import write_texts
from curation.audit import AuditRow
from curation.decisions import Decision, Problem, read_table
from curation.manifests import Photo
from curation.verdicts import Verdict

ACCEPTED_COLUMNS = ["sha256", "path", "label", "site", "region", "listing_id", "cluster_id"]
REJECTED_COLUMNS = [*ACCEPTED_COLUMNS, "reason", "detail"]
#: ``suggestion`` .. ``near_wagonr`` come from the audit (empty without one); a person puts yes in
#: ``accept_suggestion`` (and runs ``carid curate fold``) to make a suggestion their decision.
REVIEW_COLUMNS = ["rank", "suspicion", "sha256", "path", "site", "region", "listing_id", "label", "auto_verdict",
                  "auto_reason", "auto_detail", "flag", "cluster_id", "verdict", "suggestion", "suggestion_reason",
                  "accept_suggestion", "decision", "decision_label", "decision_reason", "note", "near_swift",
                  "near_wagonr"]
VERDICT_COLUMNS = ["sha256", "path", "site", "region", "listing_id", "photo_label", "width", "height", "source",
                   "status", "label", "reason", "detail", "auto_status", "auto_reason", "auto_detail", "cluster_id",
                   "decision", "flag", "layout_suspicion"]


@dataclass(frozen=True)
class Curated:
    verdicts: list[Verdict]
    suspicion: dict[str, float]  # by sha256: the colour-layout outlier score (curation.suspicion)
    problems: list[Problem]
    orphans: list[str]
    decisions: dict[str, Decision]
    audit: dict[str, AuditRow] = field(default_factory=dict)  # by sha256 (accepted photos); empty: no audit

    def order_score(self, sha256: str) -> float:
        """The score the review sorts by: the audit's suspicion where there is an audit, else the layout score."""
        row = self.audit.get(sha256)
        return row.suspicion if row is not None else self.suspicion.get(sha256, 0.0)


def csv_text(columns: Sequence[str], rows: Sequence[dict[str, object]]) -> str:
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
    of one duplicate cluster stay together (a cluster counts as flagged when one member is), kept photo first.

    With an audit, clusters holding an audited (accepted) photo come first, by the audit's suspicion; clusters of
    rejected photos only follow, by the colour-layout score. Without one, every cluster goes by the layout score."""
    cluster_score: dict[str, float] = {}
    flagged: set[str] = set()
    audited: set[str] = set()
    for v in c.verdicts:
        if v.photo.sha256 in c.audit:
            audited.add(v.cluster_id)
    for v in c.verdicts:
        sha = v.photo.sha256
        # a rejected copy of an audited photo follows its cluster's audited score
        s = 0.0 if v.cluster_id in audited and sha not in c.audit else c.order_score(sha)
        cluster_score[v.cluster_id] = max(cluster_score.get(v.cluster_id, 0.0), s)
        if v.flag:
            flagged.add(v.cluster_id)
    has_audit = bool(c.audit)
    return sorted(c.verdicts, key=lambda v: (v.cluster_id not in flagged, has_audit and v.cluster_id not in audited,
                                             -cluster_score[v.cluster_id], v.cluster_id, v.auto_reason != "",
                                             v.photo.sha256, v.photo.source))


def review_rows(c: Curated) -> list[dict[str, object]]:
    rows = []
    for rank, v in enumerate(review_order(c), start=1):
        d = c.decisions.get(v.photo.sha256)
        a = c.audit.get(v.photo.sha256)
        # one scale in the column: with an audit, only the audited photos carry a suspicion
        shown = "" if c.audit and a is None else f"{c.order_score(v.photo.sha256):.3f}"
        rows.append({**_row(v), "rank": rank, "suspicion": shown,
                     "label": v.photo.label, "auto_verdict": v.auto_status, "auto_reason": v.auto_reason,
                     "auto_detail": v.auto_detail, "flag": v.flag, "verdict": v.status,
                     "suggestion": a.suggestion if a else "", "suggestion_reason": a.suggestion_reason if a else "",
                     "accept_suggestion": "", "near_swift": a.near_swift if a else "",
                     "near_wagonr": a.near_wagonr if a else "",
                     "decision": d.decision if d else "", "decision_label": d.label if d else "",
                     "decision_reason": d.reason if d else "", "note": d.note if d else ""})
    return rows


def verdict_rows(c: Curated) -> list[dict[str, object]]:
    """verdicts.csv: every photo occurrence in manifest order, everything :func:`read_verdicts` needs."""
    return [{**_row(v), "photo_label": v.photo.label, "width": v.photo.width, "height": v.photo.height,
             "source": v.photo.source, "status": v.status, "auto_status": v.auto_status,
             "auto_reason": v.auto_reason, "auto_detail": v.auto_detail, "decision": v.decision, "flag": v.flag,
             "layout_suspicion": f"{c.suspicion.get(v.photo.sha256, 0.0):.4f}"} for v in c.verdicts]


class VerdictsError(Exception):
    """verdicts.csv is missing or unusable; the message says what to run."""


def read_verdicts(path: Path, decisions: dict[str, Decision]) -> Curated:
    """A :class:`Curated` back from verdicts.csv (no problems, no orphans: those stay in curate's report)."""
    if not path.is_file():
        raise VerdictsError(f"no {path}: run `carid curate run` first")
    header, rows = read_table(path)
    missing = [col for col in VERDICT_COLUMNS if col not in header]
    if missing:
        raise VerdictsError(f"{path}, row 1: missing column {', '.join(missing)}; run `carid curate run` again")
    verdicts: list[Verdict] = []
    suspicion: dict[str, float] = {}
    for line, r in rows:
        try:
            photo = Photo(r["sha256"], r["path"], r["site"], r["region"], r["listing_id"], r["photo_label"],
                          int(r["width"] or 0), int(r["height"] or 0), r["source"])
            suspicion[photo.sha256] = float(r["layout_suspicion"] or 0.0)
        except ValueError as exc:
            raise VerdictsError(f"{path}, row {line}: {exc}; run `carid curate run` again") from None
        verdicts.append(Verdict(photo, r["status"], r["label"], r["reason"], r["detail"], r["auto_status"],
                                r["auto_reason"], r["auto_detail"], r["cluster_id"], r["decision"], r["flag"]))
    return Curated(verdicts, suspicion, [], [], decisions)


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


_NEAR_STYLE = ("<style>.nb{display:flex;gap:2px;align-items:center;font-size:10px}.nb img{width:54px;height:41px;"
               "object-fit:cover}.sugg{color:#a00;font-weight:bold}</style>")


def _neighbours_html(c: Curated, a: AuditRow, rel: Path, paths: dict[str, str]) -> str:
    """The photo's nearest accepted photos of each class, as small thumbnails."""
    out = []
    for cls, shas in (("swift", a.near_swift), ("wagonr", a.near_wagonr)):
        imgs = "".join(f"<img loading='lazy' src='{html.escape((rel / paths[s]).as_posix())}' alt='' "
                       f"title='{s[:12]}'>" for s in shas.split() if s in paths)
        out.append(f"<div class='nb'>{cls}: {imgs}</div>")
    return "".join(out)


def contact_sheet_html(c: Curated, out_dir: Path, root: Path) -> str:
    """Thumbnails grouped by duplicate cluster, most suspicious first; images linked, not copied. With an audit,
    each audited photo shows the suggested action and its nearest accepted photos of each class."""
    rel = Path(os.path.relpath(root.resolve(), out_dir.resolve()))
    groups: dict[str, list[Verdict]] = {}
    for v in review_order(c):
        groups.setdefault(v.cluster_id, []).append(v)
    paths = {v.photo.sha256: v.photo.path for v in c.verdicts}
    order = ("Photos the audit suspects most first (accepted photos), then the rejected ones" if c.audit else
             "Flagged photos first, then most suspicious first")
    parts = [f"<html><head><meta charset='utf-8'><title>carid review sheet</title>{_STYLE}{_NEAR_STYLE}</head><body>",
             f"<h1>Review sheet</h1><p>{order}; a box is one duplicate cluster. "
             "Copy a row of "
             "review.csv into data/curation/decisions.csv (or edit review.csv and run "
             "<code>carid curate fold</code>; <code>yes</code> in accept_suggestion takes the audit's suggestion) "
             "to accept, reject or relabel a photo.</p><div class='sheet'>"]
    for cid, members in groups.items():
        cells = []
        for v in members:
            src = html.escape((rel / v.photo.path).as_posix())
            auto = html.escape(f"auto: {v.auto_status} {v.auto_reason} {v.auto_detail}".strip())
            if v.flag:
                auto += f"<br><b>flagged</b>: {html.escape(v.flag)}"
            person = f"<br>decision: {html.escape(v.decision)}" if v.decision else ""
            a = c.audit.get(v.photo.sha256)
            audit = ""
            if a is not None:
                if a.suggestion:
                    audit += (f"<br><span class='sugg'>{html.escape(a.suggestion)}</span>: "
                              f"{html.escape(a.suggestion_reason)}")
                audit += _neighbours_html(c, a, rel, paths)
            cells.append(f"<div class='ph {v.status}'><img loading='lazy' src='{src}' alt=''>"
                         f"<br><b>{v.status}</b> {html.escape(v.label)} s={c.order_score(v.photo.sha256):.2f}"
                         f"<br>{auto}{person}{audit}<br><code>{v.photo.sha256}</code></div>")
        parts.append(f"<div class='cl' title='{cid}'>{''.join(cells)}</div>")
    parts.append("</div></body></html>")
    return "\n".join(parts)


def review_files(c: Curated, out_dir: Path, root: Path) -> dict[str, str]:
    """review.csv and review.html (the contact sheet), in review order."""
    return {"review.csv": csv_text(REVIEW_COLUMNS, review_rows(c)),
            "review.html": contact_sheet_html(c, out_dir, root)}


def write_all(c: Curated, out_dir: Path, root: Path, extra: dict[str, object] | None = None,
              review: bool = True) -> None:
    """Write every output atomically: all temp files first, then all renames. ``review``: also review.csv and
    review.html (in the colour-layout order: the audit stage writes them in its own order)."""
    acc = [_row(v) for v in c.verdicts if v.status == "accepted"]
    rej = [_row(v) for v in c.verdicts if v.status == "rejected"]
    clusters = [{"cluster_id": v.cluster_id, "sha256": v.photo.sha256, "kept": v.auto_reason != "near-duplicate"}
                for v in c.verdicts]
    files = {
        "accepted.csv": csv_text(ACCEPTED_COLUMNS, acc),
        "rejected.csv": csv_text(REJECTED_COLUMNS, rej),
        "clusters.csv": csv_text(["cluster_id", "sha256", "kept"],
                                  sorted({tuple(r.items()): r for r in clusters}.values(),
                                         key=lambda r: (str(r["cluster_id"]), str(r["sha256"])))),
        "verdicts.csv": csv_text(VERDICT_COLUMNS, verdict_rows(c)),
        "report.json": json.dumps({**counts(c), "answer_key": extra or {}}, indent=2, sort_keys=True) + "\n",
        "report.html": report_html(c, extra),
    }
    if review:
        files.update(review_files(c, out_dir, root))
    write_texts(out_dir, files)
