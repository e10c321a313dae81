"""The study's grid: learning curves, input scaling and backends, each point one real training run.

A point is (variant, share of train, seed, input scaling, backend). Every point trains through the pipeline's own
``train_variant`` on a train.csv cut down per class, with val.csv as is, and is scored on the whole test.csv, so a
point differs from the pipeline's model only where the study asks it to. Points are appended to
``data/study/runs-<backend>.csv`` as they finish, so a killed grid resumes where it stopped; a finished run rewrites
the file with the current grid's points only.

The grid is pure (``grid``); running a point needs Keras, and the backend is chosen per process by
``KERAS_BACKEND``: ``run_backend`` starts one ``python -m training.study_worker`` per backend.
"""

from __future__ import annotations

import csv
import logging
import math
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
import typing
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, fields
from pathlib import Path

from carid.atomic import write_texts
from carid.params import Params, TrainParams
from carid.tables import records_csv
from splitting.records import Photo, csv_text, read_photos

log = logging.getLogger(__name__)

STUDY_DIR = Path("data/study")


@dataclass(frozen=True)
class Point:
    variant: str
    fraction: float
    seed: int
    scaling: str  # unit | symmetric (transfer: its backbone's own)
    backend: str

    @property
    def key(self) -> str:
        return f"{self.backend}/{self.variant}/{self.fraction:g}/{self.seed}/{self.scaling}"


@dataclass(frozen=True)
class Run:
    """One finished point, a row of runs-<backend>.csv."""

    backend: str
    variant: str
    fraction: float
    seed: int
    scaling: str
    n_train: int
    image_size: int
    epochs: int
    best_epoch: int
    val_accuracy: float
    test_accuracy: float
    train_accuracy: float  # at the best epoch, as logged while fitting
    seconds_per_epoch: float
    seconds: float
    train_curve: str = ""  # accuracy per epoch, ";"-joined (for the bias-variance plot)
    val_curve: str = ""

    @property
    def key(self) -> str:
        return Point(self.variant, self.fraction, self.seed, self.scaling, self.backend).key


COLUMNS = [f.name for f in fields(Run)]


def grid(p: Params) -> list[Point]:
    """Every point, in run order, without repeats: curves, then scaling, then the other backends. Raises
    ValueError naming the key when the study names a variant that train.variants lacks."""
    s = p.study
    for key in ("variants", "scaling_variants", "backend_variants"):
        unknown = [v for v in getattr(s, key) if v not in p.train.variants]
        if unknown:
            raise ValueError(f"study.{key}: {', '.join(unknown)} not under train.variants")
    first, unit = s.backends[0], p.train.input_scaling
    flipped = "symmetric" if unit == "unit" else "unit"
    points = [Point(v, f, seed, unit, first) for v in s.variants for f in s.fractions for seed in s.seeds]
    for v in s.scaling_variants:
        points += [Point(v, 1.0, seed, sc, first) for sc in (unit, flipped) for seed in s.seeds]
    for backend in s.backends[1:]:
        points += [Point(v, 1.0, seed, unit, backend) for v in s.backend_variants for seed in s.seeds]
    for backend in s.backends[:1]:  # the comparison needs the same variants on the first backend too
        points += [Point(v, 1.0, seed, unit, backend) for v in s.backend_variants for seed in s.seeds]
    return list(dict.fromkeys(points))


def subsample(photos: Sequence[Photo], fraction: float, seed: int) -> list[Photo]:
    """``fraction`` of each class (at least one photo), drawn with ``seed``; in the input's order."""
    if fraction >= 1:
        return list(photos)
    rng = random.Random(seed)
    keep: set[int] = set()
    for label in sorted({ph.label for ph in photos}):
        idx = [i for i, ph in enumerate(photos) if ph.label == label]
        keep.update(rng.sample(idx, max(1, round(len(idx) * fraction))))
    return [ph for i, ph in enumerate(photos) if i in keep]


def study_epochs(epochs: int, max_epochs: int, fraction: float) -> int:
    """Epochs of a point: the variant's, capped at ``max_epochs``; on a share of train, as many more as keep the
    number of weight updates of the full run (at most 4 times as many epochs), so a small share is not simply
    trained less."""
    base = min(epochs, max_epochs)
    return min(math.ceil(base / fraction - 1e-9), 4 * base)


