"""``carid marketplace ...``: serve the demo marketplace and write its answer key."""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from carid.cliutil import fail, params_or_exit
from carid.log import setup_logging
from carid.params import DEFAULT_MARKETPLACE, MarketplaceParams
from marketplace.answer_key import KeyRow, answer_rows, carnest_rows, write_answer_key
from marketplace.carnest.inventory import CarnestInventory
from marketplace.carnest.photos import CarnestStore
from marketplace.inventory import Inventory
from marketplace.store import PhotoStore

app = typer.Typer(help="The embedded demo used-car marketplace (three sites on 127.0.0.1).", no_args_is_help=True)

ParamsOpt = Annotated[Path | None, typer.Option("--params", help="Read the marketplace section of this params.yaml.")]
SeedOpt = Annotated[int | None, typer.Option(help="Inventory and photo seed (overrides params).")]
DifficultyOpt = Annotated[float | None, typer.Option(min=0.0, max=1.0, help="0 easy .. 1 hard (overrides params).")]
SizeOpt = Annotated[int | None, typer.Option(min=1, help="Main-site listings per region (overrides params).")]
HydOpt = Annotated[int | None, typer.Option(min=1, help="Hyderabad-site listings (overrides params).")]
FaultOpt = Annotated[list[str] | None, typer.Option("--fault", help="Switch a fault on (repeatable).")]
CarnestOpt = Annotated[int | None, typer.Option(
    min=1, help="Carnest (Pune) listings (default: marketplace.carnest_listings).")]
SITES = ("main", "hyderabad", "carnest")


def _params(params: Path | None, seed: int | None, difficulty: float | None, listings: int | None,
            hyderabad: int | None, faults: list[str] | None) -> MarketplaceParams:
    base = params_or_exit(params).marketplace if params else DEFAULT_MARKETPLACE
    update: dict[str, object] = {}
    for key, value in (("seed", seed), ("difficulty", difficulty), ("listings_per_region", listings),
                       ("hyderabad_listings", hyderabad), ("faults", faults)):
        if value:
            update[key] = value
    merged = base.model_dump() | update
    try:
        return MarketplaceParams.model_validate(merged, strict=False)
    except Exception as exc:  # pydantic's ValidationError: name the bad option
        raise fail(f"bad marketplace option: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from None  # type: ignore[attr-defined]


@app.command()
def serve(
    params: ParamsOpt = None, seed: SeedOpt = None, difficulty: DifficultyOpt = None,
    listings_per_region: SizeOpt = None, hyderabad_listings: HydOpt = None, fault: FaultOpt = None,
    main_port: Annotated[int, typer.Option(help="Main site port (0: any free port).")] = 8800,
    hyderabad_port: Annotated[int, typer.Option(help="Hyderabad site port (0: any free port).")] = 8801,
    carnest_port: Annotated[int | None, typer.Option(
        help="Carnest site port (0: any free port; default: main port + 2, or any free port).")] = None,
    carnest_listings: CarnestOpt = None,
    url_file: Annotated[Path | None, typer.Option(help="Write the sites' URLs here as JSON once up.")] = None,
    parent_pid: Annotated[int | None, typer.Option(help="Stop when this process is gone (for child use).")] = None,
) -> None:
    """Serve the three demo sites on 127.0.0.1 until Ctrl-C."""
    from marketplace.server import running_marketplace, write_url_file

    setup_logging()
    mp = _params(params, seed, difficulty, listings_per_region, hyderabad_listings, fault)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if parent_pid is not None:
        threading.Thread(target=_watch_parent, args=(parent_pid, stop), daemon=True).start()
    try:
        with running_marketplace(mp, main_port, hyderabad_port, carnest_port=carnest_port,
                                 carnest_listings=carnest_listings) as urls:
            if url_file:
                write_url_file(url_file, urls)
            typer.echo(f"GaadiBazaar (main site):     {urls.main}")
            typer.echo(f"Hyderabad Motors (2nd site): {urls.hyderabad}")
            typer.echo(f"Carnest, Pune (3rd site):    {urls.carnest}")
            typer.echo(f"seed {mp.seed}, difficulty {mp.difficulty}, faults: {', '.join(mp.faults) or 'none'}")
            typer.echo("Press Ctrl-C to stop.")
            stop.wait()
    except OSError as exc:
        raise fail(str(exc)) from None
    finally:
        if url_file:
            url_file.unlink(missing_ok=True)
    typer.echo("stopped")


def _watch_parent(pid: int, stop: threading.Event) -> None:
    """Set ``stop`` once ``pid`` is no longer our parent (it died, even by SIGKILL)."""
    while not stop.wait(0.5):
        if os.getppid() != pid:
            stop.set()


@app.command("answer-key")
def answer_key(
    out: Annotated[Path, typer.Option(help="CSV to write.")] = Path("data/marketplace/answer_key.csv"),
    params: ParamsOpt = None, seed: SeedOpt = None, difficulty: DifficultyOpt = None,
    listings_per_region: SizeOpt = None, hyderabad_listings: HydOpt = None, carnest_listings: CarnestOpt = None,
    site: Annotated[list[str] | None, typer.Option(
        "--site", help="Sites whose photos to write (repeatable): main, hyderabad, carnest. "
                       "Default: all three.")] = None,
) -> None:
    """Write the truth about every photo (for tests and reports only; no stage reads it)."""
    setup_logging()
    sites = site or list(SITES)
    unknown = sorted(set(sites) - set(SITES))
    if unknown:
        raise fail(f"unknown site {unknown[0]!r} for --site; one of {', '.join(SITES)}")
    mp = _params(params, seed, difficulty, listings_per_region, hyderabad_listings, None)
    store = PhotoStore()

    def rows() -> Iterator[KeyRow]:
        if {"main", "hyderabad"} & set(sites):
            yield from (r for r in answer_rows(Inventory(mp), store, progress=True) if r.site in sites)
        if "carnest" in sites:
            yield from carnest_rows(CarnestInventory(mp, carnest_listings), CarnestStore(store.root.parent),
                                    progress=True)

    n = write_answer_key(out, rows())
    typer.echo(f"wrote {n} rows to {out}")


@app.command()
def inventory(
    params: ParamsOpt = None, seed: SeedOpt = None, listings_per_region: SizeOpt = None,
    hyderabad_listings: HydOpt = None, carnest_listings: CarnestOpt = None,
) -> None:
    """Print listing and photo counts per site, region and model (no rendering)."""
    mp = _params(params, seed, None, listings_per_region, hyderabad_listings, None)
    counts: Counter[tuple[str, str]] = Counter()
    for lst in (*Inventory(mp).listings, *CarnestInventory(mp, carnest_listings).listings):
        for p in lst.photos:
            kind = p.junk or ("other-model" if p.model != lst.model else p.model)
            counts[(lst.region, kind)] += 1
    for (region, kind), n in sorted(counts.items()):
        typer.echo(f"{region:15s} {kind:12s} {n:6d}")
