"""``data/report.md``: every variant's val, test and holdout scores beside the original study's figures."""

from __future__ import annotations

import json
from pathlib import Path

from training.fitcurves import bias_variance_lines

#: Validation accuracy published by the original study (best epoch, 4,000 real photos, 150x150). It never
#: reported test or holdout accuracy.
STUDY_VAL = {"baseline": 0.88, "augmented": 0.95, "dropout": 0.956, "batchnorm": 0.961}
STUDY_SOURCE = "its best epoch on 4,000 real photos at 150x150"
SETS = ("val", "test", "holdout")


def _fmt(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "n/a"


def _accuracies(v: str, models: Path, evals: Path) -> dict[str, float | None]:
    train = json.loads((models / v / "train.json").read_text(encoding="utf-8"))
    scores = json.loads((evals / v / "scores.json").read_text(encoding="utf-8"))
    out: dict[str, float | None] = {"val": float(train["best_val_accuracy"])}
    for s in ("test", "holdout"):
        acc = scores.get(s, {}).get("accuracy")
        out[s] = None if acc is None else float(acc)
    return out


def _diff(a: float | None, b: float | None) -> str:
    return "n/a" if a is None or b is None else f"{a - b:+.3f}"


def custom_vs_pretrained(kinds: dict[str, str], models: Path, evals: Path) -> list[str]:
    """The study's question, "custom CNN or pre-trained network?": the best from-scratch variant (chosen by val
    accuracy, as export chooses) beside each pre-trained one, val / test / holdout side by side."""
    custom = [v for v, k in kinds.items() if k != "transfer"]
    pretrained = [v for v, k in kinds.items() if k == "transfer"]
    if not custom or not pretrained:
        return []
    acc = {v: _accuracies(v, models, evals) for v in kinds}
    best = max(custom, key=lambda v: acc[v]["val"] or 0.0)  # first listed among equals
    lines = ["", "## Custom CNN or pre-trained network?", "",
             f"The best from-scratch variant by val accuracy (`{best}`) beside the ImageNet pre-trained "
             "one(s), on the same photos. Differences are pre-trained minus custom, in accuracy (0.010 = one "
             "point).", "",
             "| | variant | val | test | holdout |", "|---|---|---|---|---|",
             f"| custom CNN (best by val) | {best} | " + " | ".join(_fmt(acc[best][s]) for s in SETS) + " |"]
    for v in pretrained:
        lines.append(f"| pre-trained (ImageNet) | {v} | " + " | ".join(_fmt(acc[v][s]) for s in SETS) + " |")
        lines.append(f"| difference | {v} - {best} | " + " | ".join(_diff(acc[v][s], acc[best][s]) for s in SETS)
                     + " |")
    for v in pretrained:
        pre, own = acc[v]["test"], acc[best]["test"]
        if pre is not None and own is not None:
            word = "ahead of" if pre > own else "behind" if pre < own else "level with"
            lines += ["", f"On this run's test photos `{v}` is {word} `{best}` ({_fmt(pre)} vs {_fmt(own)}); the "
                          "holdout column shows whether that holds on the second site's photos."]
    return lines


def report_md(variants: list[str], models: Path, evals: Path, export_meta: Path | None = None,
              kinds: dict[str, str] | None = None) -> str:
    """The table, read from ``models/<v>/train.json`` and ``evals/<v>/scores.json``; with ``kinds`` (variant ->
    model from params), also the custom-vs-pre-trained comparison."""
    lines = ["# carid report", "",
             "Accuracy of each variant on this run's demo data (carid, measured) beside the original study's "
             f"published validation accuracy ({STUDY_SOURCE}).", "",
             "| variant | study val (published) | val (carid) | test (carid) | holdout (carid) | test F1 | "
             "test ROC AUC | test ECE | best epoch | s / epoch | parameters |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for v in variants:
        train = json.loads((models / v / "train.json").read_text(encoding="utf-8"))
        scores = json.loads((evals / v / "scores.json").read_text(encoding="utf-8"))
        test, hold = scores.get("test", {}), scores.get("holdout", {})
        lines.append(f"| {v} | {_fmt(STUDY_VAL.get(v))} | {_fmt(train['best_val_accuracy'])} | "
                     f"{_fmt(test.get('accuracy'))} | {_fmt(hold.get('accuracy'))} | {_fmt(test.get('f1'))} | "
                     f"{_fmt(test.get('roc_auc'))} | {_fmt(test.get('ece'))} | "
                     f"{train['best_epoch']} / {train['epochs']} | "
                     f"{train['seconds_per_epoch']:.1f} | {train['parameters']:,} |")
    lines += ["", "Holdout: photos from the second site (Hyderabad), never used for training or model choice.",
              "Misclassified photos: `data/eval/<variant>/misclassified-test.html` and `-holdout.html`."]
    lines += custom_vs_pretrained({v: (kinds or {}).get(v, "") for v in variants}, models, evals) if kinds else []
    lines += bias_variance_lines(variants, models)
    if export_meta is not None and export_meta.is_file():
        meta = json.loads(export_meta.read_text(encoding="utf-8"))
        lines += ["", f"Exported model: variant **{meta['variant']}** (best val accuracy), "
                      f"`{export_meta.parent}/model.keras` and `model.onnx`; predict with "
                      f"`carid predict PHOTO...`."]
    return "\n".join(lines) + "\n"
