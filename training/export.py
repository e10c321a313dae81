"""``export``: the variant with the best val accuracy as ``.keras`` and ONNX, with ``metadata.json``.

The exported graph is the bare model: carid's augmentation layer (a no-op at inference) is
stripped, so the files load without carid installed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import keras

from carid.atomic import write_texts
from carid.params import TrainParams
from curation.decisions import CLASS_LABELS
from training.evaluate import load_model
from training.quiet import native_stderr_held, verbose_logging
from training.train import MODEL_FILE

log = logging.getLogger(__name__)


def best_variant(variants: list[str], models: Path) -> tuple[str, float]:
    """The variant with the highest best-epoch val accuracy (ties: the first listed)."""
    best: tuple[str, float] | None = None
    for v in variants:
        path = models / v / "train.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: train variant {v} first")
        acc = float(json.loads(path.read_text(encoding="utf-8"))["best_val_accuracy"])
        if best is None or acc > best[1]:
            best = (v, acc)
    if best is None:
        raise FileNotFoundError("no variants listed under train.variants")
    return best


def bare(model: keras.Model) -> keras.Model:
    """The model without carid's augmentation wrapper (identical at inference)."""
    if any(layer.name == "augment" for layer in model.layers):
        inner = model.layers[-1]
        assert isinstance(inner, keras.Model)
        return inner
    return model


def data_hash(split_dir: Path) -> str:
    h = hashlib.sha256()
    for name in ("train", "val", "test"):
        h.update((split_dir / f"{name}.csv").read_bytes())
    return h.hexdigest()


class ExportError(Exception):
    """The ONNX file cannot be written here; the message says what is missing."""


def export_onnx(model_file: Path, path: Path) -> None:
    """Keras' own ONNX export of a saved ``.keras`` model, through TensorFlow's tf2onnx; the batch dimension stays
    dynamic. Under another backend (JAX) the same file is exported by a TensorFlow-backend subprocess: Keras' JAX
    route needs jax2onnx, whose MaxPool nodes onnxruntime rejects."""
    tmp = path.with_name(f".{path.name}.part")
    if keras.backend.backend() == "tensorflow":
        model = keras.saving.load_model(model_file, compile=False)
        size = model.input_shape[1]
        spec = keras.InputSpec(shape=(None, size, size, 3), dtype="float32", name="image")
        with native_stderr_held(verbose_logging()):  # the graph optimiser's absl INFO lines (training/quiet.py)
            model.export(str(tmp), format="onnx", verbose=False, input_signature=[spec])
    elif importlib.util.find_spec("tensorflow") is None:
        raise ExportError(f"ONNX export needs TensorFlow (tf2onnx), which this machine lacks; {model_file} is "
                          f"written: export it on a machine with carid installed: carid train export")
    else:
        code = ("import sys; from pathlib import Path; from training.export import export_onnx; "
                "export_onnx(Path(sys.argv[1]), Path(sys.argv[2]))")
        env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
        proc = subprocess.run([sys.executable, "-c", code, str(model_file), str(path)], env=env,
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise ExportError(f"ONNX export of {model_file} failed: {proc.stderr.strip().splitlines()[-1:]}")
        return
    os.replace(tmp, path)


def export_best(variants: list[str], t: TrainParams, models: Path, evals: Path, split_dir: Path,
                out: Path) -> dict[str, object]:
    name, val_acc = best_variant(variants, models)
    model = bare(load_model(models / name / MODEL_FILE))
    scores_path = evals / name / "scores.json"
    scores = json.loads(scores_path.read_text(encoding="utf-8")) if scores_path.is_file() else {}
    out.mkdir(parents=True, exist_ok=True)
    tmp_keras = out / f".{MODEL_FILE}.part.keras"
    model.save(tmp_keras)
    os.replace(tmp_keras, out / MODEL_FILE)
    export_onnx(out / MODEL_FILE, out / "model.onnx")
    meta: dict[str, object] = {
        "variant": name,
        "classes": list(CLASS_LABELS),
        "output": f"P({CLASS_LABELS[1]}), one sigmoid unit",
        "input": {"size": int(model.input_shape[1]), "layout": "NHWC", "channels": "RGB", "dtype": "float32",
                  "values": "0-255 (the model rescales itself)",
                  "resize": "whole photo to size x size, bilinear, aspect not kept (Pillow)"},
        "source_data_sha256": data_hash(split_dir),
        "metrics": {"val_accuracy": val_acc, **{k: {m: v[m] for m in ("accuracy", "f1", "roc_auc")}
                                                for k, v in scores.items()}},
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
    }
    write_texts(out, {"metadata.json": json.dumps(meta, indent=2) + "\n"})
    log.info("exported %s (val accuracy %.4f) to %s", name, val_acc, out)
    return meta
