"""Model variants: the study's exact parameter count, every variant builds and runs, transfer's clear error.

``transfer`` with MobileNetV2 is tested here on weights saved from a fresh backbone; with EfficientNet-Lite0 (the
default) in test_transfer.py on the real ImageNet weights."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from carid.params import load_params
from training.models import MissingWeights, build, find_weights, study_cnn, weights_file

REPO = Path(__file__).resolve().parents[2]


def test_baseline_is_the_study_cnn_with_3453121_parameters() -> None:
    model = study_cnn(150)
    assert model.count_params() == 3_453_121
    assert [type(layer).__name__ for layer in model.layers].count("Conv2D") == 4


@pytest.mark.parametrize("variant", ["baseline", "augmented", "dropout", "batchnorm", "residual"])
def test_every_shipped_variant_builds_and_outputs_a_probability(variant: str) -> None:
    t = load_params(REPO / "params.yaml").train
    model, backbone = build(t.variants[variant], t.model_copy(update={"image_size": 48}))
    assert backbone is None
    out = np.asarray(model(np.full((2, 48, 48, 3), 128.0, dtype="float32"), training=False))
    assert out.shape == (2, 1) and np.all((out >= 0) & (out <= 1))
    augmented = any(layer.name == "augment" for layer in model.layers)
    assert augmented == t.variants[variant].augment


def test_dropout_and_batchnorm_add_their_layers() -> None:
    kinds = {type(layer).__name__ for layer in study_cnn(64, dropout=0.5, batchnorm=True).layers}
    assert {"Dropout", "BatchNormalization"} <= kinds
    assert not {"Dropout", "BatchNormalization"} & {type(layer).__name__ for layer in study_cnn(64).layers}


@pytest.mark.parametrize("variant", ["baseline", "residual"])
def test_input_scaling_sets_the_range_the_first_layer_sees(variant: str) -> None:
    t = load_params(REPO / "params.yaml").train
    pixels = np.array([[[[0.0, 127.5, 255.0]]]], dtype="float32").repeat(48, axis=1).repeat(48, axis=2)
    seen = {}
    for scaling in ("unit", "symmetric"):
        model, _ = build(t.variants[variant].model_copy(update={"augment": False}),
                         t.model_copy(update={"image_size": 48, "input_scaling": scaling}))
        scale = next(layer for layer in model.layers if layer.name.startswith("scale_"))
        seen[scaling] = np.asarray(scale(pixels))[0, 0, 0]
    np.testing.assert_allclose(seen["unit"], [0.0, 0.5, 1.0], atol=1e-6)
    np.testing.assert_allclose(seen["symmetric"], [-1.0, 0.0, 1.0], atol=1e-6)


def test_input_scaling_accepts_only_unit_or_symmetric(tmp_path: Path) -> None:
    text = (REPO / "params.yaml").read_text(encoding="utf-8").replace("input_scaling: unit", "input_scaling: minus1")
    (tmp_path / "params.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(Exception, match="input_scaling"):
        load_params(tmp_path / "params.yaml")


def test_transfer_without_weights_names_the_file_to_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(MissingWeights) as err:
        find_weights(128, "")
    message = str(err.value)
    assert weights_file(128) in message and str(tmp_path / ".keras" / "models") in message
    assert "\n" not in message
    with pytest.raises(MissingWeights, match="only for input sizes"):
        find_weights(64, "")
    with pytest.raises(MissingWeights, match=str(tmp_path / "w.h5")):
        find_weights(96, str(tmp_path / "w.h5"))


def test_transfer_loads_weights_from_the_configured_file(tmp_path: Path) -> None:
    """Weights saved from a fresh backbone stand in for ImageNet's (Keras 3 weights format), no download."""
    path = tmp_path / "backbone.weights.h5"
    keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, weights=None).save_weights(path)
    t = load_params(REPO / "params.yaml").train
    v = t.variants["baseline"].model_copy(update={"model": "transfer", "augment": False, "backbone": "mobilenetv2"})
    model, backbone = build(v, t.model_copy(update={"image_size": 96, "transfer_weights": str(path)}))
    assert backbone is not None and not backbone.trainable
    assert model(np.zeros((1, 96, 96, 3), dtype="float32")).shape == (1, 1)


def test_transfer_trains_frozen_then_fine_tunes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The transfer variant end to end on toy photos: frozen epochs, then the top of the backbone unfrozen."""
    from trainkit import project

    from training.train import train_variant

    monkeypatch.setenv("CARID_CACHE_DIR", str(tmp_path / "cache"))
    weights = tmp_path / "backbone.weights.h5"
    keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, weights=None).save_weights(weights)
    root, p = project(tmp_path, {"transfer": {"model": "transfer", "augment": True, "epochs": 1,
                                              "learning_rate": 0.001, "fine_tune_epochs": 1,
                                              "backbone": "mobilenetv2"}})
    t = p.train.model_copy(update={"image_size": 96, "transfer_weights": str(weights)})
    result = train_variant("transfer", t, root / "data/split", root, tmp_path / "out")
    assert result.epochs == 2 and (tmp_path / "out/model.keras").is_file()
