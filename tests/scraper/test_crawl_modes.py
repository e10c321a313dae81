"""Listing modes over plain HTTP (no browser) against the real demo marketplace on loopback: a JSON API with
page numbers and a next-page field, URL-template pagination that ends on a 404, the year filter, and the
errors that stop a shard with nothing half-written."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapekit import fast, manifest_rows, truth

from marketplace.inventory import Inventory
from marketplace.server import running_marketplace
from marketplace.store import PhotoStore
from scraper.fields.errors import PageError
from scraper.profile import Profile, ProfileError, load_profile
from scraper.shard import ShardJob, ShardScraper, Summary

#: GaadiBazaar's own JSON endpoint, read without a browser.
API = """\
name: gaadibazaar-api
base_url: http://127.0.0.1:8800
regions:
  delhi: /api/listings?region=delhi&page={page}
listing:
  mode: api
  card: {json: items}
  link: {json: url}
  title: {json: title}
  id: {json: id}
  next: next_page
  facts: {price: {json: price}, year: {json: year}, km: {json: km}, fuel: {json: fuel}}
detail:
  photos: {css: .gallery img, attr: [data-src, src]}
"""

#: Hyderabad Motors by URL template: the page after the last answers 404, the normal end of the list.
URL_PAGES = """\
name: hyderabad-urls
base_url: http://127.0.0.1:8801
regions:
  hyderabad: /cars?page={page}
listing:
  mode: url-pages
  card: div.car-tile
  link: a.tile-link
  title: .tile-name
  id_pattern: "/car/([A-Za-z0-9]+)-"
  facts: {price: .tile-price}
detail:
  photos: .photo-strip img
"""


def _profile(tmp_path: Path, text: str, **changes: str) -> Profile:
    for old, new in changes.items():
        text = text.replace(old, new)
    path = tmp_path / "profile.yaml"
    path.write_text(text, encoding="utf-8")
    return fast(load_profile(str(path)))


def _run(profile: Profile, region: str, base_url: str, root: Path, year_min: int = 0) -> tuple[Summary, Path]:
    out = root / "raw" / profile.name / region
    job = ShardJob(profile, region, base_url, out, root, year_min=year_min)
    return ShardScraper(job).run(progress=False), out


def test_api_mode_scrapes_every_photo_with_facts(marketplace, small_params, photo_cache, tmp_path) -> None:
    summary, out = _run(_profile(tmp_path, API), "delhi", marketplace.main, tmp_path)
    rows = manifest_rows(out / "manifest.csv")
    listings = {lst.listing_id: lst for lst in Inventory(small_params).region_listings("delhi")}
    expected = truth(small_params, PhotoStore(photo_cache / "photos"), "delhi")
    assert summary.listings_seen == len(listings) and summary.ended == "last-page" and not summary.capped
    assert sorted(r["sha256"] for r in rows) == sorted(expected.values())
    for row in rows:
        lst = listings[row["listing_id"]]
        assert (row["price"], row["year"], row["km"], row["fuel"]) == (
            str(lst.price), str(lst.year), str(lst.km), lst.fuel.lower())
        assert row["title"] == lst.title
    assert summary.pages == -(-len(listings) // small_params.page_size)  # no extra page fetched


def test_year_filter_leaves_out_older_cards(marketplace, small_params, tmp_path) -> None:
    listings = Inventory(small_params).region_listings("delhi")
    year_min = sorted(lst.year for lst in listings)[len(listings) // 2]
    summary, out = _run(_profile(tmp_path, API), "delhi", marketplace.main, tmp_path, year_min=year_min)
    rows = manifest_rows(out / "manifest.csv")
    kept = {lst.listing_id for lst in listings if lst.year >= year_min}
    assert {r["listing_id"] for r in rows} == kept
    assert summary.filtered["year-before-min"] == len(listings) - len(kept) > 0


def test_url_pages_end_at_the_404_after_the_last_page(marketplace, small_params, tmp_path) -> None:
    summary, out = _run(_profile(tmp_path, URL_PAGES), "hyderabad", marketplace.hyderabad, tmp_path)
    rows = manifest_rows(out / "manifest.csv")
    listings = Inventory(small_params).region_listings("hyderabad")
    assert summary.listings_seen == len(listings) and summary.ended == "last-page"
    assert len(rows) == sum(len(lst.photos) for lst in listings)
    by_id = {lst.listing_id: lst for lst in listings}
    assert all(r["price"] == str(by_id[r["listing_id"]].price) and r["year"] == "" for r in rows)


def test_endless_api_is_cut_off(small_params, tmp_path) -> None:
    params = small_params.model_copy(update={"faults": ["endless", "ratelimit", "error5xx"], "fault_rate": 0.2})
    with running_marketplace(params, store=PhotoStore(tmp_path / "cache")) as urls:
        summary, _ = _run(_profile(tmp_path, API), "delhi", urls.main, tmp_path)
    assert summary.capped and summary.listings_seen == len(Inventory(small_params).region_listings("delhi"))
    assert summary.retries["retry:http-429"] + summary.retries["retry:http-503"] > 0


def test_api_that_answers_html_stops_the_shard_naming_the_url(marketplace, tmp_path) -> None:
    profile = _profile(tmp_path, API, **{"/api/listings?region=delhi&page={page}": "/used-cars/delhi?page={page}"})
    with pytest.raises(PageError, match=r"/used-cars/delhi\?page=1: answered HTML"):
        _run(profile, "delhi", marketplace.main, tmp_path)
    assert not (tmp_path / "raw").exists() or not any((tmp_path / "raw").rglob("*.csv"))


def test_first_page_without_cards_is_a_profile_error(marketplace, tmp_path) -> None:
    profile = _profile(tmp_path, API, **{"card: {json: items}": "card: {json: listings}"})
    with pytest.raises(ProfileError, match=r"listing\.card \{json: 'listings'\} matched nothing at .*page=1"):
        _run(profile, "delhi", marketplace.main, tmp_path)
    assert not (tmp_path / "raw/gaadibazaar-api/delhi").exists()
