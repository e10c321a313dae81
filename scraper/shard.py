"""Scrape one shard (a site profile x a region) into ``data/raw/<site>/<region>/``."""

from __future__ import annotations

import json
import logging
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import urllib3
from selenium.common.exceptions import WebDriverException
from tqdm import tqdm

from carid.paths import relative_to_root
from scraper.browser import chromium
from scraper.crawl import CrawlError, ListingCrawler
from scraper.fetch import Fetcher, FetchError
from scraper.images import ImageInfo, Rejected, clean_partials, inspect_image, store_image
from scraper.labels import label_from_title
from scraper.manifest import Manifest, ManifestRow
from scraper.parse import Card, parse_gallery
from scraper.profile import Profile

log = logging.getLogger(__name__)
TARGET_LABELS = ("swift", "wagonr")
ListingResult = tuple[list[ManifestRow], Counter[str]]
ListingMap = Callable[[Callable[[Card], ListingResult], Iterable[Card]], Iterator[ListingResult]]


@dataclass(frozen=True)
class ShardJob:
    profile: Profile
    region: str
    base_url: str
    out_dir: Path  # data/raw/<site>/<region>
    root: Path  # manifest paths are relative to this
    target_per_class: int = 0  # 0: no limit
    remote_url: str | None = None


@dataclass
class Summary:
    listings_seen: int = 0
    listings_resumed: int = 0
    kept: Counter[str] = field(default_factory=Counter)  # photos per label
    skipped: Counter[str] = field(default_factory=Counter)  # photos per reason
    retries: Counter[str] = field(default_factory=Counter)
    pages: int = 0
    capped: bool = False
    target_reached: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"listings_seen": self.listings_seen, "listings_resumed": self.listings_resumed,
                "photos_kept": dict(self.kept), "skipped": dict(self.skipped), "retries": dict(self.retries),
                "listing_pages": self.pages, "page_cap_hit": self.capped, "target_reached": self.target_reached}

    def lines(self) -> list[str]:
        kept = ", ".join(f"{k} {v}" for k, v in sorted(self.kept.items())) or "none"
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(self.skipped.items())) or "none"
        retries = ", ".join(f"{k.removeprefix('retry:')} {v}" for k, v in sorted(self.retries.items())) or "none"
        return [f"listings seen {self.listings_seen} ({self.listings_resumed} already done)",
                f"photos kept: {kept}", f"photos skipped: {skipped}", f"retries: {retries}"]


def download_photo(fetcher: Fetcher, url: str, folder: Path, min_side: int) -> tuple[ImageInfo, Path]:
    """Fetch, validate and store one photo; raises FetchError or Rejected."""
    resp, info = fetcher.get(url, lambda r: inspect_image(r.body, r.content_type, min_side))
    return info, store_image(folder, resp.body, info)


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


class ShardScraper:
    def __init__(self, job: ShardJob) -> None:
        self.job = job
        self.fetcher = Fetcher(job.profile.politeness.politeness())
        self.manifest = Manifest(job.out_dir)
        self.images = job.out_dir / "images"
        self.summary = Summary()

    def listing_rows(self, card: Card) -> ListingResult:
        """Fetch one listing's detail page and photos; returns its rows and skip reasons."""
        job, skipped = self.job, Counter[str]()
        label = label_from_title(card.title)
        try:
            page, html = self.fetcher.get(card.url, lambda r: r.body.decode("utf-8", "replace"))
        except FetchError as exc:
            log.warning("listing %s skipped: %s", card.url, exc)
            return [], Counter({f"listing-{exc.reason}": 1})
        urls = parse_gallery(html, job.profile, page.url)
        if not urls:
            log.warning("profile %s: selector detail.images %r matched nothing at %s",
                        job.profile.name, job.profile.detail.images, page.url)
            return [], Counter({"empty-gallery": 1})
        rows = []
        for url in urls:
            try:
                info, path = download_photo(self.fetcher, url, self.images, job.profile.politeness.min_side)
            except (FetchError, Rejected) as exc:
                skipped[exc.reason] += 1
                continue
            rows.append(ManifestRow(
                sha256=info.sha256, path=relative_to_root(path, job.root), site=job.profile.name,
                region=job.region, listing_id=card.listing_id, listing_url=card.url, image_url=url,
                title=card.title, label=label, width=info.width, height=info.height, bytes=info.size,
                fetched_at=datetime.now(UTC).isoformat(timespec="seconds")))
        return rows, skipped

    def _target_reached(self) -> bool:
        t = self.job.target_per_class
        return t > 0 and all(self.summary.kept[label] >= t for label in TARGET_LABELS)

    def run(self, progress: bool | None = None) -> Summary:
        """Scrape (or resume) the shard; on a failure before any listing is kept, leave nothing behind."""
        job = self.job
        start = urljoin(job.base_url, job.profile.regions[job.region])
        if not self.fetcher.allowed(start):  # also fails early, naming the URL, when the site is down
            raise CrawlError(f"robots.txt of {start} forbids it: nothing to scrape")
        fresh_dir = not job.out_dir.exists()
        try:
            return self._run(start, progress)
        except BaseException:
            if fresh_dir and not self.manifest.done:
                shutil.rmtree(job.out_dir, ignore_errors=True)
            raise

    def _run(self, start: str, progress: bool | None) -> Summary:
        job = self.job
        self.manifest.load()
        if clean_partials(self.images):
            log.info("removed half-written photos left by an interrupted run in %s", self.images)
        for row in self.manifest.rows:
            self.summary.kept[row.label] += 1
        self.summary.listings_resumed = len(self.manifest.done)
        show = sys.stderr.isatty() if progress is None else progress
        bar = tqdm(desc=f"{job.profile.name}/{job.region} listings", unit="listing", disable=not show)
        with ThreadPoolExecutor(job.profile.politeness.concurrency) as pool, \
                chromium(job.remote_url, loopback_only=_is_loopback(start)) as driver:
            crawler = ListingCrawler(driver, job.profile, self.fetcher)
            if self._target_reached():
                self.summary.target_reached = True
            else:
                try:
                    self._consume(crawler.cards(start), pool.map, bar)
                except (WebDriverException, urllib3.exceptions.HTTPError, ConnectionError) as exc:
                    detail = getattr(exc, "msg", None) or type(exc).__name__
                    raise CrawlError(f"the browser stopped answering ({detail}); run again to resume") from None
            self.summary.pages, self.summary.capped = crawler.pages, crawler.capped
        bar.close()
        self.summary.retries = Counter({k: v for k, v in self.fetcher.stats.items() if k.startswith("retry:")})
        self._write_summary()
        return self.summary

    def _consume(self, batches: Iterable[list[Card]], pmap: ListingMap, bar: tqdm) -> None:
        for batch in batches:
            self.summary.listings_seen += len(batch)
            todo = [c for c in batch if c.listing_id not in self.manifest.done]
            for card, (rows, skipped) in zip(todo, pmap(self.listing_rows, todo), strict=True):
                self.manifest.add_listing(card.listing_id, rows)
                self.summary.kept.update(r.label for r in rows)
                self.summary.skipped.update(skipped)
                bar.set_postfix(photos=sum(self.summary.kept.values()), skipped=sum(self.summary.skipped.values()),
                                refresh=False)
                bar.update(1)
            bar.update(len(batch) - len(todo))
            if self._target_reached():
                self.summary.target_reached = True
                log.info("target of %d photos per class reached", self.job.target_per_class)
                return

    def _write_summary(self) -> None:
        path = self.job.out_dir / "summary.json"
        tmp = path.with_suffix(".json.part")
        tmp.write_text(json.dumps(self.summary.as_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(path)
