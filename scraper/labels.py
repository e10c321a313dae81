"""Listing title -> label: swift | wagonr | other | unknown.

Hand-written rules (no library parses Indian used-car titles): sellers write
"Wagon R", "WagonR", "Wagon-R", "Stingray" (a WagonR trim) and "Swift Dzire"
(a sedan, not a Swift), so the order of the checks matters: other Maruti
models are recognised first, then WagonR, then Swift.

Titles assembled from pieces can arrive glued ("MarutiSwift" from ``<span>Maruti</span><span>Swift</span>``
read without spaces, "Swift2016"): a lower-case letter followed by a capital, and a four-digit year touching
letters, are split before matching. A camel-case model name still matches after the split ("WagonR" reads
"Wagon R", which the WagonR rule accepts).
"""

from __future__ import annotations

import re
from typing import Literal

Label = Literal["swift", "wagonr", "other", "unknown"]
LABELS: tuple[Label, ...] = ("swift", "wagonr", "other", "unknown")

_OTHER = re.compile(
    r"\b(d\s*-?\s*zire|alto|baleno|celerio|ertiga|brezza|ciaz|ignis|s\s*-?\s*presso|eeco|ritz|zen|omni|"
    r"esteem|gypsy|xl6|fronx|grand\s+vitara|kwid|i10|i20|santro|tiago)\b",
    re.IGNORECASE,
)
_WAGONR = re.compile(r"\b(wagon\s*-?\s*r|wagonr|wagnor|stingray)\b", re.IGNORECASE)
_SWIFT = re.compile(r"\bswift\b", re.IGNORECASE)
_GLUED = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=(?:19|20)\d\d\b)|(?<=\b(?:19|20)\d\d)(?=[A-Za-z])")


def unglue(title: str) -> str:
    """Spaces where pieces of a title were glued together: "2021MarutiSwift" -> "2021 Maruti Swift"."""
    return _GLUED.sub(" ", title)


def label_from_title(title: str) -> Label:
    """The model a listing is for, judged from its title alone."""
    title = unglue(title)
    if _OTHER.search(title):
        return "other"
    if _WAGONR.search(title):
        return "wagonr"
    if _SWIFT.search(title):
        return "swift"
    return "unknown"