def validation_every(epochs: int, max_epochs: int, fraction: float) -> int:
    """Score val after every n-th epoch of a point, so that a share of train trained for more epochs scores val as
    often as the full run does (val's 800 photos cost more than a 10% share's training epoch)."""
    base = min(epochs, max_epochs)
    return max(1, study_epochs(epochs, max_epochs, fraction) // base)


def point_params(t: TrainParams, p: Point, image_size: int, max_epochs: int) -> TrainParams:
    """The pipeline's train params with the point's changes (see the module docstring)."""
    v = t.variants[p.variant]
    v = v.model_copy(update={"epochs": study_epochs(v.epochs, max_epochs, p.fraction), "fine_tune_epochs": 0})
    scaling = p.scaling if v.model != "transfer" else t.input_scaling
    return t.model_copy(update={"variants": {p.variant: v}, "seed": p.seed, "input_scaling": scaling,
                                "image_size": image_size})


def read_runs(path: Path) -> list[Run]:
    """Rows of a runs CSV; a missing file is no runs. A row that does not parse is named and skipped."""
    if not path.is_file():
        return []
    casts = typing.get_type_hints(Run)
    runs = []
    with path.open(encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            try:
                runs.append(Run(**{k: casts[k](row[k]) for k in COLUMNS}))
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("%s:%d: skipped an unreadable row (%s)", path, n, exc)
    return runs


def _csv(runs: Iterable[Run], header: bool = True) -> str:
    return records_csv(runs, COLUMNS, header)


def train_point(p: Point, params: Params, split_dir: Path, root: Path) -> Run:
    """Train and score one point in this process (its Keras backend must be ``p.backend``)."""
    import keras

    from training.data import load_split
    from training.evaluate import load_model, predict
    from training.fitcurves import fit_of
    from training.train import MODEL_FILE, train_variant

    if keras.backend.backend() != p.backend:
        raise RuntimeError(f"point {p.key} needs the {p.backend} backend, this process runs {keras.backend.backend()}")
    t = point_params(params.train, p, params.study.image_size, params.study.max_epochs)
    size = t.size_of(p.variant)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="carid-study-") as tmp:
        split, out = Path(tmp) / "split", Path(tmp) / "model"
        split.mkdir()
        train = subsample(read_photos(split_dir / "train.csv"), p.fraction, p.seed)
        write_texts(split, {"train.csv": csv_text(train),
                            "val.csv": (split_dir / "val.csv").read_text(encoding="utf-8")})
        every = validation_every(params.train.variants[p.variant].epochs, params.study.max_epochs, p.fraction)
        result = train_variant(p.variant, t, split, root, out, validation_every=every)
        fit = fit_of(p.variant, out / "live")
        test = load_split(split_dir / "test.csv", root, size)
        prob = predict(load_model(out / MODEL_FILE), test.x)
    test_acc = float(((prob >= 0.5) == (test.y >= 0.5)).mean()) if len(test.y) else float("nan")
    return Run(p.backend, p.variant, p.fraction, p.seed, p.scaling, len(train), size, result.epochs,
               result.best_epoch, round(result.best_val_accuracy, 4), round(test_acc, 4),
               round(fit.train_accuracy, 4), result.seconds_per_epoch, round(time.perf_counter() - start, 1),
               ";".join(f"{a:.4f}" for a in fit.train_curve), ";".join(f"{a:.4f}" for a in fit.val_curve))


ONE_THREAD = {"OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
              "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}


def _one_thread() -> None:
    """In a fresh worker process, before Keras is imported: TensorFlow, JAX (XLA) and OpenMP on one thread."""
    os.environ.update(ONE_THREAD)


def _finished(points: Sequence[Point], params: Params, split_dir: Path, root: Path, jobs: int) -> Iterator[Run]:
    """Train ``points``; yields each Run as it finishes. With ``jobs`` > 1, that many single-threaded processes
    train at once: a small CNN on a 2-core CPU keeps two one-thread runs busier than one two-thread run."""
    if jobs <= 1:
        for p in points:
            yield train_point(p, params, split_dir, root)
        return
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: Keras reads KERAS_BACKEND and threads anew
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_one_thread) as pool:
        futures = [pool.submit(train_point, p, params, split_dir, root) for p in points]
        try:
            for done in as_completed(futures):
                yield done.result()
        finally:
            for f in futures:
                f.cancel()


def run_points(points: Sequence[Point], params: Params, split_dir: Path, root: Path, runs_csv: Path,
               jobs: int = 1) -> list[Run]:
    """Train the points not yet in ``runs_csv``, appending each as it finishes; then keep only ``points``' rows."""
    wanted = {p.key for p in points}
    done = {r.key: r for r in read_runs(runs_csv) if r.key in wanted}
    todo = [p for p in points if p.key not in done]
    log.info("study %s: %d points, %d done earlier, %d to train", runs_csv.name, len(points), len(done), len(todo))
    runs_csv.parent.mkdir(parents=True, exist_ok=True)
    if not runs_csv.is_file() or runs_csv.stat().st_size == 0:
        runs_csv.write_text(_csv([]), encoding="utf-8")
    for n, r in enumerate(_finished(todo, params, split_dir, root, jobs), start=1):
        with runs_csv.open("a", encoding="utf-8", newline="") as fh:  # a killed grid keeps what it finished
            fh.write(_csv([r], header=False))
            fh.flush()
            os.fsync(fh.fileno())
        done[r.key] = r
        log.info("study %d/%d %s: val %.3f, test %.3f, %.0f s", n, len(todo), r.key, r.val_accuracy,
                 r.test_accuracy, r.seconds)
    runs = [done[p.key] for p in points]
    write_texts(runs_csv.parent, {runs_csv.name: _csv(runs)})
    return runs


def run_backend(backend: str, params_file: Path, out: Path = STUDY_DIR) -> Path:
    """Run this backend's points in a fresh process with ``KERAS_BACKEND=backend``; returns its runs CSV."""
    runs_csv = out / f"runs-{backend}.csv"
    env = {**os.environ, "KERAS_BACKEND": backend}
    cmd = [sys.executable, "-m", "training.study_worker", "--params", str(params_file), "--out", str(runs_csv)]
    subprocess.run(cmd, env=env, check=True)
    return runs_csv
