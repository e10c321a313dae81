"""The exported model as the service sees it: ``model.onnx`` run by onnxruntime, described by ``metadata.json``.

Only the export's file contract is read here (see ``carid train export``): the classes, the
input size and layout, and the metrics. Nothing of TensorFlow or of carid's training code is
imported, so a service needs onnxruntime, numpy and Pillow only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MODEL_FILE = "model.onnx"
METADATA_FILE = "metadata.json"


class ModelLoadError(Exception):
    """The exported model cannot be served; the message is one line naming the file."""


@dataclass(frozen=True)
class ModelInfo:
    classes: tuple[str, str]  # (P < 0.5, P >= 0.5); the model's one sigmoid unit is P(classes[1])
    image_size: int
    version: str  # the first 12 hex digits of model.onnx's sha256: a different file, a different version
    metadata: dict[str, Any]


def read_metadata(folder: Path, version: str) -> ModelInfo:
    path = folder / METADATA_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelLoadError(f"{path} is missing: export a model first (`dvc repro` or `carid train export`)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{path} is not valid JSON: {exc}") from None
    try:
        classes = meta["classes"]
        size = meta["input"]["size"]
    except (KeyError, TypeError) as exc:
        raise ModelLoadError(f"{path}: missing key {exc} (expected 'classes' and 'input.size')") from None
    if not (isinstance(classes, list) and len(classes) == 2 and all(isinstance(c, str) for c in classes)):
        raise ModelLoadError(f"{path}: 'classes' must be a list of two names, got {classes!r}")
    if not isinstance(size, int) or size < 1:
        raise ModelLoadError(f"{path}: 'input.size' must be a positive integer, got {size!r}")
    return ModelInfo((classes[0], classes[1]), size, version, {**meta, "version": version})


class OnnxClassifier:
    """``model.onnx`` in an onnxruntime session; :meth:`run` maps uint8 photos to P(classes[1])."""

    def __init__(self, folder: Path, threads: int = 0) -> None:
        import onnxruntime as ort

        path = folder / MODEL_FILE
        try:
            body = path.read_bytes()
        except FileNotFoundError:
            raise ModelLoadError(f"{path} is missing: export a model first (`dvc repro` or "
                                 f"`carid train export`)") from None
        except OSError as exc:
            raise ModelLoadError(f"{path} cannot be read: {exc.strerror}") from None
        self.info = read_metadata(folder, hashlib.sha256(body).hexdigest()[:12])
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or (os.cpu_count() or 1)
        # no busy-waiting between batches: a service shares its cores with the HTTP loop and the decoders
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(body, sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for every kind of bad file
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelLoadError(f"{path} is not a model onnxruntime can load: {first}") from None
        inputs = self._session.get_inputs()
        if len(inputs) != 1:
            raise ModelLoadError(f"{path}: expected one input, the model has {len(inputs)}")
        self._input = inputs[0].name
        shape = inputs[0].shape
        size = self.info.image_size
        if len(shape) != 4 or list(shape[1:]) != [size, size, 3]:
            raise ModelLoadError(f"{path}: input shape {shape} does not match {METADATA_FILE}'s "
                                 f"size {size} (expected [batch, {size}, {size}, 3])")
        log.info("loaded %s (version %s, %s vs %s, %dx%d input)", path, self.info.version, *self.info.classes,
                 size, size)

    def run(self, photos: np.ndarray) -> np.ndarray:
        """(n, size, size, 3) uint8 photos -> (n,) float32 P(classes[1]); the model rescales 0-255 itself."""
        out = self._session.run(None, {self._input: photos.astype(np.float32, copy=False)})[0]
        return np.asarray(out, dtype=np.float32).reshape(len(photos))
