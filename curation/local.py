"""Local features: candidate pairs where one photo is a piece of another that no window hash reaches.

The hash routes of :mod:`curation.dedup` find a crop when the original's window that holds it is one of a fixed set
(central windows, 16 off-centre ones, their corners). A crop outside that set (20% off one side only, 15% off the top
and 10% off the right) or a photo whose 64-bit hashes are close to noise (a texture of bricks or gravel, where a crop
of 5% moves the hash by 10-30 bits) is never a candidate, however exactly verification would place it.

This route finds such pairs from the pixels themselves, the way image retrieval does:

- **Keypoints.** OpenCV's ORB (FAST corners with oriented BRIEF descriptors, 256 bits) on the upright luma at the
  photo's own pixel scale (halved until its long side is at most :data:`SIDE`: OpenCV's libjpeg decodes a JPEG at
  that scale almost for free), at most :data:`FEATURES` a photo, with ORB's pyramid only where :func:`pyramids` or a
  photo's few corners ask for it. At one scale a crop that kept its pixels has the original's corners with the
  original's descriptors, shifted; shrinking every photo to one size instead (256 pixels, tried first) sees a crop
  at another scale than its original, and at seed 11 proposed 9 of its 56 heavy crops against 29 at the photos' own
  scale. Positions are kept in the photo's own pixels.
- **Candidates without comparing every pair.** Each descriptor goes into :data:`TABLES` hash tables keyed by
  :data:`KEY_BITS` of its bits, drawn at random once (locality-sensitive hashing for Hamming distance): a crop's
  keypoints have near-identical descriptors to the original's and share a key in some table. A key held by more than
  :data:`MAX_BUCKET` descriptors (a logo, a watermark, a flat corner every photo has) says nothing and is skipped.
- **Only pairs one of which can be a piece of the other** (:func:`pieces`, from the sizes alone), and a
  **geometric vote**: each shared key votes for the offset of the smaller photo inside the larger, in cells of
  :data:`CELL` of the larger's long side (on two grids half a cell apart, so that an offset on a cell's edge is not
  split). A pair is a candidate when one offset, inside the larger photo, gets ``min_votes`` votes; a photo keeps its
  :data:`PARTNERS` best. At one scale a true offset is repeated to a pixel or two, so the cell is small: with cells
  of 3% a piece of the astronaut and a piece of the coffee cup that nearly filled it (few cells to fall in) got 6 and
  7 chance votes.

Verification is unchanged: registration (:mod:`curation.register`) then places the piece by phase correlation and
confirms it by the correlation of its pixels, so this route adds candidates, never a confirmation of its own.

The hash tables and the vote are written here with numpy (a sort and a count per table), since no well-kept library
indexes binary descriptors for this all-pairs join: OpenCV's FLANN LSH index answers one query photo at a time.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from carid.images import to_rgb
from curation import register
from curation.pool import CHUNKS_PER_WORKER, pool_map

if TYPE_CHECKING:
    import cv2

log = logging.getLogger(__name__)

SIDE = 640  # most pixels on the long side of the luma the keypoints are found on (halved until it fits)
FEATURES = 150  # keypoints kept per photo (ORB keeps the strongest corners)
LEVELS = 3  # ORB's pyramid levels, a factor SCALE_STEP apart, for a photo that needs them (see pyramids)
SMALL_SIDE = 256  # a photo whose long side is under this keeps the pyramid (few corners at one scale)
#: a photo with fewer corners than this at its own scale is looked at with the pyramid too: a smooth scene's crop
#: and original then share corners at every level (a heavy crop of seed 7 and its original: 20 and 73 keypoints at
#: one level and 6 votes as a pair alone, 79 with the pyramid on both; among all of seed 7's photos, where crowded
#: keys are skipped, it still falls short of the vote). About 19% of seed 7's photos have fewer
FEW_CORNERS = 100
SCALE_STEP = 2 ** 0.5
PATCH = 15  # ORB's patch and border, in pixels (its default of 31 leaves little of a small photo's edges)
FAST_THRESHOLD = 10
TABLES = 6  # hash tables of the descriptors
KEY_BITS = 24  # bits of a descriptor that key one table
MAX_BUCKET = 40  # a key shared by more descriptors than this is skipped
CELL = 0.01  # offset vote cell, as a share of the larger photo's long side
PARTNERS = 10  # candidates kept per photo, best voted first
SEED = 0  # of the bits each table keys on
#: a pair whose smaller photo has few keypoints needs this share of them to agree (at least FEW_MIN, at most
#: ``min_votes``): the benchmark's microaneurysms are 102 pixels wide, with 10 keypoints, and a crop of them 3
FEW_SHARE = 0.5
FEW_MIN = 3
#: a piece keeps at least this share of each side of the larger photo: crops of up to 20% a side (curation's scope)
#: keep 60%. A narrower piece (a detail, half a photo: the external benchmark's 45% look-alikes) is another photo
#: to train on, and would join the two halves of a photo into one cluster through their original
KEEP_MIN = 0.6


@dataclass(frozen=True)
class Keypoints:
    """A photo's ORB keypoints: positions (x, y) in its upright pixels and their 256-bit descriptors (32 bytes)."""

    xy: np.ndarray  # (n, 2) float32
    descriptors: np.ndarray  # (n, 32) uint8


