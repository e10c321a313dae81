"""Scraper speed against the local demo marketplace, delays off.

Prints, in one run:
- listing pages per second: Selenium walking one region's "load more" pages;
- the downloader's photos per second (polite fetch + validation + sha256 +
  atomic write) as a ratio to a bare concurrent ``requests`` GET of the same
  URLs at the same concurrency, which is the loopback limit.

    .venv/bin/python benchmarks/scrape_bench.py [--listings 200] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from carid.params import DEFAULT_MARKETPLACE
from marketplace.server import running_marketplace
from marketplace.store import PhotoStore
from scraper.browser import chromium
from scraper.crawl import ListingCrawler
from scraper.fetch import Fetcher
from scraper.parse import parse_gallery
from scraper.profile import load_profile
from scraper.shard import download_photo


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listings", type=int, default=200, help="listings in the benchmark region")
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args()
    params = DEFAULT_MARKETPLACE.model_copy(update={"listings_per_region": args.listings, "hyderabad_listings": 1})
    profile = load_profile("gaadibazaar")
    profile = profile.model_copy(update={"politeness": profile.politeness.model_copy(
        update={"concurrency": args.concurrency, "delay_s": 0.0})})
    with tempfile.TemporaryDirectory() as tmp, running_marketplace(params, store=PhotoStore(Path(tmp) / "c")) as urls:
        fetcher = Fetcher(profile.politeness.politeness())
        with chromium(loopback_only=True) as driver:
            crawler = ListingCrawler(driver, profile, fetcher)
            start = time.perf_counter()
            cards = [c for batch in crawler.cards(urls.main + "/used-cars/delhi") for c in batch]
            crawl_s = time.perf_counter() - start
        session = requests.Session()
        photo_urls = [u for c in cards for u in parse_gallery(session.get(c.url, timeout=30).text, profile, c.url)]
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(lambda u: session.get(u, timeout=30).content, photo_urls))  # render + cache once

            def bare(url: str) -> int:
                return len(session.get(url, timeout=30).content)

            def ours(url: str) -> int:
                return download_photo(fetcher, url, Path(tmp) / "images", 64)[0].size

            timings = {}
            for name, fn in (("bare", bare), ("carid", ours), ("bare again", bare)):
                start = time.perf_counter()
                list(pool.map(fn, photo_urls))
                timings[name] = time.perf_counter() - start
    n = len(photo_urls)
    bare_s = min(timings["bare"], timings["bare again"])
    print(f"listing pages (load-more, Selenium): {crawler.pages + 1} pages, {len(cards)} cards in {crawl_s:.2f} s"
          f" = {(crawler.pages + 1) / crawl_s:.1f} pages/s")
    print(f"bare concurrent GET (c={args.concurrency}):   {n / bare_s:8.1f} photos/s ({n} photos)")
    print(f"carid downloader (c={args.concurrency}):      {n / timings['carid']:8.1f} photos/s"
          "  (robots + validate + sha256 + atomic write)")
    print(f"ratio carid / bare:                 {bare_s / timings['carid']:.2f}  (target >= 0.8)")


if __name__ == "__main__":
    main()
