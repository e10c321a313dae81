"""``train@<variant>``: fit one variant on train, keep its best epoch by val accuracy, log with dvclive."""

from __future__ import annotations

import json
import logging
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from dvclive import Live

from carid.atomic import write_texts
from carid.params import TrainParams, VariantParams
from splitting.records import read_photos
from training.data import Arrays, labels, load_arrays, load_split
from training.models import build, lite0_transfer, unfreeze_top_blocks, with_augmentation

log = logging.getLogger(__name__)

MODEL_FILE = "model.keras"


@dataclass(frozen=True)
class TrainResult:
    variant: str
    best_epoch: int  # 1-based
    best_val_accuracy: float
    epochs: int
    seconds_per_epoch: float
    images_per_second: float
    parameters: int
    feature_seconds: float = 0.0  # transfer: computing (or loading) the frozen backbone's features


class LiveLogger(keras.callbacks.Callback):
    """Per-epoch metrics and epoch times into dvclive."""

    def __init__(self, live: Live) -> None:
        super().__init__()
        self.live = live
        self.times: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.times.append(time.perf_counter() - self._start)
        for name, value in sorted((logs or {}).items()):
            self.live.log_metric(name, float(value))
        self.live.next_step()


def _compile(model: keras.Model, learning_rate: float) -> None:
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate), loss="binary_crossentropy",
                  metrics=["accuracy"])


class BestWeights(keras.callbacks.Callback):
    """Keeps the weights of the epoch with the highest val accuracy (the first of equals), in memory."""

    def __init__(self) -> None:
        super().__init__()
        self.best = -np.inf
        self.weights: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        acc = float((logs or {}).get("val_accuracy", -np.inf))
        if acc > self.best:
            self.best, self.weights = acc, self.model.get_weights()


def _unfreeze_top(backbone: keras.Model, layers: int = 30) -> None:
    backbone.trainable = True
    for layer in backbone.layers[:-layers]:
        layer.trainable = False
    for layer in backbone.layers:  # batch-norm statistics stay as ImageNet left them
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False


def train_variant(name: str, t: TrainParams, split_dir: Path, root: Path, out: Path,
                  progress: bool = False, validation_every: int = 1) -> TrainResult:
    """Train ``name`` from params, write ``out/model.keras`` (best epoch) and ``out/live/`` (dvclive).

    ``validation_every``: score val after every n-th epoch only (the best epoch is then the best of those). The
    study trains a small share of train for more epochs and keeps val's cost that of the full run this way; the
    transfer head, trained on cached features in seconds, always scores every epoch."""
    v: VariantParams = t.variants[name]
    keras.utils.set_random_seed(t.seed)
    if v.model == "transfer" and v.backbone == "efficientnet-lite0":
        return _train_lite0(name, t, split_dir, root, out, progress)
    size = t.size_of(name)
    train = load_split(split_dir / "train.csv", root, size, progress=progress)
    val = load_split(split_dir / "val.csv", root, size, progress=progress)
    model, backbone = build(v, t, size, t.size_key(name))
    _compile(model, v.learning_rate)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = keras.callbacks.ModelCheckpoint(str(out / MODEL_FILE), monitor="val_accuracy", mode="max",
                                                 save_best_only=True)
    with Live(dir=str(out / "live"), save_dvc_exp=False, dvcyaml=None, report=None) as live:
        logger = LiveLogger(live)
        fit = {"batch_size": t.batch_size, "validation_data": (val.x, val.y), "shuffle": True,
               "callbacks": [logger, checkpoint], "verbose": 2 if progress else 0,
               "validation_freq": max(1, validation_every)}
        with warnings.catch_warnings():  # epochs without val: the checkpoint skips them, as it should
            warnings.filterwarnings("ignore", message="Can save best model only", category=UserWarning)
            history = model.fit(train.x, train.y, epochs=v.epochs, **fit).history
        if backbone is not None and v.fine_tune_epochs:
            _unfreeze_top(backbone)
            _compile(model, v.learning_rate / 10)
            more = model.fit(train.x, train.y, epochs=v.epochs + v.fine_tune_epochs, initial_epoch=v.epochs,
                             **fit).history
            history = {k: history[k] + more.get(k, []) for k in history}
        result, best, accs = _result(name, history, logger.times, len(train.x), int(model.count_params()),
                                     validation_every=max(1, validation_every))
        live.summary = {**asdict(result), "final": {k: float(vals[-1]) for k, vals in history.items()}}
    write_texts(out, {"train.json": json.dumps(asdict(result), indent=2) + "\n"})
    log.info("train %s: best epoch %d, val accuracy %.4f, %.1f s/epoch", name, result.best_epoch, accs[best],
             result.seconds_per_epoch)
    return result


