"""Manifest columns for listing facts: written by a scrape, empty where unknown; a manifest from before them
(no fact columns) still loads, resumes and is read by curation."""

from __future__ import annotations

from pathlib import Path

from curation.manifests import read_manifests
from scraper.manifest import COLUMNS, Manifest, ManifestRow

OLD_COLUMNS = ["sha256", "path", "site", "region", "listing_id", "listing_url", "image_url", "title", "label",
               "width", "height", "bytes", "fetched_at"]


def _row(n: int, **facts: str) -> ManifestRow:
    return ManifestRow(sha256=f"{n:064x}", path=f"data/raw/s/r/images/{n:064x}.jpg", site="s", region="r",
                       listing_id=f"L{n}", listing_url=f"http://x/{n}", image_url=f"http://x/{n}.jpg",
                       title="2019 Maruti Swift", label="swift", width=640, height=480, bytes=1000,
                       fetched_at="2025-01-01T00:00:00+00:00", **facts)


def test_fact_columns_come_last() -> None:
    assert COLUMNS[:len(OLD_COLUMNS)] == OLD_COLUMNS
    assert COLUMNS[len(OLD_COLUMNS):] == ["price", "year", "km", "fuel", "transmission", "city"]


def test_old_manifest_loads_resumes_and_gains_the_columns(tmp_path: Path) -> None:
    folder = tmp_path / "data/raw/s/r"
    folder.mkdir(parents=True)
    old = [_row(1), _row(2)]
    text = "".join([",".join(OLD_COLUMNS) + "\n"] + [",".join(str(getattr(r, k)) for k in OLD_COLUMNS) + "\n"
                                                         for r in old])
    (folder / "manifest.csv").write_text(text, encoding="utf-8")
    (folder / ".done-listings").write_text("L1\nL2\n", encoding="utf-8")
    manifest = Manifest(folder)
    manifest.load()
    assert [r.listing_id for r in manifest.rows] == ["L1", "L2"] and all(r.year == "" for r in manifest.rows)
    manifest.add_listing("L3", [_row(3, price="545000", year="2021", km="45000", fuel="petrol",
                                     transmission="automatic", city="Pune")])
    lines = (folder / "manifest.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(COLUMNS)  # rewritten with the new header on load
    assert lines[-1].endswith(",545000,2021,45000,petrol,automatic,Pune")
    again = Manifest(folder)
    again.load()
    assert [(r.listing_id, r.year) for r in again.rows] == [("L1", ""), ("L2", ""), ("L3", "2021")]
    photos, problems = read_manifests([folder / "manifest.csv"])
    assert len(photos) == 3 and not problems


def test_detail_page_facts_fill_what_the_card_lacks() -> None:
    from scraper.fields.extract import Document
    from scraper.fields.facts import Facts
    from scraper.parse import Card, with_detail_facts
    from scraper.profile import load_profile

    profile = load_profile("hyderabad-motors")
    html = ('<html><body><h2 class="car-name">Maruti Swift VXI</h2><dl class="facts"><dt>Model year</dt>'
            '<dd>2014</dd><dt>Odometer</dt><dd>54500 km</dd><dt>Stock no.</dt><dd>HY1</dd></dl></body></html>')
    card = Card("HY1", "http://127.0.0.1/car/HY1-x.html", "Maruti Swift VXI", Facts(price=535000, year=2016))
    got = with_detail_facts(card, Document(card.url, html), profile)
    assert (got.facts.price, got.facts.km) == (535000, 54500)  # the card's price kept, km from the page
    assert got.facts.year == 2016  # a fact the card shows wins over the page's
    assert with_detail_facts(card, Document(card.url, "<html></html>"), profile) == card
