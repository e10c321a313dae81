"""Records that describe the demo marketplace's inventory.

Everything here is plain data: the inventory generator builds these records
from a seed, the renderer turns a :class:`PhotoSpec` into JPEG bytes and the
web apps turn :class:`Listing` records into pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Models a listing can be for. Only ``swift`` and ``wagonr`` are targets;
#: the rest are traps and distractors (``dzire`` is the Swift Dzire sedan).
CAR_MODELS: tuple[str, ...] = ("swift", "wagonr", "dzire", "alto", "baleno", "celerio")

#: Kinds of junk photo a seller uploads beside the car shots.
JUNK_KINDS: tuple[str, ...] = ("interior", "wheel", "lamp", "document", "scenery")

#: How a re-uploaded photo was changed from the original of its duplicate group: the same bytes, a new
#: JPEG quality, smaller, a 3-6% crop, a watermark; brightness and contrast, saturation, hue, a
#: black-and-white filter (photometric edits), a crop of 10-20% per side, a dealer's frame.
REUPLOAD_VARIANTS: tuple[str, ...] = ("exact", "reencode", "resize", "crop", "watermark", "brightness", "saturation",
                                      "hue", "grayscale", "heavy-crop", "frame")
#: How a photo relates to the original of its duplicate group.
VARIANTS: tuple[str, ...] = ("original", *REUPLOAD_VARIANTS)

#: Photo styles: one per site (camera, backgrounds, watermark differ).
STYLES: tuple[str, ...] = ("main", "hyderabad")


@dataclass(frozen=True)
class PhotoSpec:
    """Everything the renderer needs to draw one photo, deterministically.

    ``scene_seed`` fixes the scene (body colour, viewpoint, background, ...);
    two specs with the same ``scene_seed`` and ``model``/``junk`` show the same
    scene, and ``variant`` says how this copy was altered from the original.
    """

    photo_id: str
    model: str  # one of CAR_MODELS: the car the photo shows (for junk: the listing's car)
    junk: str  # "" for a real exterior shot of ``model``, else one of JUNK_KINDS
    scene_seed: int
    dup_group: str  # photos sharing a group show the same scene
    variant: str  # one of VARIANTS
    style: str  # one of STYLES
    difficulty: float  # 0 (easy) .. 1 (hard)

    @property
    def is_junk(self) -> bool:
        return self.junk != ""


@dataclass(frozen=True)
class Listing:
    """One used-car advert."""

    listing_id: str
    site: str  # "main" | "hyderabad"
    region: str  # "delhi" | "uttar-pradesh" | "maharashtra" | "hyderabad"
    model: str  # true model, one of CAR_MODELS
    title: str
    year: int
    km: int
    price: int  # rupees
    fuel: str
    photos: tuple[PhotoSpec, ...] = field(default_factory=tuple)
