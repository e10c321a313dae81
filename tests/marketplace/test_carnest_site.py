"""Carnest, the third demo site: its pages, API, thumbnails, answer key and faults, over real HTTP."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
import requests
from bs4 import BeautifulSoup, Tag
from PIL import Image

from carid.params import MarketplaceParams
from marketplace.carnest.app import REWRITE_PATTERN, full_photo_url
from marketplace.carnest.inventory import CarnestInventory, listing_count
from marketplace.carnest.photos import CarnestStore
from marketplace.server import SiteURLs, running_marketplace
from marketplace.store import PhotoStore
from scraper.labels import label_from_title

LISTINGS = 30  # enough for every card and gallery kind at seed 11 (3 pages of 8, promos on each)


@pytest.fixture(scope="module")
def site(small_params: MarketplaceParams, photo_cache: Path) -> Iterator[SiteURLs]:
    with running_marketplace(small_params, store=PhotoStore(photo_cache / "photos"),
                             carnest_listings=LISTINGS) as urls:
        yield urls


@pytest.fixture(scope="module")
def inv(small_params: MarketplaceParams) -> CarnestInventory:
    return CarnestInventory(small_params, LISTINGS)


def _get(url: str, **kw: Any) -> requests.Response:
    resp = requests.get(url, timeout=20, **kw)
    resp.raise_for_status()
    return resp


def _soup(url: str) -> BeautifulSoup:
    return BeautifulSoup(_get(url).text, "html.parser")


def _hashed(soup: BeautifulSoup | Tag, stem: str) -> list[Tag]:
    return soup.select(f'[class*="styles_{stem}__"]')


def _attr(node: Tag, selector: str, name: str) -> str:
    """Attribute ``name`` of the first match of ``selector`` under ``node``."""
    found = node.select_one(selector)
    assert found is not None, selector
    value = found.get(name)
    assert isinstance(value, str), (selector, name)
    return value


def _script_json(soup: BeautifulSoup, selector: str) -> Any:
    node = soup.select_one(selector)
    assert node is not None, selector
    return json.loads(node.string or "")


def _api(base: str, page: int, size: int = 8) -> dict[str, Any]:
    return _get(f"{base}/api/v1/search?city=pune&page={page}&size={size}").json()


def _all_api_items(base: str, size: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for page in range(1, 1000):
        results = _api(base, page, size)["results"]
        if not [r for r in results if r["type"] == "listing"]:
            return out
        out.extend(results)
    raise AssertionError("the API never ran dry")


def _title_of(card: Tag) -> str:
    """The card's full title: heading pieces joined by spaces without the badge, then the variant."""
    h3 = _hashed(card, "title")[0]
    words = [s for s in h3.stripped_strings if s != "Sponsored"]
    variant = _hashed(card, "variant")
    return " ".join([*words, *(v.get_text(strip=True) for v in variant)])


def _largest(srcset: str) -> str:
    candidates = [part.strip().rsplit(" ", 1) for part in srcset.split(",")]
    return max(candidates, key=lambda c: int(c[1].rstrip("wx")))[0]


