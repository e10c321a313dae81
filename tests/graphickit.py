"""Generated graphics (documents, app screenshots, logos) and real photos, for the photo-vs-graphic and blur checks.

The graphics are drawn with Pillow and the DejaVu font that Pillow's test images use when present (a default bitmap
font otherwise). Real photographs come from scikit-image's bundled sample data (``skimage.data``, a dev
dependency); each one's licence, as its docstring in ``skimage.data`` states it: astronaut, rocket,
hubble_deep_field (public domain, NASA / SpaceX), coffee, chelsea, cat, camera, brick, grass, gravel (CC0),
immunohistochemistry, coins (no known copyright restrictions). Of its graphics, ``text`` is public domain and
``logo`` is scikit-image's own logo (BSD-3, like the package); ``page`` and ``moon`` state no licence and are not
used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_WORDS = ["the", "car", "is", "in", "good", "condition", "single", "owner", "service", "history", "full",
          "insurance", "valid", "till", "new", "tyres"]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(str(_FONT), size) if _FONT.exists() else ImageFont.load_default(size)


def _sentence(rng: np.random.Generator, n: int) -> str:
    return " ".join(str(w) for w in rng.choice(_WORDS, n))


def document(seed: int, size: tuple[int, int] = (600, 800)) -> Image.Image:
    """A text page: a registration paper or an invoice, black type on white or cream."""
    rng = np.random.default_rng(seed)
    w, h = size
    paper = tuple(int(v) for v in rng.integers(236, 256, 3))
    img = Image.new("RGB", size, paper)
    draw = ImageDraw.Draw(img)
    draw.text((w * 0.08, h * 0.04), "REGISTRATION CERTIFICATE", fill=(20, 20, 60), font=_font(max(10, w // 22)))
    y = h * 0.12
    line = max(10, h // 40)
    while y < h * 0.92:
        draw.text((w * 0.08, y), _sentence(rng, int(rng.integers(4, 9))), fill=(30, 30, 30), font=_font(line - 2))
        y += line * float(rng.uniform(1.3, 1.8))
    if rng.random() < 0.5:  # a table
        x0, y0 = int(w * 0.55), int(h * 0.6)
        for i in range(5):
            draw.rectangle((x0, y0 + i * line * 1.5, w * 0.92, y0 + (i + 1) * line * 1.5), outline=(0, 0, 0))
    return img


def screenshot(seed: int, size: tuple[int, int] = (390, 844)) -> Image.Image:
    """A phone screenshot of a listing app: status bar, a coloured header, buttons, text rows, a photo area."""
    rng = np.random.default_rng(seed)
    w, h = size
    accent = tuple(int(v) for v in rng.integers(0, 200, 3))
    img = Image.new("RGB", size, (250, 250, 250) if rng.random() < 0.7 else (24, 24, 28))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, w, h * 0.04), fill=(0, 0, 0))
    draw.text((w * 0.05, h * 0.008), "9:41", fill=(255, 255, 255), font=_font(max(9, h // 60)))
    draw.rectangle((0, h * 0.04, w, h * 0.11), fill=accent)
    draw.text((w * 0.05, h * 0.06), "Used cars near you", fill=(255, 255, 255), font=_font(max(10, h // 45)))
    y = h * 0.14
    while y < h * 0.9:
        card = (w * 0.04, y, w * 0.96, y + h * 0.16)
        draw.rounded_rectangle(card, radius=int(w * 0.03), fill=(255, 255, 255), outline=(220, 220, 220))
        draw.rectangle((w * 0.07, y + h * 0.015, w * 0.37, y + h * 0.145),
                       fill=tuple(int(v) for v in rng.integers(60, 200, 3)))
        draw.text((w * 0.41, y + h * 0.02), _sentence(rng, 3), fill=(20, 20, 20), font=_font(max(9, h // 60)))
        draw.text((w * 0.41, y + h * 0.06), f"Rs {int(rng.integers(2, 9))}.{int(rng.integers(0, 99))} lakh",
                  fill=accent, font=_font(max(9, h // 55)))
        draw.rounded_rectangle((w * 0.41, y + h * 0.1, w * 0.7, y + h * 0.135), radius=6, fill=accent)
        y += h * 0.19
    return img


def logo(seed: int, size: tuple[int, int] = (500, 500)) -> Image.Image:
    """A dealer's logo: flat shapes and a word on a plain background."""
    rng = np.random.default_rng(seed)
    w, h = size
    img = Image.new("RGB", size, tuple(int(v) for v in rng.integers(200, 256, 3)))
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(1, 4))):
        x0, y0 = rng.uniform(0.1, 0.5) * w, rng.uniform(0.1, 0.4) * h
        box = (x0, y0, x0 + rng.uniform(0.2, 0.45) * w, y0 + rng.uniform(0.2, 0.45) * h)
        fill = tuple(int(v) for v in rng.integers(0, 220, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill)
    draw.text((w * 0.1, h * 0.75), "AUTO HUB", fill=(10, 10, 10), font=_font(max(12, h // 8)))
    return img


def graphics(seeds: range) -> dict[str, Image.Image]:
    """One document, screenshot and logo per seed, named ``kind-seed``."""
    out: dict[str, Image.Image] = {}
    for s in seeds:
        out[f"document-{s}"] = document(s)
        out[f"screenshot-{s}"] = screenshot(s)
        out[f"logo-{s}"] = logo(s)
    return out


#: scikit-image's bundled photographs of the real world (colour and grey), by name
PHOTO_NAMES = ("astronaut", "rocket", "coffee", "chelsea", "cat", "camera", "brick", "grass", "gravel",
               "hubble_deep_field", "immunohistochemistry", "coins")
#: scikit-image's bundled graphics: its logo and a text sample
GRAPHIC_NAMES = ("logo", "text")


def skimage_image(name: str) -> Image.Image:
    """One of scikit-image's bundled images as an RGB Pillow image (RGBA composited on white)."""
    from skimage import data

    arr = np.asarray(getattr(data, name)())
    if arr.ndim == 3 and arr.shape[2] == 4:
        rgba = Image.fromarray(arr, "RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return Image.fromarray(arr).convert("RGB")
