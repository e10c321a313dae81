"""The third demo site (Carnest) scraped with the shipped v2 profiles: through its JSON API (no browser) and
through its pages in the browser (hashed classes, infinite scroll with no end marker, promo tiles, titles in
pieces, a gallery built by JavaScript). Both manifests must match the answer key exactly, facts included."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from scrapekit import fast, manifest_rows

from marketplace.answer_key import KeyRow, carnest_rows
from marketplace.carnest.inventory import CarnestInventory
from marketplace.carnest.photos import CarnestStore
from marketplace.store import PhotoStore
from scraper.labels import label_from_title
from scraper.profile import load_profile
from scraper.shard import ShardJob, ShardScraper, Summary


@pytest.fixture(scope="module")
def key(small_params, photo_cache) -> list[KeyRow]:
    store = CarnestStore(PhotoStore(photo_cache / "photos").root.parent)
    return list(carnest_rows(CarnestInventory(small_params), store))


def _scrape(name: str, base_url: str, root: Path) -> tuple[Summary, list[dict[str, str]]]:
    out = root / "raw" / name / "pune"
    summary = ShardScraper(ShardJob(fast(load_profile(name)), "pune", base_url, out, root)).run(progress=False)
    return summary, manifest_rows(out / "manifest.csv")


def _check_against_key(rows: list[dict[str, str]], key: list[KeyRow]) -> None:
    assert Counter((r["listing_id"], r["sha256"]) for r in rows) == Counter((k.listing_id, k.sha256) for k in key)
    by_listing = {k.listing_id: k for k in key}
    for row in rows:
        truth = by_listing[row["listing_id"]]
        assert row["title"] == truth.title
        want = truth.listing_model if truth.listing_model in ("swift", "wagonr") else "other"
        assert row["label"] == want == label_from_title(truth.title)
        assert (row["price"], row["year"], row["km"]) == (str(truth.price), str(truth.year), str(truth.km))
        assert (row["fuel"], row["transmission"], row["city"]) == (
            truth.fuel.lower(), truth.transmission.lower(), truth.city)


def test_api_profile_matches_the_answer_key(marketplace, key, tmp_path) -> None:
    summary, rows = _scrape("carnest", marketplace.carnest, tmp_path)
    _check_against_key(rows, key)
    assert summary.cards_skipped["no-link"] > 0  # the promo tiles, counted
    assert summary.ended == "last-page" and not summary.capped and not summary.skipped


@pytest.mark.browser
def test_page_profile_in_the_browser_matches_the_answer_key(marketplace, key, tmp_path) -> None:
    summary, rows = _scrape("carnest-html", marketplace.carnest, tmp_path)
    _check_against_key(rows, key)
    assert summary.cards_skipped["no-link"] > 0
    assert summary.ended == "no-new-cards"  # no end marker: the list stopped growing, which is no error


def test_every_fault_at_once_still_matches_the_answer_key_in_api_mode(small_params, key, tmp_path) -> None:
    """The hostile-site faults on the third site, read through its API: retried, refused or skipped, and the
    manifest is still exactly the answer key (hostile gallery entries are extra URLs, never kept)."""
    from marketplace.server import running_marketplace

    faults = ["ratelimit", "error5xx", "slow", "truncate", "dropped", "content-type", "oversize", "bomb",
              "redirect-offsite", "bad-filename"]
    params = small_params.model_copy(update={"faults": faults, "fault_rate": 0.4})
    with running_marketplace(params, store=PhotoStore(tmp_path / "cache")) as urls:
        summary, rows = _scrape("carnest", urls.carnest, tmp_path)
    _check_against_key(rows, key)
    assert summary.skipped["bomb"] > 0 and summary.skipped["too-large"] > 0
    assert summary.skipped["offsite-redirect"] > 0
    for reason in ("http-429", "http-503", "undecodable", "bad-content-type", "broken-body"):
        assert summary.retries[f"retry:{reason}"] > 0, reason
    assert not list(tmp_path.rglob("*escape*"))
