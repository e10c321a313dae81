"""Thumbnails for the review page, built once per photo and cached on disk by content (sha256) and size."""

from __future__ import annotations

import hashlib
import io
import logging
import os
from pathlib import Path

from PIL import Image

from carid.images import to_rgb
from carid.paths import cache_dir

log = logging.getLogger(__name__)
SIZE = (240, 180)


def default_folder() -> Path:
    """``<carid cache>/thumbs`` (``CARID_CACHE_DIR`` overrides the cache folder)."""
    return cache_dir() / "thumbs"


class ThumbCache:
    """JPEG thumbnails keyed by the photo's sha256: the same bytes always give the same thumbnail."""

    def __init__(self, folder: Path | None = None, size: tuple[int, int] = SIZE, quality: int = 80) -> None:
        # v2: thumbnails upright and on white (carid.images.to_rgb); v1 ones, made without that, are not reused
        self.folder = (folder or default_folder()) / f"{size[0]}x{size[1]}-v2"
        self.size = size
        self.quality = quality

    def path_for(self, sha256: str) -> Path:
        return self.folder / sha256[:2] / f"{sha256}.jpg"

    def get(self, sha256: str, source: Path) -> bytes | None:
        """The thumbnail of ``source`` (which must hash to ``sha256``); None if it is missing, changed or unreadable."""
        cached = self.path_for(sha256)
        try:
            return cached.read_bytes()
        except FileNotFoundError:
            pass
        data = self.build(sha256, source)
        if data is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_name(f".{cached.name}.{os.getpid()}.part")
            tmp.write_bytes(data)
            os.replace(tmp, cached)
        return data

    def build(self, sha256: str, source: Path) -> bytes | None:
        try:
            raw = source.read_bytes()
        except OSError as exc:
            log.warning("thumbnail of %s: cannot read %s (%s)", sha256[:12], source, exc.strerror)
            return None
        if hashlib.sha256(raw).hexdigest() != sha256:
            log.warning("thumbnail of %s: %s no longer holds the photo the manifest lists", sha256[:12], source)
            return None
        try:
            with Image.open(io.BytesIO(raw)) as img:
                img.draft("RGB", self.size)  # JPEG: decode at 1/2, 1/4 or 1/8 scale when that still covers the size
                small = to_rgb(img)  # upright, transparency on white: as every stage sees the photo
                small.thumbnail(self.size, Image.Resampling.BILINEAR)
                out = io.BytesIO()
                small.save(out, "JPEG", quality=self.quality)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            log.warning("thumbnail of %s: %s is unreadable (%s)", sha256[:12], source, exc)
            return None
        return out.getvalue()


def verified_photo(sha256: str, source: Path) -> bytes | None:
    """The bytes of ``source`` if they still hash to ``sha256`` (the manifest's promise), else None."""
    try:
        raw = source.read_bytes()
    except OSError:
        return None
    return raw if hashlib.sha256(raw).hexdigest() == sha256 else None
