"""The model-assisted audit of the accepted photos: which ones a person should read first, and why.

Pure logic on arrays: the pretrained embeddings of the accepted photos (and of two kinds of photos the pipeline
has already labelled, see below), their labels, their listings, and the ImageNet classifier's probabilities
computed from the same embeddings. No file is read or written here (``curation.audit_run`` does that).

What each photo gets:

- **Out-of-fold class probabilities** from a scikit-learn ``LogisticRegression`` on the standardised embeddings,
  ``StratifiedGroupKFold`` with the listing as the group (a listing's photos never train the model that scores
  them). The classes are ``swift`` and ``wagonr``, plus ``other-model`` when the automatic checks rejected enough
  photos of listings titled for another model (labelled by their titles, never by a person or an answer key), plus
  ``rejected`` when a person has rejected enough photos in ``decisions.csv`` (their own labels: the review's
  decisions so far teach the next review's order).
- **cleanlab's label-quality score** (``cleanlab.rank.get_label_quality_scores``: the out-of-fold probability of the
  photo's own label) and **cleanlab's out-of-distribution score** on the embeddings
  (``cleanlab.outlier.OutOfDistribution``, a k-nearest-neighbour distance). Both are written to audit.csv for the
  person; neither is part of the suspicion below. The label quality is the renormalised two-target view of what
  1 - P(own label) says over every class; the OOD score is no help, since junk forms dense clusters of its own in
  these embeddings, so it is not an outlier (measured in the README's audit section).
- **Not-a-car**: the ImageNet-1k head's probability that the photo shows none of its motor-vehicle classes
  (:data:`MOTOR_VEHICLES`, the WordNet "motor vehicle" classes of ImageNet, chosen from the class names, not from
  any carid data), averaged over the photo and its nearest neighbours in the embedding space. The average matters:
  junk of one kind (interiors, wheel close-ups, documents) sits in one dense region, so a neighbourhood's mean is a
  steadier estimate than one photo's.
- **Other models nearby** (:func:`other_model_near`): the share of photos of other-model listings among a photo's
  nearest photos of its own label or of other-model listings. Photos of other models (a Baleno, a Dzire in a Swift
  or WagonR listing) are the junk the review finds last: on 128-px embeddings, 39 of the last 40 junk photos in
  review order at seed 7; on the 224-px ones of ``audit.embed_size``, every junk photo past the first 15% of the
  review at seeds 7, 11 and 23 (51, 40 and 23 of them). The classifier's P(other-model) tells them from clean photos
  with an AUC of about 0.7 at either size (128 / 224 px: 0.69 / 0.74 at seed 7, 0.69 / 0.69 at seed 11).
- **One suspicion score** in 0..1 (:func:`combine`: the largest of 1 - P(own label), not-a-car and other models
  nearby) and a **suggested action** with its reason (:func:`suggest`). A relabel needs
  three things to agree: the classifier (out-of-fold P of the other target), the photo's neighbours (most of its
  nearest accepted photos carry the other target's label) and a car-like photo that is not near other models. At
  seed 7 (the tuning seed, 128-px embeddings) this took relabel precision from 0.67 (39 suggestions) to 0.93 (14),
  recall from 0.13 to 0.06; held out, 0.86 (14) at seed 11 and 0.62 (13) at seed 23 (half size), where the false
  ones were clean photos that look like the other model, which the classifier and the neighbours agree on. On the
  224-px embeddings (same settings): 0.95 (20) at seed 7, 0.95 (19) at seed 11, 1.0 (13) at seed 23; recall 0.09 /
  0.10 / 0.15. With ``relabel_min`` at 0.998 (:class:`AuditSettings`), the mean over five fold splits is 1.0 / 0.95 /
  0.93 at seeds 7 / 11 / 23 (README, audit section).
- The **nearest accepted neighbours of each class**, so that the review can show a photo beside them.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

TARGETS = ("swift", "wagonr")
OTHER = "other-model"  # photos of listings titled for another model (rejected as wrong-model by the checks)
REJECTED = "rejected"  # photos a person rejected in decisions.csv
#: ImageNet-1k classes that are motor vehicles (WordNet: motor vehicle / car / truck / van / bus): ambulance, beach
#: wagon, cab, convertible, fire engine, garbage truck, go-kart, golf cart, jeep, limousine, minibus, minivan,
#: Model T, moving van, pickup, police van, racer, school bus, sports car, tow truck, trailer truck, trolleybus.
MOTOR_VEHICLES = (407, 436, 468, 511, 555, 569, 573, 575, 609, 627, 654, 656, 661, 675, 717, 734, 751, 779, 817, 864,
                  867, 874)


class AuditError(Exception):
    """The audit cannot score these photos (e.g. too few per class for K folds); one line, the review falls back."""


@dataclass(frozen=True)
class AuditSettings:
    """The knobs of :func:`audit` (params.yaml's ``audit`` section, see ``carid.params.AuditParams``)."""

    folds: int = 5
    C: float = 0.05  # inverse L2 strength of the logistic regression on standardised embeddings
    neighbours: int = 15  # k of the not-a-car neighbourhood average
    shown_neighbours: int = 3  # nearest accepted photos of each class listed per photo
    #: suggest relabel when the out-of-fold P(other target) is at least this ... Chosen at seed 7 from 0.99 / 0.995 /
    #: 0.998 as the one with the most relabels whose worst of five fold splits keeps precision >= 0.95 (0.998: 1.0 at
    #: every split, 11-14 suggestions; 0.99: 0.86-1.0, 18-22). Held out, mean / worst precision over five splits went
    #: from 0.90 / 0.86 to 0.95 / 0.88 at seed 11 and from 0.81 / 0.67 to 0.93 / 0.83 at seed 23 (half size)
    relabel_min: float = 0.998
    reject_min: float = 0.97  # suggest reject when the not-a-car, other-model or rejected part is at least this
    min_extra_class: int = 30  # a third / fourth class (other-model, rejected) needs this many photos
    #: a relabel is suggested only for a photo that looks like a car: not-a-car, other-model and like-a-reject all
    #: below this (chosen at seed 7: relabel precision 0.68 with it, 0.63 at 0.9; README, audit section)
    car_max: float = 0.5
    #: k of the class-conditional neighbour score :func:`other_model_near` (chosen at seed 7 from 5 / 10 / 20 / 30:
    #: read-to-catch-95% 0.311 / 0.307 / 0.317 / 0.320 against 0.336 without it, on a 128-component PCA stand-in of
    #: the classifier; with the real classifier 0.312 against 0.332. Held out: 0.303 against 0.314 at seed 11, 0.330
    #: against 0.330 at seed 23 (half size): a small gain, far from the 0.15 target). These settings were chosen on
    #: 128-px embeddings and kept, not searched again, at ``audit.embed_size`` 224, where read-to-catch-95% is 0.248
    #: at seed 7 and, held out, 0.248 at seed 11 and 0.287 at seed 23 (junk in the first 20%: 0.934 / 0.947 / 0.935)
    #: with the largest-part suspicion, and 0.212 / 0.205 / 0.246 (0.945 / 0.946 / 0.944) with :func:`combine`'s sum
    other_near_k: int = 10
    #: a relabel also needs this share of the photo's ``other_near_k`` nearest accepted photos to carry the other
    #: target's label (a photo of the other model sits among that model's photos); set at seed 7, not searched.
    #: With the other-model condition of :func:`suggest`: relabel precision 0.67 -> 0.93 at seed 7 (tuning),
    #: 0.66 -> 0.86 at seed 11, 0.63 -> 0.62 at seed 23 (half size) held out; recall about halves
    relabel_agree: float = 0.5
    seed: int = 0


@dataclass(frozen=True)
class AuditInput:
    """The photos to audit and the photos that only teach: row ``i`` of every array is ``shas[i]``."""

    shas: list[str]
    labels: list[str]  # swift | wagonr for audited rows; other-model | rejected for teaching rows
    groups: list[str]  # listing id (folds never split a listing)
    features: np.ndarray  # (n, d) pretrained embeddings
    imagenet: np.ndarray | None  # (n, 1000) ImageNet probabilities from the same embeddings, or None
    audited: np.ndarray  # (n,) bool: an accepted photo (scored); False: a teaching row


@dataclass(frozen=True)
class AuditRow:
    sha256: str
    label: str
    p_swift: float
    p_wagonr: float
    p_other_model: float  # 0 when there was no such class
    p_rejected: float  # 0 when there was no such class
    label_quality: float  # cleanlab: high = the label fits
    label_issue: float  # 1 - label_quality
    ood: float  # cleanlab out-of-distribution score on the embeddings: low = unusual
    not_car: float  # ImageNet: P(no motor vehicle), neighbourhood mean (0 without the ImageNet head)
    other_near: float  # share of other-model listings' photos among the nearest (see other_model_near)
    suspicion: float  # 0..1, the review's order
    suggestion: str  # "reject: not-a-car" | "reject: other-model" | "relabel: swift|wagonr" | ""
    suggestion_reason: str
    near_swift: str  # space-separated sha256 of the nearest accepted swift photos
    near_wagonr: str


@dataclass(frozen=True)
class Audit:
    rows: list[AuditRow]  # accepted photos, in input order
    classes: tuple[str, ...]
    notes: list[str]  # one line each: what was used, what was left out


def check_folds(labels: Sequence[str], groups: Sequence[str], folds: int) -> None:
    """AuditError (one line) unless each target class has photos from at least ``folds`` listings (folds >= 2)."""
    if folds < 2:
        raise AuditError(f"audit.folds is {folds}: K-fold needs at least 2")
    for cls in TARGETS:
        n = sum(1 for label in labels if label == cls)
        listings = len({g for label, g in zip(labels, groups, strict=True) if label == cls})
        if listings < folds:
            raise AuditError(f"only {n} accepted {cls} photos from {listings} listings for {folds} folds: the audit "
                             f"needs {folds} listings per class; the review keeps the colour-layout order")


def standardised(features: np.ndarray) -> np.ndarray:
    """Per-dimension z-scores, each row then scaled to unit length (cosine geometry for the neighbours)."""
    from sklearn.preprocessing import StandardScaler, normalize

    return np.asarray(normalize(StandardScaler().fit_transform(features)), dtype=np.float32)


def out_of_fold(x: np.ndarray, y: np.ndarray, groups: Sequence[str], folds: int, c: float, seed: int) -> np.ndarray:
    """(n, classes) out-of-fold probabilities of a logistic regression, folds grouped by listing."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():  # a fold that cannot hold every listing evenly is fine
        warnings.simplefilter("ignore", UserWarning)
        return np.asarray(cross_val_predict(model, x, y, groups=np.asarray(groups), cv=cv, method="predict_proba"))


def not_car_scores(imagenet: np.ndarray, z: np.ndarray, k: int) -> np.ndarray:
    """P(no ImageNet motor vehicle), averaged over each photo and its ``k`` nearest neighbours in ``z``."""
    from sklearn.neighbors import NearestNeighbors

    own = 1.0 - imagenet[:, list(MOTOR_VEHICLES)].sum(axis=1)
    k = min(k, len(z) - 1)
    if k < 1:
        return own
    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(z).kneighbors(z)
    return np.asarray(own[idx].mean(axis=1), dtype=np.float64)


def nearest_others(z: np.ndarray, ref: np.ndarray, queries: np.ndarray, k: int) -> list[list[int]]:
    """Per row of ``z`` in ``queries``: its ``k`` nearest rows among ``ref`` (indices into ``z``), nearest first,
    the row itself left out (so k + 1 are searched; fewer come back when ``ref`` is small)."""
    from sklearn.neighbors import NearestNeighbors

    want = min(k + 1, len(ref))
    if not want or not len(queries):
        return [[] for _ in queries]
    _, idx = NearestNeighbors(n_neighbors=want).fit(z[ref]).kneighbors(z[queries])
    return [[int(j) for j in row if j != q][:k] for q, row in zip(queries.tolist(), ref[idx], strict=True)]


def nearest_by_class(z: np.ndarray, labels: Sequence[str], n: int) -> dict[str, np.ndarray]:
    """Per target class: (rows, n) indices of each row's nearest rows of that class, itself excluded (-1: none)."""
    lab = np.asarray(labels)
    out: dict[str, np.ndarray] = {}
    for cls in TARGETS:
        found = np.full((len(z), n), -1, dtype=np.int64)
        for i, picks in enumerate(nearest_others(z, np.flatnonzero(lab == cls), np.arange(len(z)), n)):
            found[i, : len(picks)] = picks
        out[cls] = found
    return out


def other_model_near(z: np.ndarray, labels: Sequence[str], audited: np.ndarray, k: int) -> np.ndarray:
    """Per audited row: the share of other-model photos among its ``k`` nearest rows that are either accepted photos
    of its own label or other-model photos (itself excluded). Class-conditional on purpose: a Baleno photo in a
    WagonR listing sits among Swift photos, so its plain neighbours say "swift"; among WagonR and other-model photos
    its neighbours are other-model photos. Hand-written (a few lines over scikit-learn's NearestNeighbors) because
    cleanlab's OOD score has no class-conditional reference set. 0 where there are no other-model rows."""
    lab = np.asarray(labels)
    a = np.flatnonzero(audited)
    out = np.zeros(len(a))
    is_other = lab == OTHER
    if not is_other.any():
        return out
    for cls in TARGETS:
        ref = np.flatnonzero(is_other | ((lab == cls) & audited))
        rows = np.flatnonzero(lab[a] == cls)
        if len(ref) < 2:
            continue
        for r, picks in zip(rows, nearest_others(z, ref, a[rows], k), strict=True):
            out[r] = float(np.mean(is_other[picks]))
    return out


def other_target_agreement(z: np.ndarray, labels: Sequence[str], k: int) -> np.ndarray:
    """Per row of ``z`` (audited rows only): the share of its ``k`` nearest other rows labelled the other target."""
    lab = np.asarray(labels)
    out = np.zeros(len(z))
    if len(z) < 2:
        return out
    every = np.arange(len(z))
    for i, picks in enumerate(nearest_others(z, every, every, k)):
        other = TARGETS[1 - TARGETS.index(str(lab[i]))]
        out[i] = float(np.mean(lab[picks] == other))
    return out


def combine(p_not_own: np.ndarray, not_car: np.ndarray, other_near: np.ndarray | None = None) -> np.ndarray:
    """One suspicion in 0..1: the largest of three reasons to read a photo. ``p_not_own`` is the classifier's
    out-of-fold probability that the photo is *not* what its label says: 1 - P(own label), that is the sum of
    P(the other target), P(other-model) and P(like a reject). Those are exclusive classes of one softmax, so their
    sum, not the largest of them, is the chance that the photo needs an action: a photo the classifier splits
    between "the other target" and "another model" is as suspect as one it gives wholly to either. ``not_car``
    (the ImageNet head) and ``other_near`` (:func:`other_model_near`, a neighbour-based estimate of "another
    model") are separate estimates, so they join by the largest.

    Measured against the largest of the parts (P(other target), not-a-car, P(other-model), P(rejected), half
    cleanlab's label issue, other-near), on 224-px embeddings: read-for-95%-of-junk 0.248 -> 0.212 at seed 7
    (tuning), 0.248 -> 0.205 at seed 11 and 0.287 -> 0.246 at seed 23 (half size), both held out; junk in the
    first 20% 0.934 -> 0.945, 0.947 -> 0.946, 0.935 -> 0.944. A rank-based combination was worse (seed 7, 128 px:
    junk in the first 20% 0.73 against 0.91)."""
    parts = [p_not_own, not_car]
    if other_near is not None:
        parts.append(other_near)
    return np.asarray(np.clip(np.max(np.stack(parts), axis=0), 0.0, 1.0), dtype=np.float64)


def suggest(label: str, p_other_target: float, not_car: float, p_other_model: float, p_rejected: float,
            s: AuditSettings, agree: float = 1.0, other_near: float = 0.0) -> tuple[str, str]:
    """The suggested action and its reason (both "" for none). A person applies it, or ``auto_reject_above``."""
    other = TARGETS[1 - TARGETS.index(label)]
    reasons = []
    if not_car >= s.reject_min:
        reasons.append((not_car, "reject: not-a-car", f"ImageNet sees no motor vehicle here or in its "
                                                      f"{s.neighbours} nearest photos (P={not_car:.2f})"))
    if p_rejected >= s.reject_min:
        reasons.append((p_rejected, "reject: not-a-car", f"like the photos a person rejected (P={p_rejected:.2f})"))
    if p_other_model >= s.reject_min:
        reasons.append((p_other_model, "reject: other-model",
                        f"like photos of listings for other models (P={p_other_model:.2f})"))
    if reasons:
        _, action, why = max(reasons)
        return action, why
    # a relabel needs the classifier, the photo's neighbours and a car-like photo that is not near other models
    if p_other_target >= s.relabel_min and max(not_car, p_other_model, p_rejected, other_near) < s.car_max \
            and agree >= s.relabel_agree:
        return f"relabel: {other}", (f"out-of-fold P({other})={p_other_target:.3f} for a {label} listing's photo; "
                                     f"{agree:.0%} of its nearest photos are {other}")
    return "", ""


def audit(data: AuditInput, s: AuditSettings) -> Audit:
    """Score every audited row (see the module docstring); raises AuditError when the classes are too small."""
    from cleanlab.outlier import OutOfDistribution
    from cleanlab.rank import get_label_quality_scores

    audited = np.asarray(data.audited, dtype=bool)
    labels = np.asarray(data.labels)
    check_folds(list(labels[audited]), [g for g, a in zip(data.groups, audited, strict=True) if a], s.folds)
    notes = []
    keep = audited.copy()
    classes = list(TARGETS)
    for extra in (OTHER, REJECTED):
        n = int(np.sum(labels == extra))
        if n >= max(s.min_extra_class, s.folds):
            keep |= labels == extra
            classes.append(extra)
        elif n:
            notes.append(f"{n} {extra} photos are too few to teach a class (need {s.min_extra_class}); left out")
    idx = np.flatnonzero(keep)
    y = np.array([classes.index(label) for label in labels[idx]])
    groups = [data.groups[i] for i in idx]
    probs = np.zeros((len(labels), len(classes)))
    probs[idx] = out_of_fold(data.features[idx], y, groups, s.folds, s.C, s.seed)
    a = np.flatnonzero(audited)
    pa = probs[a]
    ya = np.array([classes.index(label) for label in labels[a]])
    # cleanlab's label quality on the two target classes, renormalised: a junk photo is not a label issue
    target = pa[:, :2] / np.clip(pa[:, :2].sum(axis=1, keepdims=True), 1e-12, None)
    quality = get_label_quality_scores(ya, target)
    z = standardised(data.features[a])
    ood = OutOfDistribution().fit_score(features=z, verbose=False) if len(a) > 10 else np.ones(len(a))
    if data.imagenet is not None:
        not_car = not_car_scores(data.imagenet[a], z, s.neighbours)
    else:
        not_car = np.zeros(len(a))
        notes.append("no ImageNet head: not-a-car scores left at 0")
    p_other_target = target[np.arange(len(a)), 1 - ya]
    p_other_model = pa[:, classes.index(OTHER)] if OTHER in classes else np.zeros(len(a))
    p_rejected = pa[:, classes.index(REJECTED)] if REJECTED in classes else np.zeros(len(a))
    near_other = other_model_near(standardised(data.features[keep]), list(labels[keep]), audited[keep],
                                  s.other_near_k)
    agree = other_target_agreement(z, list(labels[a]), s.other_near_k)
    suspicion = combine(1.0 - pa[np.arange(len(a)), ya], not_car, near_other)
    near = nearest_by_class(z, list(labels[a]), s.shown_neighbours)
    shas = [data.shas[i] for i in a]
    rows = []
    for j, sha in enumerate(shas):
        action, why = suggest(str(labels[a][j]), float(p_other_target[j]), float(not_car[j]),
                              float(p_other_model[j]), float(p_rejected[j]), s, float(agree[j]),
                              float(near_other[j]))
        p = dict(zip(classes, pa[j], strict=True))
        rows.append(AuditRow(
            sha, str(labels[a][j]), round(float(p["swift"]), 4), round(float(p["wagonr"]), 4),
            round(float(p.get(OTHER, 0.0)), 4), round(float(p.get(REJECTED, 0.0)), 4), round(float(quality[j]), 4),
            round(1.0 - float(quality[j]), 4), round(float(ood[j]), 4), round(float(not_car[j]), 4),
            round(float(near_other[j]), 4),
            round(float(suspicion[j]), 4), action, why,
            " ".join(shas[k] for k in near["swift"][j] if k >= 0),
            " ".join(shas[k] for k in near["wagonr"][j] if k >= 0)))
    return Audit(rows, tuple(classes), notes)
