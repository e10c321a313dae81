"""The answer key: one row per photo, consistent with what is served."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import imagehash
from PIL import Image

from marketplace.inventory import Inventory
from marketplace.store import PhotoStore


def test_answer_key_cli_and_consistency(small_params, photo_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "key.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "marketplace", "answer-key", "--out", str(out), "--seed", str(small_params.seed),
         "--listings-per-region", str(small_params.listings_per_region),
         "--hyderabad-listings", str(small_params.hyderabad_listings), "--site", "main", "--site", "hyderabad"],
        capture_output=True, text=True, env={**os.environ, "CARID_CACHE_DIR": str(photo_cache)}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    inv = Inventory(small_params)
    assert len(rows) == sum(len(lst.photos) for lst in inv.listings)
    store = PhotoStore(photo_cache / "photos")
    specs = {spec.photo_id: spec for lst in inv.listings for spec in lst.photos}
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        groups[row["dup_group"]].append(row)
        if row["junk_kind"] and row["junk_kind"] != "other-model":
            assert row["true_model"] == "", row  # junk shows no car
        else:
            assert row["true_model"] in ("swift", "wagonr", "dzire", "alto", "baleno", "celerio")
    # Duplicate groups really are one scene: near-identical perceptual hashes; exact copies same bytes.
    hashes = {}
    for row in rows:
        pid = f"{row['listing_id']}-{sum(1 for r in rows[: rows.index(row)] if r['listing_id'] == row['listing_id'])}"
        data = store.get(specs[pid])
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
        hashes[row["sha256"]] = imagehash.phash(Image.open(io.BytesIO(data)))
    multi = [g for g in groups.values() if len(g) > 1]
    assert multi
    for group in multi:
        assert group[0]["variant"] == "original"  # a re-upload comes after the photo it copies
        base = hashes[group[0]["sha256"]]
        # Different scenes sit ~32 bits apart (median); a watermark on a smooth close-up moves ~14.
        # Heavy crops and frames move the whole picture: tests/marketplace/test_reupload_edits.py checks those.
        assert all(base - hashes[r["sha256"]] <= 16 for r in group if r["variant"] not in ("heavy-crop", "frame"))
        exact = [r for r in group if r["variant"] in ("original", "exact")]
        assert len({r["sha256"] for r in exact}) <= 1
    # Every car photo names its paint and colour group; junk has none.
    for row in rows:
        shows_car = row["junk_kind"] in ("", "other-model")
        assert bool(row["body_colour"]) == shows_car and bool(row["colour_group"]) == shows_car, row
        assert row["colour_group"] in ("", "white-silver-grey", "other")
        assert (row["colour_group"] == "white-silver-grey") == (row["body_colour"] in ("white", "silver", "grey"))
