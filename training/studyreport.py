"""``data/study/``: the study's five questions answered from the grid's runs, with plots.

Noise is the seed spread: for a group of runs that differ only by seed, max - min of their accuracy. Two settings
"differ" only when their mean accuracies differ by more than the larger of their two spreads; otherwise the answer
says "within seed noise". Every sentence below is computed from the runs by that rule, and the tables beside it
show the numbers it used.

Plots are drawn with matplotlib (Agg, no display): a learning curve per variant (mean over seeds, the band from
the lowest to the highest seed), and the pipeline's own per-epoch train / val curves per variant.
"""

from __future__ import annotations

import json
import logging
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.fitcurves import Fit, diagnosis
from training.study import Run

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cell:
    """Runs that differ only by seed: their mean and spread of one accuracy."""

    mean: float
    spread: float  # max - min over seeds
    n: int


def cell(values: Sequence[float]) -> Cell:
    return Cell(statistics.fmean(values), max(values) - min(values), len(values))


def differs(a: Cell, b: Cell) -> bool:
    """The module's noise rule: the means differ by more than the larger seed spread."""
    return abs(a.mean - b.mean) > max(a.spread, b.spread)


def _fmt(c: Cell | None) -> str:
    return "n/a" if c is None else f"{c.mean:.3f} ± {c.spread / 2:.3f}"


Key = tuple[str, float, str, str]  # variant, fraction, scaling, backend


def group(runs: Iterable[Run], metric: str, **match: object) -> dict[Key, Cell]:
    """Cells keyed by (variant, fraction, scaling, backend) for runs matching ``match``."""
    by: dict[Key, list[float]] = defaultdict(list)
    for r in runs:
        if all(getattr(r, k) == v for k, v in match.items()):
            by[(r.variant, r.fraction, r.scaling, r.backend)].append(float(getattr(r, metric)))
    return {k: cell(v) for k, v in by.items()}


@dataclass(frozen=True)
class StudyReport:
    markdown: str
    summary: dict[str, object]


def _curves_section(runs: Sequence[Run], backend: str, scaling: str, variants: Sequence[str],
                    png: str) -> tuple[list[str], dict[str, object]]:
    val = group(runs, "val_accuracy", backend=backend, scaling=scaling)
    test = group(runs, "test_accuracy", backend=backend, scaling=scaling)
    n_train = {(r.variant, r.fraction): r.n_train for r in runs if r.backend == backend and r.scaling == scaling}
    fractions = sorted({f for (v, f, _, _) in test if v in variants})
    lines = ["## 1. How much data is enough, and is more always better?", "",
             f"![learning curves]({png})", "",
             "Test accuracy (mean ± half the seed spread) against the share of train.csv; val and test stay whole.",
             "", "| variant | " + " | ".join(f"{f:g} ({n_train.get((variants[0], f), '?')} photos)"
                                            for f in fractions) + " |",
             "|---|" + "---|" * len(fractions)]
    answers: list[str] = []
    summary: dict[str, object] = {}
    for v in variants:
        row = [test.get((v, f, scaling, backend)) for f in fractions]
        lines.append(f"| {v} | " + " | ".join(_fmt(c) for c in row) + " |")
        cells = [c for c in row if c is not None]
        if len(cells) >= 2:
            last, before = cells[-1], cells[-2]
            if differs(last, before) and last.mean > before.mean:
                verdict = (f"still gains from the last step ({before.mean:.3f} -> {last.mean:.3f}, beyond the seed "
                           "spread): more data would help")
            elif differs(last, before):
                verdict = f"loses on the last step ({before.mean:.3f} -> {last.mean:.3f}): more was not better"
            else:
                verdict = (f"has levelled off: the last step ({before.mean:.3f} -> {last.mean:.3f}) is within seed "
                           "noise")
            gain = last.mean - cells[0].mean
            answers.append(f"- `{v}` {verdict}; from the smallest share to all of train it moved {gain:+.3f}.")
        summary[v] = {f"{f:g}": {"val": val[(v, f, scaling, backend)].mean, "test": c.mean, "spread": c.spread}
                      for f, c in zip(fractions, row, strict=True) if c is not None and (v, f, scaling, backend) in val}
    return [*lines, "", *answers], summary


