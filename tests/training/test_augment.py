"""The fused augmentation: exact geometry of the composed matrices, randomness, value range, and use in a model.

Runs under whichever Keras backend ``KERAS_BACKEND`` selects (TensorFlow or JAX). Inputs are tiny on purpose.
"""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np
import numpy.typing as npt
import pytest
from keras import ops

from training.augment import AugmentParams, FusedAugment, affine_matrices, augment_batch

Array = npt.NDArray[np.float32]

STRONG = AugmentParams(flip=True, rotation=30.0, zoom=0.2, shift=0.15, brightness=0.4, contrast=0.5)
GEOMETRY_ONLY = AugmentParams(flip=True, rotation=25.0, zoom=0.2, shift=0.1)


def images(n: int = 4, size: int = 32, channels: int = 3, seed: int = 0) -> Array:
    """Random uint8-valued float32 images, (n, size, size, channels)."""
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, channels)).astype(np.float32)


def asymmetric(size: int = 16) -> Array:
    """A (1, size, size, 1) image with no mirror or rotational symmetry: a ramp plus a bright off-centre block."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    img = 3.0 * x + 7.0 * y
    img[2:5, 3:9] = 250.0
    return img[None, :, :, None]


def matrices(n: int, height: int, width: int, **kwargs: float) -> Array:
    """affine_matrices for n images that all share the given parameters (0 unless given), as numpy."""
    args = {name: np.full((n,), kwargs.pop(name, 0.0), np.float32)
            for name in ("flip", "angle_rad", "zoom", "shift_x", "shift_y")}
    assert not kwargs, kwargs
    return np.asarray(ops.convert_to_numpy(affine_matrices(**args, height=height, width=width)))


def warp(x: Array, fill_mode: str = "constant", **kwargs: float) -> Array:
    """Apply one affine_matrices transform (all parameters 0 unless given) to every image of ``x``."""
    n, height, width = x.shape[:3]
    transforms = matrices(n, height, width, **kwargs)
    out = ops.image.affine_transform(x, transforms, interpolation="bilinear", fill_mode=fill_mode,
                                     data_format="channels_last")
    return np.asarray(ops.convert_to_numpy(out))


def run(layer: FusedAugment, x: Array, training: bool = True) -> Array:
    return np.asarray(ops.convert_to_numpy(layer(x, training=training)))


# --- geometry of the composed matrix ---------------------------------------------------------------------------------

def test_zero_parameters_give_the_identity_transform_and_an_exact_copy() -> None:
    x = images(2, 12, 3)
    t = matrices(2, 12, 12)
    np.testing.assert_allclose(t, np.tile([1, 0, 0, 0, 1, 0, 0, 0], (2, 1)), atol=1e-6)
    np.testing.assert_allclose(warp(x), x, atol=1e-4)


def test_flip_mirrors_left_right() -> None:
    x = asymmetric()
    np.testing.assert_allclose(warp(x, flip=1.0), x[:, :, ::-1], atol=1e-3)


@pytest.mark.parametrize(("degrees", "k"), [(90.0, 1), (-90.0, -1), (180.0, 2)])
def test_rotation_matches_rot90_counter_clockwise_for_positive_angles(degrees: float, k: int) -> None:
    x = asymmetric(15)
    expected = np.rot90(x, k=k, axes=(1, 2))
    out = warp(x, angle_rad=math.radians(degrees))
    # a quarter turn of a square image about its centre maps pixel centres onto pixel centres: exact everywhere, and
    # certainly on the interior
    np.testing.assert_allclose(out[:, 1:-1, 1:-1], expected[:, 1:-1, 1:-1], atol=1e-2)
    if abs(k) == 1:  # the other direction is really different
        assert not np.allclose(out, np.rot90(x, k=-k, axes=(1, 2)), atol=1.0)


def test_flip_comes_before_rotation() -> None:
    x = asymmetric(15)
    expected = np.rot90(x[:, :, ::-1], k=1, axes=(1, 2))  # mirror, then turn counter-clockwise
    np.testing.assert_allclose(warp(x, flip=1.0, angle_rad=math.pi / 2)[:, 1:-1, 1:-1], expected[:, 1:-1, 1:-1],
                               atol=1e-2)


@pytest.mark.parametrize(("shift_x", "shift_y", "dy", "dx"), [(0.25, 0.0, 0, 4), (0.0, -0.125, -2, 0),
                                                               (-0.1875, 0.375, 6, -3)])
def test_shift_moves_a_bright_pixel_by_the_fraction_of_the_size(shift_x: float, shift_y: float, dy: int,
                                                                 dx: int) -> None:
    x = np.zeros((1, 16, 16, 1), np.float32)
    x[0, 7, 6, 0] = 255.0
    out = warp(x, shift_x=shift_x, shift_y=shift_y)
    assert np.unravel_index(np.argmax(out[0, :, :, 0]), (16, 16)) == (7 + dy, 6 + dx)
    assert out[0, 7 + dy, 6 + dx, 0] == pytest.approx(255.0, abs=1e-2)
    assert out.sum() == pytest.approx(255.0, abs=1e-2)


def test_zoom_scales_about_the_centre() -> None:
    # zoom=1 doubles the content: the input point sampled by output pixel (x, y) is centre + (p - centre) / 2
    t = matrices(1, height=9, width=13, zoom=1.0)
    np.testing.assert_allclose(t[0], [0.5, 0, 3.0, 0, 0.5, 2.0, 0, 0], atol=1e-6)
    x = np.zeros((1, 9, 13, 1), np.float32)
    x[0, 4, 7, 0] = 255.0  # one pixel right of the centre (6, 4) ...
    out = warp(x, zoom=1.0)
    assert out[0, 4, 8, 0] == pytest.approx(255.0, abs=1e-2)  # ... lands two pixels right of it,
    assert out[0, 4, 7, 0] == pytest.approx(127.5, abs=1e-2)  # smeared over its neighbours by bilinear sampling
    assert out[0, 4, 9, 0] == pytest.approx(127.5, abs=1e-2)
    assert out[0, 4, 6, 0] == pytest.approx(0.0, abs=1e-2)  # while the centre stays put


def test_matrices_compose_per_image() -> None:
    flip = np.array([0, 1, 0], np.float32)
    angle = np.array([0, 0, math.pi / 2], np.float32)
    zeros = np.zeros(3, np.float32)
    t = np.asarray(ops.convert_to_numpy(affine_matrices(flip, angle, zeros, zeros, zeros, 8, 8)))
    assert t.shape == (3, 8)
    np.testing.assert_allclose(t[0], [1, 0, 0, 0, 1, 0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(t[1], [-1, 0, 7, 0, 1, 0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(t[2], [0, -1, 7, 1, 0, 0, 0, 0], atol=1e-6)


# --- the layer -------------------------------------------------------------------------------------------------------

def test_identity_parameters_in_training_return_the_input() -> None:
    x = images()
    np.testing.assert_allclose(run(FusedAugment(AugmentParams(), seed=1), x), x, atol=1e-4)


def test_inference_returns_the_input_unchanged() -> None:
    x = images()
    layer = FusedAugment(STRONG, seed=1)
    np.testing.assert_array_equal(run(layer, x, training=False), x)
    np.testing.assert_array_equal(np.asarray(ops.convert_to_numpy(layer(x))), x)  # training unset: inference


def test_shape_dtype_and_value_range_kept_under_strong_augmentation() -> None:
    x = images(6, 24, 3)
    x[0] = 0.0
    x[1] = 255.0
    out = run(FusedAugment(STRONG, seed=3), x)
    assert out.shape == x.shape
    assert out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 255.0
    assert not np.allclose(out, x, atol=1.0)

    unit = run(FusedAugment(AugmentParams(brightness=0.9, contrast=1.0), value_range=(0.0, 1.0), seed=4), x / 255.0)
    assert unit.min() >= 0.0 and unit.max() <= 1.0
    assert (unit == 1.0).any() or (unit == 0.0).any()  # strong enough that the clip really acts


def test_flip_only_gives_each_image_either_itself_or_its_mirror_and_both_happen() -> None:
    x = np.repeat(asymmetric(), 16, axis=0)
    out = run(FusedAugment(AugmentParams(flip=True), seed=5), x)
    same = np.all(np.abs(out - x) < 1e-3, axis=(1, 2, 3))
    mirrored = np.all(np.abs(out - x[:, :, ::-1]) < 1e-3, axis=(1, 2, 3))
    assert np.all(same ^ mirrored)
    assert same.any() and mirrored.any()


def test_brightness_adds_one_bounded_delta_per_image() -> None:
    x = np.full((8, 8, 8, 3), 100.0, np.float32)
    x[:, ::2] = 140.0
    out = run(FusedAugment(AugmentParams(brightness=0.1), seed=6), x)  # |delta| <= 25.5: no clipping here
    delta = out - x
    per_image = delta[:, :1, :1, :1]
    np.testing.assert_allclose(delta, np.broadcast_to(per_image, delta.shape), atol=1e-3)
    assert np.all(np.abs(per_image) <= 25.5 + 1e-3)
    assert len(np.unique(np.round(per_image, 3))) == 8


def test_contrast_scales_around_the_per_channel_mean() -> None:
    x = images(6, 8, 3, seed=7) * 0.5 + 64.0  # values in [64, 192): a factor <= 1.3 stays inside 0-255
    out = run(FusedAugment(AugmentParams(contrast=0.3), seed=8), x)
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(out.mean(axis=(1, 2), keepdims=True), mean, atol=1e-2)
    factor = (out - mean).std(axis=(1, 2, 3)) / (x - mean).std(axis=(1, 2, 3))
    assert np.all((factor >= 0.7 - 1e-3) & (factor <= 1.3 + 1e-3))
    assert factor.std() > 0.01  # each image got its own factor


def test_seeds_repeat_and_differ_and_images_in_a_batch_differ() -> None:
    x = np.repeat(images(1, 24, 3), 4, axis=0)
    a = run(FusedAugment(GEOMETRY_ONLY, seed=11), x)
    again = run(FusedAugment(GEOMETRY_ONLY, seed=11), x)
    other = run(FusedAugment(GEOMETRY_ONLY, seed=12), x)
    np.testing.assert_array_equal(a, again)
    assert not np.allclose(a, other, atol=1.0)
    for i in range(4):
        for j in range(i + 1, 4):
            assert not np.allclose(a[i], a[j], atol=1.0), (i, j)


def test_consecutive_calls_draw_new_transforms() -> None:
    x = images(2, 16, 3)
    layer = FusedAugment(GEOMETRY_ONLY, seed=13)
    assert not np.allclose(run(layer, x), run(layer, x), atol=1.0)


def test_augment_batch_matches_the_layer() -> None:
    x = images(3, 16, 3)
    direct = augment_batch(x, STRONG, keras.random.SeedGenerator(21), (0.0, 255.0), "nearest")
    via_layer = run(FusedAugment(STRONG, fill_mode="nearest", seed=21), x)
    np.testing.assert_allclose(np.asarray(ops.convert_to_numpy(direct)), via_layer, atol=1e-4)


@pytest.mark.parametrize("kwargs", [{"rotation": -1.0}, {"zoom": 1.0}, {"shift": float("nan")}, {"contrast": 1.5},
                                    {"rotation": 181.0}])
def test_bad_params_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        AugmentParams(**kwargs)  # type: ignore[arg-type]


def test_bad_layer_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="fill_mode"):
        FusedAugment(STRONG, fill_mode="mirror")
    with pytest.raises(ValueError, match="value_range"):
        FusedAugment(STRONG, value_range=(1.0, 1.0))


# --- inside a model --------------------------------------------------------------------------------------------------

def test_trains_inside_a_compiled_model_and_survives_a_save_load_round_trip(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    params = AugmentParams(flip=True, rotation=15.0, zoom=0.1, shift=0.1, brightness=0.2, contrast=0.2)
    model = keras.Sequential([
        keras.Input((32, 32, 3)),
        FusedAugment(params, value_range=(0.0, 255.0), fill_mode="nearest", seed=7, name="augment"),
        keras.layers.Rescaling(1 / 255),
        keras.layers.Conv2D(4, 3),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = images(16, 32, 3, seed=9)
    y = (np.arange(16) % 2).astype(np.float32)
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])

    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    layer = loaded.get_layer("augment")
    assert isinstance(layer, FusedAugment)
    assert layer.params == params
    assert layer.value_range == (0.0, 255.0)
    assert layer.fill_mode == "nearest"
    assert layer.seed == 7
    # inference is untouched by the augmentation, so the loaded model predicts exactly what the trained one does
    np.testing.assert_allclose(loaded.predict(x[:4], verbose=0), model.predict(x[:4], verbose=0), atol=1e-5)
