"""``carid study ...``: the grid that answers the study's questions (``dvc repro study-report`` runs both)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Annotated

import typer

from carid.cliutil import fail, params_or_exit
from training.study import STUDY_DIR

app = typer.Typer(help="Learning curves, input scaling and backends: the study's questions, measured.",
                  no_args_is_help=True)
ParamsOpt = Annotated[Path, typer.Option("--params", help="params.yaml to read.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Folder of the runs CSVs, plots and report.")]


@app.command("run")
def run(backend: Annotated[str, typer.Option("--backend", help="tensorflow or jax (one of study.backends).")],
        params: ParamsOpt = Path("params.yaml"), out: OutOpt = STUDY_DIR) -> None:
    """Train this backend's points of the grid in a process of its own; resumes a killed run."""
    from training.study import grid, run_backend

    p = params_or_exit(params)
    if backend not in p.study.backends:
        raise fail(f"{params}: backend '{backend}' is not in study.backends ({', '.join(p.study.backends)})")
    try:
        n = sum(1 for point in grid(p) if point.backend == backend)
    except ValueError as exc:
        raise fail(f"{params}: {exc}") from None
    typer.echo(f"study {backend}: {n} training runs -> {out}/runs-{backend}.csv")
    try:
        run_backend(backend, params, out)
    except subprocess.CalledProcessError as exc:
        raise fail(f"study {backend}: the worker stopped with exit code {exc.returncode}; finished points are kept "
                   f"in {out}/runs-{backend}.csv and the next run resumes from them") from None


@app.command("report")
def report(params: ParamsOpt = Path("params.yaml"), out: OutOpt = STUDY_DIR) -> None:
    """Write report.md, summary.json and the plots from the runs CSVs."""
    from training.cli import REPORT
    from training.study import read_runs
    from training.studyreport import draw_pairs, draw_plots, study_report, write_study

    p = params_or_exit(params)
    s = p.study
    missing = [b for b in s.backends if not (out / f"runs-{b}.csv").is_file()]
    if missing:
        raise fail(f"no {out}/runs-{missing[0]}.csv: run `carid study run --backend {missing[0]}` first")
    runs = [r for b in s.backends for r in read_runs(out / f"runs-{b}.csv")]
    has_fit = draw_plots(runs, s.variants, s.backends[0], p.train.input_scaling, out / "learning_curves.png",
                         out / "fit_curves.png")
    has_pairs = draw_pairs(runs, s.scaling_variants, s.backend_variants, s.backends, p.train.input_scaling,
                           out / "pairs.png")
    kinds: dict[str, str] = {name: v.model for name, v in p.train.variants.items()}
    r = study_report(runs, s.variants, s.scaling_variants, s.backend_variants, s.backends, p.train.input_scaling,
                     kinds, "learning_curves.png", "fit_curves.png" if has_fit else None,
                     "pairs.png" if has_pairs else None)
    write_study(out, r)
    typer.echo(f"study report: {out}/report.md ({len(runs)} runs)")
    if REPORT.is_file():  # not rewritten here: it is the report stage's output, and DVC would see it changed
        typer.echo(f"  {REPORT} carries these answers once `carid train report` runs again "
                   "(`dvc repro -f -s report`)")
