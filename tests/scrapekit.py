"""Helpers for scraper tests: a small shard scraped against a given marketplace, manifests, the truth."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from carid.params import MarketplaceParams
from marketplace.inventory import Inventory
from marketplace.store import PhotoStore
from scraper.profile import Profile, load_profile
from scraper.shard import ShardJob, ShardScraper, Summary


def fast(profile: Profile, **politeness: object) -> Profile:
    """A profile with quick backoff so fault tests stay fast."""
    conf = profile.politeness.model_copy(update={"backoff_s": 0.05, **politeness})
    return profile.model_copy(update={"politeness": conf})


def scrape(base_url: str, root: Path, profile: str = "gaadibazaar", region: str = "delhi",
           target: int = 0, **politeness: object) -> Summary:
    """Scrape a shard into ``<root>/data/raw/<profile>/<region>``, as ``carid scrape run`` does in a project."""
    out = root / "data" / "raw" / profile / region
    job = ShardJob(fast(load_profile(profile), **politeness), region, base_url, out, root, target)
    return ShardScraper(job).run(progress=False)


def manifest_rows(path: Path, drop: tuple[str, ...] = ("fetched_at",)) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return [{k: v for k, v in row.items() if k not in drop} for row in csv.DictReader(fh)]


def truth(params: MarketplaceParams, store: PhotoStore, region: str) -> dict[tuple[str, int], str]:
    """(listing_id, gallery position) -> sha256 of the photo, from the marketplace itself."""
    return {(lst.listing_id, k): hashlib.sha256(store.get(p)).hexdigest()
            for lst in Inventory(params).region_listings(region) for k, p in enumerate(lst.photos)}