def _image(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


# ---- listing pages ---------------------------------------------------------------------------------

def test_listing_page_has_cards_next_data_and_json_ld(site: SiteURLs, inv: CarnestInventory,
                                                      small_params: MarketplaceParams) -> None:
    soup = _soup(f"{site.carnest}/used-cars/pune")
    cards = _hashed(soup, "card")
    listings = [c for c in cards if _hashed(c, "title")]
    promos = [c for c in cards if not _hashed(c, "title")]
    size = small_params.page_size
    assert len(listings) == size and len(promos) == 1  # one promo after the 7th listing
    assert all(c.select_one("a[href]") is None or _attr(c, "a", "href") == "/sell-car" for c in promos)
    cars = inv.cars[:size]
    for card, car in zip(listings, cars, strict=True):
        assert _attr(card, "a", "href") == f"/cars/{car.listing_id}/" + re.sub(
            r"[^a-z0-9]+", "-", car.listing.title.lower()).strip("-")
        assert _title_of(card) == car.listing.title
        assert _attr(card, "img", "src").startswith("data:") and "?w=320&h=180 320w" in _attr(card, "img", "srcset")
        assert _attr(card, "picture source", "srcset").endswith("?w=320&h=180 1x")
        specs = [li.get_text() for li in _hashed(card, "specs")[0].select("li")]
        lst = car.listing
        assert specs[0] == str(lst.year) and specs[2:] == [lst.fuel, car.transmission]
        assert int(re.sub(r"\D", "", specs[1])) == lst.km
        price = _hashed(card, "price")[0].get_text()
        assert round(float(re.sub(r"[^\d.]", "", price.replace("Lakh", ""))) * 100_000) == lst.price
        assert _hashed(card, "city")[0].get_text() == "Pune"
    # __NEXT_DATA__ carries the same page, promos included, with exact facts.
    data = _script_json(soup, "script#__NEXT_DATA__")
    results = data["props"]["pageProps"]["search"]["results"]
    assert [r["id"] for r in results if r["type"] == "listing"] == [c.listing_id for c in cars]
    assert [r["type"] for r in results].count("promo") == 1
    first = results[0]
    assert first["price"]["value"] == cars[0].listing.price and first["km"] == cars[0].listing.km
    assert (first["title"]["main"] + " " + first["title"]["variant"]).strip() == cars[0].listing.title
    # JSON-LD: an ItemList of Cars with image arrays.
    ld = _script_json(soup, 'script[type="application/ld+json"]')
    assert ld["@type"] == "ItemList" and ld["numberOfItems"] == size
    items = [e["item"] for e in ld["itemListElement"]]
    assert [i["@type"] for i in items] == ["Car"] * size
    assert all(isinstance(i["image"], list) and i["image"][0].endswith("?w=320&h=180") for i in items)
    assert [i["offers"]["price"] for i in items] == [c.listing.price for c in cars]
    # No end marker: a page past the end is an empty grid, not an error or a message.
    past = _soup(f"{site.carnest}/used-cars/pune?page=40")
    assert _hashed(past, "grid") and not _hashed(past, "card")


def test_titles_come_in_pieces_glued_and_sponsored(site: SiteURLs, inv: CarnestInventory) -> None:
    seen: Counter[str] = Counter()
    for page in (1, 2, 3, 4):
        for card in _hashed(_soup(f"{site.carnest}/used-cars/pune?page={page}"), "card"):
            h3 = _hashed(card, "title")
            if not h3:
                continue
            car = inv.by_id[_attr(card, "a", "href").split("/")[2]]
            naive = h3[0].get_text() + (" " + car.variant if car.variant else "")
            if car.glued:
                seen["glued"] += 1
                assert "".join(car.heading.split()) in naive  # "2021MarutiSuzukiSwift"
            if car.sponsored:
                seen["sponsored"] += 1
                assert "Sponsored" in naive
            assert _title_of(card) == car.listing.title
            seen["cards"] += 1
    assert seen["cards"] == LISTINGS and seen["glued"] >= 3 and seen["sponsored"] >= 2
    # The title joined from its pieces labels as the listing's model, traps included.
    expected = {"swift": "swift", "wagonr": "wagonr"}
    for car in inv.cars:
        assert label_from_title(car.listing.title) == expected.get(car.listing.model, "other"), car.listing.title


def test_class_names_are_hashed_per_build(small_params: MarketplaceParams) -> None:
    from marketplace.carnest.app import build_id, class_names

    a, b = class_names(build_id(small_params.seed)), class_names(build_id(small_params.seed + 1))
    assert all(re.fullmatch(rf"styles_{k}__[0-9A-Za-z]{{5}}", v) for k, v in a.items())
    assert set(a.values()).isdisjoint(b.values())
    assert class_names(build_id(small_params.seed)) == a


# ---- the JSON API ------------------------------------------------------------------------------------

def test_api_pages_through_to_an_end(site: SiteURLs, inv: CarnestInventory) -> None:
    for size in (7, 8, 40):
        items = _all_api_items(site.carnest, size)
        listings = [i for i in items if i["type"] == "listing"]
        assert [i["id"] for i in listings] == [c.listing_id for c in inv.cars]
        promos = [i for i in items if i["type"] == "promo"]
        assert len(promos) == LISTINGS // 7 and all("title" not in p and "images" not in p for p in promos)
        for item, car in zip(listings, inv.cars, strict=True):
            assert len(item["images"]) == len(car.listing.photos)
            assert item["location"]["city"] == "Pune" and item["year"] == car.listing.year
    last = _api(site.carnest, 4, 8)  # 30 listings: pages of 8, the 4th is short, the 5th empty
    assert 0 < len([r for r in last["results"] if r["type"] == "listing"]) < 8
    assert _api(site.carnest, 5, 8) == {"meta": {"city": "pune", "page": 5, "size": 8}, "results": []}
    for query, status in (("page=0", 400), ("page=x", 400), ("size=0", 400), ("size=61", 400)):
        resp = requests.get(f"{site.carnest}/api/v1/search?city=pune&{query}", timeout=10)
        assert resp.status_code == status and "error" in resp.json()
    assert requests.get(f"{site.carnest}/api/v1/search?city=delhi", timeout=10).status_code == 404


# ---- thumbnails and the rewrite ------------------------------------------------------------------------

def test_rewrite_recovers_the_full_photo_from_every_thumbnail_form(site: SiteURLs, inv: CarnestInventory,
                                                                   photo_cache: Path) -> None:
    store = CarnestStore(photo_cache / "photos")
    item = _api(site.carnest, 1, 8)["results"][0]
    car = inv.by_id[item["id"]]
    card = _hashed(_soup(f"{site.carnest}/used-cars/pune"), "card")[0]
    small = item["images"][0]["small"]["url"]
    srcset = _largest(_attr(card, "img", "srcset"))
    assert small.startswith("//") and small.endswith("-cr-60.jpg") and "?w=320&h=180" in srcset
    truth = store.get(car.listing.photos[0])
    for thumb, size in ((small, (320, 180)), (srcset, (320, 180))):
        url = ("http:" + thumb) if thumb.startswith("//") else site.carnest + thumb
        data = _get(url).content
        assert _image(data).size == size and data != truth  # a real, smaller JPEG
        full = _get(full_photo_url(url)).content
        assert full == truth and _image(full).size == (400, 225)
    assert re.search(REWRITE_PATTERN, "/cdn/big/0123456789abcdef0123.jpg") is None
    assert requests.get(f"{site.carnest}/cdn/photos/{item['images'][0]['id']}.jpg?w=1000&h=9", timeout=10
                        ).status_code == 400


# ---- detail pages ---------------------------------------------------------------------------------------

def _gallery_urls(base: str, car_url: str, kind: str) -> list[str]:
    """The gallery as a client without JavaScript finds it on a page of ``kind`` (empty for ``js``)."""
    soup = _soup(base + car_url)
    if kind == "ld":
        return list(_script_json(soup, 'script[type="application/ld+json"]')["image"])
    if kind == "state":
        chompjs = pytest.importorskip("chompjs")
        text = next(s.string for s in soup.select("script") if s.string and "__PRELOADED_STATE__" in s.string)
        return [g["src"] for g in chompjs.parse_js_object(text)["listing"]["gallery"]]
    assert "/cdn/" not in str(soup)  # nothing in the page: only the script's fetch finds it
    return [i["full"] for i in _get(f"{base}/api/v1/listings/{car_url.split('/')[2]}/gallery").json()["images"]]


def test_detail_galleries_by_kind(site: SiteURLs, inv: CarnestInventory, photo_cache: Path) -> None:
    store = CarnestStore(photo_cache / "photos")
    kinds = Counter(c.gallery_kind for c in inv.cars)
    assert set(kinds) == {"ld", "state", "js"}
    for kind in ("ld", "state", "js"):
        car = next(c for c in inv.cars if c.gallery_kind == kind)
        url = f"/cars/{car.listing_id}/any-slug"
        soup = _soup(site.carnest + url)
        assert _hashed(soup, "gallery") and not _hashed(soup, "slide")  # drawn by the script only
        ld = _script_json(soup, 'script[type="application/ld+json"]')
        assert ld["@type"] == "Car" and ("image" in ld) == (kind == "ld")
        assert ld["offers"]["price"] == car.listing.price and ld["vehicleTransmission"] == car.transmission
        urls = _gallery_urls(site.carnest, url, kind)
        assert len(urls) == len(car.listing.photos)
        for got, spec in zip(urls, car.listing.photos, strict=True):
            absolute = "http:" + got if got.startswith("//") else site.carnest + got
            assert _get(absolute).content == store.get(spec)
    assert requests.get(f"{site.carnest}/cars/PN99999999/x", timeout=10).status_code == 404


# ---- the answer key ----------------------------------------------------------------------------------

def test_answer_key_covers_every_photo_with_facts(site: SiteURLs, inv: CarnestInventory,
                                                  small_params: MarketplaceParams, photo_cache: Path,
                                                  tmp_path: Path) -> None:
    out = tmp_path / "key.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "marketplace", "answer-key", "--out", str(out), "--seed", str(small_params.seed),
         "--listings-per-region", str(small_params.listings_per_region), "--hyderabad-listings",
         str(small_params.hyderabad_listings), "--carnest-listings", str(LISTINGS), "--site", "carnest"],
        capture_output=True, text=True, env={**os.environ, "CARID_CACHE_DIR": str(photo_cache)}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    photos = [(c, p) for c in inv.cars for p in c.listing.photos]
    assert len(rows) == len(photos) and {r["site"] for r in rows} == {"carnest"}
    # Every photo the API lists, fetched at full size, is in the key, under its listing, with its facts.
    key = {(r["listing_id"], r["sha256"]): r for r in rows}
    fetched = 0
    for item in _all_api_items(site.carnest, 40):
        if item["type"] != "listing":
            continue
        for image in item["images"]:
            data = _get("http:" + full_photo_url(image["small"]["url"])).content
            row = key[(item["id"], hashlib.sha256(data).hexdigest())]
            fetched += 1
            assert row["region"] == "pune" and row["city"] == item["location"]["city"] == "Pune"
            assert (int(row["price"]), int(row["year"]), int(row["km"])) == (
                item["price"]["value"], item["year"], item["km"])
            assert (row["fuel"], row["transmission"]) == (item["fuelType"].lower(), item["transmission"].lower())
    assert fetched == len(rows)
    for row in rows:
        if row["junk_kind"] and row["junk_kind"] != "other-model":
            assert row["true_model"] == ""
        else:
            assert row["true_model"] in ("swift", "wagonr", "dzire", "alto", "baleno", "celerio")
    kinds = Counter(r["junk_kind"] for r in rows)
    assert kinds[""] > 0.8 * len(rows) and sum(kinds.values()) - kinds[""] > 0
    assert Counter(r["variant"] for r in rows)["original"] < len(rows)  # some re-uploads
    unknown = subprocess.run([sys.executable, "-m", "marketplace", "answer-key", "--out", str(out), "--site", "x"],
                             capture_output=True, text=True, timeout=60)
    assert unknown.returncode != 0 and "unknown site 'x'" in unknown.stderr + unknown.stdout


