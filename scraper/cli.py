"""``carid scrape ...``: scrape a shard, or import a folder of photos."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from carid.cliutil import fail, params_or_exit
from carid.paths import project_root
from scraper.crawl import CrawlError
from scraper.demo import DemoError, demo_marketplace
from scraper.fetch import FetchError
from scraper.labels import LABELS
from scraper.profile import ProfileError, load_profile
from scraper.shard import ShardJob, ShardScraper

log = logging.getLogger(__name__)
app = typer.Typer(help="Scrape used-car listings (Selenium + BeautifulSoup + requests).", no_args_is_help=True)
ParamsOpt = Annotated[Path, typer.Option("--params", help="params.yaml to read.")]


@app.command()
def run(
    shard: Annotated[str, typer.Option(help="A shard key of params.yaml's scrape.shards.")],
    params: ParamsOpt = Path("params.yaml"),
    base_url: Annotated[str | None, typer.Option(help="Scrape this site instead of the profile's "
                                                 "(for the demo: do not start the embedded marketplace).")] = None,
    remote_url: Annotated[str | None, typer.Option(help="Selenium Grid URL for the browser.")] = None,
    out: Annotated[Path, typer.Option(help="Raw data folder.")] = Path("data/raw"),
    target_per_class: Annotated[int | None, typer.Option(help="Override scrape.target_per_class.")] = None,
) -> None:
    """Scrape one shard (resumable: re-running skips listings already done)."""
    p = params_or_exit(params)
    if shard not in p.scrape.shards:
        raise fail(f"{params}: no shard {shard!r} in scrape.shards (have: {', '.join(p.scrape.shards)})")
    conf = p.scrape.shards[shard]
    try:
        profile = load_profile(conf.profile)
    except ProfileError as exc:
        raise fail(str(exc)) from None
    if conf.region not in profile.regions:
        raise fail(f"{params}: shard {shard!r}: profile {profile.name} has no region {conf.region!r} "
                   f"(has: {', '.join(profile.regions)})")
    profile = profile.model_copy(update={"politeness": profile.politeness.model_copy(
        update={"delay_s": max(p.scrape.delay_s, profile.politeness.delay_s)})})
    root = project_root()
    target = next(t for t in (target_per_class, conf.target_per_class, p.scrape.target_per_class) if t is not None)

    def scrape(url: str) -> None:
        job = ShardJob(profile, conf.region, url, out / profile.name / conf.region, root, target, remote_url)
        summary = ShardScraper(job).run()
        typer.echo(f"scrape {shard}: {job.out_dir}/manifest.csv")
        for line in summary.lines():
            typer.echo(f"  {line}")

    try:
        if base_url is None and profile.demo is not None:
            with demo_marketplace(profile.demo, profile.base_url, params) as url:
                scrape(url)
        else:
            scrape(base_url or profile.base_url)
    except (ProfileError, CrawlError, FetchError, DemoError) as exc:
        raise fail(f"scrape {shard}: {exc}") from None
    except KeyboardInterrupt:
        raise fail(f"scrape {shard}: interrupted; run it again to resume", code=130) from None


@app.command("import-folder")
def import_folder_cmd(
    path: Annotated[Path, typer.Argument(help="Folder of photos (searched recursively).")],
    label: Annotated[str, typer.Option(help=f"Label for every photo: {', '.join(LABELS)}.")],
    region: Annotated[str, typer.Option(help="Region name to record (a shard of its own).")],
    site: Annotated[str, typer.Option(help="Site name to record.")] = "local",
    out: Annotated[Path, typer.Option(help="Raw data folder.")] = Path("data/raw"),
) -> None:
    """Import photos a person already has, with the same manifest and checks as a scrape."""
    from scraper.importer import import_folder

    if label not in LABELS:
        raise fail(f"--label must be one of {', '.join(LABELS)} (got {label!r})")
    target = out / site / region
    try:
        added, skipped = import_folder(path, target, project_root(), site, region,
                                       label, progress=sys.stderr.isatty())
    except FileNotFoundError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"imported {added} photos into {target}/manifest.csv")
    if skipped:
        typer.echo("  skipped: " + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())))


