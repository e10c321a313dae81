"""The review heuristic and duplicate finding across demo marketplace seeds (evaluation only).

For each seed, the demo marketplace's photos are rendered straight from its
store into manifest.csv shards laid out and filled as the scraper writes them
(``<profile>/<region>/manifest.csv``, the same sha256, path, site, region,
listing_id, title, label, width and height per photo, labels from the
scraper's own title parser); curation then runs on them with the project's
curate params and the result is scored against the seed's answer key.

Why render instead of scraping: a scrape starts the marketplace server and
drives Chromium through every listing page, minutes per seed; rendering from
the store gives the same manifest rows in seconds once the photos are cached.
Checked against the real scrape of seed 7 (all four shards, 9,870 rows): every
row's sha256, site, region, listing_id, title, label, width, height and byte
count matched, in the same order per listing. Only ``listing_url``,
``image_url`` and ``fetched_at`` differ; curation never reads them.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from statistics import mean
from typing import Any

from PIL import Image
from tqdm import tqdm

from carid.atomic import write_texts
from carid.params import CurateParams, MarketplaceParams, ShardParams
from curation.run import CuratePaths, curate
from curation.scoring import score, truth_from_rows
from marketplace.answer_key import answer_rows
from marketplace.inventory import Inventory, photo_token
from marketplace.specs import Listing, PhotoSpec
from marketplace.store import PhotoStore
from scraper.labels import label_from_title
from scraper.manifest import ManifestRow, manifest_text
from scraper.profile import load_profile

log = logging.getLogger(__name__)

#: The figures the seeds table keeps per seed (the full score is kept beside them).
HEADLINE = ("junk_in_first_20pct_of_review", "share_read_for_95pct_of_accepted_junk", "duplicate_precision",
            "duplicate_recall", "accepted_junk", "keeps_original_share")


@dataclass(frozen=True)
class Shard:
    """Where one marketplace (site, region) goes: ``<profile>/<region>/`` as the scrape stage writes it."""

    site: str  # marketplace site: main | hyderabad
    region: str
    profile: str  # scraper profile name (the manifest's ``site`` column)
    min_side: int = 64  # the profile's smallest accepted photo side (smaller ones the scraper skips)


#: Demo sites whose photos :func:`write_raw` renders (from ``marketplace.inventory.Inventory``). The third site
#: (carnest) draws and post-processes its photos in its own module and is not in the seeds table yet.
RENDERED_SITES = ("main", "hyderabad")


def shards_of(scrape_shards: dict[str, ShardParams]) -> list[Shard]:
    """The demo shards of the scrape params whose photos the seeds table renders (:data:`RENDERED_SITES`)."""
    out = []
    for shard in scrape_shards.values():
        profile = load_profile(shard.profile)
        if profile.demo in RENDERED_SITES:
            out.append(Shard(profile.demo, shard.region, profile.name, profile.politeness.min_side))
    return out


@lru_cache(maxsize=1)
def _store() -> PhotoStore:
    return PhotoStore()


def _render_one(job: tuple[PhotoSpec, str]) -> tuple[str, int, int, int]:
    """Render (or read from the photo cache) one photo, store it under its sha256; returns sha, w, h, bytes."""
    spec, folder = job
    data = _store().get(spec)
    sha = hashlib.sha256(data).hexdigest()
    with Image.open(io.BytesIO(data)) as img:
        width, height = img.size
    path = Path(folder) / f"{sha}.jpg"
    if not path.exists():
        path.write_bytes(data)
    return sha, width, height, len(data)


def _jobs(listings: Sequence[Listing], folders: dict[tuple[str, str], Path]) -> Iterator[tuple[PhotoSpec, str]]:
    for lst in listings:
        for spec in lst.photos:
            yield spec, str(folders[(lst.site, lst.region)])


def write_raw(mp: MarketplaceParams, shards: Sequence[Shard], root: Path, raw: Path, workers: int = 2,
              progress: bool = False) -> int:
    """Write ``raw/<profile>/<region>/manifest.csv`` and images for every listing; returns the photo count."""
    inv = Inventory(mp)
    where = {(s.site, s.region): s for s in shards}
    listings = [lst for lst in inv.listings if (lst.site, lst.region) in where]
    folders = {key: raw / s.profile / s.region / "images" for key, s in where.items()}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    jobs = list(_jobs(listings, folders))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(tqdm(pool.map(_render_one, jobs, chunksize=64), total=len(jobs), disable=not progress,
                            desc=f"seed {mp.seed} photos", unit="photo"))
    rows: dict[tuple[str, str], list[ManifestRow]] = {key: [] for key in where}
    done = iter(results)
    for lst in listings:
        s = where[(lst.site, lst.region)]
        title = " ".join(lst.title.split())  # as the scraper reads a card's text
        for spec in lst.photos:
            sha, width, height, size = next(done)
            if min(width, height) < s.min_side:
                continue
            path = folders[(lst.site, lst.region)] / f"{sha}.jpg"
            rows[(lst.site, lst.region)].append(ManifestRow(
                sha256=sha, path=path.relative_to(root).as_posix(), site=s.profile, region=s.region,
                listing_id=lst.listing_id, listing_url=f"rendered:{lst.listing_id}",
                image_url=f"rendered:{photo_token(mp.seed, spec.photo_id)}", title=title,
                label=label_from_title(title), width=width, height=height, bytes=size, fetched_at=""))
    for key, shard_rows in rows.items():
        s = where[key]
        write_texts(raw / s.profile / s.region, {"manifest.csv": manifest_text(shard_rows)})
    return sum(len(r) for r in rows.values())


def score_seed(mp: MarketplaceParams, shards: Sequence[Shard], cp: CurateParams, progress: bool = False
               ) -> dict[str, Any]:
    """Render one seed's photos into a temporary folder, curate them and score the result."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"carid-seed-{mp.seed}-") as tmp:
        root = Path(tmp)
        raw = root / "raw"
        photos = write_raw(mp, shards, root, raw, cp.workers, progress)
        rendered = time.perf_counter()
        c = curate(CuratePaths(root, raw, root / "decisions.csv", root / "out"), cp, progress=progress)
    truth = truth_from_rows(asdict(r) for r in answer_rows(Inventory(mp), _store()))
    scores = score(c, truth)
    return {
        "seed": mp.seed, "listings_per_region": mp.listings_per_region,
        "hyderabad_listings": mp.hyderabad_listings, "photos": photos,
        "render_s": round(rendered - start, 1), "total_s": round(time.perf_counter() - start, 1),
        **{k: scores.get(k) for k in HEADLINE}, "score": scores,
    }


