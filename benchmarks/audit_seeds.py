"""The audit's review order against the demo's answer key at several marketplace seeds (evaluation only).

    nice -n 19 .venv/bin/python benchmarks/audit_seeds.py 7 11 23 --small 23 --rounds 2 --read 0.05
    .venv/bin/python benchmarks/audit_seeds.py 7 11 23 --small 23 --fold-seeds 5

Per seed: the marketplace's photos are rendered into a temporary folder as the scraper lays them out
(``curation.seeds.write_raw``), curated with the project's params, audited (``curation.audit_run.run_audit``:
embeddings from the user's feature cache, computed where missing) and scored (``curation.scoring.audit_score``):
junk in the first 20% of the accepted photos in review order, the share read to catch 95% of the accepted junk,
relabel precision / recall. The colour-layout order (no audit) is scored beside it.

``--fold-seeds K``: the audit over K shuffles of the folds (``AuditSettings.seed`` 0 .. K-1, 0 being the audit
above; the same embeddings), and the min / mean / max of each figure over the K splits. The split alone moves
read-for-95% by 0.03 at seeds 7 and 11 and by 0.15 at half-size seed 23 (README, audit section), so compare two
ways of scoring by these spreads, not by one split.

``--rounds R --read F``: a person reads the first share F of the accepted photos in review order and decides
what they saw (the demo's stand-in reviewer plays the person: it rejects the junk and relabels the photos of the
other target model among the photos *read*, as a person reading them would); the audit then runs again with those
decisions in decisions.csv (a person's rejects teach it a class of their own) and the person goes on in the new
order. The figures count every photo read, in the order read. The answer key decides only what the simulated
person writes about photos already read; no score of an unread photo sees it.

``--bound``: how far a scorer on the same embeddings gets when the answer key helps it three ways, a ceiling for
the audit's order (:func:`key_assisted_bound`): every accepted junk photo that is not a car of another model is put
first (as if the not-a-car part were perfect); the photos of the other target model (relabels) are scored like any
car photo, so they need not take the review's early places; and the classifier that finds photos of another model
learns from clean labels: per listing label, the key's clean photos of that label (out of fold, by listing) against
the other-model listings' photos that the key says show a Dzire, Alto, Baleno or Celerio. Two model families:
the audit's logistic regression (C 0.01, standardised embeddings) and gradient-boosted trees on 64 principal
components. The audit itself can use none of that help, so its figures can only be worse than the bound's, up to
the model family.
"""

from __future__ import annotations

import argparse
import logging
import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from carid.params import load_params
from curation.audit import OTHER, TARGETS, AuditInput, audit
from curation.audit_run import audit_input, run_audit, settings
from curation.decisions import Decision
from curation.outputs import Curated, review_order
from curation.run import CuratePaths, curate
from curation.scoring import Truth, audit_score, in_first_fifth, read_for, truth_from_rows, wrong_target
from curation.seeds import _store, shards_of, write_raw
from curation.verdicts import apply_decisions
from marketplace.answer_key import answer_rows
from marketplace.inventory import Inventory

ROOT = Path(__file__).resolve().parents[1]


def _accepted_order(c: Curated) -> list[str]:
    seen: dict[str, None] = {}
    for v in review_order(c):
        if v.status == "accepted":
            seen.setdefault(v.photo.sha256, None)
    return list(seen)


