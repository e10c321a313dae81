"""Scoring against the answer key: per-edit recall, kept originals, review reading effort, colour cost."""

from __future__ import annotations

import csv
from dataclasses import fields, replace
from pathlib import Path

import pytest

from curation.manifests import Photo
from curation.outputs import Curated
from curation.scoring import Truth, read_answer_key, score, share_read_for, truth_from_rows
from curation.verdicts import Verdict


def _v(sha: str, cluster: str, auto_reason: str = "", n: int = 0, status: str | None = None) -> Verdict:
    photo = Photo(sha, f"img/{sha}.jpg", "site", "region", f"L{n}", "swift", 400, 300, f"m.csv:{n + 2}")
    auto = "rejected" if auto_reason else "accepted"
    return Verdict(photo, status or auto, "swift", auto_reason, "", auto, auto_reason, "", cluster, "")


def _curated(verdicts: list[Verdict], suspicion: dict[str, float] | None = None) -> Curated:
    return Curated(verdicts, suspicion or {v.photo.sha256: 0.0 for v in verdicts}, [], [], {})


def _t(group: str, variant: str = "original", junk: str = "", colour: str = "other") -> Truth:
    return Truth(group, junk, "" if junk and junk != "other-model" else "swift", variant, "" if junk else colour)


def _duplicates() -> tuple[Curated, dict[str, Truth]]:
    """Two scenes with edited copies: g1 found whole but for its frame, g2's frame kept over its original."""
    truth = {
        "o1": _t("g1"), "b1": _t("g1", "brightness"), "h1": _t("g1", "heavy-crop"), "f1": _t("g1", "frame"),
        "o2": _t("g2"), "f2": _t("g2", "frame"),
        "c3": _t("g3", "grayscale"),  # its original was never scraped: not scored
        "o4": _t("g4"),  # alone
    }
    verdicts = [
        _v("o1", "c1"), _v("b1", "c1", "near-duplicate"), _v("h1", "c1", "near-duplicate"), _v("f1", "c2"),
        _v("o2", "c3", "near-duplicate"), _v("f2", "c3"),
        _v("c3", "c4"), _v("o4", "c5"),
        _v("o1", "c1", "exact-duplicate", n=9),  # a later copy of the same bytes
    ]
    return _curated(verdicts), truth


def test_recall_per_edit_counts_copies_in_their_originals_cluster() -> None:
    c, truth = _duplicates()
    got = score(c, truth)
    assert got["duplicate_recall_by_variant"] == {
        "brightness": {"copies": 1, "recall": 1.0}, "frame": {"copies": 2, "recall": 0.5},
        "heavy-crop": {"copies": 1, "recall": 1.0}}
    # pairs: g1 has 4 photos (6 pairs), of which o1-b1, o1-h1, b1-h1 found; g2 1 pair found: 4 of 7
    assert got["duplicate_recall"] == round(4 / 7, 4)
    assert got["duplicate_precision"] == 1.0


def test_share_of_clusters_that_keep_the_untouched_original() -> None:
    c, truth = _duplicates()
    got = score(c, truth)
    assert got["keeps_original"] == {"clusters": 2, "share": 0.5, "kept_instead": {"frame": 1}}
    assert got["keeps_original_share"] == 0.5


def test_an_exact_copy_counts_as_its_original() -> None:
    rows = [{"sha256": "s", "dup_group": "g", "junk_kind": "", "true_model": "swift", "variant": "exact"},
            {"sha256": "s", "dup_group": "g", "junk_kind": "", "true_model": "swift", "variant": "original"},
            {"sha256": "s", "dup_group": "g", "junk_kind": "", "true_model": "swift", "variant": "exact"}]
    assert truth_from_rows(rows)["s"].variant == "original"
    assert truth_from_rows(rows[1:])["s"].variant == "original"


def test_an_older_answer_key_without_variant_or_colour_still_reads(tmp_path: Path) -> None:
    key = tmp_path / "key.csv"
    with key.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["sha256", "dup_group", "junk_kind", "true_model"])
        writer.writeheader()
        writer.writerow({"sha256": "a", "dup_group": "a", "junk_kind": "", "true_model": "swift"})
    assert read_answer_key(key) == {"a": Truth("a", "", "swift", "original", "")}


