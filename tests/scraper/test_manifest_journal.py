"""The manifest and its journal: appends survive a reload, a listing counts only once its journal line is in."""

from __future__ import annotations

from pathlib import Path

from scraper.manifest import Manifest, ManifestRow


def row(listing: str, n: int) -> ManifestRow:
    return ManifestRow(sha256=f"{listing}-{n}", path=f"images/{listing}-{n}.jpg", site="s", region="r",
                       listing_id=listing, listing_url=f"http://x/{listing}", image_url=f"http://x/{listing}/{n}.jpg",
                       title="Maruti Swift", label="swift", width=400, height=300, bytes=1, fetched_at="t")


def reread(folder: Path) -> Manifest:
    m = Manifest(folder)
    m.load()
    return m


def test_appends_after_a_reload_go_to_the_rewritten_file(tmp_path: Path) -> None:
    m = Manifest(tmp_path)
    m.load()
    m.add_listing("a", [row("a", 0), row("a", 1)])
    m.load()  # rewrites manifest.csv: appends from here on must land in the new file, not the replaced one
    m.add_listing("b", [row("b", 0)])
    m.close()
    again = reread(tmp_path)
    assert again.done == {"a", "b"}
    assert [r.sha256 for r in again.rows] == ["a-0", "a-1", "b-0"]


def test_rows_without_a_journal_line_are_dropped(tmp_path: Path) -> None:
    m = Manifest(tmp_path)
    m.load()
    m.add_listing("a", [row("a", 0)])
    m.close()
    with (tmp_path / "manifest.csv").open("a", encoding="utf-8") as fh:  # a kill between rows and journal line
        fh.write("b-0,images/b-0.jpg,s,r,b,http://x/b,http://x/b/0.jpg,Maruti Swift,swift,400,300,1,t,,,,,,\n")
    again = reread(tmp_path)
    assert again.done == {"a"} and [r.sha256 for r in again.rows] == ["a-0"]
    again.add_listing("b", [row("b", 0)])  # the resumed run redoes it: once, not twice
    again.close()
    assert [r.sha256 for r in reread(tmp_path).rows] == ["a-0", "b-0"]
