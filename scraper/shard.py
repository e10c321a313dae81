"""Scrape one shard (a site profile x a region) into ``data/raw/<site>/<region>/``."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import sys
import threading
from collections import Counter, deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import urllib3
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from tqdm import tqdm

from carid.paths import relative_to_root
from scraper.browser import chromium
from scraper.crawl import CrawlError, ListingCrawler
from scraper.fetch import Fetcher, FetchError
from scraper.fields.extract import Document
from scraper.images import ImageInfo, Rejected, clean_partials, inspect_image, store_image
from scraper.labels import label_from_title
from scraper.manifest import Manifest, ManifestRow
from scraper.parse import Card, gallery, with_detail_facts
from scraper.profile import Profile
from scraper.readahead import read_ahead

log = logging.getLogger(__name__)
TARGET_LABELS = ("swift", "wagonr")


@dataclass(frozen=True)
class ShardJob:
    profile: Profile
    region: str
    base_url: str
    out_dir: Path  # data/raw/<site>/<region>
    root: Path  # manifest paths are relative to this
    target_per_class: int = 0  # 0: no limit
    remote_url: str | None = None
    year_min: int = 0  # skip cards whose year is known and older (0: no filter); cards without a year stay


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
    cards_skipped: Counter[str] = field(default_factory=Counter)  # cards left out: no-link, no-title, ...
    filtered: Counter[str] = field(default_factory=Counter)  # cards left out by a params filter (year)
    ended: str = ""  # why the listing ended: done-marker | no-new-cards | last-page ("" capped or stopped)

    def as_dict(self) -> dict[str, object]:
        return {"listings_seen": self.listings_seen, "listings_resumed": self.listings_resumed,
                "photos_kept": dict(self.kept), "skipped": dict(self.skipped), "retries": dict(self.retries),
                "listing_pages": self.pages, "page_cap_hit": self.capped, "target_reached": self.target_reached,
                "cards_skipped": dict(self.cards_skipped), "cards_filtered": dict(self.filtered),
                "list_ended": self.ended}

    def lines(self) -> list[str]:
        kept = ", ".join(f"{k} {v}" for k, v in sorted(self.kept.items())) or "none"
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(self.skipped.items())) or "none"
        retries = ", ".join(f"{k.removeprefix('retry:')} {v}" for k, v in sorted(self.retries.items())) or "none"
        lines = [f"listings seen {self.listings_seen} ({self.listings_resumed} already done)",
                 f"photos kept: {kept}", f"photos skipped: {skipped}", f"retries: {retries}"]
        if self.cards_skipped or self.filtered:
            left = ", ".join(f"{k} {v}" for k, v in sorted((self.cards_skipped + self.filtered).items()))
            lines.append(f"cards left out: {left}")
        return lines


def download_photo(fetcher: Fetcher, url: str, folder: Path, min_side: int) -> tuple[ImageInfo, Path]:
    """Fetch, validate and store one photo; raises FetchError or Rejected."""
    resp, info = fetcher.get(url, lambda r: inspect_image(r.body, r.content_type, min_side))
    return info, store_image(folder, resp.body, info)


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


@dataclass
class _Listing:
    """A listing whose photos are queued: its card, the reasons its gallery lost photos, the photo futures."""

    card: Card
    skipped: Counter[str]
    futures: list[Future[ManifestRow | str]]


class ShardScraper:
    def __init__(self, job: ShardJob) -> None:
        self.job = job
        self.fetcher = Fetcher(job.profile.politeness.politeness())
        self.manifest = Manifest(job.out_dir)
        self.images = job.out_dir / "images"
        self.images_rel = relative_to_root(self.images, job.root)  # once per shard, not a path resolve per photo
        self.summary = Summary()
        self.driver: WebDriver | None = None
        self._driver_lock = threading.Lock()

    def _detail(self, url: str) -> Document:
        """A detail page: over HTTP, or rendered in the browser when the profile's gallery needs JavaScript
        (one page at a time in the detail browser, apart from the one walking the listing). Raises FetchError."""
        detail = self.job.profile.detail
        if detail is None or not detail.browser or self.driver is None:
            page, html = self.fetcher.get(url, lambda r: r.body.decode("utf-8", "replace"))
            return Document(page.url, html, page.content_type)
        if not self.fetcher.allowed(url):
            raise FetchError(url, "robots")
        driver = self.driver
        with self._driver_lock:
            self.fetcher.pace(url)
            driver.get(url)
            with contextlib.suppress(TimeoutException):
                WebDriverWait(driver, detail.wait_s).until(
                    lambda d: bool(gallery(Document(url, d.page_source), self.job.profile)))
            return Document(driver.current_url, driver.page_source)

    def gallery_urls(self, card: Card) -> tuple[Card, list[str], Counter[str]]:
        """One listing's photo URLs, from its card or its detail page (which may add facts to the card: the
        card is returned with them); with the skip reason when there are none."""
        job = self.job
        if job.profile.detail is None:
            urls, where = list(card.photos), card.url
        else:
            try:
                doc = self._detail(card.url)
            except FetchError as exc:
                log.warning("listing %s skipped: %s", card.url, exc)
                return card, [], Counter({f"listing-{exc.reason}": 1})
            urls, where = gallery(doc, job.profile), doc.url
            card = with_detail_facts(card, doc, job.profile)
        if not urls:
            rule = job.profile.detail.photos if job.profile.detail else job.profile.listing.photos
            log.warning("profile %s: rule %s.photos %s matched nothing at %s", job.profile.name,
                        "detail" if job.profile.detail else "listing", rule.describe() if rule else "", where)
            return card, [], Counter({"empty-gallery": 1})
        return card, urls, Counter()

    def photo_row(self, card: Card, url: str) -> ManifestRow | str:
        """Fetch, check and store one photo of ``card``: its manifest row, or the reason it was skipped."""
        job = self.job
        try:
            info, path = download_photo(self.fetcher, url, self.images, job.profile.politeness.min_side)
        except (FetchError, Rejected) as exc:
            return exc.reason
        return ManifestRow(
            sha256=info.sha256, path=f"{self.images_rel}/{path.name}", site=job.profile.name, region=job.region,
            listing_id=card.listing_id, listing_url=card.url, image_url=url, title=card.title,
            label=label_from_title(card.title), width=info.width, height=info.height, bytes=info.size,
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"), **card.facts.as_row())

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
        finished = False
        try:
            summary = self._run(start, progress)
            finished = True
            return summary
        finally:  # on success, an error or Ctrl-C alike: the manifest's files are closed once
            self.manifest.close()
            if not finished and fresh_dir and not self.manifest.done:
                shutil.rmtree(job.out_dir, ignore_errors=True)

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
        profile = job.profile
        loopback = _is_loopback(start)

        def browser(needed: bool) -> contextlib.AbstractContextManager[WebDriver | None]:
            return chromium(job.remote_url, loopback_only=loopback) if needed else contextlib.nullcontext(None)

        # Detail pages get a browser of their own: the listing crawl keeps its page open in the other one.
        with ThreadPoolExecutor(profile.politeness.concurrency) as pool, \
                browser(profile.listing.uses_browser) as driver, \
                browser(profile.detail is not None and profile.detail.browser) as self.driver:
            crawler = ListingCrawler(driver, profile, self.fetcher)
            if self._target_reached():
                self.summary.target_reached = True
            else:
                pages = crawler.cards(start)
                if not profile.listing.uses_browser:  # plain HTTP: the next page loads while this one's photos do
                    pages = read_ahead(pages)
                try:
                    with contextlib.closing(pages):  # a shard that stops early stops the read-ahead too
                        self._consume(pages, pool, bar)
                except (WebDriverException, urllib3.exceptions.HTTPError, ConnectionError) as exc:
                    detail = getattr(exc, "msg", None) or type(exc).__name__
                    raise CrawlError(f"the browser stopped answering ({detail}); run again to resume") from None
            self.summary.pages, self.summary.capped = crawler.pages, crawler.capped
            self.summary.ended, self.summary.cards_skipped = crawler.ended, crawler.skipped
        bar.close()
        self.summary.retries = Counter({k: v for k, v in self.fetcher.stats.items() if k.startswith("retry:")})
        self._write_summary()
        return self.summary

    def _consume(self, batches: Iterable[list[Card]], pool: ThreadPoolExecutor, bar: tqdm) -> None:
        """Each page's cards: their galleries, then all their photos at once (not listing by listing, so no thread
        waits on one listing's last photo); a listing enters the manifest as soon as its last photo is in.

        Pages overlap: a page's photos are queued before the page before it is finished, so the pool never drains
        at a page boundary. With a per-class target, pages are finished one at a time, so the shard stops at the
        page that reaches it. On an error the listings already queued are finished first (nothing fetched is
        lost); on Ctrl-C the photos not yet started are cancelled and only complete listings are kept."""
        lag = 0 if self.job.target_per_class else 1
        pending: deque[_Listing] = deque()
        try:
            for batch in batches:
                batch = self._filter(batch)
                self.summary.listings_seen += len(batch)
                todo = [c for c in batch if c.listing_id not in self.manifest.done]
                bar.update(len(batch) - len(todo))
                # Detail pages are fetched in the pool; galleries on the cards are read here, so they do not
                # queue behind the photos of the page before.
                fetch = pool.map if self.job.profile.detail is not None else map
                for card, urls, skipped in fetch(self.gallery_urls, todo):
                    futures = [pool.submit(self.photo_row, card, url) for url in urls]
                    pending.append(_Listing(card, skipped, futures))
                while pending and len(pending) > lag * len(todo):  # the pages before this one
                    self._finish(pending.popleft(), bar)
                if self._target_reached():
                    self.summary.target_reached = True
                    log.info("target of %d photos per class reached", self.job.target_per_class)
                    return
        except BaseException as exc:
            if not isinstance(exc, Exception):  # Ctrl-C: drop the listings that still had photos to start
                for listing in pending:
                    for f in listing.futures:
                        f.cancel()
                pending = deque(x for x in pending if not any(f.cancelled() for f in x.futures))
            raise
        finally:  # the rest of the queue, also after an error (nothing fetched is lost)
            while pending:
                self._finish(pending.popleft(), bar)

    def _finish(self, listing: _Listing, bar: tqdm) -> None:
        """Wait for one listing's photos and enter it in the manifest."""
        rows = []
        skipped = listing.skipped
        for future in listing.futures:
            got = future.result()
            if isinstance(got, str):
                skipped[got] += 1
            else:
                rows.append(got)
        self.manifest.add_listing(listing.card.listing_id, rows)
        self.summary.kept.update(r.label for r in rows)
        self.summary.skipped.update(skipped)
        bar.set_postfix(photos=sum(self.summary.kept.values()), skipped=sum(self.summary.skipped.values()),
                        refresh=False)
        bar.update(1)

    def _filter(self, batch: list[Card]) -> list[Card]:
        """Cards the params' filters keep (``year_min``: a card whose year is unknown is kept)."""
        year_min = self.job.year_min
        if not year_min:
            return batch
        kept = [c for c in batch if c.facts.year is None or c.facts.year >= year_min]
        self.summary.filtered["year-before-min"] += len(batch) - len(kept)
        return kept

    def _write_summary(self) -> None:
        path = self.job.out_dir / "summary.json"
        tmp = path.with_suffix(".json.part")
        tmp.write_text(json.dumps(self.summary.as_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(path)