def test_same_seed_same_bytes_other_seed_differs(small_params: MarketplaceParams, tmp_path: Path) -> None:
    def snapshot(params: MarketplaceParams, cache: Path) -> tuple[str, list[str]]:
        with running_marketplace(params, store=PhotoStore(cache), carnest_listings=6) as urls:
            page = _get(f"{urls.carnest}/used-cars/pune").text.replace(urls.carnest, "BASE")
            page = page.replace(urls.carnest.split("//")[1], "HOST")
            item = _api(urls.carnest, 1, 6)["results"][1]
            photos = [hashlib.sha256(_get("http:" + full_photo_url(i["small"]["url"])).content).hexdigest()
                      for i in item["images"]]
        return page, photos

    a = snapshot(small_params, tmp_path / "a")
    assert snapshot(small_params, tmp_path / "b") == a  # a fresh cache renders the same bytes
    other = snapshot(small_params.model_copy(update={"seed": 12}), tmp_path / "c")
    assert other[0] != a[0] and set(other[1]).isdisjoint(a[1])


def test_size_follows_the_params(small_params: MarketplaceParams) -> None:
    assert listing_count(small_params) == small_params.carnest_listings
    assert len(CarnestInventory(small_params, 12).cars) == 12
    assert CarnestInventory(small_params, 12).cars == CarnestInventory(small_params, 12).cars
    assert CarnestInventory(small_params, 12).cars[:5] == CarnestInventory(small_params, 5).cars


