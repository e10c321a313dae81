"""Rendered photos, cached on disk so serving is never the scraper's bottleneck.

The cache key covers the photo spec and the renderer's own source, so editing
the renderer invalidates old renders instead of serving stale bytes.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import tempfile
from dataclasses import astuple
from functools import lru_cache
from pathlib import Path

import marketplace.render as render
from carid.paths import cache_dir
from marketplace.specs import PhotoSpec


@lru_cache(maxsize=1)
def _renderer_fingerprint() -> str:
    return hashlib.sha256(inspect.getsource(render).encode()).hexdigest()[:16]


class PhotoStore:
    """JPEG bytes per photo spec: memory LRU in front of a disk cache in front of the renderer."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or cache_dir() / "photos") / _renderer_fingerprint()
        self.root.mkdir(parents=True, exist_ok=True)
        self._memo = lru_cache(maxsize=4096)(self._get)

    def _key(self, spec: PhotoSpec) -> str:
        return hashlib.sha256(repr(astuple(spec)).encode()).hexdigest()[:32]

    def _get(self, spec: PhotoSpec) -> bytes:
        path = self.root / f"{self._key(spec)}.jpg"
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        data = render.render_photo(spec)
        fd, tmp = tempfile.mkstemp(dir=self.root, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)  # atomic: concurrent renderers of one photo write identical bytes
        return data

    def get(self, spec: PhotoSpec) -> bytes:
        return self._memo(spec)
