"""The candidate joins under a work budget: exact within the reach they afford, never a pair beyond the thresholds,
and exact (the all-pairs answer) whenever the budget covers the whole search."""

from __future__ import annotations

import random
from dataclasses import replace

import hashkit
import numpy as np
from hashkit import flip

from curation.cluster import budget_plan, cross_pairs, near_pairs, plan
from curation.dedup import JOIN_WORK, DedupParams, candidate_pairs

PM, DM = 10, 12


def planted(n: int, seed: int) -> list[tuple[int, int]]:
    """40% near copies, never an exact repeat (which near_pairs links to its first copy only)."""
    return hashkit.planted(n, seed, PM, DM, share=0.4, min_phash=1)


def all_pairs(a: list[tuple[int, int]], b: list[tuple[int, int]], pm: int, dm: int,
              same: bool) -> set[tuple[int, int]]:
    out = set()
    for i, (p, d) in enumerate(a):
        for j, (q, e) in enumerate(b):
            if (not same or i < j) and (p ^ q).bit_count() <= pm and (d ^ e).bit_count() <= dm:
                out.add((i, j))
    return out


def test_budget_plan_shrinks_the_reach_to_fit() -> None:
    assert budget_plan(10_000, 10_000, PM, True, JOIN_WORK).reach >= PM  # the demo's size: exact
    assert budget_plan(600_000, 100_000, PM, False, JOIN_WORK).reach >= PM
    big = budget_plan(6_000_000, 1_000_000, PM, False, JOIN_WORK)
    assert 4 <= big.reach < PM
    assert budget_plan(6_000_000, 1_000_000, PM, False, 1e3).reach == 0
    assert plan(1_000_000, PM).reach >= PM  # without a budget: always exact


def test_self_join_under_a_small_budget_is_exact_within_its_reach() -> None:
    items = planted(1500, 1)
    exact = all_pairs(items, items, PM, DM, same=True)
    assert {tuple(e) for e in near_pairs(items, PM, DM).tolist()} == exact
    reach = budget_plan(len(set(items)), len(set(items)), PM, True, 2e4).reach
    assert reach < PM
    found = {tuple(e) for e in near_pairs(items, PM, DM, budget=2e4).tolist()}
    assert found <= exact  # nothing beyond the thresholds
    assert all_pairs(items, items, reach, DM, same=True) <= found  # everything within the reach
    assert len(found) < len(exact)  # and the budget did cost pairs between the reach and the threshold


def test_cross_join_under_a_small_budget_is_exact_within_its_reach() -> None:
    index = planted(800, 2)
    rng = random.Random(3)
    queries = [(flip(p, rng.randint(0, PM + 2), rng), flip(d, rng.randint(0, DM), rng)) for p, d in index[::2]]
    queries += [(rng.getrandbits(64), rng.getrandbits(64)) for _ in range(400)]
    exact = all_pairs(queries, index, PM, DM, same=False)
    assert {tuple(e) for e in cross_pairs(queries, index, PM, DM).tolist()} == exact
    reach = budget_plan(len(queries), len(index), PM, False, 2e4).reach
    assert reach < PM
    found = {tuple(e) for e in cross_pairs(queries, index, PM, DM, budget=2e4).tolist()}
    assert found <= exact
    assert all_pairs(queries, index, reach, DM, same=False) <= found


def test_candidate_pairs_default_budget_is_exact_at_small_sizes() -> None:
    items = planted(600, 4)
    rng = random.Random(5)
    windows = [tuple((flip(p, rng.randint(0, 12), rng), flip(d, rng.randint(0, 14), rng)) for _ in range(2))
               for p, d in items]
    off = [tuple((flip(p, rng.randint(0, 12), rng), flip(d, rng.randint(0, 12), rng)) for _ in range(16))
           for p, d in items]
    p = DedupParams(PM, DM, 0, 1.0)
    got = candidate_pairs(items, windows, p)
    ref = candidate_pairs(items, windows, p, budget=None)
    assert np.array_equal(got, ref) and len(ref)
    # the off-centre windows' join, on its share of the budget, is exact at this size too, and adds pairs
    got = candidate_pairs(items, windows, p, off_centre=off)
    assert np.array_equal(got, candidate_pairs(items, windows, p, budget=None, off_centre=off))
    assert len(got) > len(ref)
    # the two corner joins (one hash within off_centre_tight, the other within off_centre_wide) are in that, exact
    inner = {tuple(e) for e in candidate_pairs(items, windows, replace(p, off_centre_wide=0), off_centre=off).tolist()}
    bits = [(i, j, (w[0] ^ fp).bit_count(), (w[1] ^ fd).bit_count())
            for i, ws in enumerate(off) for w in ws for j, (fp, fd) in enumerate(items) if i != j]
    corners = {(min(i, j), max(i, j)) for i, j, pb, db in bits
               if min(pb, db) <= p.off_centre_tight and max(pb, db) <= p.off_centre_wide}
    assert corners - inner and {tuple(e) for e in got.tolist()} - inner == corners - inner
    # so is the value hashes' whole-photo join; a photo without a value hash (None) takes no part in it
    value: list[tuple[int, int] | None] = [v if k % 7 else None for k, v in enumerate(planted(len(items), 9))]
    with_value = candidate_pairs(items, windows, p, off_centre=off, value=value)
    assert np.array_equal(with_value, candidate_pairs(items, windows, p, budget=None, off_centre=off, value=value))
    extra = {tuple(e) for e in with_value.tolist()} - {tuple(e) for e in got.tolist()}
    assert extra and all(value[i] is not None and value[j] is not None for i, j in extra)
    has = [k for k, v in enumerate(value) if v is not None]
    hashes = [v for v in value if v is not None]
    exact = {(has[i], has[j]) for i, j in all_pairs(hashes, hashes, PM, DM, same=True)}
    assert extra == exact - {tuple(e) for e in got.tolist()}


def test_cross_join_probes_with_the_smaller_side_and_keeps_the_orientation() -> None:
    """More queries than index items: the join swaps the sides internally; pairs still come as (query, index)."""
    index = planted(200, 6)
    rng = random.Random(7)
    queries = [(flip(p, rng.randint(0, PM + 2), rng), flip(d, rng.randint(0, DM), rng))
               for p, d in index for _ in range(5)]
    queries += [(rng.getrandbits(64), rng.getrandbits(64)) for _ in range(1000)]
    exact = all_pairs(queries, index, PM, DM, same=False)
    got = {tuple(e) for e in cross_pairs(queries, index, PM, DM).tolist()}
    assert got == exact and len(exact) > 200