# ---- faults -------------------------------------------------------------------------------------------

def _faulty(small_params: MarketplaceParams, tmp_path: Path, *faults: str) -> AbstractContextManager[SiteURLs]:
    params = small_params.model_copy(update={"faults": list(faults), "fault_rate": 1.0})
    return running_marketplace(params, store=PhotoStore(tmp_path / "cache"), carnest_listings=10)


@pytest.mark.parametrize("fault,status", [("ratelimit", 429), ("error5xx", 503)])
def test_transient_faults_hit_pages_api_and_photos_once(small_params: MarketplaceParams, tmp_path: Path,
                                                        fault: str, status: int) -> None:
    with _faulty(small_params, tmp_path, fault) as urls:
        base = urls.carnest
        for path in ("/used-cars/pune", "/api/v1/search?city=pune&page=1&size=5"):
            first = requests.get(base + path, timeout=10)
            assert first.status_code == status
            if fault == "ratelimit":
                assert first.headers["retry-after"] == "1"
            assert requests.get(base + path, timeout=10).status_code == 200
        item = requests.get(f"{base}/api/v1/search?city=pune&page=1&size=5", timeout=10).json()["results"][0]
        photo = "http:" + full_photo_url(item["images"][0]["small"]["url"])
        assert requests.get(photo, timeout=10).status_code == status
        assert requests.get(photo, timeout=10).status_code == 200


