"""Review page speed: the first screen of a 10,000-photo review, and a decision reaching decisions.csv.

    .venv/bin/python benchmarks/review_bench.py                        # 10,000 demo photos, built once into --work
    .venv/bin/python benchmarks/review_bench.py --photos 2000 --runs 3 # smaller and quicker
    .venv/bin/python benchmarks/review_bench.py --screenshot docs/review-page.png

The review is a real one: demo-marketplace photos (rendered once, cached like the demo's), manifests, then
``carid curate``'s own curation and review.csv. The first screen is timed in headless Chromium from navigation
until every tile in the window shows its thumbnail: once with an empty thumbnail cache (each thumbnail is built
on request) and then, with a fresh browser each time (no browser cache), after the cache holds them. A decision
is timed from the key press in the page to the server's answer, which it sends only once the row is in
decisions.csv; and as a plain HTTP POST. Targets (issue #17): first screen under 2 s with thumbnails cached, a
decision in the CSV under 100 ms.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from carid.params import DEFAULT_MARKETPLACE, load_params
from curation.decisions import COLUMNS
from curation.outputs import write_all
from curation.review_app.data import load_review
from curation.review_app.server import ReviewPaths, running_review
from curation.review_app.thumbs import ThumbCache
from curation.run import CuratePaths, curate
from marketplace.inventory import Inventory
from marketplace.specs import PhotoSpec
from marketplace.store import PhotoStore
from scraper.browser import chromium
from scraper.labels import label_from_title

log = logging.getLogger("review_bench")
REPO = Path(__file__).resolve().parents[1]
MANIFEST_COLUMNS = ["sha256", "path", "site", "region", "listing_id", "listing_url", "image_url", "title", "label",
                    "width", "height", "bytes", "fetched_at"]
FIRST_SCREEN = """
const s = window.caridReview;
if (!s || !s.ready) return null;
const tiles = [...document.querySelectorAll('#grid .tile')].filter(t => {
  const r = t.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; });
if (!tiles.length) return null;
if (!tiles.every(t => { const i = t.querySelector('img'); return i.complete && i.naturalWidth > 0; })) return null;
return [performance.now(), tiles.length];
"""


def _render(spec: PhotoSpec) -> bytes:
    return PhotoStore().get(spec)


def build_project(work: Path, n: int) -> Path:
    """A project of ``n`` demo photo occurrences, curated (review.csv written); reused when already built."""
    root = work / f"review-{n}"
    review = root / "data/curated/review.csv"
    if review.is_file():
        log.info("reusing %s", root)
        return root
    specs: list[tuple[Any, PhotoSpec]] = []
    per_region = max(DEFAULT_MARKETPLACE.listings_per_region, n // 18)  # the default demo has 9,870 photos
    for listing in Inventory(DEFAULT_MARKETPLACE.model_copy(update={"listings_per_region": per_region})).listings:
        specs.extend((listing, spec) for spec in listing.photos)
        if len(specs) >= n:
            break
    specs = specs[:n]
    log.info("rendering %d demo photos (cached under the carid cache after the first time)", n)
    start = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        photos = list(pool.map(_render, [s for _, s in specs], chunksize=64))
    log.info("rendered in %.1f s", time.perf_counter() - start)
    (root / "data/curation").mkdir(parents=True, exist_ok=True)
    (root / "params.yaml").write_text((REPO / "params.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (root / "data/curation/decisions.csv").write_text(",".join(COLUMNS) + "\n", encoding="utf-8")
    manifests: dict[Path, list[dict[str, object]]] = {}
    for (listing, _spec), data in zip(specs, photos, strict=True):
        sha = hashlib.sha256(data).hexdigest()
        shard = root / "data/raw" / listing.site / listing.region
        image = shard / "images" / f"{sha}.jpg"
        if not image.exists():
            image.parent.mkdir(parents=True, exist_ok=True)
            image.write_bytes(data)
        manifests.setdefault(shard, []).append({
            "sha256": sha, "path": image.relative_to(root).as_posix(), "site": listing.site, "region": listing.region,
            "listing_id": listing.listing_id, "listing_url": "", "image_url": "", "title": listing.title,
            "label": label_from_title(listing.title), "width": 0, "height": 0, "bytes": len(data), "fetched_at": ""})
    for shard, rows in manifests.items():
        with (shard / "manifest.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    log.info("curating %d photos (the review order and review.csv, as `carid curate review` does)", n)
    start = time.perf_counter()
    p = load_params(root / "params.yaml")
    c = curate(CuratePaths(root, root / "data/raw", root / "data/curation/decisions.csv", root / "data/curated"),
               p.curate)
    write_all(c, root / "data/curated", root)
    log.info("curated in %.1f s", time.perf_counter() - start)
    return root


def paths(root: Path) -> ReviewPaths:
    return ReviewPaths(root, root / "data/raw", root / "data/curated/review.csv", root / "data/curated/audit.csv",
                       root / "data/curation/decisions.csv")


def first_screen(url: str) -> tuple[float, float, int]:
    """(wall seconds from navigation to every visible thumbnail shown, the page's own ms, tiles in view)."""
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium(loopback_only=True) as driver:
        driver.set_window_size(1280, 900)
        start = time.perf_counter()
        driver.get(url)
        page_ms, tiles = WebDriverWait(driver, 60, poll_frequency=0.01).until(lambda d: d.execute_script(FIRST_SCREEN))
        return time.perf_counter() - start, float(page_ms), int(tiles)


def fill_decisions(root: Path, every: bool) -> None:
    """decisions.csv empty, or with a decision for every photo (the largest file a review can leave)."""
    path = root / "data/curation/decisions.csv"
    shas = sorted({r["sha256"] for r in csv.DictReader((root / "data/curated/review.csv").open(encoding="utf-8"))})
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(COLUMNS) + "\n")
        if every:
            fh.writelines(f"{sha},accept,,,\n" for sha in shas)


