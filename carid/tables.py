"""Dataclass records as CSV text: the one way carid writes its record tables (manifests, study runs)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any


def records_csv(rows: Iterable[Any], columns: Sequence[str], header: bool = True) -> str:
    """``rows`` (dataclass instances whose fields are ``columns``) as CSV text, ``\\n`` line ends; the header
    line first unless ``header`` is false (for appending to a file that has one)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(asdict(r) for r in rows)
    return buf.getvalue()
