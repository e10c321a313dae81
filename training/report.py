"""``data/report.md``: every variant's val, test and holdout scores beside the original study's figures."""

from __future__ import annotations

import json
from pathlib import Path

#: Validation accuracy published by the original study (best epoch, 4,000 real photos, 150x150). It never
#: reported test or holdout accuracy.
STUDY_VAL = {"baseline": 0.88, "augmented": 0.95, "dropout": 0.956, "batchnorm": 0.961}
STUDY_SOURCE = "its best epoch on 4,000 real photos at 150x150"


def _fmt(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "n/a"


def report_md(variants: list[str], models: Path, evals: Path, export_meta: Path | None = None) -> str:
    """The table, read from ``models/<v>/train.json`` and ``evals/<v>/scores.json``."""
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
    if export_meta is not None and export_meta.is_file():
        meta = json.loads(export_meta.read_text(encoding="utf-8"))
        lines += ["", f"Exported model: variant **{meta['variant']}** (best val accuracy), "
                      f"`{export_meta.parent}/model.keras` and `model.onnx`; predict with "
                      f"`carid predict PHOTO...`."]
    return "\n".join(lines) + "\n"
