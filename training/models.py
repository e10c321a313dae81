"""The model variants: the original study's CNN and its ladder, a stronger from-scratch net and transfer.

``transfer`` uses EfficientNet-Lite0 with the ImageNet weights of a package (training.efficientnet) by default,
or MobileNetV2 from ``keras.applications`` for people who have its weights file.

Backend-neutral Keras 3: layers and ``keras.ops`` only. Every model takes uint8-valued images
(float tensors 0-255) and rescales them itself, so callers feed the cached arrays directly and
the exported model carries its own preprocessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
from keras import layers

from carid.params import AugmentStrengths, InputScaling, TrainParams, VariantParams
from training.augment import AugmentParams, FusedAugment
from training.efficientnet import BLOCKS, MissingWeights, check_size, pretrained

TRANSFER_BACKBONE = "MobileNetV2"
TRANSFER_SIZES = (96, 128, 160, 192, 224)  # input sizes Keras publishes MobileNetV2 ImageNet weights for


def _study_convs(x: keras.KerasTensor, batchnorm: bool) -> keras.KerasTensor:
    for filters in (32, 64, 128, 128):
        if batchnorm:
            x = layers.Conv2D(filters, 3, use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.Activation("relu")(x)
        else:
            x = layers.Conv2D(filters, 3, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    return x


def rescaling(scaling: InputScaling) -> layers.Rescaling:
    """Pixels 0-255 to [0, 1] (``unit``, the study's Keras run) or [-1, 1] (``symmetric``, its PyTorch run)."""
    if scaling == "symmetric":
        return layers.Rescaling(1.0 / 127.5, offset=-1.0, name="scale_symmetric")
    return layers.Rescaling(1.0 / 255, name="scale_unit")


def study_cnn(size: int, dropout: float = 0.0, batchnorm: bool = False, scaling: InputScaling = "unit") -> keras.Model:
    """The original study's CNN (``baseline``), optionally with dropout before the dense head and batch norm."""
    inputs = keras.Input((size, size, 3), name="image")
    x = rescaling(scaling)(inputs)
    x = _study_convs(x, batchnorm)
    x = layers.Flatten()(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    x = layers.Dense(512, activation="relu")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="wagonr")(x)
    return keras.Model(inputs, outputs, name="study_cnn")


def residual_cnn(size: int, scaling: InputScaling = "unit") -> keras.Model:
    """carid's stronger from-scratch net. Why: the study's Flatten + Dense(512) holds 95% of its parameters and
    memorises 2,400 photos; global average pooling removes it, residual blocks with batch norm train a deeper
    stack stably, and separable convolutions keep it cheaper per image than the baseline on a CPU."""
    inputs = keras.Input((size, size, 3), name="image")
    x = rescaling(scaling)(inputs)
    x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    for filters in (64, 128, 256):
        shortcut = layers.Conv2D(filters, 1, strides=2, padding="same", use_bias=False)(x)
        shortcut = layers.BatchNormalization()(shortcut)
        y = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False)(x)
        y = layers.BatchNormalization()(y)
        y = layers.Activation("relu")(y)
        y = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False)(y)
        y = layers.BatchNormalization()(y)
        y = layers.MaxPooling2D(3, strides=2, padding="same")(y)
        x = layers.Activation("relu")(layers.Add()([y, shortcut]))
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(1, activation="sigmoid", name="wagonr")(x)
    return keras.Model(inputs, outputs, name="residual_cnn")


def weights_file(size: int) -> str:
    return f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{size}_no_top.h5"


def find_weights(size: int, configured: str, size_key: str = "train.image_size") -> Path:
    """The ImageNet weights for the transfer backbone: the configured path, else the Keras cache."""
    if size not in TRANSFER_SIZES:
        raise MissingWeights(f"transfer: ImageNet weights for {TRANSFER_BACKBONE} exist only for input sizes "
                             f"{', '.join(map(str, TRANSFER_SIZES))}; set {size_key} to one of them")
    path = Path(configured).expanduser() if configured else Path.home() / ".keras" / "models" / weights_file(size)
    if not path.is_file():
        raise MissingWeights(f"transfer: no ImageNet weights at {path}; place {weights_file(size)} there (from "
                             f"keras.applications on a machine with internet) or set train.transfer_weights")
    return path