def full_runs(runs: Sequence[Run], backend: str, scaling: str) -> dict[str, Run]:
    """Per variant, its run on all of train at the lowest seed (the one whose per-epoch curves are drawn)."""
    out: dict[str, Run] = {}
    for r in sorted(runs, key=lambda r: r.seed):
        if r.backend == backend and r.scaling == scaling and r.fraction == 1.0 and r.train_curve:
            out.setdefault(r.variant, r)
    return out


def fit_from_run(r: Run) -> Fit:
    train = [float(a) for a in r.train_curve.split(";")]
    val = [float(a) for a in r.val_curve.split(";")]
    best = r.best_epoch - 1
    return Fit(r.variant, len(val), r.best_epoch, train[best], val[best], val[-1], tuple(train), tuple(val))


def _bias_variance_section(runs: Sequence[Run], backend: str, scaling: str, variants: Sequence[str],
                           png: str | None) -> tuple[list[str], dict[str, object]]:
    lines = ["## 2. Bias and variance: which model generalises?", ""]
    fits = {v: fit_from_run(r) for v, r in full_runs(runs, backend, scaling).items()}
    if png and fits:
        lines += [f"![train and val per epoch]({png})", "",
                  "Per-epoch train (dashed) and val (solid) accuracy of each variant on all of train (lowest seed). "
                  "Train accuracy is logged while fitting, with augmentation and dropout on, so the gap is a lower "
                  "bound.", ""]
    lines += [f"- `{v}`: {diagnosis(f)}" for v, f in fits.items()]
    gap: dict[tuple[str, float], list[float]] = defaultdict(list)
    for r in runs:
        if r.backend == backend and r.scaling == scaling and r.variant in variants:
            gap[(r.variant, r.fraction)].append(r.train_accuracy - r.val_accuracy)
    fractions = sorted({f for _, f in gap})
    lines += ["", "Train minus val accuracy at the best epoch, by share of train (mean over seeds). A gap that "
              "shrinks as data grows is variance that data cures; a gap near zero with low accuracy is bias.", "",
              "| variant | " + " | ".join(f"{f:g}" for f in fractions) + " |", "|---|" + "---|" * len(fractions)]
    summary: dict[str, object] = {}
    for v in variants:
        vals = [statistics.fmean(gap[(v, f)]) if gap.get((v, f)) else None for f in fractions]
        lines.append(f"| {v} | " + " | ".join("n/a" if g is None else f"{g:+.3f}" for g in vals) + " |")
        summary[v] = {f"{f:g}": g for f, g in zip(fractions, vals, strict=True) if g is not None}
    summary["at_best_epoch_full_train"] = {v: round(f.gap, 4) for v, f in fits.items()}
    return lines, summary


def _pairs_section(title: str, runs: Sequence[Run], variants: Sequence[str], side_a: dict[str, object],
                   side_b: dict[str, object], names: tuple[str, str],
                   claim: str) -> tuple[list[str], dict[str, object]]:
    a = group(runs, "test_accuracy", fraction=1.0, **side_a)
    b = group(runs, "test_accuracy", fraction=1.0, **side_b)
    secs_a = group(runs, "seconds_per_epoch", fraction=1.0, **side_a)
    secs_b = group(runs, "seconds_per_epoch", fraction=1.0, **side_b)
    lines = [title, "", f"Test accuracy on all of train (mean ± half the seed spread). {claim}", "",
             f"| variant | {names[0]} | {names[1]} | difference | beyond seed noise? | s / epoch ({names[0]} / "
             f"{names[1]}) |", "|---|---|---|---|---|---|"]
    summary: dict[str, object] = {}
    beyond = 0
    compared = 0
    for v in variants:
        ca = next((c for k, c in a.items() if k[0] == v), None)
        cb = next((c for k, c in b.items() if k[0] == v), None)
        sa = next((c for k, c in secs_a.items() if k[0] == v), None)
        sb = next((c for k, c in secs_b.items() if k[0] == v), None)
        if ca is None or cb is None:
            continue
        compared += 1
        d = differs(ca, cb)
        beyond += d
        secs = f"{sa.mean:.1f} / {sb.mean:.1f}" if sa and sb else "n/a"
        diff = round(cb.mean - ca.mean, 3) + 0.0  # + 0.0: no "-0.000"
        lines.append(f"| {v} | {_fmt(ca)} | {_fmt(cb)} | {diff:+.3f} | {'yes' if d else 'no'} | {secs} |")
        summary[v] = {names[0]: ca.mean, names[1]: cb.mean, "beyond_noise": d,
                      "seconds_per_epoch": [sa.mean if sa else None, sb.mean if sb else None]}
    lines += ["", f"{beyond} of {compared} variants differ beyond seed noise."]
    return lines, summary


