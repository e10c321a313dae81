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
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import requests

from scraper.browser import chromium
from scraper.crawl import ListingCrawler
from scraper.fetch import Fetcher
from scraper.parse import parse_gallery
from scraper.profile import load_profile
from scraper.shard import download_photo


@contextmanager
def served(listings: int) -> Iterator[SimpleNamespace]:
    with tempfile.TemporaryDirectory() as tmp:
        url_file = Path(tmp) / "urls.json"
        proc = subprocess.Popen([sys.executable, "-m", "marketplace", "serve", "--main-port", "0",
                                 "--hyderabad-port", "0", "--listings-per-region", str(listings),
                                 "--hyderabad-listings", "1", "--url-file", str(url_file)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while not url_file.exists():
                if proc.poll() is not None:
                    raise SystemExit("the marketplace did not start")
                time.sleep(0.05)
            yield SimpleNamespace(**json.loads(url_file.read_text()))
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listings", type=int, default=300, help="listings in the benchmark region")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--reps", type=int, default=3, help="interleaved repetitions; the best of each is reported")
    args = ap.parse_args()
    profile = load_profile("gaadibazaar")
    profile = profile.model_copy(update={"politeness": profile.politeness.model_copy(
        update={"concurrency": args.concurrency, "delay_s": 0.0})})
    # The marketplace runs in its own process, as in a real scrape: in-process it would share
    # the client's GIL and turn every bit of client work into server slowness too.
    with tempfile.TemporaryDirectory() as tmp, served(args.listings) as urls:
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

            timings: dict[str, list[float]] = {"bare": [], "carid": []}
            for rep in range(args.reps):  # interleaved; each carid run writes into a fresh folder
                folder = Path(tmp) / f"images-{rep}"

                def ours(url: str, folder: Path = folder) -> int:
                    return download_photo(fetcher, url, folder, 64)[0].size

                for name, fn in (("bare", bare), ("carid", ours)):
                    start = time.perf_counter()
                    list(pool.map(fn, photo_urls))
                    timings[name].append(time.perf_counter() - start)
    n = len(photo_urls)
    bare_s, ours_s = min(timings["bare"]), min(timings["carid"])
    print(f"listing pages (load-more, Selenium): {crawler.pages + 1} pages, {len(cards)} cards in {crawl_s:.2f} s"
          f" = {(crawler.pages + 1) / crawl_s:.1f} pages/s")
    print(f"bare concurrent GET (c={args.concurrency}):   {n / bare_s:8.1f} photos/s ({n} photos, best of {args.reps})")
    print(f"carid downloader (c={args.concurrency}):      {n / ours_s:8.1f} photos/s"
          "  (robots + validate + sha256 + atomic write)")
    print(f"ratio carid / bare:                 {bare_s / ours_s:.2f}  (target >= 0.8)")


if __name__ == "__main__":
    main()