EMPTY = Keypoints(np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8))


def _halvings(size: tuple[int, int]) -> int:
    """How many times a photo of this size is halved before its long side is at most :data:`SIDE`."""
    k, side = 0, max(size)
    while side > SIDE:
        side, k = (side + 1) // 2, k + 1
    return k


def _upright_grey(img: Image.Image, data: bytes) -> np.ndarray:
    """The photo upright in grey (uint8) at its own pixel scale, or halved until its long side is at most
    :data:`SIDE`. A JPEG is decoded by OpenCV's libjpeg straight to grey, at 1/2 to 1/8 scale where it can, with its
    EXIF orientation applied (0.16 ms for a 400x300 demo photo, against 0.29 ms through Pillow); other formats go
    through :func:`carid.images.to_rgb`."""
    import cv2

    halve = _halvings(img.size)
    grey = None
    if img.format == "JPEG":
        flags = (cv2.IMREAD_GRAYSCALE, cv2.IMREAD_REDUCED_GRAYSCALE_2, cv2.IMREAD_REDUCED_GRAYSCALE_4,
                 cv2.IMREAD_REDUCED_GRAYSCALE_8)
        grey = cv2.imdecode(np.frombuffer(data, np.uint8), flags[min(halve, 3)])
        halve -= min(halve, 3)
    if grey is None:  # not a JPEG, or one OpenCV cannot read: Pillow's decode, then halved here
        grey = np.asarray(to_rgb(img).convert("L"))
        halve = _halvings(grey.shape[::-1])
    for _ in range(halve):
        grey = cv2.resize(grey, ((grey.shape[1] + 1) // 2, (grey.shape[0] + 1) // 2), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(grey)


def _orb(levels: int) -> cv2.ORB:
    import cv2  # imported when used: OpenCV costs a command that never finds keypoints about 0.1 s to load

    return cv2.ORB.create(nfeatures=FEATURES, scaleFactor=SCALE_STEP, nlevels=levels, edgeThreshold=PATCH,
                          patchSize=PATCH, fastThreshold=FAST_THRESHOLD)


def keypoints(data: bytes, levels: int = LEVELS) -> Keypoints:
    """The ORB keypoints of an encoded photo (upright, alpha on white); raises whatever Pillow raises for a bad one.

    Found at the photo's own pixel scale, or at a half, a quarter ... of it for a photo over :data:`SIDE` pixels:
    a crop that kept its pixels is then seen at the original's scale (or at half of it, two :data:`SCALE_STEP`
    away, which a pyramid of ``levels`` 3 reaches: see :func:`pyramids`) and its corners have the original's
    descriptors."""
    import cv2

    with Image.open(io.BytesIO(data)) as img:
        native = img.size
        grey = _upright_grey(img, data)
    height, width = grey.shape
    upright = native if (width > height) == (native[0] > native[1]) else (native[1], native[0])
    cv2.setNumThreads(1)
    found, desc = _orb(levels).detectAndCompute(grey, None)
    if levels < LEVELS and len(found) < FEW_CORNERS:  # a smooth photo: its coarser scales hold more corners
        found, desc = _orb(LEVELS).detectAndCompute(grey, None)
    if desc is None or not found:
        return EMPTY
    xy = np.array([k.pt for k in found], dtype=np.float32) * np.float32(max(upright) / max(width, height))
    return Keypoints(xy, np.asarray(desc, dtype=np.uint8))


def _keypoints_of(jobs: list[tuple[Path, int]]) -> list[Keypoints]:
    out = []
    for path, levels in jobs:
        try:
            out.append(keypoints(path.read_bytes(), levels))
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            log.debug("local features: %s unreadable (%s)", path, exc)  # the fingerprint already named it
            out.append(EMPTY)
    return out


#: photos below which keypoints are found in the calling process: a pool costs about 0.1-0.3 s to start on 2 cores,
#: the keypoints of a 400x300 photo about 0.8 ms
POOL_MIN_PHOTOS = 400


def pyramids(sizes: Sequence[tuple[int, int]]) -> np.ndarray:
    """Per photo (upright sizes), whether it needs ORB's pyramid (:data:`LEVELS`) rather than its own scale alone.

    Two photos halved as often (:func:`_halvings`) meet at one scale, where a crop's corners are its original's.
    A photo halved once less than a photo it may be a piece of (a 600-pixel crop of a 1,000-pixel photo: 600 and 500
    pixels) meets it at its own pyramid's level of half its scale. So a photo keeps the pyramid when the collection
    holds a photo halved more often than it and its own long side over :data:`KEEP_MIN` passes the next halving (a
    cheap bound of "some photo it may be a piece of is halved more often"), or when it is under :data:`SMALL_SIDE`
    (a tiny photo has few corners at one scale). The demo's photos (at most 480 pixels) keep none for their size
    (those with fewer than :data:`FEW_CORNERS` corners get it all the same): ORB at one level costs 0.48 ms a
    400x300 photo, decode included, against 0.78 ms with three."""
    size = np.asarray(sizes, dtype=np.int64).reshape(-1, 2)
    if not len(size):
        return np.zeros(0, dtype=bool)
    longs = size.max(axis=1)
    halved = np.array([_halvings((int(w), int(h))) for w, h in size], dtype=np.int64)
    straddles = (halved < halved.max()) & (longs / KEEP_MIN > SIDE * 2.0 ** halved)
    return np.asarray(straddles | (longs < SMALL_SIDE))


def keypoints_many(paths: Sequence[Path], sizes: Sequence[tuple[int, int]], workers: int = 1) -> list[Keypoints]:
    """Keypoints of every photo (upright ``sizes`` decide each one's pyramid: :func:`pyramids`), in order
    (:data:`EMPTY` for one that cannot be decoded), over ``workers`` processes from :data:`POOL_MIN_PHOTOS`
    photos."""
    jobs = [(path, LEVELS if full else 1) for path, full in zip(paths, pyramids(sizes), strict=True)]
    if workers <= 1 or len(jobs) < POOL_MIN_PHOTOS:
        return _keypoints_of(jobs)
    n = workers * CHUNKS_PER_WORKER
    chunks = [jobs[k::n] for k in range(n)]
    results = pool_map(_keypoints_of, [c for c in chunks if c], workers)
    out: list[Keypoints] = [EMPTY] * len(paths)
    for k, res in enumerate(results):
        out[k::n] = res
    return out


def pieces(big: np.ndarray, small: np.ndarray) -> np.ndarray:
    """Per row of two (n, 2) arrays of (width, height): whether a photo of size ``small`` can be a piece of one of
    size ``big`` that this route looks for: it fits (:func:`curation.register.fits_many`: inside, holding
    :data:`curation.register.SHARE_MIN` to :data:`curation.register.SHARE_MAX` of the area) and keeps at least
    :data:`KEEP_MIN` of each side."""
    return np.asarray(register.fits_many(big, small) & np.all(small >= KEEP_MIN * big, axis=1))


def piece(big: tuple[int, int], small: tuple[int, int]) -> bool:
    """:func:`pieces` for one pair of sizes."""
    return bool(pieces(np.array([big]), np.array([small]))[0])


def _shared_keys(descriptors: np.ndarray, owner_size: np.ndarray, owner_class: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of descriptor rows (a, b) that share a key in some table and whose photos' sizes (``owner_size``
    per row) let b's photo be a piece of a's (:func:`pieces`); buckets over :data:`MAX_BUCKET` left out, and
    buckets of one size class (``owner_class``), which hold no piece. A pair may come once per table it shares."""
    rng = np.random.default_rng(SEED)
    bigs, smalls = [], []
    for _ in range(TABLES):
        key = np.zeros(len(descriptors), dtype=np.int32)
        for bit in rng.choice(8 * descriptors.shape[1], KEY_BITS, replace=False).tolist():
            key = (key << 1) | ((descriptors[:, bit // 8] >> (7 - bit % 8)) & 1)
        order = np.argsort(key)
        k = key[order]
        starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
        counts = np.diff(np.r_[starts, len(k)])
        c = owner_class[order]
        mixed = np.minimum.reduceat(c, starts) != np.maximum.reduceat(c, starts)
        for n in range(2, MAX_BUCKET + 1):
            at = starts[(counts == n) & mixed]
            if not len(at):
                continue
            a, b = np.triu_indices(n, 1)
            first, second = order[at[:, None] + a[None, :]].ravel(), order[at[:, None] + b[None, :]].ravel()
            other = owner_class[first] != owner_class[second]  # one size holds no piece of itself
            first, second = first[other], second[other]
            forward = pieces(owner_size[first], owner_size[second])
            backward = pieces(owner_size[second], owner_size[first])
            bigs += [first[forward], second[backward]]
            smalls += [second[forward], first[backward]]
    if not bigs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(bigs), np.concatenate(smalls)


def fitted_pairs(points: Sequence[Keypoints], sizes: Sequence[tuple[int, int]], min_votes: int) -> np.ndarray:
    """(m, 2) candidate pairs (i < j) where one photo can be a piece of the other (sizes: upright (width, height))
    and at least ``min_votes`` shared descriptor keys agree on where it sits (see the module docstring)."""
    none = np.zeros((0, 2), dtype=np.int64)
    if len(points) < 2 or min_votes < 1:
        return none
    owner = np.concatenate([np.full(len(k.descriptors), i, dtype=np.int64) for i, k in enumerate(points)])
    if not len(owner):
        return none
    xy = np.concatenate([k.xy for k in points])
    size = np.asarray(sizes, dtype=np.int64).reshape(-1, 2)
    cls = np.unique(size, axis=0, return_inverse=True)[1].reshape(-1)
    a, b = _shared_keys(np.concatenate([k.descriptors for k in points]), size[owner], cls[owner])
    big, small = owner[a], owner[b]
    offset = xy[a] - xy[b]  # where the smaller photo's top-left corner sits in the larger
    cell = (CELL * size[big].max(axis=1)).astype(np.float32)
    room = (size[big] - size[small]).astype(np.float32)
    inside = np.all((offset >= -cell[:, None]) & (offset <= room + cell[:, None]), axis=1)
    big, small, offset, cell = big[inside], small[inside], offset[inside], cell[inside]
    pair = big * len(points) + small
    # a photo with few corners (a tiny or a flat one) cannot cast min_votes: it needs half of its keypoints' votes
    has = np.array([len(k.xy) for k in points], dtype=np.int64)
    needed = np.clip(np.ceil(FEW_SHARE * has[small]).astype(np.int64), FEW_MIN, min_votes)
    votes: dict[int, int] = {}
    for shift in (0.0, 0.5):
        # an offset inside the larger photo is -1 .. 1 / CELL + 1 cells: 7 bits a coordinate
        q = np.clip(np.floor(offset / cell[:, None] + shift).astype(np.int64) + 8, 0, 127)
        code, first, count = np.unique((pair << 14) | (q[:, 0] << 7) | q[:, 1], return_index=True,
                                       return_counts=True)
        enough = count >= needed[first]
        for p, c in zip((code[enough] >> 14).tolist(), count[enough].tolist(), strict=True):
            votes[p] = max(c, votes.get(p, 0))
    best: dict[int, list[tuple[int, int]]] = {}
    for p, c in votes.items():
        for photo in divmod(p, len(points)):
            best.setdefault(photo, []).append((-c, p))
    keep = {p for ranked in best.values() for _, p in sorted(ranked)[:PARTNERS]}
    out = sorted((min(divmod(p, len(points))), max(divmod(p, len(points)))) for p in keep)
    return np.array(out, dtype=np.int64).reshape(-1, 2)
