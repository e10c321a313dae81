"""Shared fixtures: a demo marketplace on free loopback ports, a headless browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("ITERATIVE_DO_NOT_TRACK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SE_OFFLINE", "true")

from carid.params import MarketplaceParams

#: A small marketplace: fast to render, still two sites with every page kind.
SMALL = MarketplaceParams(seed=11, difficulty=0.5, listings_per_region=30, hyderabad_listings=30, carnest_listings=9,
                          page_size=8, faults=[], fault_rate=0.1)


@pytest.fixture(scope="session")
def photo_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("photo-cache")
    os.environ["CARID_CACHE_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def small_params() -> MarketplaceParams:
    return SMALL


@pytest.fixture(scope="session")
def marketplace(photo_cache: Path) -> Iterator[object]:
    """The small demo marketplace, served for the whole session on free ports."""
    from marketplace.server import running_marketplace
    from marketplace.store import PhotoStore

    with running_marketplace(SMALL, store=PhotoStore(photo_cache / "photos")) as urls:
        yield urls


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from scraper.browser import chromium

    with chromium(loopback_only=True) as driver:
        yield driver