def _transfer_section(runs: Sequence[Run], backend: str, scaling: str, variants: Sequence[str],
                      kinds: dict[str, str]) -> list[str]:
    pretrained = [v for v in variants if kinds.get(v) == "transfer"]
    custom = [v for v in variants if v not in pretrained]
    if not pretrained or not custom:
        return []
    test = group(runs, "test_accuracy", backend=backend, scaling=scaling)
    val = group(runs, "val_accuracy", backend=backend, scaling=scaling)
    fractions = sorted({f for (v, f, _, _) in test if v in variants})
    lines = ["## 3. Custom CNN or pre-trained network?", "",
             "At each share of train, the best from-scratch variant by mean val accuracy beside the pre-trained one "
             "(test accuracy).", "", "| share | best custom | custom test | pre-trained test | pre-trained "
             "ahead beyond noise? |", "|---|---|---|---|---|"]
    for f in fractions:
        options = [v for v in custom if (v, f, scaling, backend) in val]
        if not options:
            continue
        best = max(options, key=lambda v: val[(v, f, scaling, backend)].mean)
        for p in pretrained:
            cp, cc = test.get((p, f, scaling, backend)), test[(best, f, scaling, backend)]
            if cp is None:
                continue
            ahead = "yes" if differs(cp, cc) and cp.mean > cc.mean else "behind" if differs(cp, cc) else "no"
            lines.append(f"| {f:g} | {best} | {_fmt(cc)} | {_fmt(cp)} | {ahead} |")
    return lines


def scaling_verdict(summary: dict[str, object], unit: str, flipped: str) -> str:
    """Whether [-1, 1] input explains a lead, by the noise rule: it must beat [0, 1] beyond seed noise on most
    variants."""
    rows = [r for r in summary.values() if isinstance(r, dict)]
    symmetric, plain = ("symmetric", "unit") if flipped == "symmetric" else ("unit", "symmetric")
    better = sum(1 for r in rows if r["beyond_noise"] and r[symmetric] > r[plain])
    worse = sum(1 for r in rows if r["beyond_noise"] and r[symmetric] < r[plain])
    if rows and better > len(rows) / 2:
        return (f"The study's explanation holds here: [-1, 1] input beats [0, 1] beyond seed noise on {better} of "
                f"{len(rows)} variants.")
    return (f"The study's explanation does not hold on carid's data: [-1, 1] input beats [0, 1] beyond seed noise "
            f"on {better} of {len(rows)} variants and loses on {worse}; a 1.5-point lead from one run of each, as "
            "the study had, is within what a change of seed moves.")


def study_report(runs: Sequence[Run], variants: Sequence[str], scaling_variants: Sequence[str],
                 backend_variants: Sequence[str], backends: Sequence[str], unit: str, kinds: dict[str, str],
                 curves_png: str, fit_png: str | None, pairs_png: str | None = None) -> StudyReport:
    """The markdown and the summary JSON; pure (the plots are drawn by :func:`draw_plots`)."""
    first = backends[0]
    flipped = "symmetric" if unit == "unit" else "unit"
    seconds = sum(r.seconds for r in runs)
    md = ["# What the study asked, measured", "",
          f"{len(runs)} training runs ({seconds / 60:.1f} min of training), from `dvc repro study-report`. "
          "Each accuracy is the mean over seeds; ± is half the seed spread (max - min). Two settings differ only when "
          "their means differ by more than the larger spread.", ""]
    curves, s_curves = _curves_section(runs, first, unit, variants, curves_png)
    bv, s_bv = _bias_variance_section(runs, first, unit, variants, fit_png)
    scaling_lines, s_scaling = _pairs_section(
        "## 4. Does the input scaling matter?", runs, scaling_variants, {"backend": first, "scaling": unit},
        {"backend": first, "scaling": flipped}, (unit, flipped),
        "The study credited [-1, 1] scaling for its PyTorch run's lead (0.896 against 0.881).")
    scaling_lines += ["", scaling_verdict(s_scaling, unit, flipped)]
    if pairs_png:  # one figure for questions 4 and 5: shown under 4, pointed to under 5
        scaling_lines[1:1] = ["", f"![input scaling and backends]({pairs_png})"]
    backend_lines: list[str] = []
    s_backend: dict[str, object] = {}
    for other in backends[1:]:
        part, s_backend[other] = _pairs_section(
            f"## 5. Which framework suits the task? Keras on {first} and on {other}", runs, backend_variants,
            {"backend": first, "scaling": unit}, {"backend": other, "scaling": unit}, (first, other),
            "Same data, seeds and params; only KERAS_BACKEND differs.")
        if pairs_png:
            part[1:1] = ["", "The right-hand panel of the figure under question 4 shows these runs."]
        backend_lines += [*part, ""]
    md += [*curves, "", *bv, "", *_transfer_section(runs, first, unit, variants, kinds), "", *scaling_lines, "",
           *backend_lines]
    summary = {"runs": len(runs), "training_minutes": round(seconds / 60, 1), "learning_curves": s_curves,
               "gap_at_best_epoch": s_bv, "input_scaling": s_scaling, "backends": s_backend}
    return StudyReport("\n".join(md).rstrip("\n") + "\n", summary)


