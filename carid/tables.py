"""Dataclass records as CSV text: the one way carid writes its record tables (manifests, study runs)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any


def records_csv(rows: Iterable[Any], columns: Sequence[str], header: bool = True) -> str:
    """``rows`` (dataclass instances whose fields are ``columns``) as CSV text, ``\\n`` line ends; the header
    line first unless ``header`` is false (for appending to a file that has one)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if header:
        writer.writerow(columns)
    # Plain attribute reads, not dataclasses.asdict: asdict deep-copies every value, and the scraper writes a
    # listing's rows on the thread that also feeds the download pool.
    writer.writerows([getattr(r, c) for c in columns] for r in rows)
    return buf.getvalue()
