"""`carid curate seeds`: each seed's demo photos rendered into scraper-style shards, curated and scored."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import yaml
from typer.testing import CliRunner

from carid.cli import app
from carid.params import load_params
from carid.paths import project_root
from curation.seeds import shards_of, write_raw
from marketplace.inventory import Inventory
from scraper.labels import label_from_title
from scraper.manifest import COLUMNS

runner = CliRunner()


def _params(tmp_path: Path, listings: int) -> Path:
    raw = yaml.safe_load((project_root() / "params.yaml").read_text(encoding="utf-8"))
    raw["marketplace"].update(listings_per_region=listings, hyderabad_listings=listings)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_rendered_shards_are_what_the_scraper_writes(tmp_path: Path, photo_cache: Path) -> None:
    p = load_params(_params(tmp_path, 3)).model_copy()
    mp = p.marketplace.model_copy(update={"seed": 5})
    n = write_raw(mp, shards_of(p.scrape.shards), tmp_path, tmp_path / "raw", workers=1)
    inv = Inventory(mp)
    assert n == sum(len(lst.photos) for lst in inv.listings)
    manifests = sorted((tmp_path / "raw").glob("*/*/manifest.csv"))
    assert [m.parent.relative_to(tmp_path / "raw").as_posix() for m in manifests] == [
        "gaadibazaar/delhi", "gaadibazaar/maharashtra", "gaadibazaar/uttar-pradesh", "hyderabad-motors/hyderabad"]
    rows = [r for m in manifests for r in csv.DictReader(m.open(encoding="utf-8"))]
    assert list(rows[0]) == COLUMNS
    per_listing = Counter(r["listing_id"] for r in rows)
    assert per_listing == Counter({lst.listing_id: len(lst.photos) for lst in inv.listings})
    titles = {lst.listing_id: lst.title for lst in inv.listings}
    for r in rows:
        assert r["label"] == label_from_title(titles[r["listing_id"]])
        assert (tmp_path / r["path"]).is_file() and r["path"].endswith(r["sha256"] + ".jpg")


def test_seeds_command_writes_the_table(tmp_path: Path, photo_cache: Path) -> None:
    out = tmp_path / "out" / "seeds.json"
    params = _params(tmp_path, 4)
    own = load_params(params).marketplace.seed
    result = runner.invoke(app, ["curate", "seeds", str(own), "5", "--out", str(out), "--params", str(params),
                                 "--extra-listings-per-region", "3", "--extra-hyderabad-listings", "20"])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "read@95%" in result.output
    table = json.loads(out.read_text(encoding="utf-8"))
    assert [r["seed"] for r in table["seeds"]] == [own, 5]
    assert not list(out.parent.glob(".*.part"))  # written whole
    base = load_params(params).marketplace
    sizes = {own: (4, 4), 5: (3, 4)}  # the params' own seed keeps its size, the others shrink (never grow)
    for row in table["seeds"]:
        per_region, hyderabad = sizes[row["seed"]]
        mp = base.model_copy(update={"seed": row["seed"], "listings_per_region": per_region,
                                     "hyderabad_listings": hyderabad})
        assert (row["listings_per_region"], row["hyderabad_listings"]) == (per_region, hyderabad)
        assert row["photos"] == sum(len(lst.photos) for lst in Inventory(mp).listings)
        assert row["score"]["images_scored"] > 0
        for key in ("junk_in_first_20pct_of_review", "share_read_for_95pct_of_accepted_junk",
                    "duplicate_precision", "duplicate_recall", "keeps_original_share"):
            assert 0.0 <= row[key] <= 1.0 and row[key] == row["score"][key]
    assert table["seeds"][0]["photos"] != table["seeds"][1]["photos"] or \
        table["seeds"][0]["score"] != table["seeds"][1]["score"]  # two seeds, two marketplaces
    for key, stats in table["summary"].items():
        values = [r[key] for r in table["seeds"]]
        assert stats["min"] == min(values) and stats["max"] == max(values)
        assert stats["min"] <= stats["mean"] <= stats["max"]