def _pyplot() -> Any:
    """matplotlib's pyplot on the file-only Agg backend, imported on first use (the report itself needs no plots)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _placeholder(png: Path, text: str) -> None:
    """A small figure that says why a plot is empty: DVC expects every declared plot file to exist."""
    plt = _pyplot()

    png.parent.mkdir(parents=True, exist_ok=True)
    fig = plt.figure(figsize=(4.5, 1))
    fig.text(0.5, 0.5, text, ha="center", va="center")
    fig.savefig(png, dpi=100)
    plt.close(fig)


def draw_plots(runs: Sequence[Run], variants: Sequence[str], backend: str, scaling: str, curves_png: Path,
               fit_png: Path) -> bool:
    """Learning curves into ``curves_png``; per-epoch train / val curves of the full-train runs into ``fit_png``
    (False: no run has its curves; the file then says so, as DVC expects the output)."""
    plt = _pyplot()

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, metric in zip(axes, ("val_accuracy", "test_accuracy"), strict=True):
        cells = group(runs, metric, backend=backend, scaling=scaling)
        for v in variants:
            pts = sorted((f, c) for (name, f, _, _), c in cells.items() if name == v)
            if not pts:
                continue
            n = {r.fraction: r.n_train for r in runs if r.variant == v and r.backend == backend}
            xs = [n[f] for f, _ in pts]
            values = {f: [float(getattr(r, metric)) for r in runs if r.variant == v and r.fraction == f
                          and r.backend == backend and r.scaling == scaling] for f, _ in pts}
            ax.plot(xs, [c.mean for _, c in pts], marker="o", label=v)
            ax.fill_between(xs, [min(values[f]) for f, _ in pts], [max(values[f]) for f, _ in pts], alpha=0.2)
        ax.set_xscale("log")
        ax.set_xlabel("training photos")
        ax.set_title(metric.replace("_", " "))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy")
    axes[0].legend()
    fig.tight_layout()
    curves_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(curves_png, dpi=100)
    plt.close(fig)

    fits = {v: fit_from_run(r) for v, r in full_runs(runs, backend, scaling).items()}
    if not fits:
        _placeholder(fit_png, "no full-train run with per-epoch curves in this grid")
        return False
    fig, axes = plt.subplots(1, len(fits), figsize=(3.2 * len(fits), 3), sharey=True, squeeze=False)
    for ax, (v, f) in zip(axes[0], fits.items(), strict=True):
        ax.plot(range(1, len(f.train_curve) + 1), f.train_curve, "--", label="train")
        ax.plot(range(1, len(f.val_curve) + 1), f.val_curve, label="val")
        ax.axvline(f.best_epoch, color="grey", lw=0.8)
        ax.set_title(f"{v} (gap {f.gap:+.3f})")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("accuracy")
    axes[0][0].legend()
    fig.tight_layout()
    fig.savefig(fit_png, dpi=100)
    plt.close(fig)
    return True


def draw_pairs(runs: Sequence[Run], scaling_variants: Sequence[str], backend_variants: Sequence[str],
               backends: Sequence[str], scaling: str, png: Path) -> bool:
    """Questions 4 and 5 in one figure: test accuracy on all of train per variant, [0, 1] beside [-1, 1] input (on
    the first backend) and each backend beside the first; a dot per seed mean, a bar over the seeds' range (the
    noise rule's spread). False: no pair in this grid (the file then says so, as DVC expects the output)."""
    flipped = "symmetric" if scaling == "unit" else "unit"
    panels = [("input scaling" + f" ({backends[0]})", scaling_variants,
               [(scaling, {"backend": backends[0], "scaling": scaling}),
                (flipped, {"backend": backends[0], "scaling": flipped})])]
    panels += [(f"backend ({scaling} input)", backend_variants,
                [(b, {"backend": b, "scaling": scaling}) for b in backends])] if len(backends) > 1 else []
    cells = [[(name, {k: c for k, c in group(runs, "test_accuracy", fraction=1.0, **match).items() if k[0] in variants})
              for name, match in sides] for _, variants, sides in panels]
    plt = _pyplot()

    png.parent.mkdir(parents=True, exist_ok=True)
    if not any(got for sides in cells for _, got in sides):
        _placeholder(png, "no scaling or backend pairs in this grid")
        return False
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), sharey=True, squeeze=False)
    for ax, (title, variants, _), sides in zip(axes[0], panels, cells, strict=True):
        width = 0.8 / len(sides)
        for j, (name, got) in enumerate(sides):
            xs, means, lows, highs = [], [], [], []
            for i, v in enumerate(variants):
                c = next((c for k, c in got.items() if k[0] == v), None)
                if c is None:
                    continue
                xs.append(i - 0.4 + width * (j + 0.5))
                means.append(c.mean)
                lows.append(c.spread / 2)
                highs.append(c.spread / 2)
            ax.errorbar(xs, means, yerr=[lows, highs], fmt="o", capsize=3, label=name)
        ax.set_xticks(range(len(variants)), list(variants), rotation=20)
        ax.set_title(title)
        ax.grid(alpha=0.3, axis="y")
        ax.legend()
    axes[0][0].set_ylabel("test accuracy (all of train)")
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return True


