"""update_decisions: the locked, merging writer of decisions.csv that the review page and the CLI share."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

import pytest
from curatekit import rows

from curation.decisions import (
    Decision,
    DecisionsError,
    StaleDecisionError,
    lock_path,
    read_decisions,
    update_decisions,
)

A, B, C = "a" * 64, "b" * 64, "c" * 64


def _sha(i: int) -> str:
    return f"{i:064x}"


def test_keeps_hand_rows_unreadable_rows_and_extra_columns(tmp_path: Path) -> None:
    path = tmp_path / "decisions.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ("sha256;decision;label;reason;note;reviewer\r\n"
                                        f"{B};reject;;interior;dashboard;asha\r\n"
                                        "not-a-sha;reject;;;typo row;asha\r\n"
                                        f"{C};maybe;;;;ravi\r\n").encode())
    updated = update_decisions(path, {A: Decision(A, "relabel", "wagonr", "", "")})
    assert set(updated.decisions) == {A, B}
    got = rows(path)
    assert [r["sha256"] for r in got] == [A, B, C, "not-a-sha"]  # by sha256; rows with no sha256 kept at the end
    assert got[1] == {"sha256": B, "decision": "reject", "label": "", "reason": "interior", "note": "dashboard",
                      "reviewer": "asha"}
    assert got[2]["decision"] == "maybe" and got[2]["reviewer"] == "ravi"
    assert read_decisions(path)[0][A] == Decision(A, "relabel", "wagonr", "", "")
    update_decisions(path, {B: None}, expect={B: Decision(B, "reject", "", "interior", "dashboard")})
    assert [r["sha256"] for r in rows(path)] == [A, C, "not-a-sha"]
    assert not list(tmp_path.glob("*.part"))


def test_conditional_change_refuses_when_the_file_moved_on(tmp_path: Path) -> None:
    path = tmp_path / "decisions.csv"
    update_decisions(path, {A: Decision(A, "accept", "", "", "")})
    before = path.read_bytes()
    with pytest.raises(StaleDecisionError, match="is now accept, not reject"):
        update_decisions(path, {A: None}, expect={A: Decision(A, "reject", "", "", "")})
    with pytest.raises(StaleDecisionError, match="is now undecided"):
        update_decisions(path, {B: None}, expect={B: Decision(B, "reject", "", "", "")})
    assert path.read_bytes() == before


def test_a_file_with_conflicts_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "decisions.csv"
    path.write_text(f"sha256,decision\n{A},reject\n{A},accept\n", encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(DecisionsError, match="row 3"):
        update_decisions(path, {B: Decision(B, "accept", "", "", "")})
    assert path.read_bytes() == before


def _writer(path: str, start: int, n: int) -> None:
    for i in range(start, start + n):
        update_decisions(Path(path), {_sha(i): Decision(_sha(i), "reject", "", f"w{start}", "")})


def test_concurrent_processes_and_threads_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "decisions.csv"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), 1000 * k, 15)) for k in range(1, 4)]
    threads = [threading.Thread(target=_writer, args=(str(path), 1000 * k, 15)) for k in range(4, 6)]
    for p in procs:
        p.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    got, problems = read_decisions(path)
    assert problems == [] and len(got) == 75
    assert {d.reason for d in got.values()} == {f"w{1000 * k}" for k in range(1, 6)}
    assert lock_path(path).name == ".decisions.csv.lock"


def _editor(path: str, stop: object, count: object) -> None:
    """A person's editor in its own process: re-read, add a row, save (temp file + rename, no lock), every 10 ms."""
    target = Path(path)
    i = 0
    while not stop.is_set() and i < 500:  # type: ignore[attr-defined]
        text = target.read_text(encoding="utf-8") + f"{_sha(50_000 + i)},accept,,,by hand\n"
        tmp = target.with_name("editor.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
        i += 1
        count.value = i  # type: ignore[attr-defined]
        time.sleep(0.01)


def test_an_editor_saving_meanwhile_keeps_its_rows(tmp_path: Path) -> None:
    """carid never drops a row an editor saved, even when the saves land while carid writes."""
    path = tmp_path / "decisions.csv"
    path.write_text("sha256,decision,label,reason,note\n", encoding="utf-8")
    ctx = multiprocessing.get_context("spawn")
    stop, count = ctx.Event(), ctx.Value("i", 0)
    editor = ctx.Process(target=_editor, args=(str(path), stop, count))
    editor.start()
    try:
        deadline = time.monotonic() + 30
        while count.value < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        for i in range(80):
            update_decisions(path, {_sha(i): Decision(_sha(i), "reject", "", "page", "")})
            time.sleep(0.002)
    finally:
        stop.set()
        editor.join(30)
    saved = [_sha(50_000 + i) for i in range(count.value)]
    final = read_decisions(path)[0]
    # The editor may overwrite a carid row it had not read yet (editors do that); carid never drops the editor's.
    assert len(saved) >= 10 and [sha for sha in saved if sha not in final] == []


def test_what_carid_keeps_of_its_own_write_is_what_the_file_reads_as(tmp_path: Path) -> None:
    """The next write skips parsing a file carid wrote itself; what it keeps must equal a fresh read."""
    import random

    from curation import decisions as module

    path = tmp_path / "decisions.csv"
    path.write_text("sha256,decision,label,reason,note,reviewer\n"
                    f"{A},reject,,interior,\"two, parts\",asha\n"
                    "oops,reject,,,,ravi\n"
                    f"{B},maybe,,,,ravi\n"
                    ",,,,,\n"
                    f"{C},relabel,alto,,,\n", encoding="utf-8")
    rng = random.Random(5)
    checked = 0
    for step in range(60):
        sha = rng.choice([A, B, C, *(_sha(i) for i in range(8))])
        choice = rng.choice([None, Decision(sha, "accept", "", "", ""),
                             Decision(sha, "reject", "", rng.choice(["interior", " close-up ", "a;b", 'say "x"']),
                                      rng.choice(["", "note, with comma", "multi\nline"])),
                             Decision(sha, "RELABEL", "WagonR", "", "")])
        update_decisions(path, {sha: choice})
        kept = module._LAST.get(str(path))
        if kept is None:
            continue
        module._LAST.clear()
        fresh = module._parse(str(path), path.read_bytes())
        assert (kept.current, kept.problems, kept.columns) == (fresh.current, fresh.problems, fresh.columns), step
        assert kept.recs == [{c: r.get(c, "") for c in kept.columns} for r in fresh.recs], step
        assert [k[:2] for k in kept.keys] == [k[:2] for k in fresh.keys], step
        assert read_decisions(path) == (fresh.current, fresh.problems)
        module._LAST[str(path)] = kept
        checked += 1
    assert checked > 40
