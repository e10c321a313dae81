"""Evaluate binary predictions: accuracy, precision, recall, F1, ROC AUC, calibration, from ``sklearn.metrics``.

scikit-learn is a runtime dependency (the curation audit uses it too), so every number here is scikit-learn's;
this module only checks the inputs, applies the threshold and turns the results into plain records.

Conventions: class 1 is the positive class, ``prob`` is P(class 1), and a photo is predicted positive when
``prob >= threshold``. Calibration bins are scikit-learn's ``calibration_curve(strategy="uniform")`` bins:
equal-width and right-closed, ``[0, 0.1], (0.1, 0.2], ... (0.9, 1]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.calibration import calibration_curve
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_score, recall_score, roc_auc_score

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
    pred = _predict(p, threshold).astype(np.int64)
    (tn, fp), (fn, tp) = confusion_matrix(y, pred, labels=[0, 1]).tolist()
    return BinaryScores(
        accuracy=float(accuracy_score(y, pred)),
        precision=float(precision_score(y, pred, labels=[0, 1], zero_division=0)),
        recall=float(recall_score(y, pred, labels=[0, 1], zero_division=0)),
        f1=float(f1_score(y, pred, labels=[0, 1], zero_division=0)),
        roc_auc=float(roc_auc_score(y, p)) if 0 < int(y.sum()) < y.size else math.nan,
        ece=_ece(calibration_bins(y, p, bins=ECE_BINS), int(y.size)),
        confusion=((int(tn), int(fp)), (int(fn), int(tp))),
        n=int(y.size),
    )


def accuracy_by_group(
    y_true: npt.ArrayLike, prob: npt.ArrayLike, groups: Sequence[str], threshold: float = 0.5
) -> dict[str, dict[str, float | int]]:
    """Accuracy and sample count per group (e.g. region), sorted by group name."""
    y, p = _validate(y_true, prob)
    if len(groups) != y.size:
        raise ValueError(f"groups has {len(groups)} entries but y_true has {y.size}")
    pred = _predict(p, threshold).astype(np.int64)
    names = np.asarray([str(g) for g in groups], dtype=object)
    out: dict[str, dict[str, float | int]] = {}
    for name in sorted(set(names.tolist())):
        mask = names == name
        out[name] = {"accuracy": float(accuracy_score(y[mask], pred[mask])), "n": int(np.count_nonzero(mask))}
    return out


def calibration_bins(y_true: npt.ArrayLike, prob: npt.ArrayLike, bins: int = 10) -> list[CalibrationBin]:
    """The non-empty bins of a reliability plot, lowest first (scikit-learn's ``calibration_curve``); empty bins
    are left out. Each bin's count uses the same edges, for the weights of the expected calibration error."""
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    y, p = _validate(y_true, prob)
    frac, mean = calibration_curve(y, p, n_bins=bins, strategy="uniform", pos_label=1)
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], p), minlength=bins)
    present = np.flatnonzero(counts)
    return [CalibrationBin(lower=i / bins, upper=(i + 1) / bins, mean_prob=float(m), frac_pos=float(f),
                           count=int(counts[i])) for i, f, m in zip(present, frac, mean, strict=True)]


def _ece(cal: list[CalibrationBin], n: int) -> float:
    return float(sum(b.count * abs(b.mean_prob - b.frac_pos) for b in cal) / n)


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
