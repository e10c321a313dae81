"""Demo marketplace speed: photos rendered per second, and photos served per second.

Prints, in one run: the renderer's rate on one core (cold, no cache), and the
server's rate for the same photos over HTTP from a warm cache at a given
client concurrency, beside a bare loopback GET of a tiny static file (the
server's ceiling), so the ratio shows whether serving photos costs more than
serving anything at all.

    .venv/bin/python benchmarks/render_bench.py [--photos 400] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from carid.params import DEFAULT_MARKETPLACE
from marketplace.inventory import Inventory, photo_token
from marketplace.render import render_photo
from marketplace.server import running_marketplace
from marketplace.store import PhotoStore


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:8.1f}/s ({n} in {seconds:.2f} s)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=400)
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args()
    params = DEFAULT_MARKETPLACE
    inv = Inventory(params)
    specs = [p for lst in inv.listings for p in lst.photos if p.variant == "original"][: args.photos]

    start = time.perf_counter()
    for spec in specs:
        render_photo(spec)
    render_s = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as tmp:
        store = PhotoStore(Path(tmp))
        with running_marketplace(params, store=store) as urls:
            session = requests.Session()
            paths = [f"{urls.main}/media/{photo_token(params.seed, s.photo_id)}.jpg" for s in specs]
            with ThreadPoolExecutor(args.concurrency) as pool:
                list(pool.map(lambda u: session.get(u, timeout=30).content, paths))  # warm the cache
                start = time.perf_counter()
                sizes = list(pool.map(lambda u: len(session.get(u, timeout=30).content), paths))
                serve_s = time.perf_counter() - start
                blank = [f"{urls.main}/static/blank.gif"] * len(paths)
                start = time.perf_counter()
                list(pool.map(lambda u: session.get(u, timeout=30).content, blank))
                bare_s = time.perf_counter() - start

    print(f"render (1 core, cold):         {_rate(len(specs), render_s)}  {1000 * render_s / len(specs):.1f} ms/photo")
    print(f"serve photos (warm cache, c={args.concurrency}): {_rate(len(paths), serve_s)}"
          f"  mean {sum(sizes) / len(sizes) / 1024:.0f} KiB")
    print(f"serve 43-byte file (ceiling):  {_rate(len(blank), bare_s)}")
    print(f"ratio photos / ceiling:        {bare_s / serve_s:.2f}")


if __name__ == "__main__":
    main()
