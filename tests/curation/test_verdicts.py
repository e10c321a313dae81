"""Automatic verdicts and decisions, on hand-made records (no images, no files)."""

from __future__ import annotations

from curation.decisions import Decision
from curation.manifests import Photo
from curation.verdicts import Measured, apply_decisions, automatic

A, B, C, D, E = ("a" * 64, "b" * 64, "c" * 64, "d" * 64, "e" * 64)


def _photo(sha: str, listing: str, label: str = "swift") -> Photo:
    return Photo(sha, f"data/raw/s/r/images/{sha}.jpg", "s", "r", listing, label, 400, 300, f"m.csv:{listing}")


def _m(cluster: int, pixels: int = 120_000, quality: tuple[tuple[str, str], ...] = (), error: str = "") -> Measured:
    return Measured(error, pixels, 50.0, quality, cluster)


PHOTOS = [_photo(A, "L1"), _photo(B, "L1"), _photo(A, "L2"), _photo(C, "L3", "other"), _photo(D, "L3"),
          _photo(E, "L4")]
MEASURED = {A: _m(0), B: _m(0, pixels=80_000), C: _m(1), D: _m(2, quality=(("blurry", "sharpness 3.1 < 20"),)),
            E: _m(3, error="image file is truncated")}


def _by(verdicts, listing: str, sha: str):  # type: ignore[no-untyped-def]
    return next(v for v in verdicts if v.photo.listing_id == listing and v.photo.sha256 == sha)


def test_automatic_rules() -> None:
    v = automatic(PHOTOS, MEASURED)
    assert _by(v, "L1", A).status == "accepted"
    near = _by(v, "L1", B)
    assert (near.reason, near.detail) == ("near-duplicate", f"of {A}")  # smaller copy of A's scene
    exact = _by(v, "L2", A)
    assert exact.reason == "exact-duplicate" and "L1" in exact.detail
    assert _by(v, "L3", C).reason == "wrong-model"
    assert (_by(v, "L3", D).reason, _by(v, "L3", D).detail) == ("blurry", "sharpness 3.1 < 20")
    assert _by(v, "L4", E).reason == "unreadable"
    assert _by(v, "L1", A).cluster_id == _by(v, "L1", B).cluster_id


def test_decisions_win_and_orphans_are_kept() -> None:
    decisions = {
        A: Decision(A, "reject", "", "interior", ""),
        C: Decision(C, "relabel", "wagonr", "", ""),
        D: Decision(D, "accept", "", "", "blur is fine"),
        "f" * 64: Decision("f" * 64, "reject", "", "", ""),
    }
    v, orphans = apply_decisions(automatic(PHOTOS, MEASURED), decisions)
    assert all(x.status == "rejected" and x.reason == "manual" for x in v if x.photo.sha256 == A)  # every copy
    assert (_by(v, "L3", C).status, _by(v, "L3", C).label) == ("accepted", "wagonr")
    assert _by(v, "L3", D).status == "accepted" and _by(v, "L3", D).auto_reason == "blurry"
    assert orphans == ["f" * 64]


def test_accept_without_a_class_label_stays_rejected_and_says_why() -> None:
    v, _ = apply_decisions(automatic(PHOTOS, MEASURED), {C: Decision(C, "accept", "", "", "")})
    photo = _by(v, "L3", C)
    assert photo.status == "rejected" and "needs a label" in photo.detail


def test_accepting_an_exact_copy_does_not_count_it_twice() -> None:
    v, _ = apply_decisions(automatic(PHOTOS, MEASURED), {A: Decision(A, "accept", "", "", "")})
    assert [x.status for x in v if x.photo.sha256 == A] == ["accepted", "rejected"]
