"""``train@<variant>``: fit one variant on train, keep its best epoch by val accuracy, log with dvclive."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import keras
from dvclive import Live

from carid.atomic import write_texts
from carid.params import TrainParams, VariantParams
from training.data import load_split
from training.models import build

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


def _unfreeze_top(backbone: keras.Model, layers: int = 30) -> None:
    backbone.trainable = True
    for layer in backbone.layers[:-layers]:
        layer.trainable = False
    for layer in backbone.layers:  # batch-norm statistics stay as ImageNet left them
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False


def train_variant(name: str, t: TrainParams, split_dir: Path, root: Path, out: Path,
                  progress: bool = False) -> TrainResult:
    """Train ``name`` from params, write ``out/model.keras`` (best epoch) and ``out/live/`` (dvclive)."""
    v: VariantParams = t.variants[name]
    keras.utils.set_random_seed(t.seed)
    train = load_split(split_dir / "train.csv", root, t.image_size, progress=progress)
    val = load_split(split_dir / "val.csv", root, t.image_size, progress=progress)
    model, backbone = build(v, t)
    _compile(model, v.learning_rate)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = keras.callbacks.ModelCheckpoint(str(out / MODEL_FILE), monitor="val_accuracy", mode="max",
                                                 save_best_only=True)
    with Live(dir=str(out / "live"), save_dvc_exp=False, dvcyaml=None, report=None) as live:
        logger = LiveLogger(live)
        fit = {"batch_size": t.batch_size, "validation_data": (val.x, val.y), "shuffle": True,
               "callbacks": [logger, checkpoint], "verbose": 2 if progress else 0}
        history = model.fit(train.x, train.y, epochs=v.epochs, **fit).history
        if backbone is not None and v.fine_tune_epochs:
            _unfreeze_top(backbone)
            _compile(model, v.learning_rate / 10)
            more = model.fit(train.x, train.y, epochs=v.epochs + v.fine_tune_epochs, initial_epoch=v.epochs,
                             **fit).history
            history = {k: history[k] + more.get(k, []) for k in history}
        accs = [float(a) for a in history["val_accuracy"]]
        best = max(range(len(accs)), key=lambda i: (accs[i], -i))
        seconds = sum(logger.times) / len(logger.times)
        result = TrainResult(name, best + 1, accs[best], len(accs), round(seconds, 3),
                             round(len(train.x) / seconds, 1), int(model.count_params()))
        live.summary = {**asdict(result), "final": {k: float(vals[-1]) for k, vals in history.items()}}
    write_texts(out, {"train.json": json.dumps(asdict(result), indent=2) + "\n"})
    log.info("train %s: best epoch %d, val accuracy %.4f, %.1f s/epoch", name, best + 1, accs[best], seconds)
    return result
