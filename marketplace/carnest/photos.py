"""Carnest's photo style, its thumbnails, and a disk cache for both sites' sizes of a photo.

The scene is the main site's drawing (:func:`marketplace.render.render_image`,
re-upload edit included); Carnest's sellers shoot wide, so the photo is cut to
16:9 (400x225), then given a matte tone curve, a vignette and the site's badge.
Every edit here treats R, G and B alike, so a black-and-white re-upload stays
black-and-white and the answer key's colours stay true.

Thumbnails (``?w=..&h=..`` and ``-cr-60``) are real, smaller JPEGs made from
the full photo's pixels: a scraper that keeps them gets other bytes than the
answer key's.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import os
import random
import tempfile
from dataclasses import astuple, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

import marketplace.render as render
from carid.paths import cache_dir
from marketplace.specs import PhotoSpec

#: Thumbnail sizes the CDN answers (``?w=&h=``); anything else is a 400.
THUMB_SIZES: frozenset[tuple[int, int]] = frozenset({(160, 90), (320, 180)})
#: The ``-cr-60`` thumbnail: size and JPEG quality.
CR_SIZE, CR_QUALITY = (320, 180), 60
_TOP_SHARE = 0.7  # of the rows cut to reach 16:9, this share comes off the top (sky), the rest off the bottom


def _rng(*parts: object) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big"))


def _widescreen(img: Image.Image) -> Image.Image:
    """Cut rows off to reach 16:9, mostly from the top: the ground and the wheels stay."""
    w, h = img.size
    target = round(w * 9 / 16)
    if target >= h:
        return img
    cut = h - target
    top = round(cut * _TOP_SHARE)
    return img.crop((0, top, w, top + target))


@lru_cache(maxsize=1)
def _matte_lut() -> list[int]:
    """A faded film curve (blacks lifted to 22, whites down to 240, a gentle S between), same for R, G, B."""
    x = np.arange(256, dtype=np.float32) / 255.0
    s = x - 0.15 * np.sin(2 * np.pi * x) / (2 * np.pi)  # darker shadows, brighter highlights
    y = 22 + (240 - 22) * np.clip(s, 0.0, 1.0)
    return np.clip(np.round(y), 0, 255).astype(np.uint8).tolist() * 3


@lru_cache(maxsize=8)
def _vignette(size: tuple[int, int]) -> np.ndarray:
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot((xx - w / 2) / (w / 2), (yy - h / 2) / (h / 2)) / np.sqrt(2)
    return (1.0 - 0.35 * r**2.2)[..., None]


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError):  # Pillow without FreeType: one fixed size
        return ImageFont.load_default()


def _badge(img: Image.Image) -> Image.Image:
    """The site's small white "carnest" mark in the bottom-right corner, on a translucent dark pill."""
    w, h = img.size
    font = _font(max(8, h // 18))
    left, top, right, bottom = font.getbbox("carnest")
    tw, th = int(right - left), int(bottom - top)
    pad = max(2, th // 3)
    x1, y1 = w - 6, h - 6
    x0, y0 = x1 - tw - 2 * pad, y1 - th - 2 * pad
    out = img.convert("RGBA")
    layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.rounded_rectangle((x0, y0, x1, y1), radius=pad + th // 2, fill=(20, 20, 20, 110))
    draw.text((x0 + pad - left, y0 + pad - top), "carnest", font=font, fill=(255, 255, 255, 220))
    return Image.alpha_composite(out, layer).convert("RGB")


def carnest_image(spec: PhotoSpec) -> Image.Image:
    """The picture of a Carnest spec: the main site's drawing in Carnest's look."""
    base = render.render_image(replace(spec, style="main"))
    img = _widescreen(base).point(_matte_lut())
    arr = np.asarray(img, dtype=np.float32) * _vignette(img.size)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    return _badge(img)


def _quality(spec: PhotoSpec) -> int:
    """JPEG quality: one per scene (an exact copy keeps the original's bytes); a re-encode picks another."""
    quality = _rng("carnest-quality", spec.scene_seed).randint(62, 90)
    if spec.variant == "reencode":
        quality = _rng("carnest-reencode", spec.photo_id).choice([q for q in range(55, 96, 5)
                                                                  if abs(q - quality) >= 10])
    return quality


def render_carnest(spec: PhotoSpec) -> bytes:
    """JPEG bytes of the full Carnest photo; identical for identical specs, in any process."""
    buf = io.BytesIO()
    carnest_image(spec).save(buf, "JPEG", quality=_quality(spec), optimize=False)
    return buf.getvalue()


def thumbnail(full: bytes, size: tuple[int, int], quality: int = 80) -> bytes:
    """A smaller JPEG of the full photo, cut to the size's aspect and resized (like an image CDN)."""
    with Image.open(io.BytesIO(full)) as img:
        rgb = img.convert("RGB")
    w, h = rgb.size
    tw, th = size
    scale = max(tw / w, th / h)
    cw, ch = round(tw / scale), round(th / scale)
    x, y = (w - cw) // 2, (h - ch) // 2
    small = rgb.resize(size, Image.Resampling.LANCZOS, box=(x, y, x + cw, y + ch))
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=quality, optimize=False)
    return buf.getvalue()


@lru_cache(maxsize=1)
def _fingerprint() -> str:
    import marketplace.carnest.photos as me

    source = inspect.getsource(render) + inspect.getsource(me)
    return hashlib.sha256(source.encode()).hexdigest()[:16]


class CarnestStore:
    """Full Carnest photos (memory LRU, then a disk cache, then the renderer) and thumbnails (memory LRU).

    ``base`` is the photo cache's folder (the one holding the two other sites' renders); Carnest's sit in
    ``<base>/carnest/<fingerprint>``, so editing either renderer invalidates them.
    """

    def __init__(self, base: Path | None = None) -> None:
        self.root = (base or cache_dir() / "photos") / "carnest" / _fingerprint()
        self.root.mkdir(parents=True, exist_ok=True)
        self._full = lru_cache(maxsize=2048)(self._load)
        self._thumb = lru_cache(maxsize=4096)(self._make_thumb)

    def _load(self, spec: PhotoSpec) -> bytes:
        key = hashlib.sha256(repr(astuple(spec)).encode()).hexdigest()[:32]
        path = self.root / f"{key}.jpg"
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        data = render_carnest(spec)
        fd, tmp = tempfile.mkstemp(dir=self.root, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)  # atomic: concurrent renderers of one photo write identical bytes
        return data

    def _make_thumb(self, spec: PhotoSpec, size: tuple[int, int], quality: int) -> bytes:
        return thumbnail(self.get(spec), size, quality)

    def get(self, spec: PhotoSpec) -> bytes:
        """The full photo's JPEG bytes (the answer key's sha256 is of these)."""
        return self._full(spec)

    def thumb(self, spec: PhotoSpec, size: tuple[int, int], quality: int = 80) -> bytes:
        return self._thumb(spec, size, quality)
