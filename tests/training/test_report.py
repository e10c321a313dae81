"""The report's answer to the study's question: custom CNN or pre-trained network, val / test / holdout."""

from __future__ import annotations

import json
from pathlib import Path

from training.report import report_md

ACC = {  # variant: (val, test, holdout)
    "baseline": (0.85, 0.84, 0.80),
    "residual": (0.90, 0.80, 0.70),
    "transfer": (0.95, 0.90, 0.85),
}


def write_run(tmp_path: Path, variants: dict[str, tuple[float, float, float]]) -> tuple[Path, Path]:
    models, evals = tmp_path / "models", tmp_path / "eval"
    for v, (val, test, hold) in variants.items():
        (models / v).mkdir(parents=True)
        (evals / v).mkdir(parents=True)
        train = {"best_val_accuracy": val, "best_epoch": 3, "epochs": 5, "seconds_per_epoch": 1.0, "parameters": 10}
        (models / v / "train.json").write_text(json.dumps(train), encoding="utf-8")
        scores = {s: {"accuracy": a, "f1": a, "roc_auc": a, "ece": 0.1} for s, a in (("test", test), ("holdout", hold))}
        (evals / v / "scores.json").write_text(json.dumps(scores), encoding="utf-8")
    return models, evals


def test_custom_vs_pretrained_side_by_side(tmp_path: Path) -> None:
    models, evals = write_run(tmp_path, ACC)
    kinds = {"baseline": "baseline", "residual": "residual", "transfer": "transfer"}
    report = report_md(list(ACC), models, evals, kinds=kinds)
    assert "## Custom CNN or pre-trained network?" in report
    # the custom side is the best by val (residual), even though baseline has the better test score
    assert "| custom CNN (best by val) | residual | 0.900 | 0.800 | 0.700 |" in report
    assert "| pre-trained (ImageNet) | transfer | 0.950 | 0.900 | 0.850 |" in report
    assert "| difference | transfer - residual | +0.050 | +0.100 | +0.150 |" in report
    assert "`transfer` is ahead of `residual` (0.900 vs 0.800)" in report


def test_no_comparison_without_both_kinds(tmp_path: Path) -> None:
    runs = {k: ACC[k] for k in ("baseline", "residual")}
    models, evals = write_run(tmp_path, runs)
    report = report_md(list(runs), models, evals, kinds={"baseline": "baseline", "residual": "residual"})
    assert "| residual | n/a | 0.900 | 0.800 | 0.700 |" in report and "pre-trained" not in report