def test_body_faults_on_photos(small_params: MarketplaceParams, tmp_path: Path) -> None:
    with _faulty(small_params, tmp_path, "truncate") as urls:
        item = _api(urls.carnest, 1, 5)["results"][0]
        photo = "http:" + full_photo_url(item["images"][0]["small"]["url"])
        cut, good = requests.get(photo, timeout=10).content, requests.get(photo, timeout=10).content
        assert 0 < len(cut) < len(good) and good.startswith(cut)
    with _faulty(small_params, tmp_path, "content-type") as urls:
        item = _api(urls.carnest, 1, 5)["results"][0]
        photo = "http:" + full_photo_url(item["images"][1]["small"]["url"])
        first = requests.get(photo, timeout=10)
        assert first.headers["content-type"].startswith("text/html")
        assert requests.get(photo, timeout=10).headers["content-type"] == "image/jpeg"


def test_hostile_faults_in_api_and_galleries(small_params: MarketplaceParams, tmp_path: Path) -> None:
    faults = ("oversize", "bomb", "redirect-offsite", "bad-filename", "endless")
    with _faulty(small_params, tmp_path, *faults) as urls:
        base = urls.carnest
        results = _api(base, 1, 5)["results"]
        item = results[0]
        urls_in_api = [full_photo_url(i["small"]["url"]) for i in item["images"]]
        extras = [u for u in urls_in_api if "/photos/" not in u]
        assert len(extras) == 3
        big = next(u for u in extras if "/big/" in u)
        with requests.get("http:" + big, stream=True, timeout=20) as resp:
            assert sum(len(c) for c in resp.iter_content(1 << 20)) >= 20 * 1024 * 1024
        bomb = _get("http:" + next(u for u in extras if "/bomb/" in u)).content
        with pytest.raises(Image.DecompressionBombError):
            Image.open(io.BytesIO(bomb))
        go = requests.get("http:" + next(u for u in extras if "/go/" in u), allow_redirects=False, timeout=10)
        assert go.status_code == 302 and go.headers["location"].startswith("http://127.0.0.2:")
        assert "../" in _get("http:" + urls_in_api[0]).headers["content-disposition"]
        # The same extras in the gallery endpoint; pages past the end repeat the last page (endless).
        gallery = _get(f"{base}/api/v1/listings/{item['id']}/gallery").json()["images"]
        assert [g["full"] for g in gallery][-3:] == [u.split(base.split("//")[1])[1] for u in extras]
        assert [r["id"] for r in _api(base, 50, 5)["results"]] == [r["id"] for r in _api(base, 2, 5)["results"]]


