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
from scraper.fields.errors import PageError
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
        job = ShardJob(profile, conf.region, url, out / profile.name / conf.region, root, target, remote_url,
                       year_min=p.scrape.year_min)
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
    except (ProfileError, CrawlError, FetchError, DemoError, PageError) as exc:
        raise fail(f"scrape {shard}: {exc}") from None
    except KeyboardInterrupt:
        raise fail(f"scrape {shard}: interrupted; run it again to resume", code=130) from None


@app.command("try")
def try_cmd(
    profile: Annotated[str, typer.Argument(help="A shipped profile name or a profile YAML file.")],
    source: Annotated[str, typer.Argument(help="A saved HTML page (or JSON API answer), a live URL, or a region "
                                          "of the profile (its first listing page on the profile's site).")],
    url: Annotated[str | None, typer.Option(help="The page's own URL, to resolve a saved page's links "
                                            "(default: the profile's base_url).")] = None,
    kind: Annotated[str, typer.Option("--as", help="Read SOURCE as: auto (a listing page when cards match, "
                                      "else a detail page), listing or detail.")] = "auto",
    browser: Annotated[bool | None, typer.Option("--browser/--no-browser", help="Render a live URL in headless "
                                                 "Chromium (default: when the profile's pages need it).")] = None,
    limit: Annotated[int, typer.Option(help="Cards and photos shown.")] = 20,
) -> None:
    """Show what a profile extracts from one page: cards, titles and labels, facts, photos, and each rule that
    matched nothing. Exits 1 when nothing is extracted."""
    from scraper.workbench import SourceError, inspect, load

    if kind not in ("auto", "listing", "detail"):
        raise fail(f"--as must be auto, listing or detail (got {kind!r})")
    try:
        prof = load_profile(profile)
        doc = load(source, prof, url, browser, kind)  # type: ignore[arg-type]
        report = inspect(doc, prof, kind, source)  # type: ignore[arg-type]
    except (ProfileError, SourceError, FetchError, PageError) as exc:
        raise fail(f"scrape try: {exc}") from None
    for line in report.lines(limit):
        typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)


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


@app.command("import")
def import_source_cmd(
    source: Annotated[str, typer.Option(help="A folder key of params.yaml's scrape.folders.")],
    params: ParamsOpt = Path("params.yaml"),
    out: Annotated[Path, typer.Option(help="Raw data folder.")] = Path("data/raw"),
) -> None:
    """Import one folder source of params.yaml (what dvc.yaml's import@<name> runs) into <out>/local/<name>."""
    from scraper.importer import FolderSource, SourceError, import_source

    p = params_or_exit(params)
    if source not in p.scrape.folders:
        have = ", ".join(p.scrape.folders) or "none"
        raise fail(f"{params}: no folder source {source!r} in scrape.folders (have: {have})")
    conf = p.scrape.folders[source]
    try:
        target, added, skipped = import_source(FolderSource(source, conf.folder, conf.label), params, out,
                                               project_root(), progress=sys.stderr.isatty())
    except SourceError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"import {source}: {added} photos in {target}/manifest.csv")
    if skipped:
        typer.echo("  skipped: " + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())))


