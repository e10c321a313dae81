"""BeautifulSoup parsers on saved pages of both demo sites: no browser, no server."""

from __future__ import annotations

from pathlib import Path

import pytest

from scraper.parse import is_done, listing_id, next_page, parse_cards, parse_gallery
from scraper.profile import ProfileError, load_profile, revised

PAGES = Path(__file__).parent / "pages"
GB = load_profile("gaadibazaar")
HY = load_profile("hyderabad-motors")


def _page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def test_rendered_region_page_cards() -> None:
    cards = parse_cards(_page("gaadibazaar-region-rendered.html"), GB, "http://demo.test/used-cars/delhi")
    assert len(cards) == 8
    assert cards[0].listing_id == "DL01100000"
    assert cards[0].url == "http://demo.test/listing/DL01100000"
    assert all(c.title and c.listing_id.startswith("DL") for c in cards)
    assert not is_done(_page("gaadibazaar-region-rendered.html"), GB)  # 8 of 30 loaded


def test_raw_region_page_has_no_cards() -> None:
    assert parse_cards(_page("gaadibazaar-region-raw.html"), GB, "http://demo.test/used-cars/delhi") == []


def test_detail_gallery_prefers_data_src() -> None:
    urls = parse_gallery(_page("gaadibazaar-detail.html"), GB, "http://demo.test/listing/DL01100000")
    assert len(urls) == 8
    assert all(u.startswith("http://demo.test/media/") and u.endswith(".jpg") for u in urls)
    assert not any("blank.gif" in u for u in urls)  # the lazy placeholder in src is skipped


def test_hyderabad_pages_and_pagination() -> None:
    base = "http://hyd.test/cars?page=1"
    cards = parse_cards(_page("hyderabad-list-page1.html"), HY, base)
    assert len(cards) == 8 and cards[0].listing_id == "HY01100000"
    assert next_page(_page("hyderabad-list-page1.html"), HY, base) == "http://hyd.test/cars?page=2"
    assert next_page(_page("hyderabad-list-last.html"), HY, "http://hyd.test/cars?page=4") is None
    photos = parse_gallery(_page("hyderabad-detail.html"), HY, cards[0].url)
    assert len(photos) == 4 and all("/photos/" in p for p in photos)


def test_changed_markup_names_profile_selector_and_url() -> None:
    broken = revised(GB, listing={"title": "h3.headline"})
    with pytest.raises(ProfileError) as info:
        parse_cards(_page("gaadibazaar-region-rendered.html"), broken, "http://demo.test/used-cars/delhi")
    message = str(info.value)
    assert "gaadibazaar" in message and "h3.headline" in message and "http://demo.test/used-cars/delhi" in message
    with pytest.raises(ProfileError, match="id_pattern"):
        listing_id(GB, "http://demo.test/cars/123")


def test_bad_profile_files(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no site profile"):
        load_profile("no-such-site")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nbase_url: http://x\nregions: {a: /}\nlisting: {mode: pages}\ndetail: {images: img}\n")
    with pytest.raises(ProfileError, match=r"bad\.yaml: key 'listing.card'"):
        load_profile(str(bad))
