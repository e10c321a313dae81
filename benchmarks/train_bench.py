"""Training throughput side by side, in one run: no augmentation, carid's fused augmentation, Keras layers.

    python benchmarks/train_bench.py [--size 150] [--images 640] [--epochs 3] [--batch 32]

Each setting trains the study CNN on the same random uint8 images from memory (what the
uint8 cache feeds); the first epoch (compilation) is not timed. Prints images/s per setting
and the ratios to the unaugmented rate: carid's target is >= 0.5 on a GPU (JAX) and >= 0.9 on
a 2-core CPU; the chain of Keras preprocessing layers is the reference.
"""

from __future__ import annotations

import argparse
import time

import keras
import numpy as np

from carid.params import AugmentStrengths
from training.models import study_cnn, with_augmentation

STRENGTHS = AugmentStrengths(flip=True, rotation=15.0, zoom=0.15, shift=0.1, brightness=0.1, contrast=0.15)


class EpochTimer(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []
        self._t = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._t = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.times.append(time.perf_counter() - self._t)


def keras_layers_model(size: int) -> keras.Model:
    s = STRENGTHS
    inputs = keras.Input((size, size, 3))
    x = keras.layers.RandomFlip("horizontal")(inputs)
    x = keras.layers.RandomRotation(s.rotation / 360)(x)
    x = keras.layers.RandomZoom(s.zoom)(x)
    x = keras.layers.RandomTranslation(s.shift, s.shift)(x)
    x = keras.layers.RandomBrightness(s.brightness, value_range=(0, 255))(x)
    x = keras.layers.RandomContrast(s.contrast, value_range=(0, 255))(x)
    return keras.Model(inputs, study_cnn(size)(x))


def rate(model: keras.Model, x: np.ndarray, y: np.ndarray, epochs: int, batch: int) -> float:
    model.compile(optimizer=keras.optimizers.RMSprop(1e-4), loss="binary_crossentropy")
    timer = EpochTimer()
    model.fit(x, y, batch_size=batch, epochs=epochs + 1, verbose=0, callbacks=[timer])
    return len(x) / float(np.median(timer.times[1:]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=150)
    ap.add_argument("--images", type=int, default=640)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (args.images, args.size, args.size, 3), dtype=np.uint8)
    y = rng.integers(0, 2, args.images).astype("float32")
    keras.utils.set_random_seed(0)
    settings = {
        "no augmentation": lambda: study_cnn(args.size),
        "carid fused augmentation": lambda: with_augmentation(study_cnn(args.size), STRENGTHS, seed=0),
        "keras preprocessing layers": lambda: keras_layers_model(args.size),
    }
    print(f"backend {keras.backend.backend()}, devices {keras.distribution.list_devices()}, {args.images} images "
          f"{args.size}x{args.size}, batch {args.batch}, median of {args.epochs} timed epochs")
    rates = {name: rate(build(), x, y, args.epochs, args.batch) for name, build in settings.items()}
    base = rates["no augmentation"]
    for name, r in rates.items():
        print(f"{name:28s} {r:9.1f} images/s   ratio to no augmentation {r / base:.3f}")


if __name__ == "__main__":
    main()
