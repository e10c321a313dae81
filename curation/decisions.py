"""``data/curation/decisions.csv``: a person's review decisions, read defensively.

People edit this file in Excel or LibreOffice, so the reader accepts a BOM,
CRLF line ends and a ``;`` delimiter. Every problem is reported with the file,
row and value. Rows that cannot be understood are skipped and reported; a
missing column or one image given two different decisions stops the run
(there is no safe guess), before anything is written.
"""

from __future__ import annotations

import bisect
import csv
import ctypes
import errno
import io
import os
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import filelock

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
    return parse_table(path.read_bytes())


def parse_table(data: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """:func:`read_table` on a file's bytes."""
    text = data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")  # as universal newlines read it
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
    header, rows = read_table(path)
    return parse_decisions(str(path), header, rows)


def parse_decisions(name: str, header: list[str], rows: list[tuple[int, dict[str, str]]]
                    ) -> tuple[dict[str, Decision], list[Problem]]:
    """Validate the rows of a decisions table (see :func:`read_decisions`)."""
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
    with decisions_lock(path):
        tmp = path.with_suffix(".csv.part")
        tmp.write_text(buf.getvalue(), encoding="utf-8")
        os.replace(tmp, path)


# --- Changing decisions.csv while people and tools edit it -------------------------------------------------------

#: How long a writer waits for another writer's lock before giving up.
LOCK_TIMEOUT_S = 10.0


class StaleDecisionError(Exception):
    """A conditional change found a different decision in the file than the caller expected; nothing was written."""


@dataclass(frozen=True)
class FileVersion:
    """What identifies one saved state of decisions.csv (changes with every save, by any program)."""

    mtime_ns: int
    size: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> FileVersion | None:
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        return cls(st.st_mtime_ns, st.st_size, st.st_ino)

    def tag(self) -> str:
        return f"{self.mtime_ns:x}-{self.size:x}-{self.inode:x}"


@dataclass(frozen=True)
class Updated:
    """decisions.csv after a change: every valid decision in it, problems with skipped rows, its version."""

    decisions: dict[str, Decision]
    problems: list[Problem]
    version: FileVersion | None
    before: FileVersion | None = None  # the version the change was merged into (None: it changed meanwhile)


def lock_path(path: Path) -> Path:
    """The lock file beside decisions.csv (git-ignored, like everything in data/curation but decisions.csv)."""
    return path.with_name(f".{path.name}.lock")


def decisions_lock(path: Path, timeout: float = LOCK_TIMEOUT_S) -> filelock.FileLock:
    """An inter-process lock (``filelock``) that every carid writer of ``path`` takes; editors do not need it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return filelock.FileLock(str(lock_path(path)), timeout=timeout, poll_interval=0.005)


Key = tuple[int, str, int]  # a row's place in the written file: (0, sha256, n) by sha256, then (1, "", n)


@dataclass(frozen=True)
class _Parsed:
    """A decisions file's bytes and what they mean, kept after carid writes it so the next write need not parse."""

    data: bytes | None
    columns: list[str]  # as written: COLUMNS, then any column a person added
    keys: list[Key]  # one per non-blank row; sorted once carid has written the file (``ordered``)
    recs: list[dict[str, str]]
    texts: list[str]  # each row as one CSV record in the written column order ("" until written)
    current: dict[str, Decision]
    problems: list[Problem]
    flagged: dict[Key, str]  # rows the reader skipped, with why
    ordered: bool


_LAST: dict[str, _Parsed] = {}  # by file name: the last text carid wrote there, parsed


def _parse(name: str, data: bytes | None) -> _Parsed:
    """What ``data`` holds (raises DecisionsError like read_decisions); free when it is what carid last wrote."""
    last = _LAST.get(name)
    if last is not None and last.data == data:
        return last
    header, rows = parse_table(data) if data is not None else (list(COLUMNS), [])
    current, problems = parse_decisions(name, header, rows)
    columns = [*COLUMNS, *(h for h in header if h and h not in COLUMNS)]
    keys: list[Key] = []
    recs = []
    for line, rec in rows:
        if any(rec.values()):
            sha = rec.get("sha256", "").lower()
            keys.append((0, sha, line) if _SHA.match(sha) else (1, "", line))
            recs.append(rec)
    at = {k[2]: k for k in keys}
    flagged = {at[p.row]: p.message for p in problems if p.row in at}
    return _Parsed(data, columns, keys, recs, [""] * len(keys), current, problems, flagged, False)


def decisions_in(name: str, data: bytes | None) -> tuple[dict[str, Decision], list[Problem]]:
    """:func:`read_decisions` on a file's bytes (None: no file); free when they are what carid last wrote there."""
    parsed = _parse(name, data)
    return parsed.current, parsed.problems


def _record(columns: list[str], rec: Mapping[str, str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([rec.get(c, "") for c in columns])
    return buf.getvalue()


def _normal(d: Decision) -> Decision:
    """A decision as the reader returns it once written (trimmed, lower-case keywords)."""
    return Decision(d.sha256.strip().lower(), d.decision.strip().lower(), d.label.strip().lower(), d.reason.strip(),
                    d.note.strip())


def _merged(name: str, parsed: _Parsed, changes: Mapping[str, Decision | None]) -> tuple[bytes, _Parsed | None]:
    """The file with ``changes`` applied, other rows kept as they were (unreadable ones and extra columns too),
    and what it will read as (None where that cannot be known without reading it)."""
    columns = parsed.columns
    if parsed.ordered:  # carid's own file: splice the changed rows in, nothing else is touched
        keys, recs, texts = list(parsed.keys), list(parsed.recs), list(parsed.texts)
    else:  # first write of a file someone else saved: sort it once, write every row
        order = sorted(range(len(parsed.keys)), key=parsed.keys.__getitem__)
        keys = [parsed.keys[i] for i in order]
        recs = [parsed.recs[i] for i in order]
        texts = [_record(columns, parsed.recs[i]) for i in order]
    fresh = []
    for sha, d in changes.items():
        lo, hi = bisect.bisect_left(keys, (0, sha, -1)), bisect.bisect_right(keys, (0, sha, sys.maxsize))
        del keys[lo:hi], recs[lo:hi], texts[lo:hi]
        if d is not None:
            rec = {c: "" for c in columns}
            rec.update(sha256=sha, decision=d.decision, label=d.label, reason=d.reason, note=d.note)
            text = _record(columns, rec)
            keys.insert(lo, (0, sha, 0))
            recs.insert(lo, rec)
            texts.insert(lo, text)
            fresh.append(text)
    body = _record(columns, {c: c for c in columns}) + "".join(texts)
    data = body.encode("utf-8")
    if any("\r" in t for t in fresh) or (not parsed.ordered and "\r" in body) or any(";" in c for c in columns):
        return data, None  # the reader would see this text differently: read it again next time
    flagged = {k: m for k, m in parsed.flagged.items() if not (k[0] == 0 and k[1] in changes)}
    problems = []
    if flagged:  # line numbers of the rows the reader skips, in this text
        line = 1
        for key, text in zip(keys, texts, strict=True):
            line += text.count("\n")
            if key in flagged:
                problems.append(Problem(name, line, flagged[key]))
    current = {k: v for k, v in parsed.current.items() if k not in changes}
    current.update({k: v for k, v in changes.items() if v is not None})
    return data, _Parsed(data, columns, keys, recs, texts, current, problems, flagged, True)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two files (Linux ``renameat2(RENAME_EXCHANGE)``); False where the system cannot."""
    fn = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None) if sys.platform.startswith("linux") else None
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_in(path: Path, text: bytes, expected: bytes | None) -> tuple[bool, bytes | None, bytes | None]:
    """Put ``text`` at ``path`` (fsynced, atomically) if ``path`` holds ``expected``.

    Returns (written, newest, at_path): whether ``text`` is now at ``path``; when not, the newest content some
    other program saved (to merge into again) and what is at ``path`` now. The file is compared with
    ``expected`` just before the swap. Where the file system can exchange two names atomically, the swap also
    hands back exactly what it displaced, so a save that lands between that comparison and the swap is caught:
    the two are swapped straight back, and the caller merges into the save it found.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    with tmp.open("wb") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        if expected is None:
            try:
                os.link(tmp, path)  # create only if still absent
            except FileExistsError:
                now = _read(path)
                return False, now, now
            return True, None, text
        now = _read(path)
        if now != expected:  # most saves by others are caught here, before anything is written
            return False, now, now
        try:
            exchanged = _exchange(tmp, path)
        except FileNotFoundError:  # deleted meanwhile
            return False, None, None
        if not exchanged:
            os.replace(tmp, path)
            return True, expected, text
        displaced = _read(tmp)
        if displaced == expected:
            return True, expected, text
        _exchange(tmp, path)  # a save landed in the last microseconds: put it back at once
        back = _read(tmp)
        return False, back if back != text else displaced, displaced  # (a newer save still comes back here)
    finally:
        tmp.unlink(missing_ok=True)


def _stale(name: str, expect: Mapping[str, Decision | None] | None, current: Mapping[str, Decision]) -> str:
    for sha, want in (expect or {}).items():
        have = current.get(sha)
        if have != want:
            return (f"{name}: {sha[:12]}... is now {have.decision if have else 'undecided'}, not "
                    f"{want.decision if want else 'undecided'}; nothing was written")
    return ""


def update_decisions(path: Path, changes: Mapping[str, Decision | None],
                     expect: Mapping[str, Decision | None] | None = None, timeout: float = LOCK_TIMEOUT_S) -> Updated:
    """Apply ``changes`` (a decision per sha256; None removes that photo's row) to decisions.csv, losing nothing.

    Under the file lock the file is read again, so rows written meanwhile by a person's editor, another browser
    tab or another carid command are kept; so are rows the reader cannot use (reported, left for the person to
    fix) and columns carid does not know. The new text goes to a temporary file, is flushed to disk and swapped
    in atomically, only if the file still holds what was read; if an editor (which takes no lock) saved in
    between, the change is merged into its save and tried again. ``expect`` makes the change conditional: each
    named photo must have that decision (None: none) in the file, else :class:`StaleDecisionError` and the file
    is as it was. A file that cannot be read safely (:class:`DecisionsError`) is left as it was.
    """
    name = str(path)
    changes = {sha.lower(): _normal(d) if d is not None else None for sha, d in changes.items()}
    with decisions_lock(path, timeout):
        before = FileVersion.of(path)
        expected = _read(path)  # what is at ``path``
        base = expected  # the newest content anyone saved: the change is merged into it
        for attempt in range(20):
            dirty = base != expected  # ``path`` holds an older save than ``base`` (see _swap_in)
            parsed = _parse(name, base)
            stale = _stale(name, expect, parsed.current)
            if stale and not dirty:
                raise StaleDecisionError(stale)
            apply: Mapping[str, Decision | None] = {} if stale else changes
            if not dirty and base is not None and all(parsed.current.get(sha) == d for sha, d in apply.items()):
                return Updated(parsed.current, parsed.problems, FileVersion.of(path), before if attempt == 0 else None)
            text, after = (base, parsed) if base is not None and not apply else _merged(name, parsed, apply)
            written, newest, at_path = _swap_in(path, text, expected)
            if written:
                if after is not None:
                    _LAST[name] = after
                else:
                    _LAST.pop(name, None)
                if stale:
                    raise StaleDecisionError(stale)
                if after is None:
                    after = _LAST[name] = _parse(name, text)
                return Updated(after.current, after.problems, FileVersion.of(path), before if attempt == 0 else None)
            base, expected = newest, at_path
            if base == expected:  # an editor is saving: give it a moment, then start again from its file
                time.sleep(0.002 * (attempt + 1))
                base = expected = _read(path)
    raise DecisionsError([Problem(name, 0, "the file kept changing while carid tried to write it; nothing was "
                                           "written")])
