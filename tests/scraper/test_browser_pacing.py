"""Crawl-delay holds for listing pages the browser loads, as it does for requests: real Chromium, a loopback site."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from test_robots_rfc import POLITE, stub_site

from scraper.browser import chromium
from scraper.crawl import ListingCrawler
from scraper.fetch import Fetcher
from scraper.profile import load_profile

pytestmark = pytest.mark.browser

PROFILE = """version: 2
name: paced
base_url: http://127.0.0.1:1
regions:
  all: /cars?page=1
listing:
  mode: pages
  card: div.car
  link: a
  title: .name
  id_pattern: "/car/([0-9]+)"
  next_page: a.next
  max_pages: 10
detail:
  photos: {css: img, attr: [src]}
"""


def page(n: int, last: int) -> str:
    cards = "".join(f'<div class="car"><a href="/car/{n}{k}"><span class="name">Maruti Swift VXI</span></a></div>'
                    for k in range(2))
    nxt = f'<a class="next" href="/cars?page={n + 1}">next</a>' if n < last else ""
    return f"<html><body>{cards}{nxt}</body></html>"


def test_crawl_delay_spaces_the_browsers_page_loads(tmp_path: Path) -> None:
    delay = 0.8
    routes = {"/robots.txt": (200, f"User-agent: *\nCrawl-delay: {delay}\nAllow: /\n")}
    routes |= {f"/cars?page={n}": (200, page(n, 3)) for n in range(1, 4)}
    (tmp_path / "paced.yaml").write_text(PROFILE, encoding="utf-8")
    profile = load_profile(str(tmp_path / "paced.yaml"))
    with stub_site(routes) as (base, hits), chromium(loopback_only=True) as driver:
        cards = [c for batch in ListingCrawler(driver, profile, Fetcher(POLITE)).cards(base + "/cars?page=1")
                 for c in batch]
    assert len(cards) == 6
    loads = [t for t, p in hits if p.startswith("/cars")]
    assert len(loads) == 3
    gaps = [b - a for a, b in itertools.pairwise(loads)]
    assert min(gaps) >= delay - 0.1, gaps  # without pacing, Chromium loads the next page at once
