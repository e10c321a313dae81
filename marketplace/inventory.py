"""The demo marketplace's inventory: listings and photos, generated from a seed.

Nothing here renders or serves; it decides what exists. Everything is drawn
from ``random.Random`` instances seeded from the params, so the same params
always give the same inventory.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from carid.params import MarketplaceParams
from marketplace.specs import JUNK_KINDS, REUPLOAD_VARIANTS, Listing, PhotoSpec
from marketplace.titles import make_title

MAIN_REGIONS: tuple[str, ...] = ("delhi", "uttar-pradesh", "maharashtra")
HYDERABAD = "hyderabad"

#: Share of listings per model on the main site and on the Hyderabad site.
_MODEL_MIX_MAIN = {"swift": 0.36, "wagonr": 0.36, "dzire": 0.08, "alto": 0.07, "baleno": 0.07, "celerio": 0.06}
_MODEL_MIX_HYD = {"swift": 0.40, "wagonr": 0.40, "dzire": 0.07, "alto": 0.05, "baleno": 0.04, "celerio": 0.04}
_JUNK_RATE = 0.09  # interiors, close-ups, documents, scenery
_OTHER_MODEL_RATE = 0.01  # a photo of a different car in the gallery
#: Label noise between the two target models: a Swift listing's photo that shows a WagonR (and the reverse), as a
#: dealer's gallery mixes in a shot of another car on the lot. Drawn from its own per-photo generator, so adding it
#: left every other draw of the inventory as it was.
_SWAPPED_RATE = 0.03
_TARGETS = ("swift", "wagonr")
_REUPLOAD_RATE = 0.06  # a photo re-uploaded from an earlier listing (exact or altered; one of REUPLOAD_VARIANTS)
_FUELS = ("Petrol", "Diesel", "CNG")


def _seed_of(*parts: object) -> int:
    """A stable 63-bit seed from parts (``hash()`` is salted per process, so not that)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def photo_token(seed: int, photo_id: str) -> str:
    """The opaque name a photo is served under."""
    return hashlib.sha1(f"{seed}:{photo_id}".encode()).hexdigest()[:20]


def draw_gallery(rng: random.Random, listing_id: str, model: str, models: Sequence[str],
                 pool: dict[str, list[PhotoSpec]], seed: int, style: str, difficulty: float,
                 swapped_rate: float = 0.0) -> list[PhotoSpec]:
    """One listing's 3-8 photos, drawn from ``rng``: re-uploads of earlier photos of the same model (``pool``,
    which gains this listing's originals), junk, a photo of another model, and (``swapped_rate``) a photo of the
    other target model, drawn from its own per-photo generator so that it moves no other draw. Every site's
    inventory draws its galleries here, so the sites share one mix of rates."""
    photos: list[PhotoSpec] = []
    for k in range(rng.randint(3, 8)):
        photo_id = f"{listing_id}-{k}"
        roll = rng.random()
        earlier = pool.get(model, [])
        if earlier and roll < _REUPLOAD_RATE:
            src = rng.choice(earlier)
            spec = PhotoSpec(photo_id, src.model, src.junk, src.scene_seed, src.dup_group,
                             rng.choice(REUPLOAD_VARIANTS), src.style, src.difficulty)
        else:
            junk = ""
            shown = model
            if roll < _REUPLOAD_RATE + _JUNK_RATE:
                junk = rng.choice(JUNK_KINDS)
            elif roll < _REUPLOAD_RATE + _JUNK_RATE + _OTHER_MODEL_RATE:
                shown = rng.choice([m for m in models if m != model])
            elif (swapped_rate and model in _TARGETS
                  and random.Random(_seed_of(seed, "swap", photo_id)).random() < swapped_rate):
                shown = _TARGETS[1 - _TARGETS.index(model)]
            spec = PhotoSpec(photo_id, shown, junk, _seed_of(seed, "scene", photo_id), photo_id, "original", style,
                             difficulty)
            pool.setdefault(model, []).append(spec)
        photos.append(spec)
    return photos


@dataclass(frozen=True)
class Inventory:
    """All listings of both sites for one set of marketplace params."""

    params: MarketplaceParams

    @cached_property
    def listings(self) -> tuple[Listing, ...]:
        out: list[Listing] = []
        for region in MAIN_REGIONS:
            out.extend(self._site_listings("main", region, self.params.listings_per_region, _MODEL_MIX_MAIN))
        out.extend(self._site_listings("hyderabad", HYDERABAD, self.params.hyderabad_listings, _MODEL_MIX_HYD))
        return tuple(out)

    @cached_property
    def by_id(self) -> dict[str, Listing]:
        return {lst.listing_id: lst for lst in self.listings}

    @cached_property
    def photos_by_token(self) -> dict[str, PhotoSpec]:
        return {photo_token(self.params.seed, p.photo_id): p for lst in self.listings for p in lst.photos}

    def region_listings(self, region: str) -> tuple[Listing, ...]:
        return tuple(lst for lst in self.listings if lst.region == region)

    def _site_listings(self, site: str, region: str, count: int, mix: dict[str, float]) -> list[Listing]:
        seed = self.params.seed
        rng = random.Random(_seed_of(seed, "listings", region))
        models, weights = zip(*mix.items(), strict=True)
        # Re-uploads draw from earlier photos of the same site region, like a dealer reusing shots.
        pool: dict[str, list[PhotoSpec]] = {}
        listings: list[Listing] = []
        prefix = {"delhi": "DL", "uttar-pradesh": "UP", "maharashtra": "MH", "hyderabad": "HY"}[region]
        for n in range(count):
            model = rng.choices(models, weights)[0]
            year = rng.randint(2008, 2023)
            listing_id = f"{prefix}{seed % 1000:03d}{n:05d}"
            photos = draw_gallery(rng, listing_id, model, models, pool, seed, site, self.params.difficulty,
                                  swapped_rate=_SWAPPED_RATE)
            listings.append(Listing(
                listing_id=listing_id, site=site, region=region, model=model,
                title=make_title(model, year, rng), year=year, km=rng.randrange(5_000, 180_000, 500),
                price=rng.randrange(150_000, 900_000, 5_000), fuel=rng.choice(_FUELS), photos=tuple(photos),
            ))
        return listings
