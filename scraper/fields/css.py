"""CSS selection (BeautifulSoup + soupsieve) and text in pieces.

Text of an element is its pieces joined with spaces: ``<span>Maruti</span><span>Swift</span>`` reads
"Maruti Swift", not "MarutiSwift". Badges are removed by a CSS selector (``exclude``) before the text is
taken, or by regex ``drop`` patterns after.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence

from bs4 import BeautifulSoup, Tag
from soupsieve import SelectorSyntaxError


class SelectorError(ValueError):
    """A CSS selector soupsieve cannot parse; the message names it."""


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def select(node: Tag, selector: str, include_self: bool = False) -> list[Tag]:
    """Elements under ``node`` matching ``selector``, in document order; with ``include_self``, ``node``
    itself when nothing under it matches and it matches (a card that is itself the ``<a>``)."""
    try:
        found = list(node.select(selector))
        if not found and include_self and node.css.match(selector):
            found = [node]
    except SelectorSyntaxError as exc:
        raise SelectorError(f"bad CSS selector {selector!r}: {str(exc).splitlines()[0]}") from None
    return found


def check_selector(selector: str) -> None:
    """Raise :class:`SelectorError` unless ``selector`` compiles."""
    select(soup("<p></p>"), selector)


def clean(text: str, drop: Sequence[str] = ()) -> str:
    """``text`` without the ``drop`` patterns (regexes, case-insensitive), white space collapsed."""
    for pattern in drop:
        text = re.sub(pattern, " ", text, flags=re.IGNORECASE)
    return " ".join(text.split())


def text_of(tag: Tag, exclude: str | None = None, drop: Sequence[str] = ()) -> str:
    """The element's text, its pieces joined with spaces, without ``exclude`` descendants and ``drop``."""
    if exclude:
        bad = select(tag, exclude)
        if bad:
            tag = copy.copy(tag)  # never change the caller's tree
            for node in select(tag, exclude):
                node.decompose()
    return clean(tag.get_text(" "), drop)


def attribute(tag: Tag, names: Sequence[str]) -> str | None:
    """The first non-empty of the element's attributes ``names``."""
    for name in names:
        raw = tag.get(name)
        value = " ".join(raw) if isinstance(raw, list) else raw
        if value and value.strip():
            return value.strip()
    return None