def _result(name: str, history: dict[str, list[float]], times: list[float], n_train: int, parameters: int,
            feature_seconds: float = 0.0, validation_every: int = 1) -> tuple[TrainResult, int, list[float]]:
    """The run's summary; ``best`` indexes ``accs``, val's scores (one per ``validation_every`` epochs)."""
    accs = [float(a) for a in history["val_accuracy"]]
    best = max(range(len(accs)), key=lambda i: (accs[i], -i))
    seconds = sum(times) / len(times)
    return (TrainResult(name, (best + 1) * validation_every, accs[best], len(history["loss"]), round(seconds, 3),
                        round(n_train / seconds, 1), parameters, round(feature_seconds, 1)), best, accs)


def _train_lite0(name: str, t: TrainParams, split_dir: Path, root: Path, out: Path, progress: bool) -> TrainResult:
    """EfficientNet-Lite0 transfer in two stages. One: the backbone frozen, its pooled features computed once per
    photo (training.features, cached by content), and only the head trained on them, in seconds on a CPU. Two
    (``fine_tune_epochs``): the top ``fine_tune_blocks`` blocks unfrozen and trained on the photos, augmented when
    asked, at a tenth of the learning rate. The best epoch of both stages by val accuracy is kept."""
    from training.features import embeddings

    v = t.variants[name]
    size = t.size_of(name)
    tl = lite0_transfer(size, t.transfer_weights, t.size_key(name))  # fails early on a bad size or missing weights
    photos = {s: read_photos(split_dir / f"{s}.csv") for s in ("train", "val")}
    images: dict[str, Arrays] = {}
    if v.fine_tune_epochs:
        images = {s: load_arrays(p, root, size, progress=progress) for s, p in photos.items()}
    start = time.perf_counter()
    feats = {s: embeddings(p, root, size, t.transfer_weights, arrays=images[s].x if images else None,
                           progress=progress) for s, p in photos.items()}
    feature_seconds = time.perf_counter() - start
    y = {s: labels(p) for s, p in photos.items()}
    model = with_augmentation(tl.model, t.augment, t.seed) if v.augment else tl.model
    out.mkdir(parents=True, exist_ok=True)
    verbose = 2 if progress else 0
    with Live(dir=str(out / "live"), save_dvc_exp=False, dvcyaml=None, report=None) as live:
        logger, best = LiveLogger(live), BestWeights()
        _compile(tl.head, v.learning_rate)
        history = tl.head.fit(feats["train"], y["train"], batch_size=t.batch_size, epochs=v.epochs, shuffle=True,
                              validation_data=(feats["val"], y["val"]), callbacks=[logger, best],
                              verbose=verbose).history
        if best.weights is not None:
            tl.head.set_weights(best.weights)
        model.save(out / MODEL_FILE)
        if v.fine_tune_epochs:
            unfreeze_top_blocks(tl.backbone, v.fine_tune_blocks)
            _compile(model, v.learning_rate / 10)
            checkpoint = keras.callbacks.ModelCheckpoint(str(out / MODEL_FILE), monitor="val_accuracy", mode="max",
                                                         save_best_only=True, initial_value_threshold=best.best)
            more = model.fit(images["train"].x, images["train"].y, batch_size=t.batch_size,
                             epochs=v.epochs + v.fine_tune_epochs, initial_epoch=v.epochs, shuffle=True,
                             validation_data=(images["val"].x, images["val"].y), callbacks=[logger, checkpoint],
                             verbose=verbose).history
            history = {k: history[k] + more.get(k, []) for k in history}
        result, best_i, accs = _result(name, history, logger.times, len(photos["train"]), int(model.count_params()),
                                       feature_seconds)
        live.summary = {**asdict(result), "final": {k: float(vals[-1]) for k, vals in history.items()}}
    write_texts(out, {"train.json": json.dumps(asdict(result), indent=2) + "\n"})
    log.info("train %s: best epoch %d, val accuracy %.4f (features %.1f s, %d head epochs, %d fine-tune epochs)",
             name, best_i + 1, accs[best_i], feature_seconds, v.epochs, v.fine_tune_epochs)
    return result
