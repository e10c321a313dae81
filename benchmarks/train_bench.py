"""Training throughput side by side, in one run: no augmentation, carid's fused augmentation, Keras layers.

    python benchmarks/train_bench.py [--size 150] [--images 640] [--epochs 5] [--batch 32]
    python benchmarks/train_bench.py --only-features [--feature-sizes 128,224] [--feature-images 256]

Each setting trains the study CNN on the same random uint8 images from memory (what the
uint8 cache feeds); the first epoch (compilation) is not timed. Prints images/s per setting
and the ratios to the unaugmented rate: carid's target is >= 0.5 on a GPU (JAX) and >= 0.9 on
a 2-core CPU; the chain of Keras preprocessing layers is the reference.

Then the transfer variant's feature extraction: photos/s through the frozen EfficientNet-Lite0
backbone with its ImageNet weights (pooled features, as ``training.features.embeddings``
computes them once per photo; decoding the JPEGs is not included), median of 3 timed passes.
"""

from __future__ import annotations

import argparse
import os
import time

import keras
import numpy as np

from carid.params import AugmentStrengths
from training.models import study_cnn, with_augmentation

STRENGTHS = AugmentStrengths(flip=True, rotation=15.0, zoom=0.15, shift=0.1, brightness=0.1, contrast=0.15)


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


def interleaved_rates(models: dict[str, keras.Model], x: np.ndarray, y: np.ndarray, rounds: int,
                      batch: int) -> dict[str, float]:
    """One untimed epoch per model (compilation), then ``rounds`` rounds of one timed epoch per model in turn, so
    a slow spell of the machine hits every setting alike; the median epoch per setting."""
    times: dict[str, list[float]] = {name: [] for name in models}
    for model in models.values():
        model.compile(optimizer=keras.optimizers.RMSprop(1e-4), loss="binary_crossentropy")
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    for _ in range(rounds):
        for name, model in models.items():
            start = time.perf_counter()
            model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
            times[name].append(time.perf_counter() - start)
    return {name: len(x) / float(np.median(t)) for name, t in times.items()}


def feature_rates(sizes: list[int], images: int, batch: int, rounds: int = 3) -> dict[int, float]:
    """Photos/s of the frozen, pre-trained EfficientNet-Lite0 backbone at each input size (one untimed pass)."""
    from training.efficientnet import pretrained

    rng = np.random.default_rng(0)
    rates: dict[int, float] = {}
    for size in sizes:
        model = pretrained(size, include_top=False)
        x = rng.integers(0, 256, (images, size, size, 3), dtype=np.uint8)
        model.predict(x[:batch], batch_size=batch, verbose=0)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            model.predict(x, batch_size=batch, verbose=0)
            times.append(time.perf_counter() - start)
        rates[size] = images / float(np.median(times))
    return rates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=150)
    ap.add_argument("--images", type=int, default=640)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--feature-sizes", default="128,224", help="input sizes for the feature extraction rate")
    ap.add_argument("--feature-images", type=int, default=256)
    ap.add_argument("--only-features", action="store_true", help="skip the training comparison")
    args = ap.parse_args()
    if not args.only_features:
        train_rates(args)
    sizes = [int(s) for s in args.feature_sizes.split(",") if s]
    print(f"feature extraction: EfficientNet-Lite0 ImageNet backbone, frozen, pooled 1280 features, "
          f"{args.feature_images} images, batch {args.batch}, {os.cpu_count()} cores, "
          f"backend {keras.backend.backend()}")
    for size, rate in feature_rates(sizes, args.feature_images, args.batch).items():
        print(f"features {size}x{size}{'':14s} {rate:9.1f} photos/s")


def train_rates(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (args.images, args.size, args.size, 3), dtype=np.uint8)
    y = rng.integers(0, 2, args.images).astype("float32")
    keras.utils.set_random_seed(0)
    models = {
        "no augmentation": study_cnn(args.size),
        "carid fused augmentation": with_augmentation(study_cnn(args.size), STRENGTHS, seed=0),
        "keras preprocessing layers": keras_layers_model(args.size),
    }
    print(f"backend {keras.backend.backend()}, devices {keras.distribution.list_devices()}, {args.images} images "
          f"{args.size}x{args.size}, batch {args.batch}, median of {args.epochs} interleaved timed epochs")
    rates = interleaved_rates(models, x, y, args.epochs, args.batch)
    base = rates["no augmentation"]
    for name, r in rates.items():
        print(f"{name:28s} {r:9.1f} images/s   ratio to no augmentation {r / base:.3f}")


if __name__ == "__main__":
    main()
