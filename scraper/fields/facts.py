"""Listing facts (price, year, kilometres, fuel, transmission, city) from the text a site shows.

Hand-written: the forms are Indian-market ones ("Rs 5,65,000", "₹5.65 Lakh", "1.2 lakh km", "AMT") that
no general library reads. Numbers become integers, fuel and transmission one of a few canonical words,
anything else stays the site's own text; a value that cannot be read is empty, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Literal

FactName = Literal["price", "year", "km", "fuel", "transmission", "city"]
FACT_NAMES: tuple[FactName, ...] = ("price", "year", "km", "fuel", "transmission", "city")

_NUMBER = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(lakhs?|lacs?|l\b|crores?|cr\b|k\b)?", re.IGNORECASE)
_SCALE = {"l": 100_000, "cr": 10_000_000, "k": 1_000}  # lakh / lac, crore, thousand
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")
_FUELS = {"petrol": "petrol", "gasoline": "petrol", "diesel": "diesel", "cng": "cng", "lpg": "lpg",
          "electric": "electric", "ev": "electric", "hybrid": "hybrid"}
_GEARS = {"manual": "manual", "mt": "manual", "automatic": "automatic", "auto": "automatic", "at": "automatic",
          "amt": "automatic", "cvt": "automatic", "dct": "automatic", "ags": "automatic"}


@dataclass(frozen=True)
class Facts:
    """What a card says about the car; None / "" where the site shows nothing readable."""

    price: int | None = None  # in the site's currency units (rupees on Indian sites)
    year: int | None = None
    km: int | None = None
    fuel: str = ""
    transmission: str = ""
    city: str = ""

    def as_row(self) -> dict[str, str]:
        """Manifest cells: numbers as digits, empty where unknown."""
        return {f.name: "" if getattr(self, f.name) is None else str(getattr(self, f.name)) for f in fields(self)}


def number(text: str) -> int | None:
    """The first amount in ``text``: ``5,65,000`` -> 565000, ``5.65 Lakh`` -> 565000, ``1.2 Cr``, ``12k``."""
    match = _NUMBER.search(text)
    if not match:
        return None
    digits, unit = match.group(1).replace(",", ""), (match.group(2) or "").lower()
    scale = next((v for k, v in _SCALE.items() if unit.startswith(k)), 1) if unit else 1
    try:
        return round(float(digits) * scale)
    except ValueError:
        return None


def year(text: str) -> int | None:
    """A model year, 1950-2099, standing alone in ``text`` (not part of a longer number)."""
    match = _YEAR.search(text)
    return int(match.group(1)) if match else None


def _word(text: str, table: dict[str, str]) -> str:
    for token in re.findall(r"[a-z]+", text.lower()):
        if token in table:
            return table[token]
    return " ".join(text.split())


def fuel(text: str) -> str:
    return _word(text, _FUELS)


def transmission(text: str) -> str:
    return _word(text, _GEARS)


def facts_from_text(values: dict[str, str]) -> Facts:
    """Facts from the raw text each fact's rule found (missing keys: unknown)."""
    def text(name: str) -> str:
        return " ".join(values.get(name, "").split())

    return Facts(
        price=number(text("price")) if text("price") else None,
        year=year(text("year")) if text("year") else None,
        km=number(text("km")) if text("km") else None,
        fuel=fuel(text("fuel")) if text("fuel") else "",
        transmission=transmission(text("transmission")) if text("transmission") else "",
        city=text("city"),
    )
