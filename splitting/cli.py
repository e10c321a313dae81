"""``carid split ...``: the stratified, leakage-free split and its folder export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from carid.cliutil import fail, params_or_exit
from carid.paths import project_root

app = typer.Typer(help="Split accepted photos into train / val / test (main site) and the holdout (second site).",
                  no_args_is_help=True)
ParamsOpt = Annotated[Path, typer.Option("--params", help="params.yaml to read.")]
SplitDirOpt = Annotated[Path, typer.Option("--out", help="Folder for train/val/test/holdout.csv and the report.")]
ACCEPTED = Path("data/curated/accepted.csv")
SPLIT_DIR = Path("data/split")


@app.command()
def run(params: ParamsOpt = Path("params.yaml"),
        accepted: Annotated[Path, typer.Option("--accepted", help="accepted.csv written by curate.")] = ACCEPTED,
        out: SplitDirOpt = SPLIT_DIR) -> None:
    """Split the accepted photos; fail, writing nothing, on too few photos or any near-duplicate leak."""
    from splitting.assign import NotEnoughPhotos
    from splitting.leakage import LeakageError
    from splitting.records import ALL_SPLITS, SplitInputError
    from splitting.run import SplitPaths, run_split

    p = params_or_exit(params)
    try:
        result = run_split(SplitPaths(project_root(), accepted, out), p.split, p.curate, progress=sys.stderr.isatty())
    except (NotEnoughPhotos, LeakageError, SplitInputError, FileNotFoundError) as exc:
        raise fail(f"split: {exc} (nothing was written)") from None
    sizes = ", ".join(f"{s} {len(result.splits[s])}" for s in ALL_SPLITS)
    typer.echo(f"split: {sizes}; leaks 0 -> {out}/{{train,val,test,holdout}}.csv, report {out}/report.md")


@app.command("export")
def export(split_dir: Annotated[Path, typer.Option("--split-dir", help="Folder with the split CSVs.")] = SPLIT_DIR,
           out: Annotated[Path, typer.Option("--out", help="Folder to write <split>/<label>/ into.")] = Path(
               "data/split/images")) -> None:
    """Write <split>/<label>/<photo> folders (hard links where possible) for image_dataset_from_directory."""
    from splitting.export import export_folders
    from splitting.records import SplitInputError

    try:
        counts = export_folders(split_dir, project_root(), out)
    except (SplitInputError, FileNotFoundError) as exc:
        raise fail(f"split export: {exc}") from None
    copied = counts.pop("copied")
    typer.echo(f"split export: {counts} -> {out} ({copied} copied, the rest hard-linked)")
