"""Random 64-bit hash pairs with planted near copies, for the clustering and join tests."""

from __future__ import annotations

import random


def flip(value: int, n_bits: int, rng: random.Random) -> int:
    """``value`` with ``n_bits`` distinct random bits flipped."""
    for bit in rng.sample(range(64), n_bits):
        value ^= 1 << bit
    return value


def planted(n: int, seed: int, phash_max: int, dhash_max: int, share: float = 0.35,
            min_phash: int = 0) -> list[tuple[int, int]]:
    """Random (pHash, dHash) pairs; a ``share`` of them copies of an earlier item, ``min_phash`` to
    ``phash_max + 2`` pHash bits and 0 to ``dhash_max + 2`` dHash bits away (around the thresholds)."""
    rng = random.Random(seed)
    items: list[tuple[int, int]] = []
    for i in range(n):
        if i and rng.random() < share:
            p, d = rng.choice(items)
            items.append((flip(p, rng.randint(min_phash, phash_max + 2), rng),
                          flip(d, rng.randint(0, dhash_max + 2), rng)))
        else:
            items.append((rng.getrandbits(64), rng.getrandbits(64)))
    return items
