"""Validate downloaded image bodies and store them under their content hash.

File names come from the sha256 of the bytes and Pillow's idea of the format,
never from the URL or the server, so a hostile name cannot escape the folder.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import io
import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from carid.images import MAX_PIXELS  # the one pixel cap of every decode (decompression bombs)
from scraper.fetch import Retry

#: Pillow format -> stored file suffix: every format carid.images reads (HEIF comes from pillow-heif's opener,
#: registered on import of carid.images; AVIF is read by Pillow itself)
_EXT = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "BMP": "bmp", "TIFF": "tif", "AVIF": "avif",
        "HEIF": "heic"}


class Rejected(Exception):
    """A body that is not a usable photo and will not get better on retry."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}{': ' + detail if detail else ''}")
        self.reason = reason


@dataclass(frozen=True)
class ImageInfo:
    sha256: str
    ext: str
    width: int
    height: int
    size: int


def inspect_image(body: bytes, content_type: str, min_side: int) -> ImageInfo:
    """Check a body is a whole, sane image; raise :class:`Retry` or :class:`Rejected` if not."""
    if not content_type.lower().startswith("image/"):
        raise Retry("bad-content-type")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body)) as img:
                width, height = img.size
                if width * height > MAX_PIXELS:
                    raise Rejected("bomb", f"{width}x{height} pixels")
                fmt = img.format or ""
                # Draft mode decodes JPEGs at 1/8 scale: it still reads the whole stream, so a
                # truncated body fails here, at a fraction of the cost of a full decode.
                img.draft(img.mode, (max(1, width // 8), max(1, height // 8)))
                img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Rejected("bomb", str(exc).split(".")[0]) from None
    except (OSError, SyntaxError, ValueError):
        raise Retry("undecodable") from None
    if fmt not in _EXT:
        raise Rejected("unsupported-format", fmt or "unknown")
    if min(width, height) < min_side:
        raise Rejected("too-small", f"{width}x{height}")
    return ImageInfo(hashlib.sha256(body).hexdigest(), _EXT[fmt], width, height, len(body))


def clean_partials(folder: Path) -> int:
    """Remove temp files a killed run left behind (one writer per shard folder); returns how many."""
    stale = list(folder.glob(".part-*")) if folder.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def store_image(folder: Path, body: bytes, info: ImageInfo) -> Path:
    """Write ``body`` as ``<sha256>.<ext>`` atomically; idempotent.

    On Linux the bytes go into an unnamed file (``O_TMPFILE``) that is linked in whole
    once written: a run killed at any point leaves nothing, and it costs about what a
    plain write does. Elsewhere, or on a file system without ``O_TMPFILE``, a temp file
    and a rename. Plain ``os`` calls on string paths, not pathlib and a buffered file:
    this runs once per photo on the download threads, where every Python-level step is
    time the other threads wait for the GIL.
    """
    path = f"{folder}/{info.sha256}.{info.ext}"
    if not os.path.exists(path) and not _link_unnamed(folder, body, path):
        _write_and_rename(folder, body, info, path)
    return Path(path)


#: 0 where the platform has no O_TMPFILE (or /proc to link it through): then store_image renames.
_O_TMPFILE = getattr(os, "O_TMPFILE", 0) if os.path.isdir("/proc/self/fd") else 0
#: Errors of open(O_TMPFILE) on a file system that does not support it.
_NO_TMPFILE = (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL)


def _link_unnamed(folder: Path, body: bytes, path: str) -> bool:
    """Store ``body`` at ``path`` through an unnamed file; False where that is not possible here."""
    if not _O_TMPFILE:
        return False
    try:
        fd = _open(folder, str(folder), os.O_WRONLY | _O_TMPFILE)
    except OSError as exc:
        if exc.errno in _NO_TMPFILE:
            return False
        raise
    try:
        _write_all(fd, body)
        # os.link only passes AT_SYMLINK_FOLLOW to linkat when given a dir fd (ignored for an
        # absolute path): without it the kernel would try to link the /proc symlink itself.
        with contextlib.suppress(FileExistsError):  # another thread stored the same photo first
            os.link(f"/proc/self/fd/{fd}", path, src_dir_fd=_root_fd())
    finally:
        os.close(fd)
    return True


@functools.cache
def _root_fd() -> int:
    return os.open("/", os.O_RDONLY)


def _write_and_rename(folder: Path, body: bytes, info: ImageInfo, path: str) -> None:
    """The portable way: a temp file named by content and thread (two writers never share one), renamed."""
    tmp = f"{folder}/.part-{info.sha256[:16]}-{os.getpid()}-{threading.get_ident()}"
    fd = _open(folder, tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        try:
            _write_all(fd, body)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _open(folder: Path, target: str, flags: int) -> int:
    """``os.open`` that creates ``folder`` on first use."""
    try:
        return os.open(target, flags, 0o666)
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
        return os.open(target, flags, 0o666)


def _write_all(fd: int, body: bytes) -> None:
    view = memoryview(body)
    while view:
        view = view[os.write(fd, view):]