def test_robots(site: SiteURLs, small_params: MarketplaceParams, tmp_path: Path) -> None:
    from protego import Protego

    text = _get(f"{site.carnest}/robots.txt").text
    rules = Protego.parse(text)
    assert rules.can_fetch(f"{site.carnest}/api/v1/search?city=pune&page=1&size=8", "carid")
    assert rules.can_fetch(f"{site.carnest}/api/v1/listings/PN0110000/gallery", "carid")
    assert not rules.can_fetch(f"{site.carnest}/api/internal/x", "carid")
    assert rules.can_fetch(f"{site.carnest}/cdn/p/photos/0123456789abcdef0123.jpg", "carid")
    with _faulty(small_params, tmp_path, "robots-partial") as urls:
        assert "Disallow: /cdn/p/" in _get(f"{urls.carnest}/robots.txt").text
    with _faulty(small_params, tmp_path, "robots-all") as urls:
        assert _get(f"{urls.carnest}/robots.txt").text.endswith("Disallow: /\n")


def test_serve_announces_the_third_site(tmp_path: Path, photo_cache: Path) -> None:
    import signal
    import time

    url_file = tmp_path / "urls.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "marketplace", "serve", "--main-port", "0", "--hyderabad-port", "0",
         "--listings-per-region", "5", "--hyderabad-listings", "5", "--carnest-listings", "4",
         "--url-file", str(url_file)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "CARID_CACHE_DIR": str(photo_cache)})
    try:
        deadline = time.monotonic() + 60
        while not url_file.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.1)
        urls = json.loads(url_file.read_text())
        assert set(urls) == {"main", "hyderabad", "carnest"} and len(set(urls.values())) == 3
        ids = [r["id"] for r in _all_api_items(urls["carnest"], 60) if r["type"] == "listing"]
        assert len(ids) == 4
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert re.search(r"Carnest, Pune \(3rd site\):\s+http://127\.0\.0\.1:\d+", out)


# ---- in a browser --------------------------------------------------------------------------------------

@pytest.mark.browser
def test_chromium_scrolls_to_the_end_and_draws_galleries(site: SiteURLs, inv: CarnestInventory, browser) -> None:
    import time

    from selenium.webdriver.common.by import By

    browser.get(f"{site.carnest}/used-cars/pune")
    card_css = '[class*="styles_card__"]'
    counts = []
    for _ in range(40):  # scroll until the list stops growing: nothing marks the end
        browser.execute_script("window.scrollTo(0, document.body.scrollHeight);")
        time.sleep(0.3)
        counts.append(len(browser.find_elements(By.CSS_SELECTOR, card_css)))
        if len(counts) >= 4 and len(set(counts[-4:])) == 1:
            break
    soup = BeautifulSoup(browser.page_source, "html.parser")
    cards = soup.select(card_css)
    listings = [c for c in cards if _hashed(c, "title")]
    assert len(listings) == LISTINGS and len(cards) - len(listings) == LISTINGS // 7
    assert [_title_of(c) for c in listings] == [car.listing.title for car in inv.cars]
    # Cards the script added look exactly like server-rendered ones.
    server_page2 = _hashed(_soup(f"{site.carnest}/used-cars/pune?page=2"), "card")
    scrolled = cards[len(_hashed(_soup(f"{site.carnest}/used-cars/pune"), "card")):][:len(server_page2)]
    for a, b in zip(scrolled, server_page2, strict=True):
        assert str(a).replace("><", ">\n<").splitlines() == str(b).replace("><", ">\n<").splitlines()
    for kind in ("ld", "state", "js"):
        car = next(c for c in inv.cars if c.gallery_kind == kind)
        browser.get(f"{site.carnest}/cars/{car.listing_id}/x")
        deadline = time.monotonic() + 10
        while len(browser.find_elements(By.CSS_SELECTOR, '[class*="styles_slide__"]')) < len(car.listing.photos):
            assert time.monotonic() < deadline, kind
            time.sleep(0.1)
        slides = BeautifulSoup(browser.page_source, "html.parser").select('[class*="styles_slide__"]')
        full = [full_photo_url(_largest(str(s["srcset"]))) for s in slides]
        assert all(s.get("src") is None for s in slides)
        assert [hashlib.sha256(_get(site.carnest + u).content).hexdigest() for u in full] == [
            hashlib.sha256(CarnestStore(Path(os.environ["CARID_CACHE_DIR"]) / "photos").get(p)).hexdigest()
            for p in car.listing.photos]
