"""``export``: the variant with the best val accuracy as ``.keras`` and ONNX, with ``metadata.json``.

The exported graph is the bare model: carid's augmentation layer (a no-op at inference) is
stripped, so the files load without carid installed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import keras

from carid.params import TrainParams
from curation.decisions import CLASS_LABELS
from training.evaluate import load_model
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


def export_onnx(model: keras.Model, path: Path) -> None:
    """Keras' own ONNX export (tf2onnx under TensorFlow); the batch dimension stays dynamic."""
    tmp = path.with_name(f".{path.name}.part")
    size = model.input_shape[1]
    spec = keras.InputSpec(shape=(None, size, size, 3), dtype="float32", name="image")
    model.export(str(tmp), format="onnx", verbose=False, input_signature=[spec])
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
    export_onnx(model, out / "model.onnx")
    meta: dict[str, object] = {
        "variant": name,
        "classes": list(CLASS_LABELS),
        "output": f"P({CLASS_LABELS[1]}), one sigmoid unit",
        "input": {"size": t.image_size, "layout": "NHWC", "channels": "RGB", "dtype": "float32",
                  "values": "0-255 (the model rescales itself)",
                  "resize": "whole photo to size x size, bilinear, aspect not kept (Pillow)"},
        "source_data_sha256": data_hash(split_dir),
        "metrics": {"val_accuracy": val_acc, **{k: {m: v[m] for m in ("accuracy", "f1", "roc_auc")}
                                                for k, v in scores.items()}},
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
    }
    tmp = out / ".metadata.json.part"
    tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out / "metadata.json")
    log.info("exported %s (val accuracy %.4f) to %s", name, val_acc, out)
    return meta
