"""Bias and variance from a variant's own training curves: the train-val gap at its best epoch, and one sentence.

dvclive writes one TSV per metric and epoch (``live/plots/metrics/accuracy.tsv``, ``val_accuracy.tsv``). Read here
with the standard ``csv`` module: two columns, no library needed. Train accuracy is what Keras logs while fitting:
with augmentation and dropout active, so it understates how well a variant fits its training photos, and a gap
measured this way is a lower bound.

The sentence follows fixed rules, stated so a reader can check them against the plot:

- **variance** when train runs ahead of val by more than ``GAP_HIGH`` at the best epoch (it fits its training photos
  better than it generalises: more data, augmentation or regularisation are the levers);
- **bias** when the gap is at most ``GAP_LOW`` and val accuracy is below ``GOOD_VAL`` (both curves sit low
  together: a bigger model, more epochs or a better input are the levers);
- **still learning** when the best epoch is in the last ``LATE`` share of the epochs (more epochs may help);
- **past its best** when the last epoch's val accuracy is more than ``DROP`` below the best (it overfits after
  the best epoch, which is why the best epoch is the one kept).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

GAP_HIGH = 0.05  # train ahead of val by more than 5 points: variance
GAP_LOW = 0.02  # within 2 points ...
GOOD_VAL = 0.9  # ... and val below 0.90: bias
LATE = 0.1  # best epoch in the last 10% of the epochs: still learning
DROP = 0.02  # last val more than 2 points below the best: past its best


@dataclass(frozen=True)
class Fit:
    variant: str
    epochs: int
    best_epoch: int  # 1-based, by val accuracy (the first of equals), as training keeps it
    train_accuracy: float  # at the best epoch
    val_accuracy: float  # at the best epoch
    last_val_accuracy: float
    train_curve: tuple[float, ...] = ()
    val_curve: tuple[float, ...] = ()

    @property
    def gap(self) -> float:
        return self.train_accuracy - self.val_accuracy


def read_points(path: Path) -> dict[int, float]:
    """A dvclive metric TSV (columns ``step`` and the metric) as step -> value."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    if not rows or len(rows[0]) < 2:
        raise ValueError(f"{path}: not a dvclive metric file (expected a 'step<TAB>name' header)")
    try:
        return dict(sorted((int(r[0]), float(r[1])) for r in rows[1:] if r))
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{path}: unreadable row: {exc}") from None


def read_curve(path: Path) -> list[float]:
    """The values of a dvclive metric TSV, in step order."""
    return list(read_points(path).values())


def fit_of(variant: str, live: Path) -> Fit:
    """The variant's fit from ``live/plots/metrics/{accuracy,val_accuracy}.tsv``. Val may be logged on some epochs
    only (training's ``validation_every``): the curves are then taken at the epochs that have both, and the epoch
    count is train's."""
    metrics = live / "plots" / "metrics"
    train, val = read_points(metrics / "accuracy.tsv"), read_points(metrics / "val_accuracy.tsv")
    steps = [s for s in val if s in train]
    if not steps:
        raise ValueError(f"{metrics}: no epochs logged")
    tc, vc = [train[s] for s in steps], [val[s] for s in steps]
    best = max(range(len(steps)), key=lambda i: (vc[i], -i))
    return Fit(variant, max(train) + 1, steps[best] + 1, tc[best], vc[best], vc[-1], tuple(tc), tuple(vc))


def diagnosis(f: Fit) -> str:
    """One sentence on what the curves show, by the module's rules."""
    parts = []
    if f.gap > GAP_HIGH:
        parts.append(f"train runs {f.gap:.3f} ahead of val at the best epoch: variance, it fits its training "
                     "photos better than it generalises")
    elif f.gap <= GAP_LOW and f.val_accuracy < GOOD_VAL:
        parts.append(f"train and val sit together ({f.gap:+.3f}) below {GOOD_VAL:.2f}: bias, the model or its "
                     "training so far is the limit, not the data")
    else:
        parts.append(f"a gap of {f.gap:+.3f} at the best epoch: neither bias nor variance dominates")
    if f.best_epoch > f.epochs * (1 - LATE):
        parts.append(f"its best epoch is {f.best_epoch} of {f.epochs}, so it was still learning")
    elif f.val_accuracy - f.last_val_accuracy > DROP:
        parts.append(f"val fell {f.val_accuracy - f.last_val_accuracy:.3f} after epoch {f.best_epoch}, so later "
                     "epochs overfit")
    return "; ".join(parts) + "."


def bias_variance_lines(variants: list[str], models: Path) -> list[str]:
    """The report's bias-variance section: a table and one sentence per variant with logged curves."""
    fits = []
    for v in variants:
        live = models / v / "live"
        if (live / "plots" / "metrics" / "val_accuracy.tsv").is_file():
            fits.append(fit_of(v, live))
    if not fits:
        return []
    lines = ["", "## Bias and variance", "",
             "Train and val accuracy per epoch: `dvc plots show data/models/<variant>/live/plots/metrics`. Train "
             "accuracy is logged while fitting, with augmentation and dropout on, so the gap is a lower bound.", "",
             "| variant | best epoch | train at best | val at best | gap | last val |", "|---|---|---|---|---|---|"]
    lines += [f"| {f.variant} | {f.best_epoch} / {f.epochs} | {f.train_accuracy:.3f} | {f.val_accuracy:.3f} | "
              f"{f.gap:+.3f} | {f.last_val_accuracy:.3f} |" for f in fits]
    lines.append("")
    lines += [f"- `{f.variant}`: {diagnosis(f)}" for f in fits]
    return lines
