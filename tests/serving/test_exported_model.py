"""A real carid model, exported to ONNX by carid's own export, served: the service agrees with Keras within 1e-4."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import requests
from imagekit import scene
from servekit import running_server, write_params

from carid.images import decode_to_array


def test_served_probabilities_match_keras(tmp_path: Path) -> None:
    keras = pytest.importorskip("keras")
    from training.export import export_onnx
    from training.models import residual_cnn

    size = 48
    keras.utils.set_random_seed(3)
    model = residual_cnn(size)
    export = tmp_path / "export"
    export.mkdir()
    model.save(export / "model.keras")
    export_onnx(export / "model.keras", export / "model.onnx")
    (export / "metadata.json").write_text(json.dumps({"variant": "residual", "classes": ["swift", "wagonr"],
                                                      "input": {"size": size}}), encoding="utf-8")
    photos = []
    for seed in range(5):
        path = tmp_path / f"scene-{seed}.jpg"
        scene(seed).save(path, quality=90)
        photos.append(path)
    x = np.stack([decode_to_array(p, size) for p in photos]).astype(np.float32)
    want = model.predict(x, verbose=0).reshape(-1)
    with running_server(export, write_params(tmp_path), tmp_path / "serve.log") as srv:
        r = requests.post(f"{srv.url}/predict", files=[("file", (p.name, p.read_bytes())) for p in photos], timeout=60)
    assert r.status_code == 200, r.text
    got = np.array([p["probabilities"]["wagonr"] for p in r.json()["predictions"]])
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert len(set(np.round(want, 3))) > 1  # the photos really get different answers
