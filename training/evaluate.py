"""``evaluate@<variant>``: score the best epoch on test and the Hyderabad holdout; plots and a gallery."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from dvclive import Live
from sklearn.metrics import roc_curve

import training.augment  # noqa: F401  (registers FusedAugment for loading)
from carid.atomic import write_texts
from curation.decisions import CLASS_LABELS
from training.data import Arrays, load_split
from training.gallery import GalleryItem, write_misclassified_gallery
from training.metrics import accuracy_by_group, calibration_bins, score

log = logging.getLogger(__name__)

EVAL_SETS = ("test", "holdout")


@dataclass(frozen=True)
class Predictions:
    name: str
    arrays: Arrays
    prob: np.ndarray  # P(wagonr) per photo


def load_model(path: Path) -> keras.Model:
    if not path.is_file():
        raise FileNotFoundError(f"no model at {path}: run `carid train run` first")
    return keras.saving.load_model(path, compile=False)


def predict(model: keras.Model, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
    if len(x) == 0:
        return np.zeros(0, dtype=np.float32)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32).reshape(-1)


def scores_of(p: Predictions) -> dict[str, object]:
    y = p.arrays.y
    s: dict[str, object] = dict(score(y, p.prob).to_dict())
    s["accuracy_by_region"] = accuracy_by_group(y, p.prob, [ph.region for ph in p.arrays.photos])
    return s


def _plots(live: Live, p: Predictions) -> None:
    y = p.arrays.y.astype(int)
    pred = (p.prob >= 0.5).astype(int)
    live.log_plot(f"{p.name}/confusion", [{"actual": CLASS_LABELS[a], "predicted": CLASS_LABELS[b]}
                                          for a, b in zip(y, pred, strict=True)],
                  x="actual", y="predicted", template="confusion", title=f"{p.name}: confusion matrix")
    if 0 < int(y.sum()) < len(y):  # sklearn's curve, thresholds where the predictions change
        fpr, tpr, _ = roc_curve(y, p.prob, drop_intermediate=False)
        roc = [{"fpr": float(f), "tpr": float(t)} for f, t in zip(fpr, tpr, strict=True)]
    else:  # one class: no curve to draw
        roc = [{"fpr": 0.0, "tpr": 0.0}, {"fpr": 1.0, "tpr": 1.0}]
    live.log_plot(f"{p.name}/roc", roc, x="fpr", y="tpr", template="simple", title=f"{p.name}: ROC")
    live.log_plot(f"{p.name}/calibration", [b.to_dict() for b in calibration_bins(y, p.prob)], x="mean_prob",
                  y="frac_pos", template="linear", title=f"{p.name}: reliability")


def _gallery(out: Path, root: Path, p: Predictions) -> int:
    items = []
    for photo, truth, prob in zip(p.arrays.photos, p.arrays.y, p.prob, strict=True):
        predicted = int(prob >= 0.5)
        if predicted != int(truth):
            items.append(GalleryItem(root / photo.path, photo.label, CLASS_LABELS[predicted],
                                     float(prob if predicted else 1 - prob), photo.region))
    return write_misclassified_gallery(out / f"misclassified-{p.name}.html", items,
                                       f"{out.name}: misclassified {p.name} photos")


def evaluate_variant(name: str, model_path: Path, split_dir: Path, root: Path, out: Path, size: int,
                     progress: bool = False) -> dict[str, object]:
    """Scores on test and holdout into ``out/live/metrics.json``, plots under ``out/live/plots``, and galleries."""
    model = load_model(model_path)
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {}
    with Live(dir=str(out / "live"), save_dvc_exp=False, dvcyaml=None, report=None) as live:
        for set_name in EVAL_SETS:
            arrays = load_split(split_dir / f"{set_name}.csv", root, size, progress=progress)
            p = Predictions(set_name, arrays, predict(model, arrays.x))
            _gallery(out, root, p)  # always written: dvc.yaml declares it, even for an empty set
            if len(arrays.photos) == 0:
                log.warning("evaluate %s: %s.csv has no photos; no %s scores", name, set_name, set_name)
                continue
            results[set_name] = scores_of(p)
            _plots(live, p)
        live.summary = results
    write_texts(out, {"scores.json": json.dumps(results, indent=2, sort_keys=True) + "\n"})
    log.info("evaluate %s: %s", name, ", ".join(f"{k} accuracy {v['accuracy']:.4f}"  # type: ignore[index]
                                                 for k, v in results.items()))
    return results
