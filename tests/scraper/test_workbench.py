"""``carid scrape try``: what a profile extracts from saved pages of all three demo sites, from a saved JSON
API answer and from the live demo marketplace; which rule matched nothing; exit 1 when nothing is extracted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scraper.cli import app
from scraper.fields.extract import Document
from scraper.profile import PROFILE_DIR, load_profile
from scraper.workbench import inspect, load, resolve

PAGES = Path(__file__).parent / "pages"
CARNEST = "http://127.0.0.1:39135"  # where the saved Carnest pages were served from


def _carnest_with(tmp_path: Path, photos: str) -> Path:
    """carnest-html.yaml with another source for the detail photos."""
    path = tmp_path / "variant.yaml"
    text = (PROFILE_DIR / "carnest-html.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("""    css: 'img[class*="styles_slide__"]'""", photos), encoding="utf-8")
    return path


def _try(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["try", *args])
    return result.exit_code, result.output


def test_saved_listing_pages_of_all_three_sites() -> None:
    code, out = _try("gaadibazaar", str(PAGES / "gaadibazaar-region-rendered.html"), "--url",
                     "http://127.0.0.1:8800/used-cars/delhi")
    assert code == 0, out
    assert "8 card(s) matched, 8 parsed" in out
    assert "[wagonr] 2011 Maruti Suzuki Wagon R petrol" in out and "price 565000  year 2011  km 47500" in out
    assert re.search(r"NOTHING\s+listing\.done", out)  # 8 of 30 loaded: the done marker is not there yet

    code, out = _try("hyderabad-motors", str(PAGES / "hyderabad-list-page1.html"))
    assert code == 0 and "next page: http://127.0.0.1:8801/cars?page=2" in out, out

    code, out = _try("carnest-html", str(PAGES / "carnest-list.html"), "--url", f"{CARNEST}/used-cars/pune")
    assert code == 0, out
    assert "skipped: no-link 1" in out  # the finance tile
    # Glued <span> pieces read with spaces, and the variant joins the title.
    assert "[wagonr] 2011 Maruti Suzuki Wagon R Stingray VXI AMT" in out
    assert "transmission automatic  city Pune" in out


def test_saved_json_api_answer() -> None:
    code, out = _try("carnest", str(PAGES / "carnest-search.json"), "--url", CARNEST + "/api/v1/search")
    assert code == 0, out
    assert "skipped: no-link 1" in out
    photos = re.findall(r"photo (\S+)", out)
    assert photos and all(re.fullmatch(rf"{CARNEST}/cdn/(p/)?photos/[0-9a-f]{{20}}\.jpg", p) for p in photos)


def test_detail_pages_and_which_source_holds_the_gallery(tmp_path: Path) -> None:
    code, out = _try("carnest-html", str(PAGES / "carnest-detail-js-rendered.html"), "--url", CARNEST + "/cars/x/y")
    assert code == 0 and re.search(r"detail: [1-9]\d* photo", out), out
    # The same page as served (before JavaScript) has no gallery: the rule matched nothing, exit 1.
    code, out = _try("carnest-html", str(PAGES / "carnest-detail-js.html"), "--url", CARNEST + "/cars/x/y")
    assert code == 1 and re.search(r"NOTHING\s+detail\.photos", out) and "nothing extracted" in out, out

    state = _carnest_with(tmp_path, "    js: window.__PRELOADED_STATE__\n    path: listing.gallery[].src")
    code, out = _try(str(state), str(PAGES / "carnest-detail-state.html"), "--as", "detail")
    assert code == 0 and re.search(r"detail: [1-9]\d* photo", out), out
    assert f"{CARNEST}/cdn/photos/" in out  # protocol-relative //host/... resolved
    code, out = _try(str(state), str(PAGES / "carnest-detail-ld.html"), "--as", "detail")
    assert code == 1 and "no script assigns 'window.__PRELOADED_STATE__'" in out, out


def test_raw_page_extracts_nothing_and_says_why() -> None:
    code, out = _try("gaadibazaar", str(PAGES / "gaadibazaar-region-raw.html"))
    assert code == 1
    assert re.search(r"NOTHING\s+listing\.card", out) and "JavaScript builds them" in out


def test_bad_profile_and_bad_source_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nbase_url: http://x\nregions: {a: /}\nlisting: {mode: pages, card: div, link: a, "
                   "title: h3, next_page: a.n, titel: p}\ndetail: {photos: img}\n", encoding="utf-8")
    code, out = _try(str(bad), str(PAGES / "hyderabad-detail.html"))
    assert code == 1 and "bad.yaml: key 'listing.titel': unknown key" in out and "Traceback" not in out
    code, out = _try("hyderabad-motors", str(tmp_path / "missing.html"))
    assert code == 1 and "missing.html: no such file" in out


def test_broken_json_in_a_saved_page_is_named(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text((PAGES / "carnest-detail-ld.html").read_text(encoding="utf-8").replace(
        '"@type":"Car"', '"@type":"Car",,'), encoding="utf-8")
    doc = Document("http://site.test/cars/1", page.read_text(encoding="utf-8"))
    ld = _carnest_with(tmp_path, """    jsonld: "[?\\"@type\\"=='Car'].image[]\"""")
    report = inspect(doc, load_profile(str(ld)), "detail")
    assert not report.ok and any("http://site.test/cars/1" in e and "JSON-LD" in e for e in report.errors)
    intact = inspect(Document("http://site.test/cars/1", (PAGES / "carnest-detail-ld.html").read_text(
        encoding="utf-8")), load_profile(str(ld)), "detail")
    assert intact.ok and not intact.errors


def test_live_pages_of_the_demo_marketplace(marketplace) -> None:
    hy = load_profile("hyderabad-motors")
    report = inspect(load(marketplace.hyderabad + "/cars?page=1", hy, browser=False), hy)
    assert report.ok and report.cards and report.following.endswith("/cars?page=2")
    detail = inspect(load(report.cards[0].url, hy, browser=False), hy)
    assert detail.detail and detail.photos and all(p.startswith(marketplace.hyderabad) for p in detail.photos)
    api = load_profile("carnest")
    page = inspect(load(marketplace.carnest + "/api/v1/search?city=pune&page=1&size=24", api), api)
    assert page.cards and all(c.photos for c in page.cards) and page.skipped["no-link"] >= 1
    # A region name stands for its first page on the profile's site.
    assert resolve("pune", api) == "http://127.0.0.1:8802/api/v1/search?city=pune&page=1&size=24"


@pytest.mark.browser
def test_live_page_built_by_javascript(marketplace) -> None:
    gb = load_profile("gaadibazaar")
    report = inspect(load(marketplace.main + "/used-cars/delhi", gb), gb)
    assert report.ok and report.matched > 0 and all(c.facts.year for c in report.cards)
    raw = inspect(load(marketplace.main + "/used-cars/delhi", gb, browser=False), gb)
    assert not raw.ok  # the page source has no cards: only the browser shows them
