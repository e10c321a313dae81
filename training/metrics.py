"""Evaluate binary predictions: accuracy, precision, recall, F1, ROC AUC, calibration.

Hand-written in numpy on purpose: the GPU machine and the runtime install have no scikit-learn, and these are a
handful of formulas. The tests check every number against scikit-learn where it is installed.

Conventions: class 1 is the positive class, ``prob`` is P(class 1), and a photo is predicted positive when
``prob >= threshold``. Calibration bins are equal-width and right-closed, ``[0, 0.1], (0.1, 0.2], ... (0.9, 1]``,
exactly as scikit-learn's ``calibration_curve(strategy="uniform")`` bins them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["BinaryScores", "CalibrationBin", "accuracy_by_group", "calibration_bins", "score"]

ECE_BINS = 10


@dataclass(frozen=True)
class CalibrationBin:
    """One non-empty bin of a reliability plot: probabilities in (lower, upper] and how often they came true."""

    lower: float
    upper: float
    mean_prob: float
    frac_pos: float
    count: int

    def to_dict(self) -> dict[str, float | int]:
        """Plain JSON-ready values."""
        return {"lower": self.lower, "upper": self.upper, "mean_prob": self.mean_prob, "frac_pos": self.frac_pos,
                "count": self.count}


@dataclass(frozen=True)
class BinaryScores:
    """Scores of one set of binary predictions.

    ``confusion`` is ``((tn, fp), (fn, tp))``: rows are the true class 0/1, columns the predicted class.
    ``precision`` is 0.0 when nothing is predicted positive and ``recall`` is 0.0 when there are no positives
    (scikit-learn's ``zero_division=0``). ``roc_auc`` is ``nan`` when only one class is present; ``to_dict`` turns
    that into ``None``. ``ece`` is the expected calibration error of P(class 1) over 10 equal-width bins, each
    bin weighted by its share of the samples.
    """

    accuracy: float
    precision: float
    recall: float
    f1: float
    roc_auc: float
    ece: float
    confusion: tuple[tuple[int, int], tuple[int, int]]
    n: int

    def to_dict(self) -> dict[str, float | int | list[list[int]] | None]:
        """Plain JSON-ready values (``nan`` becomes ``None``)."""
        return {
            "accuracy": _plain(self.accuracy),
            "precision": _plain(self.precision),
            "recall": _plain(self.recall),
            "f1": _plain(self.f1),
            "roc_auc": _plain(self.roc_auc),
            "ece": _plain(self.ece),
            "confusion": [[int(v) for v in row] for row in self.confusion],
            "n": int(self.n),
        }


def score(y_true: npt.ArrayLike, prob: npt.ArrayLike, threshold: float = 0.5) -> BinaryScores:
    """Score predictions ``prob`` (P(class 1)) against labels ``y_true`` in {0, 1}."""
    y, p = _validate(y_true, prob)
    pred = _predict(p, threshold)
    tp = int(np.count_nonzero(pred & (y == 1)))
    fp = int(np.count_nonzero(pred & (y == 0)))
    fn = int(np.count_nonzero(~pred & (y == 1)))
    tn = int(np.count_nonzero(~pred & (y == 0)))
    n = int(y.size)
    return BinaryScores(
        accuracy=(tp + tn) / n,
        precision=tp / (tp + fp) if tp + fp else 0.0,
        recall=tp / (tp + fn) if tp + fn else 0.0,
        f1=2 * tp / (2 * tp + fp + fn) if tp else 0.0,
        roc_auc=_roc_auc(y, p),
        ece=_ece(calibration_bins(y, p, bins=ECE_BINS), n),
        confusion=((tn, fp), (fn, tp)),
        n=n,
    )


def accuracy_by_group(
    y_true: npt.ArrayLike, prob: npt.ArrayLike, groups: Sequence[str], threshold: float = 0.5
) -> dict[str, dict[str, float | int]]:
    """Accuracy and sample count per group (e.g. region), sorted by group name."""
    y, p = _validate(y_true, prob)
    if len(groups) != y.size:
        raise ValueError(f"groups has {len(groups)} entries but y_true has {y.size}")
    correct = _predict(p, threshold) == (y == 1)
    names = np.asarray([str(g) for g in groups], dtype=object)
    out: dict[str, dict[str, float | int]] = {}
    for name in sorted(set(names.tolist())):
        mask = names == name
        count = int(np.count_nonzero(mask))
        out[name] = {"accuracy": int(np.count_nonzero(correct & mask)) / count, "n": count}
    return out


def calibration_bins(y_true: npt.ArrayLike, prob: npt.ArrayLike, bins: int = 10) -> list[CalibrationBin]:
    """The non-empty bins of a reliability plot, lowest first; empty bins are left out."""
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    y, p = _validate(y_true, prob)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ids = np.searchsorted(edges[1:-1], p)
    sums = np.bincount(ids, weights=p, minlength=bins)
    positives = np.bincount(ids, weights=y, minlength=bins)
    counts = np.bincount(ids, minlength=bins)
    return [
        CalibrationBin(lower=i / bins, upper=(i + 1) / bins, mean_prob=float(sums[i] / counts[i]),
                       frac_pos=float(positives[i] / counts[i]), count=int(counts[i]))
        for i in range(bins)
        if counts[i]
    ]


def _ece(cal: list[CalibrationBin], n: int) -> float:
    return float(sum(b.count * abs(b.mean_prob - b.frac_pos) for b in cal) / n)


def _roc_auc(y: npt.NDArray[np.int64], p: npt.NDArray[np.float64]) -> float:
    """Mann-Whitney U with average ranks for ties: the same number as the trapezoid under the ROC curve."""
    n_pos = int(np.count_nonzero(y))
    n_neg = int(y.size) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    _, inverse, counts = np.unique(p, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    ranks = (ends - (counts - 1) / 2.0)[inverse]  # 1-based average rank of each sample
    u = float(ranks[y == 1].sum()) - n_pos * (n_pos + 1) / 2.0
    return u / (n_pos * n_neg)


def _predict(p: npt.NDArray[np.float64], threshold: float) -> npt.NDArray[np.bool_]:
    if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.number):
        raise ValueError(f"threshold must be a number, got {threshold!r}")
    if not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"threshold must be within [0, 1], got {threshold!r}")
    return p >= float(threshold)


def _validate(y_true: npt.ArrayLike, prob: npt.ArrayLike) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Check shapes and values; return labels as int64 and probabilities as float64."""
    y = np.asarray(y_true)
    p = np.asarray(prob)
    if y.ndim != 1 or p.ndim != 1:
        raise ValueError(f"y_true and prob must be 1-D, got shapes {y.shape} and {p.shape}")
    if y.size != p.size:
        raise ValueError(f"y_true and prob differ in length: {y.size} vs {p.size}")
    if y.size == 0:
        raise ValueError("y_true and prob are empty")
    if y.dtype.kind not in "biuf":
        raise ValueError(f"y_true must hold only 0 and 1, got dtype {y.dtype}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"y_true must hold only 0 and 1, got values {np.unique(y)[:10].tolist()}")
    if p.dtype.kind not in "biuf":
        raise ValueError(f"prob must be numeric, got dtype {p.dtype}")
    p = p.astype(np.float64)
    bad = ~((p >= 0.0) & (p <= 1.0))  # also catches nan
    if bad.any():
        raise ValueError(f"prob must be within [0, 1]; {int(bad.sum())} value(s) are not, e.g. {p[bad][0]!r}")
    return y.astype(np.int64), p


def _plain(value: float) -> float | None:
    v = float(value)
    return None if math.isnan(v) else v