def rounds(c0: Curated, truth: dict[str, Truth], root: Path, rounds_n: int, share: float) -> dict[str, object]:
    """The read order over ``rounds_n`` audits, the person deciding each time on the next ``share`` of photos."""
    p = load_params(ROOT / "params.yaml")
    labels = {v.photo.sha256: v.label for v in c0.verdicts if v.status == "accepted"}
    total = len(labels)
    read: list[str] = []
    decisions: dict[str, Decision] = {}
    c = c0
    for r in range(rounds_n):
        verdicts, _ = apply_decisions(c0.verdicts, decisions)
        c = run_audit(replace(c0, verdicts=verdicts, decisions=decisions), root, p.audit).curated
        fresh = [s for s in _accepted_order(c) if s not in decisions and s not in read]
        take = fresh if r == rounds_n - 1 else fresh[: math.ceil(share * total)]
        for sha in take:
            read.append(sha)
            t = truth.get(sha)
            if wrong_target(t, labels[sha]):
                decisions[sha] = Decision(sha, "relabel", t.true_model, "", "stand-in")  # type: ignore[union-attr]
            elif t is not None and t.junk_kind:
                decisions[sha] = Decision(sha, "reject", "", t.junk_kind, "stand-in")
    relabel = [wrong_target(truth.get(s), labels[s]) for s in read]
    junk = [bool((t := truth.get(s)) and t.junk_kind) and not w for s, w in zip(read, relabel, strict=True)]
    hits = [i for i, j in enumerate(junk, start=1) if j]
    n95 = hits[math.ceil(0.95 * len(hits) - 1e-9) - 1] if hits else 0
    return {"rounds": rounds_n, "read_per_round": share, "junk_in_first_20pct": round(
        sum(junk[: total // 5]) / max(sum(junk), 1), 4), "share_read_for_95pct_of_junk": round(n95 / total, 4)}


SPREAD = ("junk_in_first_20pct", "share_read_for_95pct_of_junk", "relabel_precision")


def fold_spread(c: Curated, inp: AuditInput, truth: dict[str, Truth], splits: int) -> dict[str, tuple[float, ...]]:
    """(min, mean, max) of each :data:`SPREAD` figure over the audits of ``splits`` fold shuffles (seeds 0 ..
    splits - 1), on one set of embeddings."""
    p = load_params(ROOT / "params.yaml")
    values: dict[str, list[float]] = {k: [] for k in SPREAD}
    for k in range(splits):
        result = audit(inp, replace(settings(p.audit), seed=k))
        scores = audit_score(replace(c, audit={r.sha256: r for r in result.rows}), truth)
        for key in SPREAD:
            if isinstance(v := scores.get(key), int | float):
                values[key].append(float(v))
    return {k: (min(v), round(sum(v) / len(v), 4), max(v)) for k, v in values.items() if v}


def _junk_kinds(inp: AuditInput, truth: dict[str, Truth]) -> np.ndarray:
    """Per audited row: junk (to reject, not a car of another model) | other (a car of a non-target model) |
    relabel (the other target model) | clean."""
    out = []
    for i in np.flatnonzero(inp.audited):
        t = truth.get(inp.shas[i])
        out.append("clean" if t is None else "relabel" if wrong_target(t, inp.labels[i]) else
                   "other" if t.junk_kind == "other-model" else "junk" if t.junk_kind else "clean")
    return np.asarray(out)


def _order_figures(score: np.ndarray, kinds: np.ndarray) -> dict[str, float | None]:
    """Junk in the first 20% and the share read for 95% of it, reading in descending ``score`` (as audit_score)."""
    flags = np.isin(kinds[np.argsort(-score, kind="stable")], ["junk", "other"]).tolist()
    return {"junk_in_first_20pct": in_first_fifth(flags), "share_read_for_95pct_of_junk": read_for(flags)}


def key_assisted_bound(inp: AuditInput, truth: dict[str, Truth],
                       folds: int = 5) -> dict[str, dict[str, float | None]]:
    """The ceiling of ``--bound`` (module docstring) per model family: its order's figures."""
    from sklearn.decomposition import PCA
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import StandardScaler

    a = np.flatnonzero(inp.audited)
    x, labels, groups = inp.features[a], np.asarray(inp.labels)[a], np.asarray(inp.groups)[a]
    kinds = _junk_kinds(inp, truth)
    teach = [i for i in np.flatnonzero(np.asarray(inp.labels) == OTHER)
             if (t := truth.get(inp.shas[i])) and not t.junk_kind and t.true_model not in TARGETS]
    families: dict[str, Callable[[], Pipeline]] = {
        "logistic regression": lambda: make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=3000)),
        "boosted trees": lambda: make_pipeline(PCA(min(64, x.shape[1]), random_state=0),
                                               HistGradientBoostingClassifier(random_state=0))}
    out = {}
    for name, model in families.items():
        score = np.where(kinds == "junk", 2.0, 0.0)
        for label in TARGETS:
            rows = np.flatnonzero((labels == label) & (kinds != "junk"))
            cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=0)
            for train, test in cv.split(x[rows], kinds[rows] == "other", groups[rows]):
                clean = rows[train][kinds[rows[train]] == "clean"]
                fitted = model().fit(np.vstack([x[clean], inp.features[teach]]),
                                     np.r_[np.zeros(len(clean)), np.ones(len(teach))])
                score[rows[test]] = fitted.predict_proba(x[rows[test]])[:, 1]
        out[name] = _order_figures(score, kinds)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("seeds", type=int, nargs="+")
    ap.add_argument("--small", type=int, nargs="*", default=[], help="seeds rendered at half size (250 + 140)")
    ap.add_argument("--rounds", type=int, default=0)
    ap.add_argument("--read", type=float, default=0.05)
    ap.add_argument("--bound", action="store_true", help="also the answer-key-assisted ceiling (see above)")
    ap.add_argument("--fold-seeds", type=int, default=0, help="also audit with this many fold shuffles: min/mean/max")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    p = load_params(ROOT / "params.yaml")
    for seed in args.seeds:
        size = {"listings_per_region": 250, "hyderabad_listings": 140} if seed in args.small else {}
        mp = p.marketplace.model_copy(update={"seed": seed, **size})
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f"carid-audit-{seed}-") as tmp:
            root = Path(tmp)
            photos = write_raw(mp, shards_of(p.scrape.shards), root, root / "raw", p.curate.workers)
            c = curate(CuratePaths(root, root / "raw", root / "decisions.csv", root / "out"), p.curate)
            truth = truth_from_rows(asdict(r) for r in answer_rows(Inventory(mp), _store()))
            result = run_audit(c, root, p.audit)
            print(f"seed {seed}: {photos} photos; audit {result.seconds:.1f} s; notes {result.notes}", flush=True)
            print(f"  layout order (no audit): {audit_score(c, truth)}", flush=True)
            print(f"  audit order:             {audit_score(result.curated, truth)}", flush=True)
            inp = audit_input(c, root, p.audit.embed_size) if args.fold_seeds > 1 or args.bound else None
            if inp is not None and args.fold_seeds > 1:
                print(f"  over {args.fold_seeds} fold splits (min, mean, max): "
                      f"{fold_spread(c, inp, truth, args.fold_seeds)}", flush=True)
            if inp is not None and args.bound:
                bound = key_assisted_bound(inp, truth)
                print(f"  key-assisted ceiling:    {bound}", flush=True)
            if args.rounds:
                print(f"  person + audit rounds:   {rounds(c, truth, root, args.rounds, args.read)}", flush=True)
        print(f"  ({time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
