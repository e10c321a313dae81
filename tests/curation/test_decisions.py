"""decisions.csv as people save it: BOM, CRLF, ';', bad rows, conflicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.decisions import Decision, DecisionsError, read_decisions, write_decisions

A, B, C = "a" * 64, "b" * 64, "c" * 64


def _write(tmp_path: Path, text: str, raw: bytes | None = None) -> Path:
    path = tmp_path / "decisions.csv"
    path.write_bytes(raw if raw is not None else text.encode("utf-8"))
    return path


def test_missing_file_means_no_decisions(tmp_path: Path) -> None:
    assert read_decisions(tmp_path / "nope.csv") == ({}, [])


def test_excel_bom_crlf_semicolon(tmp_path: Path) -> None:
    text = f"sha256;decision;label;reason;note\r\n{A};reject;;interior;dashboard\r\n{B};relabel;swift;;\r\n"
    path = _write(tmp_path, "", b"\xef\xbb\xbf" + text.encode())
    decisions, problems = read_decisions(path)
    assert problems == []
    assert decisions[A] == Decision(A, "reject", "", "interior", "dashboard")
    assert decisions[B].decision == "relabel" and decisions[B].label == "swift"


def test_bad_rows_are_reported_with_file_row_and_value_and_skipped(tmp_path: Path) -> None:
    path = _write(tmp_path, "sha256,decision,label,reason,note\n"
                            f"{A},maybe,,,\n"
                            f"{B},relabel,alto,,\n"
                            "xyz,reject,,,\n"
                            f"{C},ACCEPT,,,\n")
    decisions, problems = read_decisions(path)
    assert list(decisions) == [C]
    messages = [str(p) for p in problems]
    assert messages[0].startswith(f"{path}, row 2: unknown decision 'maybe'")
    assert "row 3: unknown label 'alto'" in messages[1]
    assert "row 4: sha256 'xyz'" in messages[2]


def test_missing_column_stops(tmp_path: Path) -> None:
    path = _write(tmp_path, f"sha256,label\n{A},swift\n")
    with pytest.raises(DecisionsError, match=r"row 1: missing column decision"):
        read_decisions(path)


def test_conflicting_decisions_stop_but_repeats_are_fine(tmp_path: Path) -> None:
    same = _write(tmp_path, f"sha256,decision\n{A},reject\n{A},reject\n")
    assert list(read_decisions(same)[0]) == [A]
    path = _write(tmp_path, f"sha256,decision\n{A},reject\n{B},accept\n{A},accept\n")
    with pytest.raises(DecisionsError) as info:
        read_decisions(path)
    assert "row 4" in str(info.value) and "row 2" in str(info.value) and str(path) in str(info.value)


def test_write_round_trip(tmp_path: Path) -> None:
    decisions = {B: Decision(B, "accept", "", "", ""), A: Decision(A, "reject", "", "document, scan", 'say "hi"')}
    path = tmp_path / "out" / "decisions.csv"
    write_decisions(path, decisions)
    assert read_decisions(path) == (decisions, [])
    assert path.read_text().splitlines()[1].startswith(A)  # sorted by sha256