def http_decisions(url: str, shas: list[str], n: int) -> list[float]:
    """Milliseconds per POST /api/decide (it answers once the row is in decisions.csv)."""
    out = []
    with requests.Session() as session:
        for i in range(n):
            choice = {"decision": "reject", "reason": "interior"} if i % 2 else {"decision": "accept"}
            start = time.perf_counter()
            r = session.post(url + "api/decide", json={"sha256": shas[i % len(shas)], "decision": choice}, timeout=10)
            out.append((time.perf_counter() - start) * 1000)
            r.raise_for_status()
    return out


def browser_decisions(url: str, n: int) -> list[float]:
    """Milliseconds from a key press in the page to the saved answer, for ``n`` presses of w / r 1."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium(loopback_only=True) as driver:
        driver.get(url)
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.body.dataset.ready === '1'"))
        body = driver.find_element(By.TAG_NAME, "body")
        for i in range(n):
            body.send_keys(*(("r", "1") if i % 2 else ("w",)))  # ("a" is refused on photos titled as no class)

            def saved(d: Any, want: int = i + 1) -> bool:
                return bool(d.execute_script("return window.caridReview.writes") >= want)

            WebDriverWait(driver, 10, poll_frequency=0.02).until(saved)
        return [float(v) for v in driver.execute_script("return window.caridReview.writeMs")]


def screenshot(url: str, out: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium(loopback_only=True) as driver:
        driver.set_window_size(1280, 900)
        driver.get(url)
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(FIRST_SCREEN))
        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys("r", "4", "r", "3", "r", "2", "a")  # other model, document, close-up, accept
        WebDriverWait(driver, 10).until(lambda d: d.execute_script("return window.caridReview.writes") >= 4)
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(FIRST_SCREEN))
        driver.save_screenshot(str(out))


@contextmanager
def served(root: Path, thumbs: Path) -> Iterator[str]:
    with running_review(paths(root), thumbs=ThumbCache(thumbs)) as s:
        yield s.url


def _ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"median {statistics.median(values):.1f} ms, p95 {p95:.1f} ms, max {values[-1]:.1f} ms (n={len(values)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=10_000, help="photo occurrences in the review")
    ap.add_argument("--runs", type=int, default=5, help="first-screen runs with the thumbnail cache filled")
    ap.add_argument("--decisions", type=int, default=100, help="decisions timed per case")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "carid-review-bench",
                    help="where the benchmark project is built (and reused)")
    ap.add_argument("--screenshot", type=Path, help="also save a screenshot of the page here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("curation").setLevel(logging.WARNING)  # no line per decision

    root = build_project(args.work, args.photos)
    fill_decisions(root, every=False)
    start = time.perf_counter()
    review = load_review(root, root / "data/raw", root / "data/curated/review.csv", root / "data/curated/audit.csv")
    load_s = time.perf_counter() - start
    payload = len(review.payload())
    with tempfile.TemporaryDirectory() as tmp, served(root, Path(tmp) / "thumbs") as url:
        cold = first_screen(url)
        warm = [first_screen(url) for _ in range(args.runs)]
        start = time.perf_counter()
        cache = ThumbCache(Path(tmp) / "thumbs")
        built = sum(cache.get(sha, path) is not None for sha, path in review.photos.items())
        all_thumbs_s = time.perf_counter() - start
        shas = sorted(review.photos)
        http_empty = http_decisions(url, shas, args.decisions)
        key_empty = browser_decisions(url, args.decisions)
        fill_decisions(root, every=True)
        http_full = http_decisions(url, shas, args.decisions)
        key_full = browser_decisions(url, args.decisions)
        if args.screenshot is not None:
            fill_decisions(root, every=False)
            screenshot(url, args.screenshot)
    fill_decisions(root, every=False)

    print(f"\nreview of {len(review.items):,} photo occurrences ({review.unique:,} unique), "
          f"page data {payload / 1e6:.1f} MB; server loads review.csv + manifests in {load_s:.2f} s")
    print(f"first screen, empty thumbnail cache:  {cold[0]:.2f} s wall ({cold[1]:.0f} ms in page, {cold[2]} tiles)")
    walls = sorted(w for w, _, _ in warm)
    print(f"first screen, thumbnails cached:      median {statistics.median(walls):.2f} s, max {walls[-1]:.2f} s wall "
          f"over {len(warm)} fresh browsers (in page: median {statistics.median(p for _, p, _ in warm):.0f} ms)"
          f"  [target < 2 s]")
    print(f"thumbnail cache, rest of the first build: {built:,} thumbnails checked/built in {all_thumbs_s:.1f} s")
    print(f"decision, key press -> in decisions.csv (0 rows before):      {_ms(key_empty)}  [target < 100 ms]")
    print(f"decision, key press -> in decisions.csv ({len(shas):,} rows before): {_ms(key_full)}")
    print(f"decision, HTTP POST round trip (0 rows before):               {_ms(http_empty)}")
    print(f"decision, HTTP POST round trip ({len(shas):,} rows before):        {_ms(http_full)}")
    if args.screenshot is not None:
        print(f"screenshot: {args.screenshot}")


if __name__ == "__main__":
    main()
