"""carid.tables.records_csv: dataclass records as CSV text."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from carid.tables import records_csv


@dataclass(frozen=True)
class Rec:
    name: str
    n: int
    note: str | None = None


def test_records_round_trip_through_the_csv_reader() -> None:
    rows = [Rec('a "quoted", name', 1), Rec("line\nbreak", 2, "x")]
    text = records_csv(rows, ["name", "n", "note"])
    assert text.splitlines()[0] == "name,n,note"
    back = list(csv.DictReader(io.StringIO(text)))
    assert back == [{"name": 'a "quoted", name', "n": "1", "note": ""}, {"name": "line\nbreak", "n": "2", "note": "x"}]


def test_columns_pick_and_order_the_fields_and_header_can_be_left_out() -> None:
    assert records_csv([Rec("a", 1, "z")], ["n", "name"], header=False) == "1,a\n"
