"""CSS selection and text in pieces (glued spans, badges, drop patterns)."""

from __future__ import annotations

import pytest
from bs4 import Tag

from scraper.fields.css import SelectorError, attribute, check_selector, clean, select, soup, text_of

CARD = ('<div class="styles_card__uSjGc" data-id="PN1"><a class="styles_link__a1B2c" href="/cars/PN1/x">'
        '<h3 class="styles_title__Zz9yX"><span class="styles_badge__Qq1">Sponsored</span>'
        '<span>2021</span><span>Maruti</span><span>Swift</span></h3>'
        '<p class="styles_variant__k2">VXI AMT</p></a></div>')


def _card() -> Tag:
    return select(soup(CARD), '[class*="styles_card__"]')[0]


def test_glued_spans_read_with_spaces_and_badge_excluded() -> None:
    h3 = select(_card(), '[class*="styles_title__"]')[0]
    assert h3.get_text() == "Sponsored2021MarutiSwift"  # what a plain get_text gives
    assert text_of(h3) == "Sponsored 2021 Maruti Swift"
    assert text_of(h3, exclude='[class*="styles_badge__"]') == "2021 Maruti Swift"
    assert text_of(h3, drop=[r"\bsponsored\b"]) == "2021 Maruti Swift"
    assert "Sponsored" in str(h3)  # the caller's tree is left as it was


def test_card_that_is_itself_the_link() -> None:
    a = select(soup('<a class="card" href="/l/1"><h3>t</h3></a>'), "a.card")[0]
    assert select(a, "a.card") == []
    assert select(a, "a.card", include_self=True) == [a]


def test_attribute_first_non_empty() -> None:
    tag = select(soup('<img data-src="" data-original=" /x.jpg " src="/blank.gif">'), "img")[0]
    assert attribute(tag, ["data-src", "data-original", "src"]) == "/x.jpg"
    assert attribute(tag, ["data-lazy"]) is None


def test_clean_collapses_space_and_drops() -> None:
    assert clean("  Featured\n 2019  Swift\tDzire ", [r"featured"]) == "2019 Swift Dzire"


def test_bad_selector_is_named() -> None:
    with pytest.raises(SelectorError, match=r"div\["):
        check_selector("div[")
