"""Listing titles written the way sellers write them, traps included."""

from __future__ import annotations

import random

_MAKERS = ("Maruti Suzuki", "Maruti", "Suzuki", "MARUTI SUZUKI", "maruti", "")
_NAMES: dict[str, tuple[str, ...]] = {
    "swift": ("Swift", "SWIFT", "swift", "Swift", "Swift"),
    "wagonr": ("Wagon R", "WagonR", "Wagon-R", "WAGON R", "wagon r", "Wagonr", "Wagon R Stingray",
               "WagonR Stingray", "Stingray"),
    "dzire": ("Swift Dzire", "Swift DZire", "SWIFT DZIRE", "Dzire", "swift dzire", "Swift Dzire Tour"),
    "alto": ("Alto 800", "Alto K10", "Alto", "ALTO LXI"),
    "baleno": ("Baleno", "BALENO", "Baleno RS"),
    "celerio": ("Celerio", "CELERIO", "Celerio X"),
}
_TRIMS: dict[str, tuple[str, ...]] = {
    "swift": ("LXI", "VXI", "ZXI", "VDI", "ZDI", "ZXI Plus", "VXi AMT", "LDi", "Deca", "1.2 VXI"),
    "wagonr": ("LXI", "VXI", "VXI+", "LXI CNG", "1.0 VXI", "ZXI AMT", "VXi (O)", "Duo"),
    "dzire": ("VDI", "VXI", "ZDI", "LDI", "ZXI AMT"),
    "alto": ("LXI", "VXI", "STD", "LXi CNG"),
    "baleno": ("Delta", "Zeta", "Alpha", "Sigma"),
    "celerio": ("VXI", "ZXI", "LXI AMT"),
}
_EXTRAS = ("", "", "", "", "diesel", "petrol", "CNG", "single owner", "1st owner", "- well maintained",
           "(good condition)", "urgent sale", "top model")


def make_title(model: str, year: int, rng: random.Random) -> str:
    """A seller-style title for ``model`` (one of ``specs.CAR_MODELS``)."""
    maker = rng.choice(_MAKERS)
    name = rng.choice(_NAMES[model])
    trim = rng.choice(_TRIMS[model]) if rng.random() < 0.85 else ""
    extra = rng.choice(_EXTRAS)
    year_s = str(year)
    body = " ".join(p for p in (maker, name, trim) if p)
    style = rng.random()
    if style < 0.45:
        title = f"{year_s} {body}"
    elif style < 0.85:
        title = f"{body} {year_s}"
    else:
        title = body
    if extra:
        title = f"{title} {extra}"
    return " ".join(title.split())
