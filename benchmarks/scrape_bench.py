"""Scraper speed against the local demo marketplace, delays off.

Prints, in one run:
- listing pages per second: Selenium walking one region's "load more" pages;
- the downloader's photos per second (polite fetch + validation + sha256 +
  atomic write) as a ratio to a bare concurrent ``requests`` GET of the same
  URLs at the same concurrency, which is the loopback limit. The downloader
  writes once to the temp folder's disk, as a scrape does, and once to RAM
  (/dev/shm), which shows how much of the gap is the file system's;
- the JSON-API mode (the third demo site, no browser): a whole shard scrape
  (``ShardScraper``: the API's pages, every photo fetched, validated, hashed and
  written to RAM, the manifest), in photos per second as a ratio to a bare
  concurrent GET of the same photo URLs (which knows them in advance, so the
  page walk and the manifest are carid's cost alone).

    .venv/bin/python benchmarks/scrape_bench.py [--listings 300] [--concurrency 4] [--reps 5]
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urljoin

import requests

from scraper.browser import chromium
from scraper.crawl import ListingCrawler
from scraper.fetch import Fetcher
from scraper.parse import parse_gallery
from scraper.profile import Profile, load_profile
from scraper.shard import ShardJob, ShardScraper, download_photo


@contextmanager
def served(listings: int) -> Iterator[SimpleNamespace]:
    with tempfile.TemporaryDirectory() as tmp:
        url_file = Path(tmp) / "urls.json"
        proc = subprocess.Popen([sys.executable, "-m", "marketplace", "serve", "--main-port", "0",
                                 "--hyderabad-port", "0", "--carnest-port", "0", "--listings-per-region",
                                 str(listings), "--hyderabad-listings", "1", "--carnest-listings", str(listings),
                                 "--url-file", str(url_file)],
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


BARE = "bare concurrent GET"
API = "carid API-mode shard scrape, ram"


def _with_concurrency(name: str, concurrency: int) -> Profile:
    profile = load_profile(name)
    return profile.model_copy(update={"politeness": profile.politeness.model_copy(
        update={"concurrency": concurrency, "delay_s": 0.0})})


def _folders(ram: bool) -> list[tuple[str, str]]:
    """Where the downloader writes: the disk a scrape writes to, and RAM (to show the disk's share)."""
    out = [("disk", tempfile.gettempdir())]
    if ram and Path("/dev/shm").is_dir():
        out.append(("ram", "/dev/shm"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listings", type=int, default=300, help="listings in the benchmark region")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--reps", type=int, default=5, help="interleaved repetitions")
    ap.add_argument("--no-ram", action="store_true", help="skip the run that writes to /dev/shm")
    args = ap.parse_args()
    profile = _with_concurrency("gaadibazaar", args.concurrency)
    api_profile = _with_concurrency("carnest", args.concurrency)
    # The marketplace runs in its own process, as in a real scrape: in-process it would share
    # the client's GIL and turn every bit of client work into server slowness too.
    with ExitStack() as stack:
        urls = stack.enter_context(served(args.listings))
        # Nothing is deleted until the end: on this machine's ext4 (mounted with discard), a
        # burst of deletes slows the creates that follow and would bias whichever run came next.
        targets = {name: Path(stack.enter_context(tempfile.TemporaryDirectory(dir=base)))
                   for name, base in _folders(not args.no_ram)}
        fetcher = Fetcher(profile.politeness.politeness())
        with chromium(loopback_only=True) as driver:
            crawler = ListingCrawler(driver, profile, fetcher)
            start = time.perf_counter()
            cards = [c for batch in crawler.cards(urls.main + "/used-cars/delhi") for c in batch]
            crawl_s = time.perf_counter() - start
        session = requests.Session()
        photo_urls = [u for c in cards for u in parse_gallery(session.get(c.url, timeout=30).text, profile, c.url)]
        pool = stack.enter_context(ThreadPoolExecutor(args.concurrency))

        def bare(url: str) -> int:
            return len(session.get(url, timeout=30).content)

        list(pool.map(bare, photo_urls))  # render + cache once

        def bare_write(rep: int) -> Callable[[str], int]:  # the disk's own cost, for reference
            folder = targets["disk"] / f"bare-{rep}"
            folder.mkdir()
            return lambda url: (folder / url.rsplit("/", 1)[-1]).write_bytes(session.get(url, timeout=30).content)

        disk = targets["disk"].parent
        runs: dict[str, Callable[[int], Callable[[str], int]]] = {
            BARE: lambda rep: bare, f"bare GET + plain write, disk ({disk})": bare_write}
        for name, folder in targets.items():
            def ours(rep: int, folder: Path = folder) -> Callable[[str], int]:
                return lambda url: download_photo(fetcher, url, folder / str(rep), 64)[0].size
            runs[f"carid downloader, {name} ({folder.parent})"] = ours
        rates: dict[str, list[float]] = {label: [] for label in runs}
        api_start = urljoin(urls.carnest, api_profile.regions["pune"])
        api_cards = [c for batch in ListingCrawler(None, api_profile, fetcher).cards(api_start) for c in batch]
        api_urls = [u for c in api_cards for u in c.photos]
        list(pool.map(bare, api_urls))  # render + cache once
        api_rates: dict[str, list[float]] = {BARE: [], API: []}
        ram = targets.get("ram", targets["disk"])
        for rep in range(args.reps):  # interleaved; each run writes into a fresh folder
            for label, make in runs.items():
                fn = make(rep)
                start = time.perf_counter()
                list(pool.map(fn, photo_urls))
                rates[label].append(len(photo_urls) / (time.perf_counter() - start))
            start = time.perf_counter()
            list(pool.map(bare, api_urls))
            api_rates[BARE].append(len(api_urls) / (time.perf_counter() - start))
            job = ShardJob(api_profile, "pune", urls.carnest, ram / f"api-{rep}" / "carnest" / "pune", ram)
            start = time.perf_counter()
            summary = ShardScraper(job).run(progress=False)
            fetched = sum(summary.kept.values()) + sum(summary.skipped.values())  # every photo URL, kept or not
            api_rates[API].append(fetched / (time.perf_counter() - start))
    n = len(photo_urls)
    print(f"listing pages (load-more, Selenium): {crawler.pages + 1} pages, {len(cards)} cards in {crawl_s:.2f} s"
          f" = {(crawler.pages + 1) / crawl_s:.1f} pages/s")
    print(f"{n} photos, concurrency {args.concurrency}, {args.reps} interleaved runs each; photos/s median (min-max)")
    bare_median = statistics.median(rates[BARE])
    for label, values in rates.items():
        median = statistics.median(values)
        ratio = "" if label == BARE else f"  ratio {median / bare_median:.2f}"
        print(f"  {label:46s} {median:7.1f} ({min(values):.0f}-{max(values):.0f}){ratio}")
    print("  ratio = carid median / bare median (target >= 0.8); carid = robots + validate + sha256 + atomic write")
    print(f"API mode: {len(api_cards)} cards, {len(api_urls)} photos, concurrency {args.concurrency}; photos/s median"
          " (min-max)")
    api_bare = statistics.median(api_rates[BARE])
    for label, values in api_rates.items():
        ratio = "" if label == BARE else f"  ratio {statistics.median(values) / api_bare:.2f}"
        print(f"  {label:46s} {statistics.median(values):7.1f} ({min(values):.0f}-{max(values):.0f}){ratio}")


if __name__ == "__main__":
    main()
