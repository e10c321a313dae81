"""Photo-like test images for curation tests (shared by several test modules)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from curation.dedup import Evidence, decode_planes, evidence_of


def scene(seed: int, size: tuple[int, int] = (400, 300)) -> Image.Image:
    """A photo-like picture: gradient, shapes, noise, a touch of blur."""
    rng = np.random.default_rng(seed)
    w, h = size
    t = np.linspace(0.0, 1.0, h)[:, None, None]
    base = (rng.integers(0, 256, 3) * (1 - t) + rng.integers(0, 256, 3) * t) * np.ones((1, w, 1))
    img = Image.fromarray(base.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        box = (x0, y0, x0 + int(rng.integers(40, w // 2)), y0 + int(rng.integers(40, h // 2)))
        fill = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill)
    noisy = np.asarray(img, dtype=np.int16) + rng.normal(0, 5, (h, w, 3)).astype(np.int16)
    return Image.fromarray(noisy.clip(0, 255).astype(np.uint8), "RGB").filter(ImageFilter.GaussianBlur(0.6))


def sample_photo(name: str, side: int) -> Image.Image:
    """One of scikit-image's bundled sample photos (licences: benchmarks/dedup_external.py prints them) in RGB,
    ``side`` pixels on its long side; callers skip without scikit-image (``pytest.importorskip("skimage.data")``)."""
    import skimage.data

    img = Image.fromarray(getattr(skimage.data, name)()).convert("RGB")
    return img.resize((img.width * side // max(img.size), img.height * side // max(img.size)), Image.Resampling.LANCZOS)


def jpeg_bytes(img: Image.Image, quality: int = 90, exif: bytes | None = None) -> bytes:
    """``img`` saved as a JPEG of ``quality`` (with an EXIF block when given)."""
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, **({"exif": exif} if exif else {}))
    return buf.getvalue()


def write_jpeg(folder: Path, name: str, img: Image.Image, quality: int = 92) -> Path:
    """``img`` saved as ``folder/name.jpg`` (JPEG of ``quality``); its path."""
    path = folder / f"{name}.jpg"
    path.write_bytes(jpeg_bytes(img, quality))
    return path


def jpeg_evidence(img: Image.Image, quality: int) -> Evidence:
    """Verification's evidence (luma and value planes) of ``img`` saved as a JPEG of ``quality``."""
    return evidence_of(*decode_planes(jpeg_bytes(img, quality)))
