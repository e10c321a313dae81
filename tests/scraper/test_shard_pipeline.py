"""The shard's page pipeline (ShardScraper._consume): pages overlap, and an error or Ctrl-C loses no finished
listing and writes no partial one. The pages and photos come from a scripted source instead of a site, so each
case controls exactly when a page arrives and when a photo finishes; a whole shard against the real marketplace
is tested in test_shard.py."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tqdm import tqdm

from scraper.manifest import Manifest, ManifestRow
from scraper.parse import Card
from scraper.profile import load_profile
from scraper.shard import ShardJob, ShardScraper


class Scripted(ShardScraper):
    """A shard whose galleries are the card's own photo list and whose photos are rows made on the spot; a
    photo of a listing in ``block`` waits for ``release``."""

    def __init__(self, out: Path, target: int = 0) -> None:
        super().__init__(ShardJob(load_profile("carnest"), "pune", "http://127.0.0.1:9", out, out,
                                  target_per_class=target))
        self.block: set[str] = set()
        self.release = threading.Event()
        self.started: list[str] = []
        self.timed_out: list[str] = []  # blocked photos that waited in vain
        self.gallery_threads: set[str] = set()

    def gallery_urls(self, card: Card) -> tuple[Card, list[str], Counter[str]]:
        self.gallery_threads.add(threading.current_thread().name)
        return card, list(card.photos), Counter()

    def photo_row(self, card: Card, url: str) -> ManifestRow | str:
        self.started.append(url)
        if card.listing_id in self.block and not self.release.wait(timeout=2):
            self.timed_out.append(url)
        return ManifestRow(sha256=url, path=url, site="carnest", region="pune", listing_id=card.listing_id,
                           listing_url=card.url, image_url=url, title=card.title, label=card.title, width=1,
                           height=1, bytes=1, fetched_at="")


def page(n: int, label: str = "swift", cards: int = 3, photos: int = 2) -> list[Card]:
    return [Card(f"p{n}c{i}", f"http://x/p{n}c{i}", label, photos=tuple(f"p{n}c{i}-{j}" for j in range(photos)))
            for i in range(cards)]


def consume(shard: Scripted, pages: Iterator[list[Card]], workers: int = 2) -> None:
    shard.manifest.load()
    with ThreadPoolExecutor(workers) as pool:
        shard._consume(pages, pool, tqdm(disable=True))


def done(out: Path) -> set[str]:
    m = Manifest(out)
    m.load()
    return m.done


def test_next_page_is_queued_before_the_last_one_finishes(tmp_path: Path) -> None:
    shard = Scripted(tmp_path)
    shard.block = {"p1c2"}  # page 1's last listing holds its photos until page 2 has been asked for
    asked: list[int] = []

    def pages() -> Iterator[list[Card]]:
        for n in (1, 2, 3):
            asked.append(n)
            if n == 2:
                shard.release.set()
            yield page(n)

    consume(shard, pages())
    assert asked == [1, 2, 3]
    assert not shard.timed_out  # page 2 was asked for while page 1's last listing was still downloading
    assert done(tmp_path) == {c.listing_id for n in (1, 2, 3) for c in page(n)}
    assert len(shard.manifest.rows) == 18
    # Galleries on the cards (no detail pages) are read on the consuming thread, not queued behind photos.
    assert shard.gallery_threads == {threading.current_thread().name}


def test_a_target_finishes_each_page_before_the_next(tmp_path: Path) -> None:
    shard = Scripted(tmp_path, target=2)
    asked: list[int] = []

    def pages() -> Iterator[list[Card]]:
        for n in (1, 2, 3):
            asked.append(n)
            yield page(n, "swift") + page(n + 10, "wagonr")

    consume(shard, pages())
    assert shard.summary.target_reached
    assert asked == [1]  # six photos per class from page 1 already: page 2 was never asked for


def test_an_error_after_a_page_keeps_that_page(tmp_path: Path) -> None:
    shard = Scripted(tmp_path)

    def pages() -> Iterator[list[Card]]:
        yield page(1)
        raise RuntimeError("page 2 answered HTML")

    with pytest.raises(RuntimeError, match="page 2"):
        consume(shard, pages())
    assert done(tmp_path) == {c.listing_id for c in page(1)}


def test_ctrl_c_keeps_only_complete_listings(tmp_path: Path) -> None:
    shard = Scripted(tmp_path)
    shard.block = {"p1c0"}  # the first listing's photos run slowly; with one worker the rest stay queued

    def pages() -> Iterator[list[Card]]:
        yield page(1)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        consume(shard, pages(), workers=1)
    shard.release.set()
    kept = done(tmp_path)
    assert kept <= {c.listing_id for c in page(1)} and "p1c2" not in kept  # queued listings were cancelled
    rows = Manifest(tmp_path)
    rows.load()
    assert all(sum(r.listing_id == lid for r in rows.rows) == 2 for lid in kept)  # no listing half in
    assert len(shard.started) < 6
