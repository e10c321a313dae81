"""Whole shards in real headless Chromium against the real demo marketplace on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from scrapekit import manifest_rows, scrape, truth

from marketplace.inventory import Inventory
from marketplace.server import running_marketplace
from marketplace.store import PhotoStore
from scraper.crawl import CrawlError
from scraper.profile import ProfileError, load_profile, revised
from scraper.shard import ShardJob, ShardScraper

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def clean_delhi(marketplace, tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    summary = scrape(marketplace.main, out)
    return out, summary


def test_small_shard_end_to_end(clean_delhi, small_params, photo_cache) -> None:
    out, summary = clean_delhi
    rows = manifest_rows(out / "data/raw/gaadibazaar/delhi/manifest.csv")
    listings = Inventory(small_params).region_listings("delhi")
    assert summary.listings_seen == len(listings) == len({r["listing_id"] for r in rows})
    # Every photo of every listing, in gallery order, with the marketplace's own bytes.
    expected = truth(small_params, PhotoStore(photo_cache / "photos"), "delhi")
    private = sum(1 for r in rows if "/media/p/" in r["image_url"])
    assert len(rows) == len(expected)
    position: Counter[str] = Counter()
    for row in rows:
        k = position[row["listing_id"]]
        position[row["listing_id"]] += 1
        assert row["sha256"] == expected[(row["listing_id"], k)]
        assert (out / row["path"]).is_file()
    # Labels from titles agree with the truth on every listing.
    by_id = {lst.listing_id: lst for lst in listings}
    for row in rows:
        truth_model = by_id[row["listing_id"]].model
        assert row["label"] == (truth_model if truth_model in ("swift", "wagonr") else "other")
    assert sum(summary.kept.values()) == len(rows) and not summary.skipped
    assert private > 0  # robots-partial is off: /media/p/ photos are fetched too
    files = list((out / "data/raw/gaadibazaar/delhi/images").iterdir())
    assert len(files) == len({r["sha256"] for r in rows})
    assert all(not f.name.startswith(".part") for f in files)


def test_every_fault_at_once_gives_the_same_manifest(clean_delhi, small_params, tmp_path) -> None:
    faults = ["ratelimit", "error5xx", "slow", "truncate", "dropped", "content-type", "oversize", "bomb",
              "redirect-offsite", "bad-filename", "endless"]
    params = small_params.model_copy(update={"faults": faults, "fault_rate": 0.15})
    with running_marketplace(params, store=PhotoStore(tmp_path / "cache")) as urls:
        summary = scrape(urls.main, tmp_path, max_bytes=2 * 1024 * 1024)
    clean_out, _ = clean_delhi
    drop = ("fetched_at", "image_url", "listing_url")  # the ports differ between the two servers
    assert manifest_rows(tmp_path / "data/raw/gaadibazaar/delhi/manifest.csv", drop) == manifest_rows(
        clean_out / "data/raw/gaadibazaar/delhi/manifest.csv", drop)
    assert summary.skipped["bomb"] > 0 and summary.skipped["too-large"] > 0
    assert summary.skipped["offsite-redirect"] > 0
    for reason in ("http-429", "http-503", "undecodable", "bad-content-type", "broken-body"):
        assert summary.retries[f"retry:{reason}"] > 0, reason
    assert summary.capped  # endless pagination was cut off
    assert not list(tmp_path.rglob("*escape*"))  # the hostile file name went nowhere


def test_robots_partial_skips_and_counts(small_params, tmp_path) -> None:
    params = small_params.model_copy(update={"faults": ["robots-partial"]})
    with running_marketplace(params, store=PhotoStore(tmp_path / "cache")) as urls:
        summary = scrape(urls.main, tmp_path)
    rows = manifest_rows(tmp_path / "data/raw/gaadibazaar/delhi/manifest.csv")
    assert summary.skipped["robots"] > 0
    assert not any("/media/p/" in r["image_url"] for r in rows)


def test_hyderabad_pages_shard(marketplace, small_params, tmp_path) -> None:
    summary = scrape(marketplace.hyderabad, tmp_path, profile="hyderabad-motors", region="hyderabad")
    rows = manifest_rows(tmp_path / "data/raw/hyderabad-motors/hyderabad/manifest.csv")
    listings = Inventory(small_params).region_listings("hyderabad")
    assert summary.listings_seen == len(listings)
    assert len(rows) == sum(len(lst.photos) for lst in listings)
    assert {r["site"] for r in rows} == {"hyderabad-motors"}
    by_id = {lst.listing_id: lst for lst in listings}  # price from the card, year and km from the detail page
    assert all((r["price"], r["year"], r["km"]) == tuple(str(getattr(by_id[r["listing_id"]], f))
                                                          for f in ("price", "year", "km")) for r in rows)


def test_target_counts_stop_early(marketplace, tmp_path) -> None:
    summary = scrape(marketplace.main, tmp_path, region="maharashtra", target=10)
    assert summary.target_reached
    assert summary.kept["swift"] >= 10 and summary.kept["wagonr"] >= 10
    assert summary.listings_seen < 30


def test_robots_all_fails_cleanly(small_params, tmp_path) -> None:
    params = small_params.model_copy(update={"faults": ["robots-all"]})
    with running_marketplace(params, store=PhotoStore(tmp_path / "cache")) as urls, \
            pytest.raises(CrawlError, match=r"robots\.txt"):
        scrape(urls.main, tmp_path)
    assert not (tmp_path / "data/raw/gaadibazaar/delhi").exists()


def test_missing_selector_names_profile_selector_and_url(marketplace, tmp_path) -> None:
    profile = load_profile("gaadibazaar")
    broken = revised(profile, listing={"card": "div.no-such-card", "wait_s": 0.5})
    broken = broken.model_copy(update={"politeness": broken.politeness.model_copy(
        update={"backoff_s": 0.01, "max_retries": 2})})
    job = ShardJob(broken, "delhi", marketplace.main, tmp_path / "raw/x/delhi", tmp_path, 0)
    with pytest.raises(ProfileError) as info:
        ShardScraper(job).run(progress=False)
    message = str(info.value)
    assert "gaadibazaar" in message and "div.no-such-card" in message and "/used-cars/delhi" in message
    assert not (tmp_path / "raw/x/delhi").exists()


def _cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "carid.cli", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _project(tmp_path: Path, small_params) -> Path:
    """A project folder whose params.yaml is the repo's, with the small marketplace and one shard."""
    root = tmp_path / "proj"
    root.mkdir()
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["marketplace"] = small_params.model_dump()
    params["scrape"]["shards"] = {"delhi": {"profile": "gaadibazaar", "region": "delhi"}}
    (root / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    return root


def test_cli_resume_after_kill_matches_uninterrupted(clean_delhi, small_params, tmp_path, photo_cache) -> None:
    """Kill `carid scrape run` mid-shard, run it again: same manifest as an uninterrupted run."""
    root = _project(tmp_path, small_params)
    env = {**os.environ, "CARID_CACHE_DIR": str(photo_cache)}
    manifest = root / "data/raw/gaadibazaar/delhi/manifest.csv"
    proc = _cli("scrape", "run", "--shard", "delhi", cwd=root, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not manifest.exists() or len(manifest_rows(manifest)) < 40):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    # The demo marketplace it started notices and stops too.
    child = ["pgrep", "-f", f"--parent-pid {proc.pid}"]
    deadline = time.monotonic() + 10
    while subprocess.run(child, capture_output=True).returncode == 0:
        assert time.monotonic() < deadline, "the demo marketplace outlived its killed parent"
        time.sleep(0.2)
    partial = manifest_rows(manifest)
    clean_out, _ = clean_delhi
    clean_rows = manifest_rows(clean_out / "data/raw/gaadibazaar/delhi/manifest.csv")
    assert 40 <= len(partial) < len(clean_rows)  # killed mid-shard
    done = _cli("scrape", "run", "--shard", "delhi", cwd=root, env=env)
    out, _ = done.communicate(timeout=180)
    assert done.returncode == 0, out
    assert "already done" in out
    drop = ("fetched_at", "image_url", "listing_url")
    final = manifest_rows(manifest, drop)
    assert final == manifest_rows(clean_out / "data/raw/gaadibazaar/delhi/manifest.csv", drop)
    assert not list((root / "data/raw/gaadibazaar/delhi/images").glob(".part-*"))


def test_cli_unreachable_site_and_unknown_shard(small_params, tmp_path) -> None:
    root = _project(tmp_path, small_params)
    env = dict(os.environ)
    proc = _cli("scrape", "run", "--shard", "delhi", "--base-url", "http://127.0.0.1:9", cwd=root, env=env)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "unreachable" in out and "127.0.0.1:9" in out
    assert "Traceback" not in out and not (root / "data/raw/gaadibazaar/delhi").exists()
    proc = _cli("scrape", "run", "--shard", "mumbai", cwd=root, env=env)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "no shard 'mumbai'" in out and "params.yaml" in out
