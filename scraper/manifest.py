"""The per-shard manifest: one CSV row per photo occurrence (listing x image URL).

Rows for a listing are appended (and flushed to disk) only after all of its
photos are stored, followed by a line in a journal. On resume, rows of a
listing without a journal line are dropped, so a kill at any moment leaves a
manifest that re-running completes without duplicates.

The listing facts (price .. city) came later: they are the last columns, empty where a site shows none,
and a manifest written before them still loads (its rows get empty facts).
"""

from __future__ import annotations

import csv
import io
import logging
import os
from dataclasses import dataclass, fields
from pathlib import Path

from carid.tables import records_csv

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ManifestRow:
    sha256: str
    path: str  # relative to the project root
    site: str
    region: str
    listing_id: str
    listing_url: str
    image_url: str
    title: str
    label: str
    width: int
    height: int
    bytes: int
    fetched_at: str
    price: str = ""  # listing facts from the card (scraper.fields.facts): digits, or a canonical word
    year: str = ""
    km: str = ""
    fuel: str = ""
    transmission: str = ""
    city: str = ""


COLUMNS = [f.name for f in fields(ManifestRow)]
#: Columns a manifest from before the listing facts may lack.
OPTIONAL = frozenset(f.name for f in fields(ManifestRow) if f.default == "")


def manifest_text(rows: list[ManifestRow], header: bool = True) -> str:
    """Manifest rows as CSV text (with the header line unless appending)."""
    return records_csv(rows, COLUMNS, header)


class Manifest:
    """Append-only manifest plus its journal of completed listings."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "manifest.csv"
        self.journal = folder / ".done-listings"
        self.rows: list[ManifestRow] = []
        self.done: set[str] = set()
        self._fds: tuple[int, int] | None = None  # manifest and journal, open for appending

    def load(self) -> None:
        """Read what an earlier (maybe killed) run left, keeping only completed listings."""
        self.close()  # the manifest is rewritten below: appends must go to the new file
        done = set(self.journal.read_text(encoding="utf-8").split()) if self.journal.exists() else set()
        rows: list[ManifestRow] = []
        if self.path.exists():
            text = self.path.read_text(encoding="utf-8-sig")
            if not text.endswith("\n"):
                text = text[: text.rfind("\n") + 1]  # drop a half-written last line
            for rec in csv.DictReader(io.StringIO(text)):
                if rec.get("listing_id") in done and None not in rec.values() and all(
                        k in rec or k in OPTIONAL for k in COLUMNS):
                    rows.append(ManifestRow(**{k: rec.get(k, "") for k in COLUMNS}))  # type: ignore[arg-type]
        self.rows = rows
        self.done = done
        self._rewrite()

    def _rewrite(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".csv.part")
        tmp.write_text(manifest_text(self.rows), encoding="utf-8")
        os.replace(tmp, self.path)

    def add_listing(self, listing_id: str, rows: list[ManifestRow]) -> None:
        """Append a finished listing: its rows, then its journal line, each flushed to disk before the next.

        Both files stay open (plain ``os`` appends on descriptors, not a text file opened per listing: this runs on
        the thread that feeds the download pool, once per listing) until :meth:`close` or the next :meth:`load`."""
        if self._fds is None:
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
            self._fds = (os.open(self.path, flags, 0o644), os.open(self.journal, flags, 0o644))
        for fd, text in zip(self._fds, (manifest_text(rows, header=False), listing_id + "\n"), strict=True):
            data = text.encode("utf-8")
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
        self.rows.extend(rows)
        self.done.add(listing_id)

    def close(self) -> None:
        """Close the files :meth:`add_listing` appends to (it reopens them when called again)."""
        if self._fds is not None:
            for fd in self._fds:
                os.close(fd)
            self._fds = None
