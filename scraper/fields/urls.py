"""Image URLs in the forms real pages use: ``srcset``, ``<picture><source>``, ``background-image``,
lazy-loading attributes, relative and protocol-relative URLs, and regex rewrites (thumbnail -> full size).

Pure functions of strings and parsed tags. ``srcset`` and ``background-image`` are read by hand: no
well-kept library on PyPI parses a ``srcset`` alone, and a CSS parser (tinycss2, cssutils) for one
``url(...)`` in a ``style`` attribute would be more code around it than the regex below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from bs4 import Tag

#: Attributes that may hold a photo URL, in the order a lazy-loading page fills them: the real URL sits
#: in a ``data-*`` attribute while ``src`` holds a placeholder until the browser scrolls to it.
LAZY_ATTRS: tuple[str, ...] = ("data-src", "data-lazy", "data-lazy-src", "data-original", "data-srcset",
                               "srcset", "src")
_SRCSET_ATTRS = frozenset({"srcset", "data-srcset"})
_BACKGROUND = re.compile(r"""background(?:-image)?\s*:[^;]*?url\(\s*(['"]?)(.*?)\1\s*\)""", re.IGNORECASE)


@dataclass(frozen=True)
class Candidate:
    """One ``srcset`` entry: a URL and its width (``640w``) or density (``2x``) descriptor."""

    url: str
    width: int = 0  # 0: no width descriptor
    density: float = 1.0


@dataclass(frozen=True)
class Rewrite:
    """A regex replacement on a URL (``re.sub`` syntax: ``\\1`` in ``to`` is the first group)."""

    pattern: str
    to: str

    def apply(self, url: str) -> str:
        return re.sub(self.pattern, self.to, url)


def parse_srcset(value: str) -> list[Candidate]:
    """The candidates of a ``srcset``, after the HTML standard's parsing rules.

    A URL runs to the next white space (so commas inside it, as in ``/c_fill,w_700/car.jpg``, stay),
    a trailing comma ends it, and its descriptors run to the next comma.
    """
    out: list[Candidate] = []
    pos, n = 0, len(value)
    while pos < n:
        while pos < n and (value[pos].isspace() or value[pos] == ","):
            pos += 1
        start = pos
        while pos < n and not value[pos].isspace():
            pos += 1
        url = value[start:pos]
        if not url:
            break
        descriptors = ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            end = value.find(",", pos)
            end = n if end < 0 else end
            descriptors, pos = value[pos:end], end + 1
        width, density = 0, 1.0
        for token in descriptors.split():
            try:
                if token.endswith("w"):
                    width = int(token[:-1])
                elif token.endswith("x"):
                    density = float(token[:-1])
            except ValueError:
                continue  # a malformed descriptor: the URL still counts, at 1x
        if url:
            out.append(Candidate(url, width, density))
    return out


def largest(candidates: list[Candidate]) -> str | None:
    """The URL of the biggest candidate: widest by ``w`` descriptor, else highest density; first on ties."""
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c.width, c.density)).url


def background_url(style: str) -> str | None:
    """The URL in a ``style="background-image: url(...)"`` attribute, if any."""
    match = _BACKGROUND.search(style)
    return match.group(2).strip() if match and match.group(2).strip() else None


def usable(url: str | None) -> bool:
    """False for empty values and inline placeholders (``data:`` URIs, ``about:blank``, ``#``)."""
    if not url:
        return False
    url = url.strip()
    return bool(url) and not url.startswith(("data:", "about:", "javascript:", "#"))


def from_attribute(tag: Tag, attr: str) -> str | None:
    """A URL from one attribute: a ``srcset`` yields its largest candidate, ``style`` its background image."""
    raw = tag.get(attr)
    if raw is None:
        return None
    value = " ".join(raw) if isinstance(raw, list) else str(raw)
    if attr in _SRCSET_ATTRS:
        url = largest(parse_srcset(value))
    elif attr == "style":
        url = background_url(value)
    else:
        url = value.strip()
    return url if usable(url) else None


def image_url(tag: Tag, attrs: tuple[str, ...] | list[str] = LAZY_ATTRS) -> str | None:
    """The photo URL of an element: the first usable of ``attrs``; a ``<picture>`` (or an ``<img>`` inside
    one) yields the largest candidate over all of its ``<source srcset>``; any element falls back to a
    ``background-image`` in its ``style``."""
    picture = tag if tag.name == "picture" else tag.find_parent("picture") if tag.name == "img" else None
    if picture is not None:
        candidates: list[Candidate] = []
        for source in picture.find_all(["source", "img"]):
            for attr in ("srcset", "data-srcset"):
                if source.get(attr):
                    candidates += parse_srcset(str(source[attr]))
        best = largest([c for c in candidates if usable(c.url)])
        if best:
            return best
        img = picture.find("img") if tag.name == "picture" else tag
        if isinstance(img, Tag) and img is not tag:
            return image_url(img, attrs)
    for attr in attrs:
        url = from_attribute(tag, attr)
        if url:
            return url
    return from_attribute(tag, "style")


def absolute(url: str, base: str) -> str:
    """``url`` made absolute against the page's URL; protocol-relative ``//host/x`` takes the page's scheme."""
    return urljoin(base, url.strip())


def rewrite(url: str, rules: list[Rewrite] | tuple[Rewrite, ...]) -> str:
    """Apply every rewrite in order (thumbnail parameters -> the full-size photo)."""
    for rule in rules:
        url = rule.apply(url)
    return url
