"""``data/curation/decisions.csv``: a person's review decisions, read defensively.

People edit this file in Excel or LibreOffice, so the reader accepts a BOM,
CRLF line ends and a ``;`` delimiter. Every problem is reported with the file,
row and value. Rows that cannot be understood are skipped and reported; a
missing column or one image given two different decisions stops the run
(there is no safe guess), before anything is written.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path

DECISIONS = ("accept", "reject", "relabel")
CLASS_LABELS = ("swift", "wagonr")
_SHA = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Decision:
    sha256: str
    decision: str  # accept | reject | relabel
    label: str  # for relabel (and optionally accept): swift | wagonr
    reason: str  # for reject: why (free text, e.g. interior)
    note: str


COLUMNS = [f.name for f in fields(Decision)]
REQUIRED = ("sha256", "decision")


@dataclass(frozen=True)
class Problem:
    file: str
    row: int  # 1-based line number in the file (header is row 1); 0 for the whole file
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, row {self.row}" if self.row else self.file
        return f"{where}: {self.message}"


class DecisionsError(Exception):
    """decisions.csv cannot be used safely; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def read_table(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs of a person-edited CSV (BOM, CRLF, ``,`` or ``;``)."""
    text = path.read_text(encoding="utf-8-sig")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    rows = [(reader.line_num, {k: (v or "").strip() for k, v in rec.items() if k is not None})
            for rec in reader]
    return header, rows


def read_decisions(path: Path) -> tuple[dict[str, Decision], list[Problem]]:
    """Decisions by sha256, plus problems with rows that were skipped.

    Raises :class:`DecisionsError` for a missing column or conflicting decisions.
    A missing file means no decisions yet.
    """
    if not path.exists():
        return {}, []
    name = str(path)
    header, rows = read_table(path)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise DecisionsError([Problem(name, 1, f"missing column {', '.join(missing)} (header: {', '.join(header)})")])
    out: dict[str, Decision] = {}
    where: dict[str, int] = {}
    problems: list[Problem] = []
    conflicts: list[Problem] = []
    for line, rec in rows:
        sha = rec.get("sha256", "").lower()
        d = Decision(sha, rec.get("decision", "").lower(), rec.get("label", "").lower(),
                     rec.get("reason", ""), rec.get("note", ""))
        if not any(rec.values()):
            continue
        if not _SHA.match(sha):
            problems.append(Problem(name, line, f"sha256 {rec.get('sha256', '')!r} is not 64 hex digits; row skipped"))
            continue
        if d.decision not in DECISIONS:
            problems.append(Problem(name, line, f"unknown decision {d.decision!r} (use {', '.join(DECISIONS)}); "
                                                "row skipped"))
            continue
        if (d.label or d.decision == "relabel") and d.label not in CLASS_LABELS:
            problems.append(Problem(name, line, f"unknown label {d.label!r} (use {', '.join(CLASS_LABELS)}); "
                                                "row skipped"))
            continue
        if sha in out and out[sha] != d:
            conflicts.append(Problem(name, line, f"sha256 {sha[:12]}... already has a different decision on row "
                                                 f"{where[sha]} ({out[sha].decision} vs {d.decision})"))
            continue
        out[sha] = d
        where[sha] = line
    if conflicts:
        raise DecisionsError(conflicts)
    return out, problems


def write_decisions(path: Path, decisions: dict[str, Decision]) -> None:
    """Write decisions (sorted by sha256) atomically; callers merge, never drop, existing rows."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for sha in sorted(decisions):
        writer.writerow(asdict(decisions[sha]))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.part")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    os.replace(tmp, path)
