"""Carnest's inventory: Pune listings with structured titles and a full set of facts, from a seed.

Like :mod:`marketplace.inventory` it decides what exists and renders nothing.
Carnest is a modern site, so its listings are structured (make, model,
variant, transmission, locality) and its title comes in two pieces: the
heading ``2021 Maruti Swift`` and the variant ``VXI AMT``. Its photos use the
``carnest`` style (see :mod:`marketplace.carnest.photos`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cached_property

from carid.params import MarketplaceParams
from marketplace.inventory import _seed_of, draw_gallery, photo_token
from marketplace.specs import Listing, PhotoSpec

SITE = "carnest"
REGION = "pune"
CITY = "Pune"
STYLE = "carnest"
LOCALITIES = ("Kothrud", "Baner", "Hinjewadi", "Wakad", "Viman Nagar", "Hadapsar", "Aundh", "Kharadi",
              "Pimpri", "Magarpatta", "Shivajinagar", "Katraj")
#: Where each listing's detail page keeps its gallery (see the app and the site note).
GALLERY_KINDS = ("ld", "state", "js")

# Same mix and rates as the Hyderabad site: a small regional market of mostly Swifts and WagonRs.
_MODEL_MIX = {"swift": 0.38, "wagonr": 0.38, "dzire": 0.08, "alto": 0.06, "baleno": 0.05, "celerio": 0.05}
# (junk, other-model and re-upload rates: the shared gallery draw's, marketplace.inventory.draw_gallery)
_MAKES = ("Maruti Suzuki", "Maruti Suzuki", "Maruti")
#: Model names as a catalogue-driven site writes them: clean, but the traps stay (a Dzire is a sedan).
_NAMES: dict[str, tuple[str, ...]] = {
    "swift": ("Swift",), "wagonr": ("Wagon R", "WagonR", "Wagon R Stingray"),
    "dzire": ("Swift Dzire", "Dzire"), "alto": ("Alto 800", "Alto K10"), "baleno": ("Baleno",),
    "celerio": ("Celerio",),
}
_VARIANTS: dict[str, tuple[str, ...]] = {
    "swift": ("LXI", "VXI", "ZXI", "VDI", "ZDI", "ZXI Plus", "VXI AMT", "ZXI AMT"),
    "wagonr": ("LXI", "VXI", "LXI CNG", "VXI AMT", "ZXI", "VXI Plus"),
    "dzire": ("VXI", "ZXI", "VDI", "ZDI AMT"),
    "alto": ("LXI", "VXI", "LXI CNG"),
    "baleno": ("Delta", "Zeta", "Alpha", "Sigma"),
    "celerio": ("VXI", "ZXI", "ZXI AMT"),
}
_NO_VARIANT_RATE = 0.1  # the card shows no variant line
_GLUED_RATE = 0.35  # the heading is word spans with no spaces between them
_SPONSORED_RATE = 0.15  # a "Sponsored" badge inside the heading


def listing_count(params: MarketplaceParams) -> int:
    """How many Carnest listings the params ask for (``marketplace.carnest_listings``)."""
    return params.carnest_listings


@dataclass(frozen=True)
class Car:
    """One Carnest listing: the shared :class:`Listing` record plus what this site shows beside it."""

    listing: Listing  # title = heading + " " + variant (the answer key's title)
    make: str  # as shown: "Maruti Suzuki" | "Maruti"
    model_name: str  # as shown: "Swift", "Wagon R", "Swift Dzire", ...
    variant: str  # "" when the card shows none
    transmission: str  # Manual | Automatic
    locality: str  # a Pune neighbourhood
    glued: bool  # heading drawn as word spans without spaces
    sponsored: bool  # a "Sponsored" badge inside the heading
    gallery_kind: str  # one of GALLERY_KINDS

    @property
    def listing_id(self) -> str:
        return self.listing.listing_id

    @property
    def heading(self) -> str:
        """The heading piece of the title: ``2021 Maruti Swift``."""
        return f"{self.listing.year} {self.make} {self.model_name}"

    @property
    def city(self) -> str:
        return CITY


def _fuel(variant: str) -> str:
    if "CNG" in variant:
        return "CNG"
    if variant.split(" ")[0].endswith("DI"):  # VDI, ZDI, LDI: the diesel trims
        return "Diesel"
    return "Petrol"


@dataclass(frozen=True)
class CarnestInventory:
    """All Carnest listings for one set of marketplace params (``listings`` overrides the size)."""

    params: MarketplaceParams
    listings_override: int | None = None

    @property
    def size(self) -> int:
        return self.listings_override or listing_count(self.params)

    @cached_property
    def cars(self) -> tuple[Car, ...]:
        seed = self.params.seed
        rng = random.Random(_seed_of(seed, "listings", SITE, REGION))
        models, weights = zip(*_MODEL_MIX.items(), strict=True)
        pool: dict[str, list[PhotoSpec]] = {}
        cars: list[Car] = []
        for n in range(self.size):
            model = rng.choices(models, weights)[0]
            year = rng.randint(2010, 2024)
            listing_id = f"PN{seed % 1000:03d}{n:05d}"
            photos = draw_gallery(rng, listing_id, model, models, pool, seed, STYLE, self.params.difficulty)
            make = rng.choice(_MAKES)
            name = rng.choice(_NAMES[model])
            variant = "" if rng.random() < _NO_VARIANT_RATE else rng.choice(_VARIANTS[model])
            transmission = "Automatic" if "AMT" in variant else "Manual"
            heading = f"{year} {make} {name}"
            listing = Listing(
                listing_id=listing_id, site=SITE, region=REGION, model=model,
                title=f"{heading} {variant}".strip(), year=year, km=rng.randrange(3_000, 160_000, 500),
                price=rng.randrange(180_000, 950_000, 5_000), fuel=_fuel(variant), photos=tuple(photos),
            )
            cars.append(Car(
                listing=listing, make=make, model_name=name, variant=variant, transmission=transmission,
                locality=rng.choice(LOCALITIES), glued=rng.random() < _GLUED_RATE,
                sponsored=rng.random() < _SPONSORED_RATE,
                gallery_kind=rng.choices(GALLERY_KINDS, (0.45, 0.30, 0.25))[0],
            ))
        return tuple(cars)

    @cached_property
    def listings(self) -> tuple[Listing, ...]:
        return tuple(car.listing for car in self.cars)

    @cached_property
    def by_id(self) -> dict[str, Car]:
        return {car.listing_id: car for car in self.cars}

    @cached_property
    def photos_by_token(self) -> dict[str, PhotoSpec]:
        return {photo_token(self.params.seed, p.photo_id): p for car in self.cars for p in car.listing.photos}
