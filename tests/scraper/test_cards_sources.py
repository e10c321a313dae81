"""One saved page of the third demo site, read through each source it carries: CSS cards with hashed class
names, the JSON-LD ItemList and the __NEXT_DATA__ blob all give the same listings; promo tiles are skipped
and counted; a page whose cards all fail names the rule and the URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from scraper.fields.extract import Document
from scraper.parse import read_cards
from scraper.profile import Profile, ProfileError, load_profile, revised

PAGES = Path(__file__).parent / "pages"
URL = "http://127.0.0.1:39135/used-cars/pune"  # where the page was saved from
REWRITE = [{"from": r"(/cdn/(?:p/)?photos/[0-9a-f]{20})(?:-cr-\d+)?\.jpg(?:\?.*)?$", "to": r"\1.jpg"}]


def _doc() -> Document:
    return Document(URL, (PAGES / "carnest-list.html").read_text(encoding="utf-8"))


def _html() -> Profile:
    return load_profile("carnest-html")


def _jsonld() -> Profile:
    return revised(_html(), listing={
        "card": {"jsonld": "[?\"@type\"=='ItemList'].itemListElement[].item"},
        "link": {"json": "url"}, "title": [{"json": "name"}],
        "facts": {"price": {"json": "offers.price"}, "year": {"json": "vehicleModelDate"},
                  "km": {"json": "mileageFromOdometer.value"}, "fuel": {"json": "fuelType"},
                  "transmission": {"json": "vehicleTransmission"},
                  "city": {"json": "offers.availableAtOrFrom.address.addressLocality"}},
        "photos": {"json": "image", "rewrite": REWRITE}})


def _next_data() -> Profile:
    return revised(_html(), listing={
        "card": {"script": "#__NEXT_DATA__", "path": "props.pageProps.search.results"},
        "link": {"json": "url"}, "id": {"json": "id"}, "title": [{"json": "title.main"}, {"json": "title.variant"}],
        "facts": {"price": {"json": "price.value"}, "year": {"json": "year"}, "km": {"json": "km"},
                  "fuel": {"json": "fuelType"}, "transmission": {"json": "transmission"},
                  "city": {"json": "location.city"}}})


def test_three_sources_give_the_same_listings() -> None:
    css, ld, nd = (read_cards(_doc(), p) for p in (_html(), _jsonld(), _next_data()))
    assert len(css.cards) >= 8
    key = [(c.listing_id, c.url, c.title, c.facts) for c in css.cards]
    assert key == [(c.listing_id, c.url, c.title, c.facts) for c in ld.cards]
    assert key == [(c.listing_id, c.url, c.title, c.facts) for c in nd.cards]
    assert all(c.facts.transmission in ("manual", "automatic") and c.facts.city == "Pune" for c in css.cards)
    # JSON-LD carries each card's cover thumbnail; the rewrite makes it the full photo.
    assert all(len(c.photos) == 1 and c.photos[0].endswith(".jpg") and "?" not in c.photos[0] for c in ld.cards)


def test_promo_tiles_are_skipped_and_counted() -> None:
    css, nd = read_cards(_doc(), _html()), read_cards(_doc(), _next_data())
    assert css.skipped["no-link"] >= 1 and css.matched == len(css.cards) + sum(css.skipped.values())
    assert sum(nd.skipped.values()) == sum(css.skipped.values())  # the same tiles, in the JSON


def test_titles_in_pieces_without_badges() -> None:
    html = _doc().text
    assert "<span>Maruti</span>" in html  # the saved page has glued pieces
    titles = [c.title for c in read_cards(_doc(), _html()).cards]
    assert not any("Sponsored" in t or "MarutiSwift" in t or "MarutiSuzuki" in t for t in titles)
    badged = Document(URL, html.replace('<h3 class="styles_title__52szj">', '<h3 class="styles_title__52szj">'
                                        '<span class="styles_badge__Xq1Zz">Sponsored</span>'))
    assert "Sponsored" in badged.text
    assert [c.title for c in read_cards(badged, _html()).cards] == titles
    bare = revised(_html(), listing={"title": ['h3[class*="styles_title__"]']})
    assert [c.title for c in read_cards(_doc(), bare).cards] != titles  # the variant is a piece of its own


def test_every_card_failing_names_the_rule_and_url() -> None:
    broken = revised(_html(), listing={"title": ["h2.headline"]})
    with pytest.raises(ProfileError, match=r"listing\.title \{css: 'h2\.headline'\} matched nothing in any of "
                                           r"the \d+ cards at http://127\.0\.0\.1:39135/used-cars/pune"):
        read_cards(_doc(), broken)
    # No card node at all is not this error: the crawler decides (first page: error; later: end of list).
    empty = read_cards(Document(URL, "<html><body></body></html>"), _html())
    assert empty.cards == [] and empty.matched == 0