def _review(junk_at: list[int], accepted: int, rejected_junk: int = 0) -> tuple[Curated, dict[str, Truth]]:
    """``accepted`` accepted photos in review order (most suspicious first), junk at 1-based ``junk_at``,
    plus rejected junk photos reviewed first (they must not count)."""
    verdicts, suspicion, truth = [], {}, {}
    for i in range(rejected_junk):
        sha = f"r{i:03d}"
        verdicts.append(_v(sha, f"cr{i:03d}", "too-dark", n=i))
        suspicion[sha], truth[sha] = 1000.0 - i, _t(sha, junk="interior")
    for pos in range(1, accepted + 1):
        sha = f"a{pos:03d}"
        verdicts.append(_v(sha, f"ca{pos:03d}", n=pos))
        suspicion[sha] = float(accepted - pos)
        truth[sha] = _t(sha, junk="scenery" if pos in junk_at else "")
    return _curated(verdicts[::-1], suspicion), truth  # verdict order must not matter, only suspicion


def test_share_read_to_catch_95_percent_of_accepted_junk() -> None:
    junk_at = list(range(2, 41, 2))  # 20 junk among 40 accepted: the 19th junk is the 38th photo
    c, truth = _review(junk_at, 40, rejected_junk=5)
    got = score(c, truth)
    assert got["accepted_junk"] == 20
    assert got["share_read_for_95pct_of_accepted_junk"] == round(38 / 40, 4)
    # Four junk: 95% of four is all four, so the last junk photo decides.
    c, truth = _review([1, 3, 7, 30], 50)
    assert score(c, truth)["share_read_for_95pct_of_accepted_junk"] == round(30 / 50, 4)


def test_share_read_with_no_accepted_junk_is_zero() -> None:
    c, truth = _review([], 10, rejected_junk=3)
    got = score(c, truth)
    assert got["accepted_junk"] == 0 and got["share_read_for_95pct_of_accepted_junk"] == 0.0
    assert got["junk_images"] == 3  # the rejected junk still counts for the first-20% figure
    assert share_read_for([], truth) == (0.0, 0)


def test_quality_rejections_per_colour_group() -> None:
    truth = {
        "w1": _t("w1", colour="white-silver-grey"), "w2": _t("w2", colour="white-silver-grey"),
        "w3": _t("w3", colour="white-silver-grey"), "w4": _t("w4", colour="white-silver-grey"),
        "x1": _t("x1"), "x2": _t("x2"),
        "j1": _t("j1", junk="interior"),  # junk: not a car
        "e1": _t("w1", "grayscale", colour="white-silver-grey"),  # a re-upload: not counted
    }
    verdicts = [_v("w1", "c1", "grayscale"), _v("w2", "c2", "blurry"), _v("w3", "c3", "near-duplicate"),
                _v("w4", "c4"), _v("x1", "c5"), _v("x2", "c6", "wrong-model"), _v("j1", "c7", "grayscale"),
                _v("e1", "c8", "grayscale")]
    got = score(_curated(verdicts), truth)["quality_rejected_by_colour"]
    assert got == {"other": {"photos": 2, "rejected_share": 0.0, "rejected_by_check": {}, "flagged_share": 0.0},
                   "white-silver-grey": {"photos": 4, "rejected_share": 0.5, "flagged_share": 0.0,
                                         "rejected_by_check": {"blurry": 1, "grayscale": 1}}}


def test_score_is_pure() -> None:
    c, truth = _duplicates()
    before = (list(c.verdicts), dict(c.suspicion), dict(truth))
    assert score(c, truth) == score(c, truth)
    assert (list(c.verdicts), dict(c.suspicion), dict(truth)) == before


def test_review_mode_flags_count_per_colour_group() -> None:
    if "flag" not in {f.name for f in fields(Verdict)}:
        pytest.skip("verdicts without review mode")
    truth = {"w1": _t("w1", colour="white-silver-grey"), "w2": _t("w2", colour="white-silver-grey")}
    verdicts = [replace(_v("w1", "c1"), flag="graphic: flat share 0.9"), _v("w2", "c2")]
    got = score(_curated(verdicts), truth)["quality_rejected_by_colour"]
    assert isinstance(got, dict)
    assert got["white-silver-grey"]["flagged_share"] == 0.5 and got["white-silver-grey"]["rejected_share"] == 0.0


def test_the_review_figures_are_none_when_nothing_is_left_to_find() -> None:
    """After a full review no junk is left among the accepted photos: the figures say n/a, not a score of 0."""
    from curation.scoring import audit_score

    clean = _curated([_v("a", "c1", n=1), _v("b", "c2", n=2)])
    got = audit_score(clean, {"a": _t("g1"), "b": _t("g2")})
    assert got["accepted_junk"] == 0
    assert got["junk_in_first_20pct"] is None and got["share_read_for_95pct_of_junk"] is None
    junky = _curated([_v("a", "c1", n=1), _v("b", "c2", n=2)], {"a": 0.1, "b": 0.9})
    got = audit_score(junky, {"a": _t("g1"), "b": _t("g2", junk="interior")})
    assert got["accepted_junk"] == 1 and got["share_read_for_95pct_of_junk"] is not None
