"""The answer-key-assisted ceiling of ``benchmarks/audit_seeds.py --bound``: its order figures and its classifier."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.audit_seeds import _order_figures, key_assisted_bound
from curation.audit import OTHER, AuditInput
from curation.scoring import Truth


def test_order_figures_read_in_descending_score() -> None:
    kinds = np.array(["clean"] * 16 + ["junk", "other", "relabel", "junk"])
    # the two junk photos near the top, the other-model photo last of all: all 20 read before the third is found
    score = np.r_[np.linspace(0.5, 0.6, 16), 0.9, 0.0, 0.95, 0.8]
    assert _order_figures(score, kinds) == {"junk_in_first_20pct": 0.6667, "share_read_for_95pct_of_junk": 1.0}
    score[17] = 0.99  # the other-model photo first: all three in the first four read
    assert _order_figures(score, kinds) == {"junk_in_first_20pct": 1.0, "share_read_for_95pct_of_junk": 0.2}


def _blob(rng: np.random.Generator, centre: int, n: int) -> np.ndarray:
    return np.eye(8)[centre] * 4 + rng.normal(0, 0.3, (n, 8))


@pytest.mark.parametrize("separable", [True, False])
def test_the_ceiling_finds_other_models_only_where_the_features_tell_them(separable: bool) -> None:
    """Other-model cars in target listings are found first when their embeddings differ from the listing's model,
    and late when they sit among its clean photos; junk is first either way, relabels never count."""
    rng = np.random.default_rng(0)
    shas, labels, groups, parts, truth = [], [], [], [], {}

    def add(x: np.ndarray, label: str, t: Truth | None) -> None:
        for row in x:
            sha = f"s{len(shas)}"
            shas.append(sha)
            labels.append(label)
            groups.append(f"L{len(shas) // 4}")
            parts.append(row)
            if t is not None:
                truth[sha] = t

    for label, centre in (("swift", 0), ("wagonr", 1)):
        add(_blob(rng, centre, 120), label, Truth(f"{label}-clean", "", label))
        add(_blob(rng, 2 if separable else centre, 6), label, Truth("other", "other-model", "dzire"))
        add(_blob(rng, 3, 4), label, Truth("junk", "interior", ""))
        add(_blob(rng, 1 - centre, 4), label, Truth("swap", "", ("wagonr", "swift")[centre]))
    audited = len(shas)
    add(_blob(rng, 2, 60), OTHER, Truth("teach", "", "dzire"))
    inp = AuditInput(shas, labels, groups, np.vstack(parts), None, np.arange(len(shas)) < audited)
    bound = key_assisted_bound(inp, truth)
    assert set(bound) == {"logistic regression", "boosted trees"}
    for figures in bound.values():
        if separable:  # 20 junk and other-model photos of 268: the first 21 read hold 95% of them
            assert figures["share_read_for_95pct_of_junk"] <= 21 / 268
            assert figures["junk_in_first_20pct"] == 1.0
        else:  # junk first, then the other-model photos somewhere among the 240 clean photos of their label
            assert figures["share_read_for_95pct_of_junk"] > 0.2
