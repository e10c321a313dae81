"""The study grid: its points, the per-class cut of train, real tiny training runs, resuming, and the report."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml
from trainkit import REPO, cache_dir_at, project
from typer.testing import CliRunner

from carid.cli import app
from carid.params import load_params
from splitting.records import read_photos
from training.study import (
    Point,
    Run,
    _csv,
    grid,
    point_params,
    read_runs,
    run_points,
    study_epochs,
    subsample,
    validation_every,
)
from training.studyreport import cell, differs, draw_pairs, draw_plots, study_report

TINY_STUDY = {"variants": ["baseline"], "fractions": [0.5, 1.0], "seeds": [1, 2], "image_size": 48, "max_epochs": 1,
              "scaling_variants": ["baseline"], "backends": ["tensorflow"], "backend_variants": []}


def test_repo_grid_has_every_question_and_no_repeats() -> None:
    p = load_params(REPO / "params.yaml")
    points = grid(p)
    assert len(points) == len(set(points))
    s = p.study
    curves = {(q.variant, q.fraction, q.seed) for q in points if q.backend == "tensorflow" and q.scaling == "unit"}
    assert {(v, f, seed) for v in s.variants for f in s.fractions for seed in s.seeds} <= curves
    assert {(q.variant, q.seed) for q in points if q.scaling == "symmetric"} == \
        {(v, seed) for v in s.scaling_variants for seed in s.seeds}
    jax = {(q.variant, q.seed) for q in points if q.backend == "jax"}
    tf_full = {(q.variant, q.seed) for q in points if q.backend == "tensorflow" and q.fraction == 1.0
               and q.scaling == "unit"}
    assert jax == {(v, seed) for v in s.backend_variants for seed in s.seeds} and jax <= tf_full


def test_a_study_variant_missing_from_train_is_named() -> None:
    p = load_params(REPO / "params.yaml")
    p = p.model_copy(update={"study": p.study.model_copy(update={"scaling_variants": ["nope"]})})
    with pytest.raises(ValueError, match=r"study\.scaling_variants: nope"):
        grid(p)


def test_subsample_cuts_each_class_by_the_fraction_and_depends_on_the_seed(tmp_path: Path) -> None:
    root, _ = project(tmp_path)
    photos = read_photos(root / "data/split/train.csv")
    half = subsample(photos, 0.5, 1)
    per_class = {lab: sum(ph.label == lab for ph in half) for lab in ("swift", "wagonr")}
    assert per_class == {"swift": 8, "wagonr": 8}
    assert subsample(photos, 0.5, 1) == half and subsample(photos, 0.5, 2) != half
    assert len(subsample(photos, 0.01, 1)) == 2  # at least one per class
    assert subsample(photos, 1.0, 1) == photos


def test_a_share_of_train_gets_the_updates_of_the_full_run_up_to_four_times_the_epochs() -> None:
    assert study_epochs(30, 10, 1.0) == 10 and study_epochs(5, 10, 1.0) == 5
    assert study_epochs(30, 10, 0.5) == 20 and study_epochs(30, 10, 0.25) == 40
    assert study_epochs(30, 10, 0.1) == 40  # 100 would be 10x: capped at 4x


def test_val_is_scored_as_often_as_in_the_full_run() -> None:
    assert [validation_every(30, 8, f) for f in (1.0, 0.5, 0.25, 0.1)] == [1, 2, 4, 4]
    assert validation_every(5, 8, 0.5) == 2 and validation_every(5, 8, 0.3) == 3  # ceil(5 / 0.3) = 17 epochs


def test_point_params_cap_epochs_drop_fine_tuning_and_flip_scaling_for_custom_cnns_only() -> None:
    t = load_params(REPO / "params.yaml").train
    custom = point_params(t, Point("baseline", 1.0, 3, "symmetric", "tensorflow"), 48, 5)
    assert custom.variants["baseline"].epochs == 5 and custom.input_scaling == "symmetric"
    assert (custom.seed, custom.image_size) == (3, 48)
    pre = point_params(t, Point("transfer", 1.0, 3, "symmetric", "tensorflow"), 48, 5)
    assert pre.variants["transfer"].fine_tune_epochs == 0 and pre.input_scaling == t.input_scaling
    assert pre.size_of("transfer") == t.size_of("transfer")  # transfer keeps its own input size


def test_run_points_trains_for_real_and_resumes_without_retraining(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    root, p = project(tmp_path)
    import keras

    here = {**TINY_STUDY, "backends": [keras.backend.backend()]}  # the suite also runs under JAX
    p = p.model_copy(update={"study": p.study.model_validate(here)})
    points = grid(p)
    assert len(points) == 6  # unit: 2 fractions x 2 seeds; symmetric: all of train x 2 seeds
    out = tmp_path / "study" / "runs-tensorflow.csv"
    with cache_dir_at(tmp_path / "cache"):
        first = run_points(points[:2], p, root / "data/split", root, out)
        assert [r.n_train for r in first] == [16, 16]
        assert all(0.0 <= r.test_accuracy <= 1.0 for r in first)
        assert [r.epochs for r in first] == [2, 2]  # half of train, twice the epochs: the same number of updates
        # val is scored as often as in the full run: once, after the second epoch, which is then the best one
        assert all(len(r.val_curve.split(";")) == 1 and r.best_epoch == 2 for r in first)
        with caplog.at_level(logging.INFO, logger="training.study"):
            runs = run_points(points, p, root / "data/split", root, out)
    assert "2 done earlier, 4 to train" in caplog.text
    assert runs[:2] == first
    assert [r.key for r in read_runs(out)] == [q.key for q in points]
    assert {r.scaling for r in runs} == {"unit", "symmetric"}


def test_points_train_in_parallel_single_thread_processes(tmp_path: Path) -> None:
    root, p = project(tmp_path)
    import keras

    here = {**TINY_STUDY, "backends": [keras.backend.backend()], "jobs": 2}
    p = p.model_copy(update={"study": p.study.model_validate(here)})
    points = grid(p)[:3]
    out = tmp_path / "study" / "runs.csv"
    with cache_dir_at(tmp_path / "cache"):
        runs = run_points(points, p, root / "data/split", root, out, jobs=p.study.jobs)
    assert [r.key for r in runs] == [q.key for q in points]  # the file is in grid order, whatever finished first
    assert [r.key for r in read_runs(out)] == [q.key for q in points]
    assert all(r.backend == keras.backend.backend() and r.epochs >= 1 for r in runs)


def test_read_runs_skips_and_names_a_broken_row(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good = Run("tensorflow", "baseline", 0.5, 1, "unit", 16, 48, 1, 1, 0.6, 0.55, 0.7, 0.5, 3.0)
    path = tmp_path / "runs.csv"
    path.write_text(_csv([good]) + "tensorflow,baseline,half,1,unit,16,48,1,1,0.6,0.55,0.7,0.5,3.0\n",
                    encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert read_runs(path) == [good]
    assert "runs.csv:3" in caplog.text


def runs_for(values: dict[tuple[str, float, str, str], list[float]]) -> list[Run]:
    return [Run(backend, variant, fraction, seed, scaling, int(1000 * fraction), 48, 10, 5, acc, acc, acc + 0.05,
                2.0 if backend == "tensorflow" else 3.0, 20.0)
            for (variant, fraction, scaling, backend), accs in values.items() for seed, acc in enumerate(accs)]


def test_noise_rule_and_the_answers_it_gives() -> None:
    assert differs(cell([0.80, 0.82]), cell([0.86, 0.87]))  # 0.055 apart, spreads 0.02 / 0.01
    assert not differs(cell([0.80, 0.86]), cell([0.84, 0.85]))  # within the 0.06 spread
    runs = runs_for({
        ("baseline", 0.5, "unit", "tensorflow"): [0.70, 0.71],
        ("baseline", 1.0, "unit", "tensorflow"): [0.80, 0.81],
        ("residual", 0.5, "unit", "tensorflow"): [0.85, 0.90],
        ("residual", 1.0, "unit", "tensorflow"): [0.88, 0.89],
        ("baseline", 1.0, "symmetric", "tensorflow"): [0.79, 0.82],
        ("baseline", 1.0, "unit", "jax"): [0.80, 0.80],
    })
    r = study_report(runs, ["baseline", "residual"], ["baseline"], ["baseline"], ["tensorflow", "jax"], "unit",
                     {"baseline": "baseline", "residual": "residual"}, "curves.png", None)
    md = r.markdown
    assert "`baseline` still gains from the last step (0.705 -> 0.805" in md
    assert "`residual` has levelled off" in md
    assert "| baseline | 0.805 ± 0.005 | 0.805 ± 0.015 | +0.000 | no | 2.0 / 2.0 |" in md
    assert "| baseline | 0.805 ± 0.005 | 0.800 ± 0.000 | -0.005 | no | 2.0 / 3.0 |" in md
    assert r.summary["runs"] == len(runs)
    assert json.loads(json.dumps(r.summary))["input_scaling"]["baseline"]["beyond_noise"] is False


def test_scaling_and_backend_pairs_are_drawn_and_placed_under_questions_4_and_5(tmp_path: Path) -> None:
    runs = runs_for({
        ("baseline", 1.0, "unit", "tensorflow"): [0.80, 0.81],
        ("baseline", 1.0, "symmetric", "tensorflow"): [0.84, 0.86],
        ("baseline", 1.0, "unit", "jax"): [0.80, 0.82],
    })
    png = tmp_path / "pairs.png"
    assert draw_pairs(runs, ["baseline"], ["baseline"], ["tensorflow", "jax"], "unit", png)
    assert png.stat().st_size > 1000
    md = study_report(runs, ["baseline"], ["baseline"], ["baseline"], ["tensorflow", "jax"], "unit",
                      {"baseline": "baseline"}, "curves.png", None, "pairs.png").markdown
    q4, q5 = md.split("## 4.")[1].split("## 5.")
    assert "![input scaling and backends](pairs.png)" in q4 and "figure under question 4" in q5
    # nothing to compare: not in the report, but the file (a DVC output) still exists and says so
    assert not draw_pairs(runs, [], [], ["tensorflow"], "unit", tmp_path / "none.png")
    assert (tmp_path / "none.png").is_file()


def test_study_commands_run_a_tiny_grid_and_write_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = project(tmp_path)
    raw = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    raw["study"] = {**TINY_STUDY, "fractions": [1.0], "seeds": [1], "scaling_variants": []}
    (root / "params.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    monkeypatch.chdir(root)
    monkeypatch.setenv("CARID_CACHE_DIR", str(tmp_path / "cache"))
    runner = CliRunner()
    missing = runner.invoke(app, ["study", "report"])
    assert missing.exit_code == 1 and "carid study run --backend tensorflow" in missing.output
    bad = runner.invoke(app, ["study", "run", "--backend", "jax"])
    assert bad.exit_code == 1 and "not in study.backends" in bad.output
    done = runner.invoke(app, ["study", "run", "--backend", "tensorflow"])
    assert done.exit_code == 0, done.output
    assert len(read_runs(root / "data/study/runs-tensorflow.csv")) == 1
    (root / "data/report.md").write_text("# carid report\n", encoding="utf-8")  # as `carid train report` left it
    rep = runner.invoke(app, ["study", "report"])
    assert rep.exit_code == 0, rep.output
    assert "carid train report" in rep.output  # data/report.md is the report stage's: left to it
    assert (root / "data/report.md").read_text(encoding="utf-8") == "# carid report\n"
    assert (root / "data/study/learning_curves.png").stat().st_size > 1000
    assert "# What the study asked, measured" in (root / "data/study/report.md").read_text(encoding="utf-8")


def test_a_grid_without_per_epoch_curves_still_writes_every_declared_plot(tmp_path: Path) -> None:
    runs = runs_for({("baseline", 0.5, "unit", "tensorflow"): [0.70, 0.71],
                     ("baseline", 1.0, "unit", "tensorflow"): [0.80, 0.81]})
    curves, fit = tmp_path / "learning_curves.png", tmp_path / "fit_curves.png"
    assert not draw_plots(runs, ["baseline"], "tensorflow", "unit", curves, fit)
    assert curves.stat().st_size > 1000
    assert fit.is_file()  # a DVC plot output: it says why it is empty instead of going missing
