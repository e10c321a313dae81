"""``carid train ...`` (train, evaluate, export, report) and ``carid predict``."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Annotated

import typer

from carid.cliutil import fail, params_or_exit
from carid.params import Params
from carid.paths import project_root
from training.quiet import quiet_tensorflow, verbose_logging

app = typer.Typer(help="Train, evaluate and export the Keras variants listed in params.yaml.", no_args_is_help=True)
ParamsOpt = Annotated[Path, typer.Option("--params", help="params.yaml to read.")]
VariantOpt = Annotated[str, typer.Option("--variant", help="A key of train.variants in params.yaml.")]
SPLIT = Path("data/split")
MODELS = Path("data/models")
EVALS = Path("data/eval")
EXPORT = Path("data/export")
REPORT = Path("data/report.md")


@app.callback()
def _quiet() -> None:
    """Train, evaluate and export the Keras variants listed in params.yaml."""
    quiet_tensorflow(verbose_logging())  # before any command imports TensorFlow


def _variant(p: Params, params: Path, name: str) -> None:
    if name not in p.train.variants:
        raise fail(f"{params}: no variant '{name}' under train.variants (have: {', '.join(p.train.variants)})")


@app.command("run")
def run(variant: VariantOpt, params: ParamsOpt = Path("params.yaml")) -> None:
    """Train one variant; keep its best epoch by val accuracy in data/models/<variant>/model.keras."""
    from training.data import UnreadablePhoto
    from training.models import MissingWeights
    from training.train import train_variant

    p = params_or_exit(params)
    _variant(p, params, variant)
    try:
        r = train_variant(variant, p.train, SPLIT, project_root(), MODELS / variant, progress=sys.stderr.isatty())
    except (MissingWeights, UnreadablePhoto, FileNotFoundError, ValueError) as exc:
        raise fail(f"train {variant}: {exc}") from None
    typer.echo(f"train {variant}: best epoch {r.best_epoch}/{r.epochs}, val accuracy {r.best_val_accuracy:.4f}, "
               f"{r.seconds_per_epoch:.1f} s/epoch ({r.images_per_second:.0f} images/s) -> {MODELS / variant}")


@app.command("evaluate")
def evaluate(variant: VariantOpt, params: ParamsOpt = Path("params.yaml")) -> None:
    """Score a trained variant on test and the holdout; plots and misclassified galleries in data/eval/<variant>/."""
    from training.data import UnreadablePhoto
    from training.evaluate import evaluate_variant
    from training.train import MODEL_FILE

    p = params_or_exit(params)
    _variant(p, params, variant)
    try:
        res = evaluate_variant(variant, MODELS / variant / MODEL_FILE, SPLIT, project_root(), EVALS / variant,
                               p.train.size_of(variant), progress=sys.stderr.isatty())
    except (UnreadablePhoto, FileNotFoundError) as exc:
        raise fail(f"evaluate {variant}: {exc}") from None
    parts = ", ".join(f"{k} accuracy {v['accuracy']:.4f}" for k, v in res.items())  # type: ignore[index]
    typer.echo(f"evaluate {variant}: {parts} -> {EVALS / variant}")


@app.command("export")
def export(params: ParamsOpt = Path("params.yaml"), out: Annotated[Path, typer.Option("--out")] = EXPORT) -> None:
    """Export the variant with the best val accuracy as .keras and ONNX, with metadata.json."""
    from training.export import ExportError, export_best

    p = params_or_exit(params)
    try:
        meta = export_best(list(p.train.variants), p.train, MODELS, EVALS, SPLIT, out)
    except (FileNotFoundError, ExportError) as exc:
        raise fail(f"export: {exc}") from None
    typer.echo(f"export: variant {meta['variant']} -> {out}/model.keras, {out}/model.onnx, {out}/metadata.json")


@app.command("report")
def report(params: ParamsOpt = Path("params.yaml"), out: Annotated[Path, typer.Option("--out")] = REPORT) -> None:
    """Write data/report.md: every variant's val, test and holdout accuracy beside the study's figures."""
    from carid.atomic import write_texts
    from training.report import report_md
    from training.study import STUDY_DIR
    from training.studyreport import refresh_report

    p = params_or_exit(params)
    try:
        text = report_md(list(p.train.variants), MODELS, EVALS, EXPORT / "metadata.json",
                         {name: v.model for name, v in p.train.variants.items()})
    except FileNotFoundError as exc:
        raise fail(f"report: {exc.filename} is missing: run `dvc repro` first") from None
    write_texts(out.parent, {out.name: text})
    refresh_report(out, STUDY_DIR)  # the study's answers, when `dvc repro study-report` has run
    typer.echo(f"report: {out}")


def predict_command(
    paths: Annotated[list[Path], typer.Argument(help="Photos or folders of photos.")],
    model: Annotated[Path, typer.Option("--model", help="Exported model folder.")] = EXPORT,
    out_csv: Annotated[Path | None, typer.Option("--csv", help="Write path,label,probability,error here.")] = None,
) -> None:
    """Print the label and its probability for each photo (or write a CSV); unreadable files are reported."""
    quiet_tensorflow(verbose_logging())
    from training.predict import expand, predict_files, read_export

    try:
        exported = read_export(model)
    except FileNotFoundError as exc:
        raise fail(str(exc)) from None
    files = expand(paths)
    if not files:
        raise fail(f"no image files in {', '.join(map(str, paths))}")
    errors = 0
    rows = []
    for r in predict_files(exported, files):
        if r.error:
            errors += 1
            typer.secho(f"error: {r.error}", err=True, fg=typer.colors.RED)
        elif out_csv is None:
            typer.echo(f"{r.path}\t{r.label}\t{r.probability:.4f}")
        rows.append(r)
    if out_csv is not None:
        with out_csv.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["path", "label", "probability", "error"])
            writer.writerows([str(r.path), r.label, f"{r.probability:.4f}" if r.label else "", r.error] for r in rows)
        typer.echo(f"predict: {len(rows) - errors} photos labelled -> {out_csv}")
    if errors:
        raise typer.Exit(2 if errors == len(rows) else 0)