def transfer_cnn(size: int, weights: Path) -> tuple[keras.Model, keras.Model]:
    """MobileNetV2 with ImageNet weights and a new head; returns (model, backbone) so training can unfreeze."""
    backbone = keras.applications.MobileNetV2(input_shape=(size, size, 3), include_top=False, weights=str(weights))
    backbone.trainable = False
    inputs = keras.Input((size, size, 3), name="image")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0)(inputs)  # MobileNetV2 expects [-1, 1]
    x = backbone(x, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(1, activation="sigmoid", name="wagonr")(x)
    return keras.Model(inputs, outputs, name="transfer_mobilenetv2"), backbone


@dataclass(frozen=True)
class Transfer:
    """EfficientNet-Lite0 transfer: three views that share one new head (dropout + one sigmoid unit)."""

    model: keras.Model  # image (0-255) -> P(wagonr)
    backbone: keras.Model  # image -> pooled ImageNet features; frozen
    head: keras.Model  # pooled features -> P(wagonr): trains on cached features (training.features)


def lite0_transfer(size: int, weights: str = "", size_key: str = "train.image_size") -> Transfer:
    """EfficientNet-Lite0 with ImageNet weights, frozen, and a new head; ``size_key`` names the param in errors."""
    check_size(size, size_key)
    backbone = pretrained(size, include_top=False, configured=weights)
    backbone.trainable = False
    dropout = layers.Dropout(0.2, name="head_dropout")
    dense = layers.Dense(1, activation="sigmoid", name="wagonr")
    features = keras.Input((backbone.output.shape[-1],), name="features")
    head = keras.Model(features, dense(dropout(features)), name="transfer_head")
    inputs = keras.Input((size, size, 3), name="image")
    model = keras.Model(inputs, dense(dropout(backbone(inputs, training=False))), name="transfer_efficientnet_lite0")
    return Transfer(model, backbone, head)


def unfreeze_top_blocks(backbone: keras.Model, blocks: int) -> None:
    """Make the top ``blocks`` MBConv blocks and the head convolution of a Lite0 backbone trainable; batch-norm
    statistics stay as ImageNet left them."""
    first = len(BLOCKS) - blocks
    backbone.trainable = True
    for layer in backbone.layers:
        name = layer.name
        top = name.startswith("head_") or (name.startswith("block") and int(name[5:7]) >= first)
        layer.trainable = top and not isinstance(layer, layers.BatchNormalization)


def augment_params(a: AugmentStrengths) -> AugmentParams:
    return AugmentParams(flip=a.flip, rotation=a.rotation, zoom=a.zoom, shift=a.shift, brightness=a.brightness,
                         contrast=a.contrast)


def with_augmentation(model: keras.Model, a: AugmentStrengths, seed: int) -> keras.Model:
    """``model`` behind carid's fused augmentation, which acts only while training."""
    size = model.input_shape[1]
    inputs = keras.Input((size, size, 3), name="image")
    # fill_mode "nearest": edge pixels extend, as in the study's ImageDataGenerator; cheaper than reflect on a CPU
    augment = FusedAugment(augment_params(a), value_range=(0.0, 255.0), fill_mode="nearest", seed=seed, name="augment")
    x = augment(inputs)
    return keras.Model(inputs, model(x), name=f"{model.name}_augmented")


def build(v: VariantParams, t: TrainParams, size: int | None = None,
          size_key: str = "train.image_size") -> tuple[keras.Model, keras.Model | None]:
    """The variant's model (augmentation included when asked) and, for transfer, its backbone. ``size``: the
    variant's input (default ``train.image_size``); ``size_key`` the param that set it, for errors."""
    size = size or t.image_size
    backbone = None
    scaling = t.input_scaling
    if v.model == "baseline":
        model = study_cnn(size, scaling=scaling)
    elif v.model == "dropout":
        model = study_cnn(size, dropout=0.5, scaling=scaling)
    elif v.model == "batchnorm":
        model = study_cnn(size, dropout=0.5, batchnorm=True, scaling=scaling)
    elif v.model == "residual":
        model = residual_cnn(size, scaling=scaling)
    elif v.backbone == "mobilenetv2":
        model, backbone = transfer_cnn(size, find_weights(size, t.transfer_weights, size_key))
    else:
        lite0 = lite0_transfer(size, t.transfer_weights, size_key)
        model, backbone = lite0.model, lite0.backbone
    if v.augment:
        model = with_augmentation(model, t.augment, t.seed)
    return model, backbone
