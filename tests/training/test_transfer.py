"""The `transfer` variant with EfficientNet-Lite0 and its real ImageNet weights, on tiny toy photos."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from dvckit import cli
from trainkit import COUNTS, REPO, cache_dir_at, project

from carid.params import load_params
from splitting.records import read_photos
from training.efficientnet import FEATURES, pretrained
from training.features import embeddings
from training.models import build, lite0_transfer, unfreeze_top_blocks

SIZE = 64


@pytest.fixture(scope="module", autouse=True)
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with cache_dir_at(tmp_path_factory.mktemp("cache")) as path:
        yield path


def test_the_shipped_transfer_variant_is_lite0_with_imagenet_weights() -> None:
    t = load_params(REPO / "params.yaml").train
    v = t.variants["transfer"]
    assert v.model == "transfer" and v.backbone == "efficientnet-lite0" and v.fine_tune_epochs > 0
    model, backbone = build(v, t, SIZE)
    assert backbone is not None and not backbone.trainable
    x = np.random.default_rng(0).integers(0, 256, (2, SIZE, SIZE, 3)).astype("float32")
    out = np.asarray(model(x, training=False))
    assert out.shape == (2, 1) and np.all((out > 0) & (out < 1))
    # the backbone inside is the ImageNet one, not a fresh initialisation
    np.testing.assert_allclose(np.asarray(backbone(x)), np.asarray(pretrained(SIZE, include_top=False)(x)),
                               rtol=1e-5, atol=1e-5)


def test_the_head_is_shared_between_the_feature_model_and_the_image_model() -> None:
    tl = lite0_transfer(SIZE)
    x = np.random.default_rng(1).integers(0, 256, (3, SIZE, SIZE, 3)).astype("float32")
    tl.head.get_layer("wagonr").set_weights([np.full((FEATURES, 1), 0.01, "float32"), np.array([-0.5], "float32")])
    via_features = np.asarray(tl.head(np.asarray(tl.backbone(x)), training=False))
    np.testing.assert_allclose(np.asarray(tl.model(x, training=False)), via_features, rtol=1e-5, atol=1e-6)


def test_fine_tuning_unfreezes_only_the_top_blocks_and_never_batch_norm() -> None:
    tl = lite0_transfer(SIZE)
    assert tl.backbone.trainable_weights == []
    unfreeze_top_blocks(tl.backbone, 2)
    names = {w.path.split("/")[-2] for w in tl.backbone.trainable_weights}
    assert names == {"block14_expand_conv", "block14_dw_conv", "block14_project_conv", "block15_expand_conv",
                     "block15_dw_conv", "block15_project_conv", "head_conv"}


@pytest.mark.parametrize(("where", "key"), [("train", "train.image_size"),
                                            ("variant", "train.variants.transfer.image_size")])
def test_an_unsupported_size_names_the_param(tmp_path: Path, where: str, key: str) -> None:
    variant: dict[str, object] = {"model": "transfer", "augment": False, "epochs": 1, "learning_rate": 0.001}
    if where == "variant":
        variant["image_size"] = 100
    root, _ = project(tmp_path, {"transfer": variant})  # the toy project's train.image_size is 48
    code, out = cli(root, "train", "run", "--variant", "transfer")
    assert code == 1 and key in out and "multiple of 32" in out
    assert len([line for line in out.splitlines() if "error" in line]) == 1


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose only variant is transfer, trained, evaluated and exported through the CLI."""
    variant = {"model": "transfer", "augment": True, "epochs": 2, "learning_rate": 0.001, "fine_tune_epochs": 1,
               "image_size": SIZE}
    root, _ = project(tmp_path_factory.mktemp("export"), {"transfer": variant})
    for args in (("run", "--variant", "transfer"), ("evaluate", "--variant", "transfer"), ("export",)):
        code, out = cli(root, "train", *args)
        assert code == 0, out
    return root


def test_two_stages_train_the_head_on_cached_features_then_fine_tune(exported: Path, cache: Path) -> None:
    result = json.loads((exported / "data/models/transfer/train.json").read_text(encoding="utf-8"))
    assert result["epochs"] == 3 and 1 <= result["best_epoch"] <= 3 and result["feature_seconds"] > 0
    assert result["best_val_accuracy"] >= 0.5
    with (exported / "data/models/transfer/live/plots/metrics/val_accuracy.tsv").open(encoding="utf-8") as fh:
        steps = [int(r["step"]) for r in csv.DictReader(fh, delimiter="\t")]
    assert steps == [0, 1, 2]  # the head's epochs and the fine-tuning epoch, one curve
    shards = sorted((cache / "features").rglob("*.npz"))
    assert shards  # the features of train and val are in the cache now
    # every train and val photo has its features in the cache: asking again computes nothing new
    for split in ("train", "val"):
        feats = embeddings(read_photos(exported / f"data/split/{split}.csv"), exported, SIZE)
        assert feats.shape == (COUNTS[split], FEATURES)
    assert sorted((cache / "features").rglob("*.npz")) == shards


def test_the_exported_transfer_model_and_its_onnx_agree(exported: Path) -> None:
    import keras
    import onnxruntime

    from training.data import load_split

    export = exported / "data/export"
    meta = json.loads((export / "metadata.json").read_text(encoding="utf-8"))
    assert meta["variant"] == "transfer" and meta["input"]["size"] == SIZE  # the variant's own size, not 48
    x = load_split(exported / "data/split/holdout.csv", exported, SIZE).x.astype("float32")
    expected = np.asarray(keras.saving.load_model(export / "model.keras").predict(x, verbose=0))
    session = onnxruntime.InferenceSession(str(export / "model.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    assert got.shape == expected.shape == (len(x), 1)
    assert np.max(np.abs(got - expected)) < 1e-4
    assert b"FusedAugment" not in (export / "model.keras").read_bytes()


def test_predict_works_with_the_exported_transfer_model(exported: Path) -> None:
    folder = exported / "data/raw/hyderabad-motors/hyderabad/images"
    code, out = cli(exported, "predict", str(folder))
    labelled = [line.split("\t") for line in out.splitlines() if "\t" in line]
    assert code == 0 and len(labelled) == COUNTS["holdout"]
    assert all(label in {"swift", "wagonr"} and 0.5 <= float(p) <= 1 for _, label, p in labelled)
    scores = json.loads((exported / "data/eval/transfer/scores.json").read_text(encoding="utf-8"))
    assert scores["test"]["n"] == COUNTS["test"] and scores["holdout"]["n"] == COUNTS["holdout"]
