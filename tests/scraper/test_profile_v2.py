"""Profile language v2: one line naming the file and the key for every mistake; v1 profiles load unchanged and
extract exactly what the v2 profiles do from saved pages of both demo sites."""

from __future__ import annotations

from pathlib import Path

import pytest

from scraper.parse import parse_cards, parse_gallery
from scraper.profile import Profile, ProfileError, load_profile

PAGES = Path(__file__).parent / "pages"
HEAD = "name: x\nbase_url: http://x.test\nregions: {a: /cars}\n"
DETAIL = "detail: {photos: img}\n"

#: The shipped profiles as they were written in language v1.
V1 = {
    "gaadibazaar": """\
# GaadiBazaar: the embedded demo's main site. Listing cards come from a JSON
# endpoint through JavaScript ("load more" + infinite scroll, lazy data-src).
name: gaadibazaar
base_url: http://127.0.0.1:8800
demo: main
regions:
  delhi: /used-cars/delhi
  uttar-pradesh: /used-cars/uttar-pradesh
  maharashtra: /used-cars/maharashtra
listing:
  mode: load-more
  card: article.listing-card
  link: a.card-link
  title: .card-title
  load_more: "#load-more"
  done: "#listing-grid[data-complete='true']"
  max_pages: 200
detail:
  images: .gallery img
  image_attrs: [data-src, src]
  id_pattern: "/listing/([A-Za-z0-9]+)"
politeness:
  delay_s: 0.0
  concurrency: 4
""",
    "hyderabad-motors": """\
# Hyderabad Motors: the embedded demo's second site. Server rendered, numbered pages.
name: hyderabad-motors
base_url: http://127.0.0.1:8801
demo: hyderabad
regions:
  hyderabad: /cars?page=1
listing:
  mode: pages
  card: div.car-tile
  link: a.tile-link
  title: .tile-name
  next_page: .pagination a.next
  max_pages: 200
detail:
  images: .photo-strip img
  image_attrs: [src]
  id_pattern: "/car/([A-Za-z0-9]+)-"
politeness:
  delay_s: 0.0
  concurrency: 4
""",
}


def _load(tmp_path: Path, text: str, name: str = "site.yaml") -> Profile:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_profile(str(path))


@pytest.mark.parametrize(("name", "listing_page", "detail_page", "url"), [
    ("gaadibazaar", "gaadibazaar-region-rendered.html", "gaadibazaar-detail.html", "http://d.test/used-cars/delhi"),
    ("hyderabad-motors", "hyderabad-list-page1.html", "hyderabad-detail.html", "http://h.test/cars?page=1"),
])
def test_v1_profiles_extract_what_v2_does(tmp_path: Path, name: str, listing_page: str, detail_page: str,
                                          url: str) -> None:
    v1 = _load(tmp_path, V1[name])
    v2 = load_profile(name)
    html = (PAGES / listing_page).read_text(encoding="utf-8")
    old = parse_cards(html, v1, url)
    new = parse_cards(html, v2, url)
    assert len(old) == 8
    assert [(c.listing_id, c.url, c.title) for c in old] == [(c.listing_id, c.url, c.title) for c in new]
    detail = (PAGES / detail_page).read_text(encoding="utf-8")
    assert parse_gallery(detail, v1, old[0].url) == parse_gallery(detail, v2, new[0].url)
    assert parse_gallery(detail, v2, new[0].url)


def test_v2_facts_on_the_shipped_profile() -> None:
    cards = parse_cards((PAGES / "gaadibazaar-region-rendered.html").read_text(encoding="utf-8"),
                        load_profile("gaadibazaar"), "http://d.test/used-cars/delhi")
    # The saved page's first card reads "Rs 5,65,000" and "2011 | 47,500 km | Petrol".
    first = cards[0].facts
    assert (first.price, first.year, first.km, first.fuel) == (565000, 2011, 47500, "petrol")
    assert all(c.facts.year and c.facts.km and c.facts.price and c.facts.fuel for c in cards)


@pytest.mark.parametrize(("text", "key", "words"), [
    (HEAD + "listng: {}\n", "listng", "did you mean 'listing'"),
    (HEAD + "listing: {mode: pages, card: div, link: a, titel: h3, next_page: a.n}\n" + DETAIL,
     "listing.titel", "did you mean 'title'"),
    (HEAD + "listing: {mode: pages, card: div, link: {css: a, atr: href}, title: h3, next_page: a.n}\n" + DETAIL,
     "listing.link.atr", "did you mean 'attr'"),
    (HEAD + "listing: {mode: pages, card: div, link: a, title: [h3, {csss: p}], next_page: a.n}\n" + DETAIL,
     "listing.title.1.csss", "did you mean 'css'"),
    (HEAD + "listing: {mode: pages, card: 'div[', link: a, title: h3, next_page: a.n}\n" + DETAIL,
     "listing.card", "bad CSS selector"),
    (HEAD + "listing: {mode: pages, card: div, link: a, title: h3, next_page: a.n, max_pages: many}\n" + DETAIL,
     "listing.max_pages", "valid integer"),
    (HEAD + "listing: {mode: pages, card: div, link: a, title: h3, next_page: a.n, facts: {colour: x}}\n" + DETAIL,
     "listing.facts.colour", "'price'"),
    (HEAD + "listing: {mode: pages, card: div, link: {json: url}, title: h3, next_page: a.n}\n" + DETAIL,
     "listing.link", "must be a css rule"),
    (HEAD + "listing: {mode: pages, card: {css: div, json: x}, link: a, title: h3, next_page: a.n}\n" + DETAIL,
     "listing.card", "exactly one source"),
    (HEAD + "listing: {mode: api, card: {json: 'items[?'}, link: {json: url}, title: {json: t}}\n" + DETAIL,
     "listing.card", "bad JMESPath"),
    (HEAD + "listing: {mode: url-pages, card: div, link: a, title: h3}\n" + DETAIL, "regions.a", "{page}"),
    (HEAD + "listing: {mode: api, card: div, link: a, title: h3}\n" + DETAIL, "listing", "must be a json rule"),
    (HEAD + "listing: {mode: pages, card: div, link: a, title: h3, next_page: a.n}\n", "detail", "needed"),
    (HEAD + "listing: {mode: pages, card: div, link: a, title: h3, next_page: a.n}\n"
     "detail: {photos: {css: img, rewrite: [{from: 'a(', to: b}]}}\n", "detail.photos.rewrite.0.from", "bad regex"),
    (HEAD + "listing: {mode: pages, card: div, link: a, title: {css: h3, pattern: '(x'}, next_page: a.n}\n" + DETAIL,
     "listing.title.0", "bad regex"),
])
def test_each_mistake_is_one_line_naming_file_and_key(tmp_path: Path, text: str, key: str, words: str) -> None:
    with pytest.raises(ProfileError) as info:
        _load(tmp_path, text, "mysite.yaml")
    message = str(info.value)
    assert "\n" not in message
    assert f"mysite.yaml: key '{key}'" in message, message
    assert words in message, message


def test_not_yaml_and_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"bad\.yaml is not valid YAML \(line 2\)"):
        _load(tmp_path, "name: [x\nbase_url: y\n", "bad.yaml")
    with pytest.raises(ProfileError, match=r"list\.yaml: expected a mapping"):
        _load(tmp_path, "- a\n- b\n", "list.yaml")
