"""data/report.md carries the study's answers as its last section, written by both report commands alike."""

from __future__ import annotations

from pathlib import Path

from training.studyreport import STUDY_HEADING, refresh_report, with_study_section

PIPELINE = "# carid report\n\n| variant | val |\n|---|---|\n| baseline | 0.700 |\n"
STUDY = ("# What the study asked, measured\n\n10 training runs.\n\n## 1. How much data is enough?\n\n"
         "![learning curves](learning_curves.png)\n\nbaseline gains 0.05 from 10% to all of train.\n")


def test_the_study_becomes_the_last_section_with_its_headings_down_and_its_plots_relinked() -> None:
    text = with_study_section(PIPELINE, STUDY, "study")
    assert text.startswith(PIPELINE.rstrip("\n"))
    tail = text[text.index(STUDY_HEADING):]
    assert "### 1. How much data is enough?" in tail and "\n## 1." not in tail
    assert "![learning curves](study/learning_curves.png)" in tail
    assert "baseline gains 0.05" in tail and "# What the study asked" not in tail.replace(STUDY_HEADING, "")


def test_writing_it_twice_or_with_a_newer_study_replaces_the_section() -> None:
    once = with_study_section(PIPELINE, STUDY, "study")
    assert with_study_section(once, STUDY, "study") == once
    newer = with_study_section(once, STUDY.replace("10 training runs", "46 training runs"), "study")
    assert newer.count(STUDY_HEADING) == 1 and "46 training runs" in newer and "10 training runs" not in newer


def test_without_a_study_the_section_gives_the_command() -> None:
    text = with_study_section(PIPELINE, None, "study")
    assert "`dvc repro study-report`" in text.split(STUDY_HEADING)[1]


def test_refresh_rewrites_an_existing_report_only(tmp_path: Path) -> None:
    report, study = tmp_path / "data" / "report.md", tmp_path / "data" / "study"
    assert not refresh_report(report, study)
    assert not report.exists()
    study.mkdir(parents=True)
    (study / "report.md").write_text(STUDY, encoding="utf-8")
    report.write_text(PIPELINE, encoding="utf-8")
    assert refresh_report(report, study)
    assert "![learning curves](study/learning_curves.png)" in report.read_text(encoding="utf-8")
