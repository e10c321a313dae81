"""A self-contained HTML page of the photos the classifier got wrong, most confident mistakes first."""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path, PurePath
from urllib.parse import quote

__all__ = ["GalleryItem", "write_misclassified_gallery"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; background: #fafafa; color: #222; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 1rem; }
figure { margin: 0; padding: .5rem; background: #fff; border: 1px solid #ddd; border-radius: 6px; }
img { width: 100%; height: 180px; object-fit: contain; background: #eee; }
figcaption { font-size: .85rem; line-height: 1.35; word-break: break-all; }
.wrong { color: #b00020; font-weight: 600; }
"""


@dataclass(frozen=True)
class GalleryItem:
    """One evaluated photo: its labels, the probability given to the predicted label, and its region."""

    image_path: Path
    true_label: str
    predicted_label: str
    prob_predicted: float
    region: str

    def __post_init__(self) -> None:
        try:
            p = float(self.prob_predicted)
        except (TypeError, ValueError):
            p = math.nan
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"prob_predicted must be within [0, 1], got {self.prob_predicted!r}")


def write_misclassified_gallery(path: Path, rows: Sequence[GalleryItem], title: str, max_items: int = 200) -> int:
    """Write the gallery of misclassified ``rows`` to ``path``; return how many photos it shows.

    Rows whose predicted label equals the true label are left out. Image ``src`` attributes are relative to the
    page's folder, so the page keeps working wherever the folder tree is moved. Written atomically.
    """
    if max_items < 0:
        raise ValueError(f"max_items must be >= 0, got {max_items}")
    path = Path(path)
    wrong = [r for r in rows if r.true_label != r.predicted_label]
    wrong.sort(key=lambda r: (-float(r.prob_predicted), Path(r.image_path).name, str(r.image_path)))
    shown = wrong[:max_items]
    _write_atomic(path, _render(path.parent, shown, len(wrong), title))
    return len(shown)


def _render(folder: Path, items: Sequence[GalleryItem], total: int, title: str) -> str:
    t = escape(title)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8">',
        f"<title>{t}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{t}</h1>",
    ]
    if total == 0:
        parts.append("<p>No misclassified photos.</p>")
    else:
        parts.append(f"<p>Showing {len(items)} of {total} misclassified photos, most confident mistakes first.</p>")
        parts.append('<div class="grid">')
        parts.extend(_figure(folder, item) for item in items)
        parts.append("</div>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def _figure(folder: Path, item: GalleryItem) -> str:
    name = escape(Path(item.image_path).name)
    prob = f"{float(item.prob_predicted):.3f}"
    return (
        "<figure>"
        f'<img src="{escape(_src(folder, Path(item.image_path)))}" alt="{name}" loading="lazy">'
        "<figcaption>"
        f"true: <b>{escape(item.true_label)}</b><br>"
        f'predicted: <span class="wrong">{escape(item.predicted_label)}</span> (p={prob})<br>'
        f"region: {escape(item.region)}<br>"
        f"file: {name}"
        "</figcaption>"
        "</figure>"
    )


def _src(folder: Path, image: Path) -> str:
    """A URL for ``image`` relative to ``folder``, percent-encoded so #, ?, % and spaces survive."""
    try:
        rel = os.path.relpath(image, folder)
    except ValueError:  # another drive on Windows: fall back to an absolute file URL
        return image.resolve().as_uri()
    return quote(PurePath(rel).as_posix(), safe="/")


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; a report page is for everyone
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
