"""Bias and variance from dvclive's per-epoch curves: the gap at the best epoch and the rule-based sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.fitcurves import bias_variance_lines, diagnosis, fit_of, read_curve


def write_curves(models: Path, variant: str, train: list[float], val: list[float]) -> Path:
    metrics = models / variant / "live" / "plots" / "metrics"
    metrics.mkdir(parents=True)
    for name, values in (("accuracy", train), ("val_accuracy", val)):
        rows = "".join(f"{i}\t{v}\n" for i, v in enumerate(values))
        (metrics / f"{name}.tsv").write_text(f"step\t{name}\n{rows}", encoding="utf-8")
    return models / variant / "live"


def test_gap_is_taken_at_the_best_val_epoch_not_the_last(tmp_path: Path) -> None:
    live = write_curves(tmp_path, "baseline", [0.6, 0.8, 0.9, 0.97, 0.99], [0.6, 0.75, 0.82, 0.80, 0.78])
    f = fit_of("baseline", live)
    assert (f.best_epoch, f.epochs) == (3, 5)
    assert f.gap == pytest.approx(0.9 - 0.82)
    text = diagnosis(f)
    assert "variance" in text and "val fell 0.040 after epoch 3" in text


def test_level_curves_below_the_bar_read_as_bias_and_a_late_best_as_still_learning(tmp_path: Path) -> None:
    live = write_curves(tmp_path, "augmented", [0.6, 0.7, 0.75, 0.78], [0.61, 0.7, 0.74, 0.77])
    text = diagnosis(fit_of("augmented", live))
    assert "bias" in text and "variance" not in text
    assert "best epoch is 4 of 4, so it was still learning" in text


def test_section_lists_only_variants_with_curves(tmp_path: Path) -> None:
    write_curves(tmp_path, "residual", [0.8, 0.95], [0.85, 0.93])
    lines = bias_variance_lines(["residual", "transfer"], tmp_path)
    assert "| residual | 2 / 2 | 0.950 | 0.930 | +0.020 | 0.930 |" in lines
    assert not any("transfer" in line for line in lines)
    assert bias_variance_lines(["transfer"], tmp_path) == []


def test_a_broken_curve_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "accuracy.tsv"
    bad.write_text("step\taccuracy\n0\tnot-a-number\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"accuracy\.tsv"):
        read_curve(bad)


def test_val_logged_on_some_epochs_only_is_matched_by_step(tmp_path: Path) -> None:
    live = write_curves(tmp_path, "baseline", [0.5, 0.6, 0.7, 0.8, 0.85, 0.9], [])
    (live / "plots/metrics/val_accuracy.tsv").write_text("step\tval_accuracy\n1\t0.62\n3\t0.71\n5\t0.69\n",
                                                           encoding="utf-8")
    f = fit_of("baseline", live)
    assert (f.epochs, f.best_epoch) == (6, 4)
    assert f.train_accuracy == pytest.approx(0.8) and f.last_val_accuracy == pytest.approx(0.69)
    assert f.train_curve == (0.6, 0.8, 0.9) and f.val_curve == (0.62, 0.71, 0.69)
