"""Curation speed: photos fingerprinted per second, and near-duplicate clustering against the all-pairs reference.

    .venv/bin/python benchmarks/curate_bench.py            # 2,000 photos; 10k / 100k / 1M hashes
    .venv/bin/python benchmarks/curate_bench.py --quick    # a few seconds
    .venv/bin/python benchmarks/curate_bench.py --skip-fingerprints --sizes 1000000   # clustering at 1M only

Fingerprint rates are printed beside an anchor timed right before each run on the same photos (Image.open +
imagehash.phash, one process), so that on a shared machine the ratio to the anchor still compares runs. Joins print
wall and CPU seconds, and how many of the planted near pairs they found (above JOIN_WORK a join searches a smaller
exact reach: curation.dedup.JOIN_WORK).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curation.cluster import all_pairs_cluster, cluster, plan
from curation.dedup import JOIN_WORK, WINDOWS, DedupParams, candidate_pairs
from curation.hashing import fingerprint_many

log = logging.getLogger("curate_bench")

ANCHORS = "imagededup ~285 photos/s on 4 vCPU; Image.open+imagehash.phash 326/s on one core"
PHASH_MAX, DHASH_MAX = 10, 12


def render_photo(rng: np.random.Generator, size: tuple[int, int] = (400, 300)) -> Image.Image:
    """A photo-like scene: a sky-to-ground gradient, a few shapes, sensor noise, a slight blur."""
    w, h = size
    top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    t = np.linspace(0.0, 1.0, h)[:, None, None]
    base = (top * (1 - t) + bottom * t) * np.ones((1, w, 1))
    img = Image.fromarray(base.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(3, 9))):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(20, w // 2)), y0 + int(rng.integers(20, h // 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    noisy = np.asarray(img, dtype=np.int16) + rng.normal(0, 6, (h, w, 3)).astype(np.int16)
    return Image.fromarray(noisy.clip(0, 255).astype(np.uint8), "RGB").filter(ImageFilter.GaussianBlur(0.6))


def write_photos(folder: Path, n: int, seed: int = 0) -> list[Path]:
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        path = folder / f"photo-{i:05d}.jpg"
        render_photo(rng).save(path, "JPEG", quality=int(rng.integers(70, 95)))
        paths.append(path)
    return paths


def synthetic_hashes(n: int, seed: int = 0, planted: float = 0.05) -> list[tuple[int, int]]:
    """Random 64-bit (phash, dhash) pairs; a ``planted`` share are copies of another item within the thresholds,
    and a few are exact repeats."""
    rng = np.random.default_rng(seed)
    ph = rng.integers(0, 2**64, n, dtype=np.uint64)
    dh = rng.integers(0, 2**64, n, dtype=np.uint64)
    k = int(n * planted)
    src, dst = rng.integers(0, n, k), rng.integers(0, n, k)
    bits = np.uint64(1) << np.arange(64, dtype=np.uint64)

    def flips(limit: int) -> np.ndarray:
        weights = rng.integers(0, limit + 1, k)
        chosen = rng.random((k, 64)).argsort(axis=1) < weights[:, None]
        return np.bitwise_or.reduce(np.where(chosen, bits, np.uint64(0)), axis=1)

    ph[dst], dh[dst] = ph[src] ^ flips(PHASH_MAX), dh[src] ^ flips(DHASH_MAX)
    repeat = rng.integers(0, n, max(1, n // 1000))
    ph[repeat[1:]], dh[repeat[1:]] = ph[repeat[0]], dh[repeat[0]]
    return list(zip(ph.tolist(), dh.tolist(), strict=True))


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def anchor(paths: Sequence[Path]) -> None:
    """The side-by-side reference: open, decode and pHash each photo with imagehash, one process."""
    for path in paths:
        with Image.open(path) as img:
            imagehash.phash(img)


def bench_fingerprints(n: int, workers: int, rounds: int = 2) -> None:
    """Fingerprints per second with ``workers`` processes and in-line, best of ``rounds``, each beside the anchor
    timed on the same photos right before it (a busy machine slows both alike)."""
    best = {"multi": (0.0, 0.0, 0.0), "single": (0.0, 0.0, 0.0)}
    with tempfile.TemporaryDirectory(prefix="curate-bench-") as tmp:
        paths = write_photos(Path(tmp), n)
        fingerprint_many(paths[: min(20, n)], workers=1)  # warm imports and caches
        anchor(paths[: min(20, n)])
        results: object = None
        for _ in range(rounds):
            for key, w in (("multi", workers), ("single", 1)):
                base, _ = timed(lambda: anchor(paths))
                seconds, results = timed(lambda w=w: fingerprint_many(paths, workers=w))  # type: ignore[misc]
                if n / seconds > best[key][0]:
                    best[key] = (n / seconds, seconds, n / base)
    assert isinstance(results, list) and all(r.fingerprint for r in results)
    print(f"fingerprint {n} 400x300 JPEGs (read + sha256 + reduced decode + pHash + dHash of the photo and its "
          f"windows + quality stats), best of {rounds}:")
    for key, label in (("multi", f"{workers} worker processes"), ("single", "1 process (in-line)")):
        rate, seconds, base = best[key]
        print(f"  {label:22s}: {rate:8.0f} photos/s ({seconds:.2f} s); anchor beside it {base:6.0f} photos/s; "
              f"ratio {rate / base:.2f}")
    print(f"  anchor = Image.open + imagehash.phash, one process; {ANCHORS}")


def bench_cluster(sizes: Sequence[int], reference_n: int) -> None:
    print(f"cluster synthetic hashes (phash_max={PHASH_MAX}, dhash_max={DHASH_MAX}):")
    ref_items = synthetic_hashes(reference_n, seed=1)
    ref_time, ref_labels = timed(lambda: all_pairs_cluster(ref_items, PHASH_MAX, DHASH_MAX))
    fast_time, fast_labels = timed(lambda: cluster(ref_items, PHASH_MAX, DHASH_MAX))
    same = "identical" if ref_labels == fast_labels else "DIFFERENT"
    print(f"  all_pairs_cluster n={reference_n:>9,}: {ref_time:8.2f} s")
    print(f"  cluster           n={reference_n:>9,}: {fast_time:8.2f} s   ({ref_time / fast_time:.1f}x faster; "
          f"labels {same})")
    previous: tuple[int, float] | None = None
    for n in sizes:
        items = ref_items if n == reference_n else synthetic_hashes(n, seed=1)
        seconds, labels = timed(lambda items=items: cluster(items, PHASH_MAX, DHASH_MAX))  # type: ignore[misc]
        assert isinstance(labels, list)
        growth = ""
        if previous:
            growth = (f"; x{n / previous[0]:.0f} items -> x{seconds / previous[1]:.1f} time "
                      f"(all-pairs would be x{(n / previous[0]) ** 2:.0f})")
        bp = plan(len(set(items)), PHASH_MAX)
        print(f"  cluster           n={n:>9,}: {seconds:8.2f} s   {len(set(labels)):,} clusters, bands "
              f"{list(bp.widths)} radii {list(bp.radii)}{growth}; all-pairs extrapolated "
              f"~{ref_time * (n / reference_n) ** 2:,.0f} s")
        previous = (n, seconds)


def _flips(rng: np.random.Generator, k: int, weights: np.ndarray) -> np.ndarray:
    """k random 64-bit masks with ``weights[i]`` bits set."""
    bits = np.uint64(1) << np.arange(64, dtype=np.uint64)
    chosen = rng.random((k, 64)).argsort(axis=1) < weights[:, None]
    return np.bitwise_or.reduce(np.where(chosen, bits, np.uint64(0)), axis=1)


def synthetic_windows(items: Sequence[tuple[int, int]], seed: int = 2, planted: float = 0.02
                      ) -> tuple[list[tuple[tuple[int, int], ...]], list[tuple[int, int]]]:
    """len(WINDOWS) random (phash, dhash) window hashes per item; for a ``planted`` share, one window is within the
    thresholds of another item's full hashes (a cropped or framed copy): an even number of pHash bits apart, 0 to
    PHASH_MAX, as real pHashes are (half their bits are set), and 0 to DHASH_MAX dHash bits. Returns the windows
    and the planted (photo, source) pairs."""
    rng = np.random.default_rng(seed)
    n, k = len(items), len(WINDOWS)
    ph = rng.integers(0, 2**64, (n, k), dtype=np.uint64)
    dh = rng.integers(0, 2**64, (n, k), dtype=np.uint64)
    m = int(n * planted)
    dst, src = rng.integers(0, n, m), rng.integers(0, n, m)
    full = np.array(items, dtype=np.uint64).reshape(-1, 2)
    ph[dst, 0] = full[src, 0] ^ _flips(rng, m, 2 * rng.integers(0, PHASH_MAX // 2 + 1, m))
    dh[dst, 0] = full[src, 1] ^ _flips(rng, m, rng.integers(0, DHASH_MAX + 1, m))
    windows = [tuple(zip(a, b, strict=True)) for a, b in zip(ph.tolist(), dh.tolist(), strict=True)]
    return windows, list(zip(dst.tolist(), src.tolist(), strict=True))


def bench_window_join(sizes: Sequence[int]) -> None:
    """The near-duplicate candidates curation uses (curation.dedup.candidate_pairs, with its JOIN_WORK budget):
    full-hash pairs alone, then with every photo's window hashes joined against the full hashes; and how many of the
    planted window pairs (synthetic_windows) were found, by their pHash distance."""
    p = DedupParams(PHASH_MAX, DHASH_MAX, 0, 1.0)
    print(f"candidate pairs with window hashes ({len(WINDOWS)} windows a photo, phash_max={PHASH_MAX}, "
          f"dhash_max={DHASH_MAX}, JOIN_WORK={JOIN_WORK:.0e}):")
    for n in sizes:
        items = synthetic_hashes(n, seed=1)
        windows, planted = synthetic_windows(items)
        none: list[tuple[tuple[int, int], ...]] = [() for _ in items]
        full_s, full_pairs = timed(lambda: candidate_pairs(items, none, p))  # noqa: B023
        cpu = time.process_time()
        both_s, both_pairs = timed(lambda: candidate_pairs(items, windows, p))  # noqa: B023
        cpu = time.process_time() - cpu
        assert isinstance(full_pairs, np.ndarray) and isinstance(both_pairs, np.ndarray)
        found = {(int(a), int(b)) for a, b in both_pairs.tolist()}
        by_distance: dict[int, list[int]] = {}
        for i, j in planted:  # a later plant may overwrite a window: count the pairs still within the thresholds
            dp = (windows[i][0][0] ^ items[j][0]).bit_count()
            if i == j or dp > PHASH_MAX or (windows[i][0][1] ^ items[j][1]).bit_count() > DHASH_MAX:
                continue
            by_distance.setdefault(dp, [0, 0])
            by_distance[dp][0] += 1
            by_distance[dp][1] += (min(i, j), max(i, j)) in found
        shares = ", ".join(f"{d}: {hit}/{total}" for d, (total, hit) in sorted(by_distance.items()))
        print(f"  n={n:>9,}: full hashes {full_s:7.2f} s ({len(full_pairs):,} pairs); with windows {both_s:7.2f} s "
              f"wall, {cpu:.2f} s CPU ({len(both_pairs):,} pairs); planted window pairs found by pHash distance "
              f"{shares}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a tiny run: 200 photos, 1k / 10k hashes")
    parser.add_argument("--photos", type=int, default=2000, help="synthetic photos to fingerprint")
    parser.add_argument("--workers", type=int, default=2, help="worker processes for the parallel run")
    parser.add_argument("--sizes", type=int, nargs="+", help="hash counts to cluster (default 10k 100k 1M)")
    parser.add_argument("--skip-fingerprints", action="store_true", help="time the clustering half only")
    parser.add_argument("--skip-cluster", action="store_true", help="time the fingerprint half only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    photos = 200 if args.quick else args.photos
    sizes = args.sizes or ([1_000, 10_000] if args.quick else [10_000, 100_000, 1_000_000])
    if not args.skip_fingerprints:
        bench_fingerprints(photos, args.workers)
    if args.skip_cluster:
        return
    bench_cluster(sizes, reference_n=sizes[0] if args.quick else 10_000)
    bench_window_join(sizes)


if __name__ == "__main__":
    main()