@dataclass(frozen=True)
class SeedsTable:
    rows: list[dict[str, Any]]  # one per seed: the headline figures, sizes, timings and the full score
    summary: dict[str, dict[str, float]]  # per headline figure: min, mean, max over the seeds

    def as_dict(self) -> dict[str, object]:
        return {"seeds": self.rows, "summary": self.summary}

    def lines(self) -> list[str]:
        """A plain-text table of the headline figures."""
        out = [f"{'seed':>6} {'photos':>7} {'junk@20%':>9} {'read@95%':>9} {'dup P':>7} {'dup R':>7} "
               f"{'kept orig':>9} {'seconds':>8}"]
        for r in self.rows:
            out.append(f"{r['seed']:>6} {r['photos']:>7} {r['junk_in_first_20pct_of_review']:>9} "
                       f"{r['share_read_for_95pct_of_accepted_junk']:>9} {r['duplicate_precision']:>7} "
                       f"{r['duplicate_recall']:>7} {r['keeps_original_share']:>9} {r['total_s']:>8}")
        return out


def seeds_table(seeds: Sequence[int], base: MarketplaceParams, shards: Sequence[Shard], cp: CurateParams,
                extra_size: dict[str, int] | None = None, progress: bool = False) -> SeedsTable:
    """Score every seed; the table plus min / mean / max of each headline figure.

    The marketplace's own seed keeps its size (its row is the demo's); ``extra_size`` (``listings_per_region``,
    ``hyderabad_listings``) shrinks the other seeds' marketplaces to keep the run short (never grows them).
    """
    shrunk = {k: min(v, getattr(base, k)) for k, v in (extra_size or {}).items()}
    rows = []
    for seed in seeds:
        size = shrunk if seed != base.seed else {}
        row = score_seed(base.model_copy(update={**size, "seed": seed}), shards, cp, progress)
        log.info("seed %d: %s", seed, {k: row[k] for k in HEADLINE})
        rows.append(row)
    summary: dict[str, dict[str, float]] = {}
    for key in HEADLINE:
        values = [float(v) for r in rows if isinstance(v := r.get(key), int | float)]
        if values:
            summary[key] = {"min": min(values), "mean": round(mean(values), 4), "max": max(values)}
    return SeedsTable(rows, summary)


def write_table(path: Path, table: SeedsTable) -> None:
    """Write the table as JSON atomically (a crash never leaves half a file)."""
    write_texts(path.parent, {path.name: json.dumps(table.as_dict(), indent=2, sort_keys=True) + "\n"})
