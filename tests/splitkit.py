"""Generated accepted photos for split tests: listings of 1-8 photos, a few duplicate clusters across listings."""

from __future__ import annotations

import hashlib

import numpy as np

from splitting.records import Photo

REGIONS = ("delhi", "uttar-pradesh", "maharashtra")


def generated(n_listings: int, seed: int, site: str = "gaadibazaar", cross_links: float = 0.005,
              max_photos: int = 8, prefix: str = "") -> list[Photo]:
    """Photos of ``n_listings`` listings (label and region per listing). With probability ``cross_links`` a photo
    joins the duplicate cluster of an earlier photo of the same label in another listing."""
    rng = np.random.default_rng(seed)
    photos: list[Photo] = []
    for li in range(n_listings):
        label = ("swift", "wagonr")[int(rng.integers(2))]
        region = REGIONS[int(rng.integers(3))] if site == "gaadibazaar" else "hyderabad"
        for k in range(int(rng.integers(1, max_photos + 1))):
            sha = hashlib.sha256(f"{prefix}{seed}/{li}/{k}".encode()).hexdigest()
            cluster = f"c{prefix}{li}-{k}"
            same = [p for p in photos[-200:] if p.label == label and p.listing_id != f"L{li}"]
            if same and rng.random() < cross_links:
                cluster = same[int(rng.integers(len(same)))].cluster_id
            photos.append(Photo(sha, f"data/raw/{site}/{region}/images/{sha}.jpg", label, site, region,
                                f"{prefix}L{li}", cluster))
    return photos
