"""One way to turn a photo file into the model's input array, shared by training, prediction and serving.

Pillow does the decoding. What it leaves to the caller is done here once: the JPEG draft
decode (the decoder scales by 1/2, 1/4 or 1/8 on its own), the EXIF orientation a phone
photo carries, transparency composited on white (not dropped, which turns a transparent
logo black), 16-bit grey scaled to 8 bits, CMYK / palette / LA converted, and a bilinear
resize of the whole photo to the square input, as Keras'
``image_dataset_from_directory`` does (the aspect ratio is not kept). Imports neither
TensorFlow nor any carid stage, so the prediction service can use it.

Formats: whatever Pillow reads (JPEG, PNG, WebP, GIF, BMP, TIFF, and AVIF, which Pillow 11.3+ decodes itself), plus
HEIC / HEIF phone photos through ``pillow-heif``'s opener, registered here, once, on import: every stage that
decodes a photo imports this module, so every stage reads HEIC.
"""

from __future__ import annotations

import io
import logging
import struct
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps

log = logging.getLogger(__name__)

try:  # HEIC / HEIF (iPhone photos); a dependency, but a build without it still reads everything else
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - the package is a declared dependency
    log.debug("pillow-heif is not installed: HEIC photos cannot be read")

#: file suffixes of the photo formats every stage reads
PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".avif", ".heic",
                            ".heif"})

#: Photos above this many pixels are refused before decoding (decompression bombs); real photos are far smaller.
MAX_PIXELS = 40_000_000
_ORIENTATION = 0x0112  # the EXIF tag


class UnreadablePhoto(Exception):
    """A photo that cannot be decoded; the message names the file. ``reason`` is a short machine-readable kind."""

    def __init__(self, message: str, reason: str = "undecodable") -> None:
        super().__init__(message)
        self.reason = reason


def orientation(img: Image.Image, problems: list[str] | None = None) -> int:
    """The EXIF orientation (1-8; 1 when absent). A corrupt EXIF block gives 1 and, when ``problems`` is a list,
    appends what was wrong to it (Pillow only warns about most corrupt blocks, or silently reads nothing)."""
    raw = img.info.get("exif")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if isinstance(raw, bytes) and raw:  # parse afresh: the opener may have parsed it (and warned) already
                exif = Image.Exif()
                exif.load(raw)
            else:
                exif = img.getexif()
            value = exif.get(_ORIENTATION, 1)
    except (SyntaxError, ValueError, TypeError, KeyError, OSError, struct.error) as exc:
        if problems is not None:
            problems.append(f"corrupt EXIF ({type(exc).__name__}: {exc})")
        return 1
    if problems is not None:
        if caught:
            problems.append(f"corrupt EXIF ({caught[0].message})")
        elif isinstance(raw, bytes) and len(raw) > 8 and not exif:
            problems.append("corrupt EXIF (the block holds no readable tags)")
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def to_rgb(img: Image.Image, problems: list[str] | None = None) -> Image.Image:
    """``img`` upright (EXIF orientation applied) and in RGB, transparency composited on white.

    A corrupt EXIF block never stops the decode: the pixels are used as stored, and the problem is appended to
    ``problems`` when that is a list (the caller decides how often to log it).
    """
    if orientation(img, problems) != 1:
        # only then: exif_transpose copies a photo that needs no turn, which costs a third of a decode
        try:
            img = ImageOps.exif_transpose(img)
        except (SyntaxError, ValueError, TypeError, KeyError, OSError, struct.error) as exc:
            if problems is not None:
                problems.append(f"corrupt EXIF ({type(exc).__name__}: {exc})")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if img.mode == "RGB":
        return img  # convert() would copy it
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "I;16S", "F"):
        # 16-bit and 32-bit grey: scale to 8 bits instead of clipping everything above 255 to white. 16-bit
        # images (and 32-bit ones holding 16-bit values, as Pillow opens some 16-bit PNGs) map 65535 to 255;
        # wider values are scaled by their maximum.
        arr = np.asarray(img, dtype=np.float64)
        top = float(arr.max())
        full = 65535.0 if img.mode.startswith("I;16") or 255.0 < top <= 65535.0 else max(top, 255.0)
        return Image.fromarray(np.clip(arr * (255.0 / full) + 0.5, 0, 255).astype(np.uint8)).convert("RGB")
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