STUDY_HEADING = "## What the study asked, measured"
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)/]+)\)")


def with_study_section(report: str, study_md: str | None, study_rel: str) -> str:
    """``report`` (data/report.md) with the study's answers as its last section, replacing any earlier one.

    The study's headings move one level down and its plots are linked through ``study_rel`` (the study folder
    relative to the report). Without a study report, the section says how to make one. Pure and idempotent.
    ``carid train report`` writes it; the study's own stage does not touch data/report.md (another stage's
    output), so after a new grid ``dvc repro -f -s report`` carries the new answers over.
    """
    at = report.find("\n" + STUDY_HEADING + "\n")
    base = (report[:at] if at >= 0 else report).rstrip("\n")
    if study_md is None:
        body = ["The learning curves, bias and variance, input scaling and backends are measured by "
                "`dvc repro study-report` (about half an hour on 2 cores; not part of the demo). It writes "
                f"`{study_rel}/report.md`; then `dvc repro -f -s report` carries its answers into this section."]
    else:
        lines = study_md.strip("\n").splitlines()
        if lines and lines[0].startswith("# "):
            lines = lines[1:]
        body = [("#" + line) if line.startswith("#") else _IMAGE.sub(rf"![\1]({study_rel}/\2)", line)
                for line in lines]
        body = [f"From `dvc repro study-report` (`{study_rel}/report.md`, its runs in `{study_rel}/runs-*.csv`), as it "
                "stood when this report was written; `dvc repro -f -s report` brings a newer grid's answers in.",
                *body]
    return "\n".join([base, "", STUDY_HEADING, "", *body]).rstrip("\n") + "\n"


def refresh_report(report_path: Path, study_dir: Path) -> bool:
    """Rewrite ``report_path``'s study section from ``study_dir/report.md``; False when there is no report yet."""
    import os

    from carid.atomic import write_texts

    if not report_path.is_file():
        return False
    study = study_dir / "report.md"
    text = with_study_section(report_path.read_text(encoding="utf-8"),
                              study.read_text(encoding="utf-8") if study.is_file() else None,
                              Path(os.path.relpath(study_dir, report_path.parent)).as_posix())
    write_texts(report_path.parent, {report_path.name: text})
    return True


def write_study(out: Path, report: StudyReport) -> None:
    from carid.atomic import write_texts

    write_texts(out, {"report.md": report.markdown,
                      "summary.json": json.dumps(report.summary, indent=2, sort_keys=True) + "\n"})
