"""Near-duplicate clustering: multi-index hashing agrees with the all-pairs reference."""

from __future__ import annotations

import numpy as np
import pytest
from hashkit import planted
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.cluster import _stable_order, all_pairs_cluster, cluster, plan


@pytest.mark.parametrize(("n", "pm", "dm"), [(300, 10, 12), (500, 4, 6), (200, 0, 0), (150, 20, 3), (2500, 10, 12)])
def test_matches_all_pairs_reference(n: int, pm: int, dm: int) -> None:
    items = planted(n, n + pm, pm, dm)
    labels = cluster(items, pm, dm)
    assert labels == all_pairs_cluster(items, pm, dm)
    assert len(set(labels)) < n  # some copies were close enough to join


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 80), st.integers(0, 10**6), st.integers(0, 16), st.integers(0, 16))
def test_property_equals_reference(n: int, seed: int, pm: int, dm: int) -> None:
    items = planted(n, seed, pm, dm)
    assert cluster(items, pm, dm) == all_pairs_cluster(items, pm, dm)


def test_identical_hashes_and_first_appearance_numbering() -> None:
    a, b = (1, 2), (2**64 - 1, 2**63)
    items = [b, a, b, b, a, (2**64 - 1, 2**62 - 1)] + [a] * 5000  # a huge bucket of one hash
    labels = cluster(items, 3, 3)
    assert labels[:6] == [0, 1, 0, 0, 1, 2] and set(labels[6:]) == {1}


def test_edge_cases() -> None:
    assert cluster([], 10, 12) == []
    assert cluster([(5, 5)], 10, 12) == [0]
    assert cluster([(0, 0), (2**64 - 1, 2**64 - 1)], 64, 64) == [0, 0]
    chain = [(0, 0), (0b111, 0), (0b111111, 0)]  # 0-1 and 1-2 within 3, 0-2 is 6 apart: transitive
    assert cluster(chain, 3, 0) == [0, 0, 0]
    with pytest.raises(ValueError):
        cluster([(0, 0)], -1, 0)


def test_plan_satisfies_pigeonhole() -> None:
    for n in (10, 10_000, 1_000_000):
        for d in (0, 3, 10, 12, 32):
            p = plan(n, d)
            assert sum(p.widths) == 64 and max(p.widths) <= 24
            assert sum(r + 1 for r in p.radii) >= d + 1


@given(st.integers(0, 3000), st.integers(1, 40), st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_stable_order_is_a_stable_argsort(n: int, width: int, seed: int) -> None:
    """The packed sort behind the joins' buckets gives numpy's stable argsort exactly: ties (many at small widths)
    keep their positions' order, and widths that cannot share 64 bits with the positions fall back."""
    band = np.random.default_rng(seed).integers(0, 1 << width, n, dtype=np.int64)
    assert np.array_equal(_stable_order(band, width), np.argsort(band, kind="stable"))
    wide = np.random.default_rng(seed).integers(0, 2**62, n, dtype=np.int64)
    assert np.array_equal(_stable_order(wide, 62), np.argsort(wide, kind="stable"))
