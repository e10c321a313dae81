"""The audit (curation/audit.py) on real photos through the real feature extractor: planted wrong-model photos and
junk come out on top; too few photos fall back to the layout order; audit.csv is output only."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
from trainkit import cache_dir_at

from curation.audit import (
    OTHER,
    AuditError,
    AuditInput,
    AuditRow,
    AuditSettings,
    audit,
    check_folds,
    combine,
    other_model_near,
    other_target_agreement,
    suggest,
)
from curation.audit_run import imagenet_probabilities
from marketplace.render import render_photo
from marketplace.specs import JUNK_KINDS, PhotoSpec
from training.features import embeddings

SIZE = 128
CLEAN = 36  # per class
WRONG = 4  # per class: a photo of the other model in this model's listing
JUNK = 2  # per junk kind


@dataclass(frozen=True)
class Ref:
    sha256: str
    path: str


@dataclass(frozen=True)
class Planted:
    inp: AuditInput
    wrong: set[str]  # sha256 of the wrong-model photos
    junk: set[str]
    true_model: dict[str, str]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planted]:
    root = tmp_path_factory.mktemp("photos")
    with cache_dir_at(tmp_path_factory.mktemp("cache")):
        refs, labels, groups, wrong, junk, truth = [], [], [], set(), set(), {}
        n = 0

        def add(label: str, model: str, kind: str) -> str:
            nonlocal n
            n += 1
            data = render_photo(PhotoSpec(f"T{n}", model, kind, 500 + n, f"g{n}", "original", "main", 0.0))
            sha = hashlib.sha256(data).hexdigest()
            (root / f"{sha}.jpg").write_bytes(data)
            refs.append(Ref(sha, f"{sha}.jpg"))
            labels.append(label)
            groups.append(f"L{n}")
            truth[sha] = model if not kind else ""
            return sha

        for label in ("swift", "wagonr"):
            for _ in range(CLEAN):
                add(label, label, "")
            other = "wagonr" if label == "swift" else "swift"
            for _ in range(WRONG):
                wrong.add(add(label, other, ""))
        for i, kind in enumerate(k for k in JUNK_KINDS for _ in range(JUNK)):
            junk.add(add(("swift", "wagonr")[i % 2], "swift", kind))
        features = embeddings(refs, root, SIZE)
        probs = imagenet_probabilities(features)
        inp = AuditInput([r.sha256 for r in refs], labels, groups, features, probs, np.ones(len(refs), dtype=bool))
        yield Planted(inp, wrong, junk, truth)


def _ranked(rows: list[AuditRow]) -> list[str]:
    return [r.sha256 for r in sorted(rows, key=lambda r: -r.suspicion)]


def test_planted_wrong_model_photos_and_junk_come_first(planted: Planted) -> None:
    result = audit(planted.inp, AuditSettings(folds=5))
    order = _ranked(result.rows)
    planted_n = len(planted.wrong) + len(planted.junk)
    top = set(order[: planted_n + planted_n // 2])  # the first 1.5x as many photos as were planted
    assert len(top & planted.junk) >= len(planted.junk) - 1, [order.index(s) for s in planted.junk]
    ranks = sorted(order.index(s) for s in planted.wrong)  # the two shapes overlap: most, not all, come first
    assert len(top & planted.wrong) >= len(planted.wrong) // 2 and np.median(ranks) < len(order) / 4, ranks
    rows = {r.sha256: r for r in result.rows}
    for sha in planted.junk:  # junk is suggested for rejection, never for a relabel
        assert not rows[sha].suggestion.startswith("relabel")
    # the suggestion needs a confident score (reject_min 0.97): most junk gets one, no clean car here does
    assert sum(rows[s].suggestion.startswith("reject") for s in planted.junk) >= len(planted.junk) // 2
    clean = set(rows) - planted.junk - planted.wrong
    assert sum(rows[s].suggestion.startswith("reject") for s in clean) <= 2
    relabels = [r for r in result.rows if r.suggestion.startswith("relabel")]
    for r in relabels:  # a relabel names the model the photo shows
        assert r.suggestion == f"relabel: {planted.true_model[r.sha256]}", r
    # each photo lists its nearest accepted photos of both classes, never itself
    for r in result.rows:
        assert len(r.near_swift.split()) == 3 and len(r.near_wagonr.split()) == 3
        assert r.sha256 not in r.near_swift.split() + r.near_wagonr.split()
    # probabilities are out of fold and proper
    for r in result.rows:
        assert abs(r.p_swift + r.p_wagonr - 1.0) < 1e-3 and 0 <= r.ood <= 1 and 0 <= r.label_quality <= 1


def test_without_the_imagenet_head_label_issues_still_rank_the_wrong_models(planted: Planted) -> None:
    inp = planted.inp
    bare = AuditInput(inp.shas, inp.labels, inp.groups, inp.features, None, inp.audited)
    result = audit(bare, AuditSettings(folds=5))
    assert any("no ImageNet head" in n for n in result.notes)
    order = _ranked(result.rows)
    ranks = sorted(order.index(s) for s in planted.wrong)
    assert np.median(ranks) < len(order) / 4, ranks


def test_too_few_listings_per_class_is_one_line() -> None:
    with pytest.raises(AuditError) as info:
        check_folds(["swift"] * 8 + ["wagonr"] * 3, [f"L{i}" for i in range(11)], 5)
    assert "only 3 accepted wagonr photos from 3 listings for 5 folds" in str(info.value)
    assert "\n" not in str(info.value)
    with pytest.raises(AuditError):  # many photos, but one listing: folds could not keep listings apart
        check_folds(["swift"] * 10 + ["wagonr"] * 10, ["A"] * 10 + [f"B{i}" for i in range(10)], 5)
    check_folds(["swift"] * 5 + ["wagonr"] * 5, [f"L{i}" for i in range(10)], 5)


def _blobs(rng: np.random.Generator, centre: np.ndarray, n: int) -> np.ndarray:
    return centre + 0.05 * rng.standard_normal((n, len(centre)))


def test_other_model_near_is_class_conditional() -> None:
    """A photo of another model that looks like a Swift, in a WagonR listing: its plain neighbours are Swift photos,
    but among WagonR and other-model photos its neighbours are other-model photos."""
    rng = np.random.default_rng(0)
    swift, wagonr = np.eye(3)[0], np.eye(3)[1]
    z = np.vstack([_blobs(rng, swift, 20), _blobs(rng, wagonr, 20), _blobs(rng, swift + 0.3 * wagonr, 12),
                   _blobs(rng, swift + 0.3 * wagonr, 1)])
    labels = ["swift"] * 20 + ["wagonr"] * 20 + [OTHER] * 12 + ["wagonr"]
    audited = np.array([True] * 40 + [False] * 12 + [True])
    near = other_model_near(z, labels, audited, 5)
    assert near.shape == (41,)
    assert near[-1] == 1.0  # the planted photo
    assert near[20:40].max() == 0.0  # WagonR photos are far from the other-model photos
    assert other_model_near(z[:40], labels[:40], audited[:40], 5).max() == 0.0  # no other-model rows: 0


def test_other_target_agreement_counts_neighbours_of_the_other_label() -> None:
    rng = np.random.default_rng(1)
    z = np.vstack([_blobs(rng, np.eye(3)[0], 15), _blobs(rng, np.eye(3)[1], 15), _blobs(rng, np.eye(3)[1], 1)])
    labels = ["swift"] * 15 + ["wagonr"] * 15 + ["swift"]  # the last: a WagonR photo in a Swift listing
    agree = other_target_agreement(z, labels, 5)
    assert agree[-1] == 1.0 and agree[:15].max() == 0.0


def test_a_relabel_needs_the_classifier_the_neighbours_and_no_other_model_nearby() -> None:
    s = AuditSettings()
    assert suggest("swift", 0.999, 0.1, 0.1, 0.0, s, agree=0.8, other_near=0.1)[0] == "relabel: wagonr"
    assert suggest("swift", 0.98, 0.1, 0.1, 0.0, s, agree=0.8, other_near=0.1)[0] == ""  # classifier unsure
    assert suggest("swift", 0.995, 0.1, 0.1, 0.0, s, agree=0.8, other_near=0.1)[0] == ""  # under relabel_min
    assert suggest("swift", 0.999, 0.1, 0.1, 0.0, s, agree=0.2, other_near=0.1)[0] == ""  # neighbours disagree
    assert suggest("swift", 0.999, 0.1, 0.1, 0.0, s, agree=0.8, other_near=0.7)[0] == ""  # among other models
    assert suggest("swift", 0.999, 0.99, 0.1, 0.0, s, agree=0.8, other_near=0.1)[0] == "reject: not-a-car"


def test_the_suspicion_sums_the_classes_that_are_not_the_label() -> None:
    """A photo the classifier splits between the other target and another model (0.4 + 0.4 away from its label) is
    more suspect than one with 0.6 on a single other class; not-a-car and other-near join by the largest."""
    p_own = np.array([0.2, 0.4, 0.9, 0.9])
    not_car = np.array([0.1, 0.1, 0.7, 0.0])
    near = np.array([0.0, 0.0, 0.0, 0.5])
    s = combine(1.0 - p_own, not_car, near)
    assert s.tolist() == pytest.approx([0.8, 0.6, 0.7, 0.5])
    assert combine(1.0 - p_own, not_car).tolist() == pytest.approx([0.8, 0.6, 0.7, 0.1])
