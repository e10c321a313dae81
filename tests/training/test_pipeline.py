"""Train, evaluate, export and predict through the CLI on a tiny learnable split (real Keras, real files)."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from dvckit import cli
from trainkit import project

from training.data import load_split

VARIANTS = {
    "baseline": {"model": "baseline", "augment": False, "epochs": 8, "learning_rate": 0.001},
    "residual": {"model": "residual", "augment": True, "epochs": 1, "learning_rate": 0.001},
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("train")
    old = os.environ.get("CARID_CACHE_DIR")
    os.environ["CARID_CACHE_DIR"] = str(tmp / "cache")
    root, _ = project(tmp, VARIANTS)
    for variant in VARIANTS:
        for command in ("run", "evaluate"):
            code, out = cli(root, "train", command, "--variant", variant)
            assert code == 0, out
    for command in ("export", "report"):
        code, out = cli(root, "train", command)
        assert code == 0, out
    yield root
    if old is None:
        os.environ.pop("CARID_CACHE_DIR", None)
    else:
        os.environ["CARID_CACHE_DIR"] = old


def test_loss_falls_and_the_best_epoch_is_kept(trained: Path) -> None:
    summary = json.loads((trained / "data/models/baseline/live/metrics.json").read_text(encoding="utf-8"))
    result = json.loads((trained / "data/models/baseline/train.json").read_text(encoding="utf-8"))
    with (trained / "data/models/baseline/live/plots/metrics/loss.tsv").open(encoding="utf-8") as fh:
        losses = [float(r["loss"]) for r in csv.DictReader(fh, delimiter="\t")]
    assert len(losses) == 8 and losses[-1] < losses[0] * 0.7
    assert result["best_val_accuracy"] >= 0.75 and 1 <= result["best_epoch"] <= 8
    assert summary["best_epoch"] == result["best_epoch"]
    assert (trained / "data/models/residual/model.keras").is_file()  # the augmented variant trained too


def test_evaluate_scores_match_the_model_and_galleries_exist(trained: Path) -> None:
    import keras

    import training.augment  # noqa: F401

    scores = json.loads((trained / "data/eval/baseline/scores.json").read_text(encoding="utf-8"))
    model = keras.saving.load_model(trained / "data/models/baseline/model.keras", compile=False)
    test = load_split(trained / "data/split/test.csv", trained, 48)
    prob = np.asarray(model.predict(test.x, verbose=0)).reshape(-1)
    assert scores["test"]["accuracy"] == pytest.approx(float(np.mean((prob >= 0.5) == test.y)))
    assert scores["test"]["n"] == 12 and scores["holdout"]["n"] == 8
    assert set(scores["test"]["accuracy_by_region"]) == {"delhi"}
    for name in ("misclassified-test.html", "misclassified-holdout.html"):
        assert (trained / "data/eval/baseline" / name).is_file()
    assert (trained / "data/eval/baseline/live/plots/custom/test/confusion.json").is_file()


def test_onnx_and_keras_agree_on_the_same_photos(trained: Path) -> None:
    import keras
    import onnxruntime

    export = trained / "data/export"
    meta = json.loads((export / "metadata.json").read_text(encoding="utf-8"))
    assert meta["classes"] == ["swift", "wagonr"] and meta["input"]["size"] == 48
    assert meta["variant"] in VARIANTS and len(meta["source_data_sha256"]) == 64
    x = load_split(trained / "data/split/holdout.csv", trained, 48).x.astype("float32")
    expected = np.asarray(keras.saving.load_model(export / "model.keras").predict(x, verbose=0))
    session = onnxruntime.InferenceSession(str(export / "model.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    assert got.shape == expected.shape == (8, 1)
    assert np.max(np.abs(got - expected)) < 1e-4


def test_exported_model_loads_without_carid_layers(trained: Path) -> None:
    text = (trained / "data/export/model.keras").read_bytes()
    assert b"FusedAugment" not in text  # stripped: the file loads without carid installed


def test_predict_labels_photos_and_reports_bad_files(trained: Path) -> None:
    (trained / "notes.txt").write_text("not a photo", encoding="utf-8")
    folder = trained / "data/raw/hyderabad-motors/hyderabad/images"
    code, out = cli(trained, "predict", str(folder), "notes.txt", "missing.jpg")
    lines = [line for line in out.splitlines() if line.strip()]
    labelled = [line.split("\t") for line in lines if "\t" in line]
    assert code == 0 and len(labelled) == 8
    assert all(label in {"swift", "wagonr"} and 0.5 <= float(p) <= 1 for _, label, p in labelled)
    assert any(line.startswith("error:") and "notes.txt" in line for line in lines)  # carid.images words it
    assert any("no such file" in line and "missing.jpg" in line for line in lines)
    code, out = cli(trained, "predict", str(folder), "notes.txt", "--csv", "out.csv")
    with (trained / "out.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert code == 0 and len(rows) == 9 and sum(1 for r in rows if r["error"]) == 1
    code, out = cli(trained, "predict", "notes.txt")
    assert code == 2  # nothing could be labelled


def test_report_lists_every_variant_beside_the_study(trained: Path) -> None:
    report = (trained / "data/report.md").read_text(encoding="utf-8")
    assert "| baseline | 0.880 |" in report and "| residual | n/a |" in report
    assert "published" in report and "Exported model: variant" in report


def test_unknown_variant_is_one_clear_line(trained: Path) -> None:
    code, out = cli(trained, "train", "run", "--variant", "nope")
    assert code == 1 and "no variant 'nope'" in out and "baseline, residual" in out


def test_decoded_arrays_come_from_the_cache_the_second_time(tmp_path: Path) -> None:
    root, _ = project(tmp_path)
    first = load_split(root / "data/split/val.csv", root, 48, cache=tmp_path / "c")
    for f in (root / "data/raw").rglob("*.jpg"):
        f.unlink()  # the cache alone must serve the second load
    second = load_split(root / "data/split/val.csv", root, 48, cache=tmp_path / "c")
    assert second.x.dtype == np.uint8 and second.x.shape == (12, 48, 48, 3)
    assert np.array_equal(first.x, second.x) and np.array_equal(first.y, second.y)


def test_an_empty_holdout_is_reported_not_fatal(trained: Path, tmp_path: Path) -> None:
    from training.evaluate import evaluate_variant

    split = tmp_path / "split"
    split.mkdir()
    (split / "test.csv").write_bytes((trained / "data/split/test.csv").read_bytes())
    (split / "holdout.csv").write_text("sha256,path,label,site,region,listing_id,cluster_id\n", encoding="utf-8")
    results = evaluate_variant("baseline", trained / "data/models/baseline/model.keras", split, trained,
                               tmp_path / "eval", 48)
    assert set(results) == {"test"} and results["test"]["n"] == 12  # type: ignore[index]
    assert (tmp_path / "eval/misclassified-holdout.html").is_file()  # a declared DVC output, so always written
