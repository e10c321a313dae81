"""Pure split logic: groups, quotas and a stable, deterministic assignment.

How the split stays deterministic and stable:
- photos that share a listing or a duplicate cluster form one group (union-find), and a
  group never straddles two splits;
- each group's place in the queue is a keyed hash (BLAKE2b of the seed and its smallest
  listing key), so it depends on the group alone, not on what else was accepted;
- the queue is interleaved by class and region (systematic sampling), then dealt in order
  to test, then val, then train, until every split has its count per class; a group that
  overflows a split leaves its extra photos unused. Removing a few photos only shifts the
  three boundaries in the queue by about as many photos as were removed before them, so
  most photos keep their split (the test measures it). First-fit dealing is the fallback
  when dealing in order cannot fill every split.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from scipy.cluster.hierarchy import DisjointSet

from splitting.records import SPLITS, Photo

log = logging.getLogger(__name__)

FILL_ORDER = ("test", "val", "train")
Quotas = dict[str, dict[str, int]]  # split -> label -> photos wanted


class NotEnoughPhotos(Exception):
    """Too few photos for the asked sizes; the message says what is needed, what there is and what to change."""


ADVICE = ("lower split.sizes in params.yaml (or give fractions such as 0.6 / 0.2 / 0.2), scrape more "
          "(more listings or shards), or review fewer rejections in data/curation/decisions.csv")


@dataclass(frozen=True)
class Group:
    rank: int  # the group's place in the queue (a keyed hash)
    members: tuple[int, ...]  # indexes into the photo list, sorted by sha256


def listing_key(p: Photo) -> str:
    return f"{p.site}/{p.listing_id}"


def rank(seed: int, key: str) -> int:
    digest = hashlib.blake2b(key.encode(), digest_size=8, key=str(seed).encode()).digest()
    return int.from_bytes(digest, "big")


def make_groups(photos: Sequence[Photo], seed: int) -> list[Group]:
    """Connected components of 'same listing' and 'same duplicate cluster', in queue order."""
    sets: DisjointSet[str] = DisjointSet()
    for p in photos:
        sets.add(f"L:{listing_key(p)}")
        sets.add(f"C:{p.cluster_id}")
        sets.merge(f"L:{listing_key(p)}", f"C:{p.cluster_id}")
    members: dict[str, list[int]] = {}
    listings: dict[str, set[str]] = {}
    for i, p in enumerate(photos):
        root = sets[f"L:{listing_key(p)}"]
        members.setdefault(root, []).append(i)
        listings.setdefault(root, set()).add(listing_key(p))
    groups = [Group(min(rank(seed, k) for k in listings[root]), tuple(sorted(idx, key=lambda i: photos[i].sha256)))
              for root, idx in members.items()]
    return sorted(groups, key=lambda g: (g.rank, photos[g.members[0]].sha256))


def _halves(total: int, classes: Sequence[str]) -> dict[str, int]:
    base, extra = divmod(total, len(classes))
    return {c: base + (1 if i < extra else 0) for i, c in enumerate(classes)}


def quotas(sizes: dict[str, int | float], available: dict[str, int], classes: Sequence[str]) -> Quotas:
    """Photos per split and class. Counts are split evenly between the classes; fractions are of the usable
    photos, twice the smaller class. Raises NotEnoughPhotos when a class has too few."""
    if all(isinstance(v, float) for v in sizes.values()):
        usable = len(classes) * min(available.get(c, 0) for c in classes)
        totals = {s: math.floor(float(sizes[s]) * usable) for s in SPLITS}
    else:
        totals = {s: int(sizes[s]) for s in SPLITS}
    q = {s: _halves(totals[s], classes) for s in SPLITS}
    for c in classes:
        need = sum(q[s][c] for s in SPLITS)
        have = available.get(c, 0)
        if need > have:
            parts = " + ".join(f"{q[s][c]} {s}" for s in SPLITS)
            raise NotEnoughPhotos(f"not enough {c} photos: the split needs {parts} = {need}, the accepted photos "
                                  f"of the main site have {have}; {ADVICE}")
        if need == 0:
            raise NotEnoughPhotos(f"the split sizes give no {c} photos at all; raise split.sizes in params.yaml")
    return q


def stratum(p: Photo) -> str:
    return f"{p.label}/{p.region}"


def interleave(photos: Sequence[Photo], groups: Sequence[Group], key: Callable[[Photo], str] = stratum) -> list[Group]:
    """Re-order the queue so that every stretch of it mixes the strata (label and region) in their overall
    proportions: within its stratum each group keeps its hashed order, and its place in the merged queue is how far
    into its stratum it lies (systematic sampling). A contiguous share of the queue then has the overall mix."""
    strata: dict[str, list[Group]] = {}
    for g in groups:
        strata.setdefault(key(photos[g.members[0]]), []).append(g)
    placed: list[tuple[float, int, Group]] = []
    for members in strata.values():
        total = sum(len(g.members) for g in members)
        before = 0
        for g in members:
            placed.append(((before + len(g.members) / 2) / total, g.rank, g))
            before += len(g.members)
    return [g for _, _, g in sorted(placed, key=lambda t: (t[0], t[1]))]


def _deal(photos: Sequence[Photo], groups: Iterable[Group], q: Quotas, key: Callable[[Photo], str],
          whole_first: bool) -> tuple[dict[str, list[Photo]], dict[str, dict[str, int]]]:
    need = {s: dict(q[s]) for s in SPLITS}
    out: dict[str, list[Photo]] = {s: [] for s in (*SPLITS, "unused")}
    topping_up: list[Group] = []
    for g in groups:
        counts = Counter(key(photos[i]) for i in g.members)
        target = next((s for s in FILL_ORDER if all(need[s].get(k, 0) >= n for k, n in counts.items())), None)
        if not whole_first or target is None:
            topping_up.append(g)
            continue
        for i in g.members:
            need[target][key(photos[i])] -= 1
            out[target].append(photos[i])
    for g in topping_up:
        keys = {key(photos[i]) for i in g.members}
        target = next((s for s in FILL_ORDER if any(need[s].get(k, 0) > 0 for k in keys)), None)
        for i in g.members:
            p = photos[i]
            if target is not None and need[target].get(key(p), 0) > 0:
                need[target][key(p)] -= 1
                out[target].append(p)
            else:
                out["unused"].append(p)
    return out, need


def assign(photos: Sequence[Photo], groups: Sequence[Group], q: Quotas,
           key: Callable[[Photo], str] = lambda p: p.label) -> dict[str, list[Photo]]:
    """Deal groups in queue order, each to the first split (test, val, train) that still needs photos of its
    class; where a group overflows that split, its other photos stay unused (never in another split). When that
    wastes too much to fill every split, deal again first fit: a whole group to the first split it fits, the
    groups that fit nowhere topping up at the end. Returns the photos of each split and of 'unused'."""
    out, need = _deal(photos, groups, q, key, whole_first=False)
    if any(n > 0 for s in SPLITS for n in need[s].values()):
        log.info("split: dealing in queue order leaves a split short; dealing first fit instead")
        out, need = _deal(photos, groups, q, key, whole_first=True)
    short = {(s, c): n for s in SPLITS for c, n in need[s].items() if n > 0}
    if short:
        (s, c), n = next(iter(short.items()))
        raise NotEnoughPhotos(f"not enough {c} photos: {s} is {n} short, because listings and duplicate clusters "
                              f"must stay whole (no leakage); {ADVICE}")
    return out


def holdout(photos: Sequence[Photo], seed: int, classes: Sequence[str], per_class: int, balance: bool) -> list[Photo]:
    """The holdout's photos: every class in queue order, capped at per_class (0: no cap) and, with balance, at the
    smaller class's count."""
    groups = make_groups(photos, seed)
    by_class: dict[str, list[Photo]] = {c: [] for c in classes}
    for g in groups:
        for i in g.members:
            if photos[i].label in by_class:
                by_class[photos[i].label].append(photos[i])
    cap = min(len(v) for v in by_class.values()) if balance else max(len(v) for v in by_class.values())
    if per_class:
        cap = min(cap, per_class)
    return [p for c in classes for p in by_class[c][:cap]]
