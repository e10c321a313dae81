"""One way to turn a photo file into the model's input array, shared by training, prediction and serving.

Pillow does the decoding. What it leaves to the caller is done here once: the JPEG draft
decode (the decoder scales by 1/2, 1/4 or 1/8 on its own), the EXIF orientation a phone
photo carries, transparency composited on white (not dropped, which turns a transparent
logo black), and a bilinear resize of the whole photo to the square input, as Keras'
``image_dataset_from_directory`` does (the aspect ratio is not kept). Imports neither
TensorFlow nor any carid stage, so the prediction service can use it.
"""

from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps

log = logging.getLogger(__name__)

#: Photos above this many pixels are refused before decoding (decompression bombs); real photos are far smaller.
MAX_PIXELS = 40_000_000
_ORIENTATION = 0x0112  # the EXIF tag


class UnreadablePhoto(Exception):
    """A photo that cannot be decoded; the message names the file. ``reason`` is a short machine-readable kind."""

    def __init__(self, message: str, reason: str = "undecodable") -> None:
        super().__init__(message)
        self.reason = reason


def to_rgb(img: Image.Image) -> Image.Image:
    """``img`` upright (EXIF orientation applied) and in RGB, transparency composited on white."""
    try:
        turned = img.getexif().get(_ORIENTATION, 1) not in (1, None) and ImageOps.exif_transpose(img)
        if turned:  # only then: exif_transpose copies a photo that needs no turn, which costs a third of a decode
            img = turned
    except (SyntaxError, ValueError, TypeError, KeyError, OSError) as exc:  # a corrupt EXIF block: use the pixels
        log.debug("ignoring unreadable EXIF orientation: %s", exc)
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if img.mode == "RGB":
        return img  # convert() would copy it
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit and 32-bit integer grey: scale to 8 bits instead of clipping everything above 255 to white
        arr = np.asarray(img, dtype=np.float64)
        top = arr.max() or 1.0
        return Image.fromarray((arr * (255.0 / top)).astype(np.uint8)).convert("RGB")
    return img.convert("RGB")


def decode_to_array(source: Path | BinaryIO, size: int, name: str = "", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """One photo as a (size, size, 3) uint8 array; raises :class:`UnreadablePhoto` naming the file.

    ``source`` is a path or an open binary file; ``name`` is what messages call it (default: the path).
    """
    label = name or str(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the explicit pixel cap below rules
            with Image.open(source) as img:
                width, height = img.size
                if width * height > max_pixels:
                    raise UnreadablePhoto(f"{label}: {width}x{height} pixels is over the cap of {max_pixels:,}",
                                          "too-many-pixels")
                img.draft("RGB", (size, size))
                rgb = to_rgb(img).resize((size, size), Image.Resampling.BILINEAR)
                return np.asarray(rgb, dtype=np.uint8)
    except FileNotFoundError:
        raise UnreadablePhoto(f"no such file: {label}", "missing") from None
    except Image.UnidentifiedImageError:
        raise UnreadablePhoto(f"{label} is not an image Pillow can read", "not-an-image") from None
    except Image.DecompressionBombError as exc:
        raise UnreadablePhoto(f"{label}: {exc}", "too-many-pixels") from None
    except (OSError, ValueError, SyntaxError) as exc:
        reason = "truncated" if "truncat" in str(exc).lower() else "undecodable"
        raise UnreadablePhoto(f"cannot decode {label}: {type(exc).__name__}: {exc}", reason) from None


def decode_bytes(body: bytes, size: int, name: str, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """:func:`decode_to_array` for bytes in memory (an upload)."""
    if not body:
        raise UnreadablePhoto(f"{name} is empty (0 bytes)", "empty")
    return decode_to_array(io.BytesIO(body), size, name, max_pixels)
