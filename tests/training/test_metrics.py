"""The evaluation report's binary metrics (scikit-learn underneath): exact small examples, edge cases, the JSON
record."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from training.metrics import BinaryScores, CalibrationBin, accuracy_by_group, calibration_bins, score

pytestmark = pytest.mark.filterwarnings("error")  # no RuntimeWarning from a division by zero anywhere

# Six photos: at threshold 0.5 the predictions are 0 0 1 | 0 1 1, so tn=2 fp=1 fn=1 tp=2.
Y6 = np.array([0, 0, 0, 1, 1, 1])
P6 = np.array([0.15, 0.45, 0.65, 0.35, 0.85, 0.95])


def test_hand_computed_six_samples() -> None:
    s = score(Y6, P6)
    assert s.confusion == ((2, 1), (1, 2))
    assert s.n == 6
    assert s.accuracy == pytest.approx(4 / 6)
    assert s.precision == pytest.approx(2 / 3)
    assert s.recall == pytest.approx(2 / 3)
    assert s.f1 == pytest.approx(2 / 3)
    # positive 0.35 beats only the negative 0.15; 0.85 and 0.95 beat all three negatives: 7 of 9 pairs.
    assert s.roc_auc == pytest.approx(7 / 9)
    # one photo per bin: |0.15-0| + |0.45-0| + |0.65-0| + |0.35-1| + |0.85-1| + |0.95-1| = 2.1, over 6 photos.
    assert s.ece == pytest.approx(2.1 / 6)


def test_threshold_moves_predictions() -> None:
    s = score(Y6, P6, threshold=0.3)  # predictions 0 1 1 | 1 1 1
    assert s.confusion == ((1, 2), (0, 3))
    assert s.precision == pytest.approx(3 / 5)
    assert s.recall == 1.0
    assert score(Y6, np.array([0.1, 0.2, 0.3, 0.5, 0.6, 0.7])).accuracy == 1.0  # prob == threshold is positive


def test_roc_auc_ties_count_half() -> None:
    # positive 0.5 ties negative 0.5 (half a pair) and beats 0.2; positive 0.8 beats both: 3.5 of 4 pairs.
    assert score(np.array([0, 1, 0, 1]), np.array([0.5, 0.5, 0.2, 0.8])).roc_auc == pytest.approx(0.875)
    assert score(np.array([0, 1, 0, 1]), np.full(4, 0.3)).roc_auc == pytest.approx(0.5)


def test_ece_zero_when_calibrated_by_construction() -> None:
    y = np.array([1, 0, 0, 0, 1, 1, 1, 0, 1, 0])
    p = np.array([0.25] * 4 + [0.75] * 4 + [0.5] * 2)  # 1 of 4, 3 of 4, 1 of 2 positive
    assert score(y, p).ece == pytest.approx(0.0, abs=1e-12)
    cal = calibration_bins(y, p)
    assert [(b.lower, b.upper, b.count) for b in cal] == [(0.2, 0.3, 4), (0.4, 0.5, 2), (0.7, 0.8, 4)]
    assert [b.frac_pos for b in cal] == [0.25, 0.5, 0.75]


def test_ece_known_case() -> None:
    # bin (0.1,0.2]: mean 0.2, half positive -> 2/4 * 0.3; bin (0.6,0.7]: 1/4 * 0.3; bin (0.8,0.9]: 1/4 * 0.1
    y = np.array([0, 1, 1, 1])
    p = np.array([0.2, 0.2, 0.7, 0.9])
    assert score(y, p).ece == pytest.approx(0.15 + 0.075 + 0.025)


def test_calibration_bins_are_right_closed() -> None:
    cal = calibration_bins(np.array([0, 1, 1, 0, 1]), np.array([0.0, 0.3, 0.5, 0.5000001, 1.0]))
    assert [(b.lower, b.upper, b.count) for b in cal] == [(0.0, 0.1, 1), (0.2, 0.3, 1), (0.4, 0.5, 1),
                                                          (0.5, 0.6, 1), (0.9, 1.0, 1)]
    (half,) = calibration_bins(np.array([0, 1]), np.array([0.3, 0.35]), bins=2)
    assert half == CalibrationBin(lower=0.0, upper=0.5, mean_prob=half.mean_prob, frac_pos=0.5, count=2)
    assert half.mean_prob == pytest.approx(0.325)
    assert json.dumps([b.to_dict() for b in cal])


def test_no_positive_predictions_and_no_positives() -> None:
    s = score(np.array([0, 1, 1]), np.array([0.1, 0.2, 0.3]))
    assert (s.precision, s.recall, s.f1) == (0.0, 0.0, 0.0)
    s = score(np.array([0, 0, 0]), np.array([0.1, 0.7, 0.9]))
    assert (s.precision, s.recall, s.f1) == (0.0, 0.0, 0.0)
    assert math.isnan(s.roc_auc)


def test_one_class_auc_is_nan_and_json_null() -> None:
    s = score(np.array([1, 1]), np.array([0.9, 0.4]))
    assert math.isnan(s.roc_auc)
    d = s.to_dict()
    assert d["roc_auc"] is None
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text)["confusion"] == [[0, 0], [1, 1]]
    assert all(type(v) in (float, int, list) for k, v in d.items() if k != "roc_auc")


def test_to_dict_plain_types() -> None:
    d = score(Y6.astype(bool), P6.astype(np.float32)).to_dict()
    assert type(d["n"]) is int and type(d["accuracy"]) is float and type(d["roc_auc"]) is float
    assert set(d) == {"accuracy", "precision", "recall", "f1", "roc_auc", "ece", "confusion", "n"}
    assert isinstance(score(Y6, P6), BinaryScores)


def test_accuracy_by_group() -> None:
    groups = ["pune", "delhi", "pune", "delhi", "mumbai", "pune"]
    out = accuracy_by_group(Y6, P6, groups)
    assert list(out) == ["delhi", "mumbai", "pune"]
    # correct: 1 1 0 | 0 1 1
    assert out == {"delhi": {"accuracy": 0.5, "n": 2}, "mumbai": {"accuracy": 1.0, "n": 1},
                   "pune": {"accuracy": pytest.approx(2 / 3), "n": 3}}
    assert accuracy_by_group(Y6, P6, ["a"] * 6, threshold=0.0) == {"a": {"accuracy": 0.5, "n": 6}}
    with pytest.raises(ValueError, match="groups"):
        accuracy_by_group(Y6, P6, ["a"] * 5)


@pytest.mark.parametrize(
    ("y", "p", "match"),
    [
        ([0, 1], [0.5], "length"),
        ([], [], "empty"),
        ([[0, 1]], [[0.5, 0.5]], "1-D"),
        ([0, 2], [0.5, 0.5], "only 0 and 1"),
        ([0, 0.5], [0.5, 0.5], "only 0 and 1"),
        (["a", "b"], [0.5, 0.5], "only 0 and 1"),
        ([0, 1], [0.5, 1.5], r"within \[0, 1\]"),
        ([0, 1], [-0.1, 0.5], r"within \[0, 1\]"),
        ([0, 1], [float("nan"), 0.5], r"within \[0, 1\]"),
        ([0, 1], ["x", "y"], "numeric"),
    ],
)
def test_invalid_inputs(y: list[object], p: list[object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        score(np.array(y), np.array(p))
    with pytest.raises(ValueError, match=match):
        calibration_bins(np.array(y), np.array(p))


@pytest.mark.parametrize("threshold", [-0.1, 1.1, float("nan"), "0.5"])
def test_invalid_threshold(threshold: object) -> None:
    with pytest.raises(ValueError, match="threshold"):
        score(Y6, P6, threshold=threshold)  # type: ignore[arg-type]


@pytest.mark.parametrize("bins", [0, -1, 2.5, True])
def test_invalid_bins(bins: object) -> None:
    with pytest.raises(ValueError, match="bins"):
        calibration_bins(Y6, P6, bins=bins)  # type: ignore[arg-type]
