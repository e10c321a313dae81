"""The answer key: the truth about every photo, for tests and evaluation reports only.

No pipeline stage reads this; it scores the scraper's labels and curation.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from tqdm import tqdm

from marketplace.carnest.inventory import CarnestInventory
from marketplace.carnest.photos import CarnestStore
from marketplace.inventory import Inventory, photo_token
from marketplace.render import body_colour
from marketplace.specs import Listing, PhotoSpec
from marketplace.store import PhotoStore


@dataclass(frozen=True)
class KeyRow:
    image_token: str  # the photo's file name stem in its URL
    sha256: str
    site: str
    region: str
    listing_id: str
    title: str
    listing_model: str  # what the listing is for
    true_model: str  # the car the photo shows ("" for junk)
    junk_kind: str  # "" | interior | wheel | lamp | document | scenery | other-model
    dup_group: str
    variant: str  # "original", or how this re-upload was changed from it (marketplace.specs.REUPLOAD_VARIANTS)
    body_colour: str  # the car's paint, e.g. white, red ("" for junk: no car body in view)
    colour_group: str  # white-silver-grey | other | "" (junk)
    # The listing's facts, as a scraper's manifest should carry them: rupees, model year, kilometres, fuel
    # (petrol | diesel | cng), transmission (manual | automatic) and city ("" where the listing has none). Fuel and
    # transmission are the lower-case canonical words the scraper writes, whatever case the site shows.
    price: int
    year: int
    km: int
    fuel: str
    transmission: str
    city: str


def _row(seed: int, lst: Listing, spec: PhotoSpec, data: bytes, transmission: str = "", city: str = "") -> KeyRow:
    junk = spec.junk or ("other-model" if spec.model != lst.model else "")
    paint = body_colour(spec)
    return KeyRow(
        image_token=photo_token(seed, spec.photo_id), sha256=hashlib.sha256(data).hexdigest(),
        site=lst.site, region=lst.region, listing_id=lst.listing_id, title=lst.title,
        listing_model=lst.model, true_model="" if spec.junk else spec.model, junk_kind=junk,
        dup_group=spec.dup_group, variant=spec.variant, body_colour=paint.name if paint else "",
        colour_group=paint.group if paint else "", price=lst.price, year=lst.year, km=lst.km, fuel=lst.fuel.lower(),
        transmission=transmission.lower(), city=city,
    )


def answer_rows(inventory: Inventory, store: PhotoStore, progress: bool = False) -> Iterator[KeyRow]:
    """The main and Hyderabad sites' photos (their listings have no transmission or city)."""
    photos = [(lst, p) for lst in inventory.listings for p in lst.photos]
    for lst, spec in tqdm(photos, desc="answer key", unit="photo", disable=not progress):
        yield _row(inventory.params.seed, lst, spec, store.get(spec))


def carnest_rows(inventory: CarnestInventory, store: CarnestStore, progress: bool = False) -> Iterator[KeyRow]:
    """Carnest's photos: the sha256 is the full photo's (not a thumbnail's)."""
    photos = [(car, p) for car in inventory.cars for p in car.listing.photos]
    for car, spec in tqdm(photos, desc="answer key (carnest)", unit="photo", disable=not progress):
        yield _row(inventory.params.seed, car.listing, spec, store.get(spec), car.transmission, car.city)


def write_answer_key(path: Path, rows: Iterator[KeyRow]) -> int:
    """Write the CSV atomically; returns the number of rows."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=[f.name for f in fields(KeyRow)], lineterminator="\n")
    writer.writeheader()
    n = 0
    for row in rows:
        writer.writerow(asdict(row))
        n += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    tmp.replace(path)
    return n
